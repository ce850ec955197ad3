//! What can go wrong talking to Deribit, and how to fix it.

use zen_websocket_core::{ErrorHandler, Explanation};

use crate::codes;

/// Where the Deribit guide is published; explanations link to its sections.
const GUIDE: &str = "https://github.com/zen-websocket/zen-websocket/blob/main/docs/deribit.md";

/// Errors of a [`DeribitClient`](crate::DeribitClient).
///
/// # Examples
///
/// ```
/// use zen_websocket_deribit::Error;
///
/// let err = Error::MissingCredentials { variable: "DERIBIT_CLIENT_ID" };
/// assert!(err.explain().suggestion.contains("DERIBIT_CLIENT_ID"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The connection, a request or a subscription failed; Deribit's error answers are
    /// [`zen_websocket_core::Error::JsonRpc`] inside ([`code`](Self::code) reads it).
    #[error(transparent)]
    Client(#[from] zen_websocket_core::Error),
    /// An environment variable with the credentials is unset or empty.
    #[error("{variable} is not set")]
    MissingCredentials {
        /// The variable.
        variable: &'static str,
    },
    /// A private call or channel on a client without credentials.
    #[error("{what} needs a logged-in client, and this one has no credentials")]
    NotAuthenticated {
        /// The method or channel.
        what: String,
    },
    /// Deribit's answer did not have the expected shape.
    #[error("unexpected answer to {method}: {detail}")]
    InvalidResponse {
        /// The method called.
        method: String,
        /// What did not fit.
        detail: String,
    },
    /// An option is out of bounds.
    #[error("invalid Deribit config: {field} {problem}")]
    InvalidConfig {
        /// The option.
        field: &'static str,
        /// What is wrong.
        problem: String,
    },
}

impl Error {
    /// Deribit's error code, when the venue answered with one (also when it refused the
    /// login of a new socket).
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_core::Error as ClientError;
    /// use zen_websocket_deribit::Error;
    ///
    /// let refused = Error::Client(ClientError::JsonRpc { code: 13778, message: "raw_subscriptions_not_available_for_unauthorized".into(), data: None });
    /// assert_eq!(refused.code(), Some(13778));
    /// ```
    #[must_use]
    pub fn code(&self) -> Option<i64> {
        match self {
            Self::Client(error) => code_of(error),
            _ => None,
        }
    }

    /// Puts the error in plain words with a fix; Deribit's common codes get advice of their
    /// own, everything else is explained by [`ErrorHandler::explain`].
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_core::Error as ClientError;
    /// use zen_websocket_deribit::Error;
    ///
    /// let refused = Error::Client(ClientError::JsonRpc { code: 13778, message: "raw_subscriptions_not_available_for_unauthorized".into(), data: None });
    /// assert!(refused.explain().suggestion.contains("Credentials"));
    /// ```
    #[must_use]
    pub fn explain(&self) -> Explanation {
        if let Some((message, suggestion)) = self.code().and_then(codes::advice) {
            return Explanation::new(message, suggestion, format!("{GUIDE}#errors"));
        }
        match self {
            Self::Client(error) => ErrorHandler::explain(error),
            Self::MissingCredentials { variable } => Explanation::new(
                self.to_string(),
                format!(
                    "Set {variable} (and its partner) or pass `Credentials::new` to the config; public data needs none"
                ),
                format!("{GUIDE}#authentication"),
            ),
            Self::NotAuthenticated { .. } => Explanation::new(
                self.to_string(),
                "Give the config `Credentials` (or set DERIBIT_CLIENT_ID / DERIBIT_CLIENT_SECRET)",
                format!("{GUIDE}#authentication"),
            ),
            Self::InvalidResponse { .. } => Explanation::new(
                self.to_string(),
                "Deribit may have changed the answer's shape; call `DeribitClient::request` for the raw JSON",
                format!("{GUIDE}#errors"),
            ),
            Self::InvalidConfig { .. } => Explanation::new(
                self.to_string(),
                "Fix the option named; the guide lists every bound",
                format!("{GUIDE}#configuration"),
            ),
        }
    }
}

fn code_of(error: &zen_websocket_core::Error) -> Option<i64> {
    match error {
        zen_websocket_core::Error::JsonRpc { code, .. } => Some(*code),
        zen_websocket_core::Error::SessionSetup(inner) => code_of(inner),
        _ => None,
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
