//! TLS settings for `wss://`: which roots to trust, built with one explicit crypto provider.

use std::{
    fmt,
    sync::{Arc, OnceLock},
};

use rustls::{
    ClientConfig, RootCertStore,
    crypto::CryptoProvider,
    pki_types::{CertificateDer, pem::PemObject},
};

use crate::error::{Error, Result};

/// Which servers a `wss://` connection trusts.
///
/// By default the Mozilla root store shipped in `webpki-roots` is trusted and nothing else.
/// Add a private CA (or the [`MockServer`]'s test CA) with [`add_root_certificate`] or
/// [`add_root_certificates_pem`]. There is no switch that turns verification off: a caller who
/// really needs custom verification builds a [`rustls::ClientConfig`] through rustls' own
/// `dangerous()` API and passes it to [`with_rustls_config`].
///
/// Configs are built with the `ring` crypto provider chosen explicitly, never with a
/// process-wide default, and built once per `TlsConfig` (clones share the result), so
/// thousands of connections do not each parse the root store.
///
/// [`MockServer`]: https://docs.rs/zen-websocket-testing
/// [`add_root_certificate`]: Self::add_root_certificate
/// [`add_root_certificates_pem`]: Self::add_root_certificates_pem
/// [`with_rustls_config`]: Self::with_rustls_config
///
/// # Examples
///
/// ```
/// use zen_websocket_core::TlsConfig;
///
/// let tls = TlsConfig::default().webpki_roots(false);
/// assert!(tls.client_config().is_ok());
/// ```
#[derive(Clone)]
pub struct TlsConfig {
    webpki_roots: bool,
    extra_roots: Vec<CertificateDer<'static>>,
    custom: Option<Arc<ClientConfig>>,
    built: Arc<OnceLock<Arc<ClientConfig>>>,
}

impl Default for TlsConfig {
    fn default() -> Self {
        Self { webpki_roots: true, extra_roots: Vec::new(), custom: None, built: Arc::default() }
    }
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("webpki_roots", &self.webpki_roots)
            .field("extra_roots", &self.extra_roots.len())
            .field("custom", &self.custom.is_some())
            .finish()
    }
}

impl TlsConfig {
    /// Trusts `certificate` (DER) as an additional root, e.g. a private CA.
    ///
    /// Default is no extra roots.
    ///
    /// # Examples
    ///
    /// ```
    /// # let der = Vec::<u8>::new();
    /// use zen_websocket_core::TlsConfig;
    ///
    /// let tls = TlsConfig::default().add_root_certificate(der);
    /// ```
    #[must_use]
    pub fn add_root_certificate(mut self, certificate: impl Into<CertificateDer<'static>>) -> Self {
        self.extra_roots.push(certificate.into());
        self.rebuild()
    }

    /// Trusts every certificate in a PEM bundle as an additional root.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] (field `tls`) when the text holds no readable certificate.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_core::TlsConfig;
    ///
    /// assert!(TlsConfig::default().add_root_certificates_pem("not a pem").is_err());
    /// ```
    pub fn add_root_certificates_pem(mut self, pem: &str) -> Result<Self> {
        let invalid = |reason: String| Error::InvalidConfig { field: "tls", reason };
        let certificates = CertificateDer::pem_slice_iter(pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|err| invalid(format!("holds a PEM bundle that cannot be read: {err}")))?;
        if certificates.is_empty() {
            return Err(invalid("holds a PEM bundle without any CERTIFICATE block".into()));
        }
        self.extra_roots.extend(certificates);
        Ok(self.rebuild())
    }

    /// Whether to trust the Mozilla roots from `webpki-roots`.
    ///
    /// Default is `true`. Turn it off to trust only the roots you add.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_core::TlsConfig;
    ///
    /// let only_my_ca = TlsConfig::default().webpki_roots(false);
    /// ```
    #[must_use]
    pub fn webpki_roots(mut self, enabled: bool) -> Self {
        self.webpki_roots = enabled;
        self.rebuild()
    }

    /// Uses a complete rustls client configuration as given, ignoring the roots above.
    ///
    /// Default is none. This is the one way to customise verification (client certificates,
    /// pinning, or rustls' explicitly named `dangerous()` verifiers).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use zen_websocket_core::TlsConfig;
    ///
    /// let provider = Arc::new(rustls::crypto::ring::default_provider());
    /// let config = rustls::ClientConfig::builder_with_provider(provider)
    ///     .with_safe_default_protocol_versions()
    ///     .unwrap()
    ///     .with_root_certificates(rustls::RootCertStore::empty())
    ///     .with_no_client_auth();
    /// let tls = TlsConfig::default().with_rustls_config(Arc::new(config));
    /// ```
    #[must_use]
    pub fn with_rustls_config(mut self, config: Arc<ClientConfig>) -> Self {
        self.custom = Some(config);
        self.rebuild()
    }

    /// The rustls configuration connections use, built on first use and shared by clones.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] (field `tls`) when an added root is not a usable certificate.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_core::TlsConfig;
    ///
    /// let config = TlsConfig::default().client_config().unwrap();
    /// ```
    pub fn client_config(&self) -> Result<Arc<ClientConfig>> {
        if let Some(custom) = &self.custom {
            return Ok(Arc::clone(custom));
        }
        if let Some(built) = self.built.get() {
            return Ok(Arc::clone(built));
        }
        if self.webpki_roots && self.extra_roots.is_empty() {
            // The default trust is the same for everyone: build it once per process, so fresh
            // `Config::default()`s do not each carry their own root store.
            static DEFAULT: OnceLock<Arc<ClientConfig>> = OnceLock::new();
            let shared = match DEFAULT.get() {
                Some(config) => Arc::clone(config),
                None => {
                    let built = Arc::new(self.build()?);
                    Arc::clone(DEFAULT.get_or_init(|| built))
                }
            };
            return Ok(Arc::clone(self.built.get_or_init(|| shared)));
        }
        let config = Arc::new(self.build()?);
        Ok(Arc::clone(self.built.get_or_init(|| config)))
    }

    fn build(&self) -> Result<ClientConfig> {
        let mut roots = RootCertStore::empty();
        if self.webpki_roots {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        for certificate in &self.extra_roots {
            roots.add(certificate.clone()).map_err(|err| Error::InvalidConfig {
                field: "tls",
                reason: format!("holds a root certificate that cannot be used: {err}"),
            })?;
        }
        let config = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(config)
    }

    fn rebuild(mut self) -> Self {
        self.built = Arc::default();
        self
    }
}

/// The crypto provider every configuration is built with.
fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    Arc::clone(PROVIDER.get_or_init(|| Arc::new(rustls::crypto::ring::default_provider())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_one_built_config() {
        let tls = TlsConfig::default();
        let copy = tls.clone();
        let first = tls.client_config().unwrap();
        assert!(Arc::ptr_eq(&first, &copy.client_config().unwrap()));
    }

    #[test]
    fn garbage_roots_are_rejected_naming_tls() {
        let tls = TlsConfig::default().add_root_certificate(vec![1u8, 2, 3]);
        let err = tls.client_config().unwrap_err();
        assert!(matches!(err, Error::InvalidConfig { field: "tls", .. }));
    }
}
