//! The one error type of the client, keeping every raw transport cause reachable.

use std::{fmt, io, time::Duration};

use serde_json::Value;
use tokio_tungstenite::tungstenite::{self, http};

use crate::{rpc::RequestId, state::ConnectionState};

/// A `Result` whose error is the client's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong with a connection, a request or a configuration.
///
/// Transport failures keep the raw cause — [`std::io::Error`], [`tungstenite::Error`],
/// [`rustls::Error`] — as the variant's payload and as [`std::error::Error::source`], so
/// nothing is lost in translation. [`Error::is_recoverable`] says whether retrying can help and
/// [`ErrorHandler::explain`](crate::ErrorHandler::explain) turns any error into plain words
/// with a suggested fix.
///
/// # Examples
///
/// ```
/// use zen_websocket_core::{Config, Error, ErrorHandler};
///
/// let err = Config::default().timeout(std::time::Duration::ZERO).validate().unwrap_err();
/// assert!(matches!(err, Error::InvalidConfig { field: "timeout", .. }));
/// let explanation = ErrorHandler::explain(&err);
/// assert!(explanation.suggestion.contains("timeout"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The URL given to [`Client::connect`](crate::Client::connect) cannot be used.
    #[error("invalid WebSocket URL `{url}`: {reason}")]
    InvalidUrl {
        /// The URL as given, with its user info and query values replaced by `[REDACTED]`.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A [`Config`](crate::Config) value is out of range; no socket was opened.
    #[error("invalid configuration: `{field}` {reason}")]
    InvalidConfig {
        /// The name of the offending field, as spelled on [`Config`](crate::Config).
        field: &'static str,
        /// Why the value was rejected.
        reason: String,
    },
    /// The host name could not be resolved to an address.
    #[error("could not resolve host `{host}`: {source}")]
    Resolve {
        /// The host that failed to resolve.
        host: String,
        /// The resolver's error.
        #[source]
        source: io::Error,
    },
    /// A socket-level failure (connection refused, reset, broken pipe…).
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    /// The TLS handshake failed, for example because the server's certificate is not trusted.
    #[error("TLS error: {0}")]
    Tls(#[from] rustls::Error),
    /// A WebSocket protocol failure reported by tungstenite (invalid UTF-8, a message over
    /// `max_message_size`, a reset without a closing handshake…).
    #[error("WebSocket error: {0}")]
    WebSocket(#[from] tungstenite::Error),
    /// Connecting did not finish within [`Config::timeout`](crate::Config::timeout).
    #[error("timed out after {after:?} while {stage}")]
    Timeout {
        /// The step that was still running when the time ran out.
        stage: ConnectStage,
        /// The configured bound.
        after: Duration,
    },
    /// The server answered the upgrade request with an HTTP status other than 101.
    #[error("the server rejected the WebSocket upgrade with HTTP {status}")]
    HandshakeRejected {
        /// The HTTP status, e.g. 403 or 429.
        status: http::StatusCode,
        /// The response headers (a `Retry-After` is here; see [`Error::retry_after`]), with
        /// secret ones such as `Set-Cookie` redacted.
        headers: Box<http::HeaderMap>,
        /// The response body, when the server sent one.
        body: Option<String>,
    },
    /// `failures` heartbeats in a row went unanswered: the connection was presumed dead
    /// (half-open) and dropped.
    #[error("{failures} heartbeats in a row went unanswered")]
    HeartbeatTimeout {
        /// The consecutive failures that ended the connection.
        failures: u32,
    },
    /// A write made no progress for [`Config::write_timeout`](crate::Config::write_timeout):
    /// the peer stopped reading, or the path to it is dead. The connection was failed.
    #[error("a write made no progress for {after:?}")]
    WriteTimeout {
        /// The configured bound.
        after: Duration,
    },
    /// The server closed the connection with a close frame.
    #[error("the server closed the connection with code {code}{}", reason_suffix(reason))]
    ServerClosed {
        /// The close code (1005 when the frame carried none).
        code: u16,
        /// The close reason, possibly empty.
        reason: String,
    },
    /// A callback you supplied (a [`SubscriptionProtocol`](crate::SubscriptionProtocol)
    /// method, a rate-limiter cost function) panicked; the call failed, the connection carries
    /// on.
    #[error("the callback `{callback}` panicked")]
    CallbackPanicked {
        /// Which callback.
        callback: &'static str,
    },
    /// The [`Config::session_setup`](crate::Config::session_setup) of a new socket failed (a
    /// refused login, a request that timed out, the whole set-up past
    /// [`Config::request_timeout`](crate::Config::request_timeout)): the socket is dropped
    /// and, after a loss, the client re-dials as for any failed attempt.
    #[error("session set-up failed: {0}")]
    SessionSetup(#[source] Box<Error>),
    /// The connection task stopped without closing: its runtime shut down, or it hit an
    /// internal error. The client is [`Disconnected`](crate::ConnectionState::Disconnected).
    #[error("the connection task ended (its runtime shut down or it failed)")]
    ConnectionTaskEnded,
    /// The rate limiter refused to let the message through (its queue is full, or the
    /// message costs more than the bucket can ever hold).
    #[error("rate limited: {0}")]
    RateLimited(#[from] zen_websocket_rate_limiter::Error),
    /// The session recording could not be opened or written (see
    /// [`Config::record_to`](crate::Config::record_to)).
    #[error("recording failed: {0}")]
    Recording(#[from] zen_websocket_recorder::Error),
    /// The operation needs an open connection and there is none right now.
    #[error("not connected (the connection is {0})")]
    NotConnected(ConnectionState),
    /// The connection was lost while this operation was waiting for the server.
    #[error("the connection was lost before the server answered")]
    Disconnected,
    /// The server did not answer a request within
    /// [`Config::request_timeout`](crate::Config::request_timeout).
    #[error("request {id} got no response within {after:?}")]
    RequestTimeout {
        /// The JSON-RPC id of the request.
        id: RequestId,
        /// The configured bound.
        after: Duration,
    },
    /// A request with this id is already waiting for its response.
    #[error("request id {0} is already in flight")]
    DuplicateRequestId(RequestId),
    /// The server answered a request with a JSON-RPC error object.
    #[error("JSON-RPC error {code}: {message}")]
    JsonRpc {
        /// The error code (e.g. -32601, or Deribit's 13009).
        code: i64,
        /// The server's message.
        message: String,
        /// The optional `data` member.
        data: Option<Value>,
    },
    /// The server answered a subscribe request without confirming every channel.
    #[error("the server did not confirm the subscription to {channels:?}")]
    SubscriptionRejected {
        /// The channels that were not confirmed.
        channels: Vec<String>,
    },
    /// An argument passed to a client method cannot be used (e.g. an empty channel list).
    #[error("invalid argument `{name}`: {reason}")]
    InvalidArgument {
        /// The parameter's name.
        name: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// No subscription with this id is active on the client.
    #[error("no active subscription with id {0}")]
    UnknownSubscription(crate::SubscriptionId),
    /// JSON could not be encoded or decoded.
    #[error("JSON error: {0}")]
    Json(#[from] serde_json::Error),
    /// The server sent something that breaks the protocol the client expected.
    #[error("unexpected response from the server: {0}")]
    InvalidResponse(String),
}

/// The step of [`Client::connect`](crate::Client::connect) that an [`Error::Timeout`] interrupted.
///
/// # Examples
///
/// ```
/// use zen_websocket_core::ConnectStage;
///
/// assert_eq!(ConnectStage::Upgrade.to_string(), "waiting for the WebSocket upgrade");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConnectStage {
    /// Resolving the host name.
    Resolve,
    /// Opening the TCP connection.
    Tcp,
    /// The TLS handshake (wss only).
    Tls,
    /// Sending the HTTP upgrade request and waiting for `101 Switching Protocols`.
    Upgrade,
    /// Running [`Config::session_setup`](crate::Config::session_setup) on the new socket.
    Session,
}

impl fmt::Display for ConnectStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Resolve => "resolving the host",
            Self::Tcp => "opening the TCP connection",
            Self::Tls => "performing the TLS handshake",
            Self::Upgrade => "waiting for the WebSocket upgrade",
            Self::Session => "running the session set-up",
        })
    }
}

impl Error {
    /// Whether trying again (reconnecting, resending) can succeed without changing anything.
    ///
    /// Network failures, timeouts, lost connections and 5xx/429 handshake answers are
    /// recoverable; bad URLs, bad configuration, untrusted certificates, JSON-RPC errors and
    /// 4xx handshake answers are not — retrying them only repeats the failure.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_core::Error;
    ///
    /// assert!(Error::Disconnected.is_recoverable());
    /// assert!(!Error::InvalidUrl { url: "http://x".into(), reason: "scheme".into() }.is_recoverable());
    /// ```
    #[must_use]
    pub fn is_recoverable(&self) -> bool {
        match self {
            Self::Io(_)
            | Self::Resolve { .. }
            | Self::Timeout { .. }
            | Self::NotConnected(_)
            | Self::Disconnected
            | Self::HeartbeatTimeout { .. }
            | Self::WriteTimeout { .. }
            | Self::ServerClosed { .. }
            | Self::RequestTimeout { .. } => true,
            Self::WebSocket(err) => websocket_error_is_recoverable(err),
            Self::SessionSetup(inner) => inner.is_recoverable(),
            Self::RateLimited(err) => !matches!(
                err,
                zen_websocket_rate_limiter::Error::CostExceedsCapacity { .. }
                    | zen_websocket_rate_limiter::Error::InvalidConfig { .. }
            ),
            Self::HandshakeRejected { status, .. } => {
                status.is_server_error()
                    || *status == http::StatusCode::TOO_MANY_REQUESTS
                    || *status == http::StatusCode::REQUEST_TIMEOUT
            }
            _ => false,
        }
    }

    /// How long the server asked to wait before trying again: the `Retry-After` header of a
    /// rejected upgrade (seconds or an HTTP date), if there was one.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use zen_websocket_core::{Error, tokio_tungstenite::tungstenite::http};
    ///
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert(http::header::RETRY_AFTER, http::HeaderValue::from_static("30"));
    /// let err = Error::HandshakeRejected {
    ///     status: http::StatusCode::TOO_MANY_REQUESTS,
    ///     headers: Box::new(headers),
    ///     body: None,
    /// };
    /// assert_eq!(err.retry_after(), Some(Duration::from_secs(30)));
    /// ```
    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::HandshakeRejected { headers, .. } => {
                crate::transport::retry_after(headers, std::time::SystemTime::now())
            }
            _ => None,
        }
    }

    /// A copy for reports that outlive the original (the last error of a reconnection): the
    /// same variant and data where the data can be copied, the same kind and words otherwise.
    pub(crate) fn copy_for_report(&self) -> Self {
        match self {
            Self::Io(io) => Self::Io(io::Error::new(io.kind(), io.to_string())),
            Self::HeartbeatTimeout { failures } => Self::HeartbeatTimeout { failures: *failures },
            Self::WriteTimeout { after } => Self::WriteTimeout { after: *after },
            Self::ServerClosed { code, reason } => {
                Self::ServerClosed { code: *code, reason: reason.clone() }
            }
            Self::Disconnected => Self::Disconnected,
            other => Self::Io(io::Error::other(other.to_string())),
        }
    }

    /// Converts a tungstenite error, lifting plain I/O failures to [`Error::Io`].
    pub(crate) fn from_transport(err: tungstenite::Error) -> Self {
        match err {
            tungstenite::Error::Io(io) => Self::Io(io),
            other => Self::WebSocket(other),
        }
    }

    /// Converts an I/O error from the TLS layer, unwrapping the [`rustls::Error`] it carries.
    pub(crate) fn from_tls_io(err: io::Error) -> Self {
        let is_rustls =
            err.get_ref().is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some());
        if !is_rustls {
            return Self::Io(err);
        }
        match err.into_inner().map(|inner| inner.downcast::<rustls::Error>()) {
            Some(Ok(tls)) => Self::Tls(*tls),
            _ => Self::Io(io::Error::other("TLS failure")),
        }
    }
}

