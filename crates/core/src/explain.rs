//! Plain-language explanations of errors, each with a suggested fix and a link to the guide.

use std::io;

use tokio_tungstenite::tungstenite::{self, error::CapacityError};

use crate::error::Error;

/// Where `docs/errors.md` is published; each explanation links to its section.
const ERRORS_GUIDE: &str =
    "https://github.com/zen-websocket/zen-websocket/blob/main/docs/errors.md";

/// An error put in plain words: what happened, what to do, and where to read more.
///
/// # Examples
///
/// ```
/// use zen_websocket_core::{Error, ErrorHandler};
///
/// let explanation = ErrorHandler::explain(&Error::Disconnected);
/// println!("{}. {}", explanation.message, explanation.suggestion);
/// assert!(explanation.docs_url.ends_with("#disconnected"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Explanation {
    /// What went wrong.
    pub message: String,
    /// What to do about it.
    pub suggestion: String,
    /// The section of the errors guide that covers it.
    pub docs_url: String,
}

impl Explanation {
    /// An explanation of an error of a crate built on this one (a pool, a venue adapter),
    /// in the same shape as [`ErrorHandler::explain`]'s.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_core::Explanation;
    ///
    /// let explanation = Explanation::new("the pool is full", "raise max_clients", "https://example.com/guide#pool");
    /// assert_eq!(explanation.suggestion, "raise max_clients");
    /// ```
    #[must_use]
    pub fn new(
        message: impl Into<String>,
        suggestion: impl Into<String>,
        docs_url: impl Into<String>,
    ) -> Self {
        Self { message: message.into(), suggestion: suggestion.into(), docs_url: docs_url.into() }
    }
}

/// Turns any [`Error`] into an [`Explanation`].
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use zen_websocket_core::{Client, Config, ErrorHandler};
///
/// if let Err(err) = Client::connect("ws://127.0.0.1:1", Config::default()).await {
///     let explanation = ErrorHandler::explain(&err);
///     eprintln!("{}. {}", explanation.message, explanation.suggestion);
/// }
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct ErrorHandler;

impl ErrorHandler {
    /// Explains `err` in plain words.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_core::{Error, ErrorHandler};
    ///
    /// let err = Error::InvalidUrl { url: "example.com".into(), reason: "no scheme".into() };
    /// assert!(!ErrorHandler::explain(&err).suggestion.is_empty());
    /// ```
    #[must_use]
    pub fn explain(err: &Error) -> Explanation {
        let (anchor, message, suggestion) = describe(err);
        Explanation { message, suggestion, docs_url: format!("{ERRORS_GUIDE}#{anchor}") }
    }
}

