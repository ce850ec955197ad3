//! A throwaway PKI for the `wss://` interop tests: a CA, and a certificate for 127.0.0.1 and
//! localhost that it signs, written as PEM files a third-party server can load.

use std::{
    fs, io,
    path::{Path, PathBuf},
};

use zen_websocket::testing::TestCertificates;

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
    /// Generates fresh keys and certificates (the testing kit's [`TestCertificates`]) and
    /// writes `cert.pem` and `key.pem` into `dir` (created when missing).
    ///
    /// # Errors
    ///
    /// Key generation, signing, or writing the files failed.
    pub fn generate(dir: &Path) -> io::Result<TestPki> {
        let pki = TestCertificates::generate()?;
        fs::create_dir_all(dir)?;
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        fs::write(&cert, pki.server_certificate_pem())?;
        fs::write(&key, pki.server_key_pem())?;
        let ca_der = pki.ca_certificate().to_vec();
        Ok(TestPki { ca_der, ca_pem: pki.ca_certificate_pem().to_owned(), cert, key })
    }
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
