//! API keys and how they log in: `client_credentials` (the secret sent over TLS) or
//! `client_signature` (an HMAC-SHA256 signature; the secret never leaves the process).

use std::{
    fmt,
    sync::atomic::{AtomicU64, Ordering},
    time::{SystemTime, UNIX_EPOCH},
};

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::error::{Error, Result};

/// The environment variables [`Credentials::from_env`] reads.
pub const CLIENT_ID_VAR: &str = "DERIBIT_CLIENT_ID";
/// See [`CLIENT_ID_VAR`].
pub const CLIENT_SECRET_VAR: &str = "DERIBIT_CLIENT_SECRET";

/// How `public/auth` proves who you are.
///
/// # Examples
///
/// ```
/// use zen_websocket_deribit::Grant;
/// assert_eq!(Grant::default(), Grant::ClientSignature);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Grant {
    /// Sends the client secret itself (over TLS).
    ClientCredentials,
    /// Sends `hex(HMAC-SHA256(secret, timestamp + "\n" + nonce + "\n" + data))`: the secret
    /// never leaves the process. The default.
    #[default]
    ClientSignature,
}

/// A Deribit API key: its client id and secret. The secret never appears in `Debug` output,
/// logs or recordings.
///
/// # Examples
///
/// ```
/// use zen_websocket_deribit::Credentials;
///
/// let credentials = Credentials::new("my-client-id", "my-secret");
/// assert_eq!(format!("{credentials:?}"), r#"Credentials { client_id: "my-client-id", client_secret: "[REDACTED]" }"#);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    client_id: String,
    client_secret: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .finish()
    }
}

impl Credentials {
    /// Credentials from code.
    ///
    /// # Examples
    ///
    /// See [`Credentials`].
    #[must_use]
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Self { client_id: client_id.into(), client_secret: client_secret.into() }
    }

    /// Credentials from `DERIBIT_CLIENT_ID` and `DERIBIT_CLIENT_SECRET`.
    ///
    /// # Errors
    ///
    /// [`Error::MissingCredentials`] naming the variable that is unset or empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_deribit::Credentials;
    ///
    /// match Credentials::from_env() {
    ///     Ok(credentials) => println!("logging in as {credentials:?}"),
    ///     Err(err) => println!("public data only: {err}"),
    /// }
    /// ```
    pub fn from_env() -> Result<Self> {
        let read = |name: &'static str| match std::env::var(name) {
            Ok(value) if !value.is_empty() => Ok(value),
            _ => Err(Error::MissingCredentials { variable: name }),
        };
        Ok(Self::new(read(CLIENT_ID_VAR)?, read(CLIENT_SECRET_VAR)?))
    }

    /// The client id.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(zen_websocket_deribit::Credentials::new("id", "s").client_id(), "id");
    /// ```
    #[must_use]
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The `public/auth` params for `grant`.
    pub(crate) fn auth_params(&self, grant: Grant) -> Value {
        match grant {
            Grant::ClientCredentials => json!({
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self.client_secret,
            }),
            Grant::ClientSignature => {
                let timestamp = now_ms();
                let nonce = nonce();
                let signature = self.sign(timestamp, &nonce, "");
                json!({
                    "grant_type": "client_signature",
                    "client_id": self.client_id,
                    "timestamp": timestamp,
                    "nonce": nonce,
                    "data": "",
                    "signature": signature,
                })
            }
        }
    }

    /// `hex(HMAC-SHA256(secret, timestamp + "\n" + nonce + "\n" + data))`.
    pub(crate) fn sign(&self, timestamp: u64, nonce: &str, data: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.client_secret.as_bytes())
            .expect("HMAC takes keys of any length");
        mac.update(format!("{timestamp}\n{nonce}\n{data}").as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_millis() as u64)
}

/// A nonce no other login of this process used: the clock's nanoseconds and a counter.
fn nonce() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos =
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.subsec_nanos());
    format!("{nanos:08x}{:04x}", COUNTER.fetch_add(1, Ordering::Relaxed) & 0xffff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_matches_hmac_sha256_over_timestamp_nonce_and_data() {
        // Computed independently: printf '1576074319000\n1iqt2wls\n' | openssl dgst -sha256 -hmac secret
        let credentials = Credentials::new("AMANDA", "secret");
        let signature = credentials.sign(1_576_074_319_000, "1iqt2wls", "");
        assert_eq!(signature, "6267de5bf689cec570fda5a65ad14dd8b96aade832e84e454365130351c0a518");
        assert_ne!(signature, credentials.sign(1_576_074_319_001, "1iqt2wls", ""));
    }

    #[test]
    fn signature_params_never_carry_the_secret() {
        let params = Credentials::new("id", "top-secret").auth_params(Grant::ClientSignature);
        assert_eq!(params["grant_type"], "client_signature");
        assert!(!params.to_string().contains("top-secret"));
        assert_ne!(nonce(), nonce());
    }
}