fn reason_suffix(reason: &str) -> String {
    if reason.is_empty() { String::new() } else { format!(" ({reason})") }
}

fn websocket_error_is_recoverable(err: &tungstenite::Error) -> bool {
    use tungstenite::Error as E;
    match err {
        E::ConnectionClosed | E::AlreadyClosed | E::Io(_) | E::Protocol(_) => true,
        E::Http(response) => response.status().is_server_error(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_send_sync_static_and_small() {
        fn assert_traits<T: Send + Sync + 'static + std::error::Error>() {}
        assert_traits::<Error>();
        assert!(std::mem::size_of::<Error>() <= 72, "{}", std::mem::size_of::<Error>());
    }

    #[test]
    fn tls_errors_wrapped_in_io_are_unwrapped() {
        let io = io::Error::new(io::ErrorKind::InvalidData, rustls::Error::DecryptError);
        assert!(matches!(Error::from_tls_io(io), Error::Tls(rustls::Error::DecryptError)));
        let plain = io::Error::from(io::ErrorKind::ConnectionReset);
        assert!(matches!(Error::from_tls_io(plain), Error::Io(_)));
    }

    #[test]
    fn handshake_statuses_split_into_recoverable_and_not() {
        let rejected = |code: u16| Error::HandshakeRejected {
            status: http::StatusCode::from_u16(code).expect("valid status"),
            headers: Box::default(),
            body: None,
        };
        assert!(rejected(500).is_recoverable());
        assert!(rejected(429).is_recoverable());
        assert!(!rejected(403).is_recoverable());
    }
}