type Described = (&'static str, String, String);

fn describe(err: &Error) -> Described {
    match err {
        Error::InvalidUrl { url, reason } => (
            "invalidurl",
            format!("The URL {url:?} cannot be used: {reason}"),
            "Pass an absolute WebSocket URL such as wss://test.deribit.com/ws/api/v2 or ws://127.0.0.1:8080/".into(),
        ),
        Error::InvalidConfig { field, reason } => (
            "invalidconfig",
            format!("The configuration value `{field}` {reason}"),
            format!("Change `Config::{field}`; docs/configuration.md lists every option and its valid range"),
        ),
        Error::InvalidArgument { name, reason } => (
            "invalidargument",
            format!("The argument `{name}` cannot be used: {reason}"),
            format!("Fix the `{name}` argument and call again"),
        ),
        Error::Resolve { host, .. } => (
            "resolve",
            format!("The host name {host:?} could not be resolved to an address"),
            "Check the spelling of the host, and that DNS works from this machine".into(),
        ),
        Error::Io(io) => describe_io(io),
        Error::Tls(tls) => describe_tls(tls),
        Error::WebSocket(ws) => describe_websocket(ws),
        Error::Timeout { stage, after } => (
            "timeout",
            format!("Connecting took longer than {after:?}; it was still {stage}"),
            "Check that the server is up and reachable; raise `Config::timeout` for slow networks".into(),
        ),
        Error::HandshakeRejected { status, .. } => describe_rejection(*status),
        other => describe_session(other),
    }
}

/// Errors of an established session: requests, subscriptions, connection state.
fn describe_session(err: &Error) -> Described {
    match err {
        Error::NotConnected(state) => (
            "notconnected",
            format!("The client is {state}, so nothing can be sent right now"),
            "Wait for `Event::Connected` (the client reconnects by itself), or connect a new client after close()".into(),
        ),
        Error::RateLimited(limit) => (
            "ratelimited",
            format!("The rate limiter refused the message: {limit}"),
            "Send less at once or raise the limiter's `max_queue`; a message that costs more than the \
             bucket's capacity can never pass — raise the capacity or lower its cost"
                .into(),
        ),
        Error::Recording(recording) => (
            "recording",
            format!("The session recording failed: {recording}"),
            "Check that the directory of `Config::record_to` exists and is writable, and that the disk has room"
                .into(),
        ),
        Error::HeartbeatTimeout { failures } => (
            "heartbeattimeout",
            format!("{failures} heartbeats in a row went unanswered, so the connection was presumed dead"),
            "Nothing to do if it reconnected; if it happens often, check the network path or raise \
             `HeartbeatConfig::interval` / `max_failures`"
                .into(),
        ),
        Error::WriteTimeout { after } => (
            "writetimeout",
            format!("A write made no progress for {after:?}: the peer stopped reading, or the path to it is dead"),
            "Nothing to do if it reconnected; if it happens often, check the server's health and the network, \
             or raise `Config::write_timeout` for very slow links"
                .into(),
        ),
        Error::ServerClosed { code, reason } => (
            "serverclosed",
            format!("The server closed the connection with code {code}{}", if reason.is_empty() { String::new() } else { format!(" ({reason})") }),
            "Check the close code: 1000/1001 are routine (maintenance, restarts); 1008 usually means \
             the server refused what the client sent or who it is"
                .into(),
        ),
        Error::CallbackPanicked { callback } => (
            "callbackpanicked",
            format!("Your callback `{callback}` panicked; the call failed, the connection carries on"),
            "Fix the panic in that callback; its message is in the log".into(),
        ),
        Error::SessionSetup(inner) => {
            let cause = ErrorHandler::explain(inner);
            (
                "sessionsetup",
                format!("The session set-up of a new socket failed: {}", cause.message),
                format!(
                    "Check what your `Config::session_setup` sends (credentials, method names); {}",
                    cause.suggestion
                ),
            )
        }
        Error::ConnectionTaskEnded => (
            "connectiontaskended",
            "The connection task ended without a close: its runtime shut down, or it failed".into(),
            "Keep the Tokio runtime alive while the client is in use; connect a new client".into(),
        ),
        Error::Disconnected => (
            "disconnected",
            "The connection was lost before the server answered".into(),
            "Retry once the client has reconnected; check whether the request took effect before repeating orders".into(),
        ),
        Error::RequestTimeout { id, after } => (
            "requesttimeout",
            format!("Request {id} got no response within {after:?}"),
            "Check that the server answers this method; raise `Config::request_timeout` for slow methods".into(),
        ),
        Error::DuplicateRequestId(id) => (
            "duplicaterequestid",
            format!("A request with id {id} is already waiting for its response"),
            "Use a unique id per in-flight request, or let `request` generate ids".into(),
        ),
        Error::JsonRpc { code, message, .. } => (
            "jsonrpc",
            format!("The server answered with JSON-RPC error {code}: {message}"),
            "Check the method name and params against the server's API documentation".into(),
        ),
        Error::SubscriptionRejected { channels } => (
            "subscriptionrejected",
            format!("The server did not confirm the channels {channels:?}"),
            "Check the channel names; some channels need authentication first".into(),
        ),
        Error::UnknownSubscription(id) => (
            "unknownsubscription",
            format!("There is no active subscription {id}"),
            "Use an id returned by subscribe() that has not been unsubscribed".into(),
        ),
        Error::Json(json) => (
            "json",
            format!("JSON could not be encoded or decoded: {json}"),
            "Check that the payload is valid JSON of the expected shape".into(),
        ),
        Error::InvalidResponse(what) => (
            "invalidresponse",
            format!("The server sent an unexpected response: {what}"),
            "Check that the URL points at the API you expect; enable `Config::debug` to see the frames".into(),
        ),
        other => (
            "errors",
            other.to_string(),
            "See the errors guide for this case".into(),
        ),
    }
}

fn describe_io(io: &io::Error) -> Described {
    let suggestion = match io.kind() {
        io::ErrorKind::ConnectionRefused => {
            "Nothing is listening at that address: check the host and port, and that the server runs"
        }
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => {
            "The peer dropped the connection; the client reconnects when `reconnect_on_error` is on"
        }
        io::ErrorKind::TimedOut => "The network did not answer; check connectivity and firewalls",
        io::ErrorKind::AddrNotAvailable
        | io::ErrorKind::NetworkUnreachable
        | io::ErrorKind::HostUnreachable => {
            "The address cannot be reached from this machine; check routing and the address"
        }
        _ => "Check the network and the server; the raw error is kept in `Error::Io`",
    };
    ("io", format!("A network error occurred: {io}"), suggestion.into())
}

fn describe_tls(tls: &rustls::Error) -> Described {
    let suggestion = match tls {
        rustls::Error::InvalidCertificate(_) => {
            "The server's certificate is not trusted or does not match the host. For a private CA, add it with \
             `TlsConfig::add_root_certificate` (or `add_root_certificates_pem`) and pass it to `Config::tls`"
        }
        _ => {
            "Check that the server speaks TLS 1.2 or 1.3 on this port and that the URL uses the right scheme"
        }
    };
    ("tls", format!("The TLS handshake failed: {tls}"), suggestion.into())
}

fn describe_websocket(ws: &tungstenite::Error) -> Described {
    let (message, suggestion) = match ws {
        tungstenite::Error::Capacity(CapacityError::MessageTooLong { size, max_size }) => (
            format!("The server sent a message of {size} bytes, over the limit of {max_size}"),
            "Raise `Config::max_message_size` (and `max_frame_size`) if such messages are expected",
        ),
        tungstenite::Error::Utf8(_) => (
            "The server sent a text frame that is not valid UTF-8".into(),
            "The server breaks the WebSocket protocol; report it, or ask it to send binary frames",
        ),
        tungstenite::Error::Protocol(protocol) => (
            format!("The WebSocket protocol was broken: {protocol}"),
            "Usually the server or a proxy closed the connection abruptly; the client reconnects when allowed",
        ),
        tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed => (
            "The connection is closed".into(),
            "Connect again, or let the client reconnect (`reconnect_on_error`)",
        ),
        other => (
            format!("A WebSocket error occurred: {other}"),
            "Enable `Config::debug` to see the frames exchanged; the raw error is kept in `Error::WebSocket`",
        ),
    };
    ("websocket", message, suggestion.into())
}

fn describe_rejection(status: tungstenite::http::StatusCode) -> Described {
    let suggestion = match status.as_u16() {
        401 | 403 => {
            "The server refused this client: check credentials, headers (`Config::header`) and the URL path"
        }
        404 => "The path does not exist on this server: check the URL's path",
        429 => {
            "Too many connections or requests: wait (see the Retry-After header) before connecting again"
        }
        500..=599 => "The server had a problem; retry later with back-off",
        _ => "Check the URL and the headers the server requires",
    };
    (
        "handshakerejected",
        format!("The server refused the WebSocket upgrade with HTTP {status}"),
        suggestion.into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ConnectStage, ConnectionState, RequestId, SubscriptionId};

    #[test]
    fn every_variant_has_words_and_a_link() {
        let errors = vec![
            Error::InvalidUrl { url: "x".into(), reason: "r".into() },
            Error::InvalidConfig { field: "timeout", reason: "r".into() },
            Error::InvalidArgument { name: "channels", reason: "r".into() },
            Error::Resolve { host: "h.invalid".into(), source: io::ErrorKind::NotFound.into() },
            Error::Io(io::ErrorKind::ConnectionRefused.into()),
            Error::Tls(rustls::Error::DecryptError),
            Error::WebSocket(tungstenite::Error::ConnectionClosed),
            Error::Timeout {
                stage: ConnectStage::Upgrade,
                after: std::time::Duration::from_secs(1),
            },
            Error::HandshakeRejected {
                status: tungstenite::http::StatusCode::FORBIDDEN,
                headers: Box::default(),
                body: None,
            },
            Error::NotConnected(ConnectionState::Connecting),
            Error::Disconnected,
            Error::HeartbeatTimeout { failures: 2 },
            Error::Recording(zen_websocket_recorder::Error::Closed { path: "/tmp/x".into() }),
            Error::RateLimited(zen_websocket_rate_limiter::Error::QueueFull),
            Error::RequestTimeout {
                id: RequestId::from(1),
                after: std::time::Duration::from_secs(1),
            },
            Error::DuplicateRequestId(RequestId::from(1)),
            Error::JsonRpc { code: 1, message: "m".into(), data: None },
            Error::SubscriptionRejected { channels: vec!["c".into()] },
            Error::UnknownSubscription(SubscriptionId::new(1)),
            Error::Json(serde_json::from_str::<u8>("x").unwrap_err()),
            Error::InvalidResponse("r".into()),
            Error::WriteTimeout { after: std::time::Duration::from_secs(10) },
            Error::ServerClosed { code: 1001, reason: "restart".into() },
            Error::CallbackPanicked { callback: "SubscriptionProtocol::confirm" },
            Error::SessionSetup(Box::new(Error::JsonRpc {
                code: 13004,
                message: "invalid_credentials".into(),
                data: None,
            })),
            Error::ConnectionTaskEnded,
        ];
        for err in &errors {
            let explanation = ErrorHandler::explain(err);
            assert!(!explanation.message.is_empty(), "{err:?}");
            assert!(!explanation.suggestion.is_empty(), "{err:?}");
            assert!(explanation.docs_url.starts_with(ERRORS_GUIDE), "{err:?}");
            assert!(!explanation.docs_url.ends_with("#errors"), "no specific section for {err:?}");
        }
    }
}
