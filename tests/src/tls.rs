//! A throwaway PKI for the `wss://` interop tests: a CA, and a certificate for 127.0.0.1 and
//! localhost that it signs, written as PEM files a third-party server can load.

use std::{
    fs, io,
    path::{Path, PathBuf},
};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

/// Names the server certificate is valid for.
const SERVER_NAMES: [&str; 2] = ["127.0.0.1", "localhost"];

/// A CA (to trust in the client) and the server certificate and key it signed (PEM files).
#[derive(Debug, Clone)]
pub struct TestPki {
    /// The CA certificate, DER, for `TlsConfig::add_root_certificate`.
    pub ca_der: Vec<u8>,
    /// The CA certificate, PEM.
    pub ca_pem: String,
    /// The server certificate file (PEM).
    pub cert: PathBuf,
    /// The server's private key file (PKCS #8 PEM).
    pub key: PathBuf,
}

impl TestPki {
    /// Generates fresh keys and certificates and writes `cert.pem` and `key.pem` into `dir`
    /// (created when missing).
    ///
    /// # Errors
    ///
    /// Key generation, signing, or writing the files failed.
    pub fn generate(dir: &Path) -> io::Result<TestPki> {
        let ca_key = KeyPair::generate().map_err(io::Error::other)?;
        let ca = CertifiedIssuer::self_signed(ca_params()?, ca_key).map_err(io::Error::other)?;
        let server_key = KeyPair::generate().map_err(io::Error::other)?;
        let server = server_params()?.signed_by(&server_key, &ca).map_err(io::Error::other)?;
        fs::create_dir_all(dir)?;
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        fs::write(&cert, server.pem())?;
        fs::write(&key, server_key.serialize_pem())?;
        Ok(TestPki { ca_der: ca.der().to_vec(), ca_pem: ca.pem(), cert, key })
    }
}

fn ca_params() -> io::Result<CertificateParams> {
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(io::Error::other)?;
    params.distinguished_name.push(DnType::CommonName, "zen-websocket-e2e CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    Ok(params)
}

fn server_params() -> io::Result<CertificateParams> {
    let names: Vec<String> = SERVER_NAMES.iter().map(|name| (*name).to_owned()).collect();
    let mut params = CertificateParams::new(names).map_err(io::Error::other)?;
    params.distinguished_name.push(DnType::CommonName, "zen-websocket-e2e server");
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_pem_files() {
        let dir = std::env::temp_dir().join(format!("zen-e2e-pki-{}", std::process::id()));
        let pki = TestPki::generate(&dir).unwrap();
        assert!(pki.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        let key = fs::read_to_string(&pki.key).unwrap();
        assert!(key.starts_with("-----BEGIN PRIVATE KEY-----"));
        fs::remove_dir_all(dir).unwrap();
    }
}
