//! What happened on the server: connection events, handshakes and disconnect kinds.

use crate::message::ConnectionId;

/// Something that happened on the server, recorded in order by [`MockServer::events`].
///
/// [`MockServer::events`]: crate::MockServer::events
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use zen_websocket_testing::{MockServer, ServerEvent};
///
/// let server = MockServer::start().await?;
/// let client = tokio::net::TcpStream::connect(server.addr()).await?;
/// let (_ws, _) = tokio_tungstenite::client_async(server.url(), client).await?;
/// let event = server
///     .wait_for_event(|e| matches!(e, ServerEvent::Connected(_)), Duration::from_secs(5))
///     .await?;
/// assert_eq!(event.connection(), server.events()[0].connection());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerEvent {
    /// A WebSocket upgrade was accepted.
    Connected(ConnectionId),
    /// The client sent a close frame (`code` is `None` when the frame had no status code).
    ClientClosed {
        /// The connection that closed.
        connection: ConnectionId,
        /// The close code the client sent.
        code: Option<u16>,
        /// The close reason the client sent (may be empty).
        reason: String,
    },
    /// The TCP connection ended (or failed) without a close frame from the client.
    Dropped {
        /// The connection that ended.
        connection: ConnectionId,
    },
    /// The server ended the connection: with a close frame (`code` is `Some`) or with a TCP
    /// reset (`code` is `None`, see [`DisconnectKind::Abrupt`]).
    ServerClosed {
        /// The connection the server closed.
        connection: ConnectionId,
        /// The close code the server sent; `None` for an abrupt reset.
        code: Option<u16>,
        /// The close reason the server sent.
        reason: String,
    },
    /// The client sent a ping.
    Ping {
        /// The connection the ping arrived on.
        connection: ConnectionId,
        /// The ping payload.
        payload: Vec<u8>,
    },
    /// The client sent a pong (for example in answer to [`Reply::Ping`](crate::Reply::Ping)).
    Pong {
        /// The connection the pong arrived on.
        connection: ConnectionId,
        /// The pong payload.
        payload: Vec<u8>,
    },
    /// An upgrade was refused because of [`MockServer::reject_handshake`].
    ///
    /// [`MockServer::reject_handshake`]: crate::MockServer::reject_handshake
    HandshakeRejected {
        /// The HTTP status sent.
        status: u16,
    },
    /// A TLS or WebSocket handshake failed (for example a client that does not trust the CA).
    HandshakeFailed {
        /// What went wrong.
        reason: String,
    },
}

impl ServerEvent {
    /// The connection the event is about, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_testing::{ConnectionId, ServerEvent};
    ///
    /// let id = ConnectionId::new(1);
    /// assert_eq!(ServerEvent::Connected(id).connection(), Some(id));
    /// assert_eq!(ServerEvent::HandshakeRejected { status: 403 }.connection(), None);
    /// ```
    pub fn connection(&self) -> Option<ConnectionId> {
        match self {
            Self::Connected(connection)
            | Self::ClientClosed { connection, .. }
            | Self::Dropped { connection }
            | Self::ServerClosed { connection, .. }
            | Self::Ping { connection, .. }
            | Self::Pong { connection, .. } => Some(*connection),
            Self::HandshakeRejected { .. } | Self::HandshakeFailed { .. } => None,
        }
    }
}

/// How [`MockServer::simulate_disconnect`] ends connections.
///
/// [`MockServer::simulate_disconnect`]: crate::MockServer::simulate_disconnect
///
/// # Examples
///
/// ```
/// use zen_websocket_testing::DisconnectKind;
///
/// assert_eq!(DisconnectKind::Normal.close_code(), Some(1000));
/// assert_eq!(DisconnectKind::Code(4001, "kicked".into()).close_code(), Some(4001));
/// assert_eq!(DisconnectKind::Abrupt.close_code(), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DisconnectKind {
    /// A close frame with code 1000 (normal closure).
    Normal,
    /// A close frame with code 1001 (going away).
    GoingAway,
    /// A close frame with this code and reason (the reason is cut to 123 bytes).
    Code(u16, String),
    /// A TCP reset with no close frame: the client sees `ECONNRESET`.
    Abrupt,
}

impl DisconnectKind {
    /// The close code this kind sends; `None` for [`DisconnectKind::Abrupt`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use zen_websocket_testing::DisconnectKind;
    /// assert_eq!(DisconnectKind::GoingAway.close_code(), Some(1001));
    /// ```
    pub fn close_code(&self) -> Option<u16> {
        match self {
            Self::Normal => Some(1000),
            Self::GoingAway => Some(1001),
            Self::Code(code, _) => Some(*code),
            Self::Abrupt => None,
        }
    }

    /// The close reason this kind sends (empty for the standard kinds).
    pub(crate) fn reason(&self) -> &str {
        match self {
            Self::Code(_, reason) => reason,
            Self::Normal | Self::GoingAway | Self::Abrupt => "",
        }
    }
}

/// The HTTP upgrade request of an accepted connection, recorded by [`MockServer::handshakes`].
///
/// [`MockServer::handshakes`]: crate::MockServer::handshakes
///
/// # Examples
///
/// ```
/// use zen_websocket_testing::{ConnectionId, HandshakeRequest};
///
/// let request = HandshakeRequest {
///     connection: ConnectionId::new(1),
///     path: "/ws?x=1".into(),
///     headers: vec![("user-agent".into(), "test".into())],
/// };
/// assert_eq!(request.header("User-Agent"), Some("test"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeRequest {
    /// The connection the request opened.
    pub connection: ConnectionId,
    /// The request target: path and query (for example `/ws/api/v2?x=1`).
    pub path: String,
    /// Every header as sent (names in lower case; values that are not UTF-8 are replaced lossily).
    pub headers: Vec<(String, String)>,
}

impl HandshakeRequest {
    /// The first value of the header `name` (case-insensitive).
    ///
    /// # Examples
    ///
    /// ```
    /// # use zen_websocket_testing::{ConnectionId, HandshakeRequest};
    /// let request = HandshakeRequest {
    ///     connection: ConnectionId::new(1),
    ///     path: "/".into(),
    ///     headers: vec![("x-token".into(), "abc".into())],
    /// };
    /// assert_eq!(request.header("X-Token"), Some("abc"));
    /// assert_eq!(request.header("missing"), None);
    /// ```
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}
