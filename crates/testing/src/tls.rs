//! TLS material: a generated CA, a server certificate it signs, and the rustls configs.

use std::io;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use tokio_rustls::TlsAcceptor;

/// Names the server certificate is valid for.
const SERVER_NAMES: [&str; 3] = ["127.0.0.1", "localhost", "::1"];

/// A throwaway CA and a server certificate it signs, valid for `127.0.0.1`, `localhost` and
/// `::1` — what a TLS [`MockServer`](crate::MockServer) serves, for any other server a test
/// runs (a third-party peer, say). Keys never appear in `Debug` output.
///
/// # Examples
///
/// ```
/// use zen_websocket_testing::TestCertificates;
///
/// let pki = TestCertificates::generate()?;
/// assert!(pki.server_key_pem().starts_with("-----BEGIN PRIVATE KEY-----"));
/// assert!(pki.ca_certificate_pem().starts_with("-----BEGIN CERTIFICATE-----"));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct TestCertificates {
    ca_der: CertificateDer<'static>,
    ca_pem: String,
    server_der: CertificateDer<'static>,
    server_pem: String,
    key_der: Vec<u8>,
    key_pem: String,
}

impl std::fmt::Debug for TestCertificates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCertificates").field("names", &SERVER_NAMES).finish_non_exhaustive()
    }
}

impl TestCertificates {
    /// Generates fresh keys: a CA, and a server certificate it signs.
    ///
    /// # Errors
    ///
    /// When key generation or signing fails.
    ///
    /// # Examples
    ///
    /// ```
    /// let pki = zen_websocket_testing::TestCertificates::generate()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn generate() -> io::Result<Self> {
        let ca_key = KeyPair::generate().map_err(io::Error::other)?;
        let ca = CertifiedIssuer::self_signed(ca_params()?, ca_key).map_err(io::Error::other)?;
        let server_key = KeyPair::generate().map_err(io::Error::other)?;
        let server = server_params()?.signed_by(&server_key, &ca).map_err(io::Error::other)?;
        Ok(Self {
            ca_der: ca.der().clone(),
            ca_pem: ca.pem(),
            server_der: server.der().clone(),
            server_pem: server.pem(),
            key_der: server_key.serialize_der(),
            key_pem: server_key.serialize_pem(),
        })
    }

    /// The CA certificate (DER): what a client must trust.
    ///
    /// # Examples
    ///
    /// ```
    /// let ca = zen_websocket_testing::TestCertificates::generate()?.ca_certificate();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[must_use]
    pub fn ca_certificate(&self) -> CertificateDer<'static> {
        self.ca_der.clone()
    }

    /// The CA certificate (PEM).
    ///
    /// # Examples
    ///
    /// ```
    /// let pki = zen_websocket_testing::TestCertificates::generate()?;
    /// assert!(pki.ca_certificate_pem().contains("CERTIFICATE"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[must_use]
    pub fn ca_certificate_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The server certificate (PEM), for a server's certificate file.
    ///
    /// # Examples
    ///
    /// ```
    /// let pki = zen_websocket_testing::TestCertificates::generate()?;
    /// assert!(pki.server_certificate_pem().contains("CERTIFICATE"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[must_use]
    pub fn server_certificate_pem(&self) -> &str {
        &self.server_pem
    }

    /// The server's private key (PKCS #8 PEM), for a server's key file.
    ///
    /// # Examples
    ///
    /// ```
    /// let pki = zen_websocket_testing::TestCertificates::generate()?;
    /// assert!(pki.server_key_pem().contains("PRIVATE KEY"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[must_use]
    pub fn server_key_pem(&self) -> &str {
        &self.key_pem
    }
}

/// A CA and a server certificate signed by it, generated once per server.
pub(crate) struct TlsMaterial {
    pub(crate) ca_der: CertificateDer<'static>,
    pub(crate) ca_pem: String,
    pub(crate) acceptor: TlsAcceptor,
    pub(crate) client_config: Arc<ClientConfig>,
}

impl TlsMaterial {
    /// Generates fresh keys and certificates and builds the rustls configs (ring provider).
    pub(crate) fn generate() -> io::Result<Self> {
        let pki = TestCertificates::generate()?;
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.key_der));
        let server = server_config(vec![pki.server_der], key)?;
        Ok(Self {
            client_config: client_config(pki.ca_der.clone())?,
            ca_pem: pki.ca_pem,
            ca_der: pki.ca_der,
            acceptor: TlsAcceptor::from(server),
        })
    }
}

fn ca_params() -> io::Result<CertificateParams> {
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(io::Error::other)?;
    params.distinguished_name.push(DnType::CommonName, "zen-websocket-testing CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    Ok(params)
}

fn server_params() -> io::Result<CertificateParams> {
    let names: Vec<String> = SERVER_NAMES.iter().map(|name| (*name).to_owned()).collect();
    let mut params = CertificateParams::new(names).map_err(io::Error::other)?;
    params.distinguished_name.push(DnType::CommonName, "zen-websocket-testing server");
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    Ok(params)
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> io::Result<Arc<ServerConfig>> {
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(io::Error::other)?;
    Ok(Arc::new(config))
}

fn client_config(ca: CertificateDer<'static>) -> io::Result<Arc<ClientConfig>> {
    let mut roots = RootCertStore::empty();
    roots.add(ca).map_err(io::Error::other)?;
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_material() {
        let material = TlsMaterial::generate().expect("generate");
        assert!(material.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(!material.ca_der.is_empty());
    }
}
