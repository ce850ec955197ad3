//! TLS for the `wss` rows: a generated CA and server certificate, and the client configs that
//! trust that CA (and nothing else), all on rustls' `ring` provider chosen explicitly.

use std::sync::Arc;

use anyhow::Context;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::{
    ClientConfig, RootCertStore, ServerConfig,
    crypto::CryptoProvider,
    pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, pem::PemObject},
};
use tokio_rustls::{TlsAcceptor, TlsConnector};
use zen_websocket_core::TlsConfig;

/// The server's side: its acceptor and the CA (PEM) clients must trust.
pub(crate) struct ServerTls {
    /// Accepts TLS with a certificate for `127.0.0.1` signed by the CA.
    pub(crate) acceptor: TlsAcceptor,
    /// The CA certificate, PEM-encoded.
    pub(crate) ca_pem: String,
}

/// Generates a CA and a server certificate for `127.0.0.1` it signs.
///
/// # Errors
///
/// When key generation, signing or the rustls server config fails.
pub(crate) fn generate() -> anyhow::Result<ServerTls> {
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.distinguished_name.push(DnType::CommonName, "zen-websocket-bench CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    let ca = CertifiedIssuer::self_signed(ca_params, ca_key)?;

    let server_key = KeyPair::generate()?;
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_owned()])?;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let certificate = params.signed_by(&server_key, &ca)?;

    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(vec![certificate.der().clone()], key)?;
    Ok(ServerTls { acceptor: TlsAcceptor::from(Arc::new(config)), ca_pem: ca.pem() })
}

/// zen's TLS settings: only the bench CA is trusted.
///
/// # Errors
///
/// When `ca_pem` holds no certificate.
pub(crate) fn zen_config(ca_pem: &str) -> anyhow::Result<TlsConfig> {
    Ok(TlsConfig::default().webpki_roots(false).add_root_certificate(ca_der(ca_pem)?))
}

/// The raw baseline's connector: a rustls `ClientConfig` trusting only the bench CA.
///
/// # Errors
///
/// When `ca_pem` holds no usable certificate.
pub(crate) fn raw_connector(ca_pem: &str) -> anyhow::Result<TlsConnector> {
    let mut roots = RootCertStore::empty();
    roots.add(ca_der(ca_pem)?)?;
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

/// The first certificate in a PEM bundle.
fn ca_der(ca_pem: &str) -> anyhow::Result<CertificateDer<'static>> {
    CertificateDer::from_pem_slice(ca_pem.as_bytes()).context("reading the bench CA (PEM)")
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}
