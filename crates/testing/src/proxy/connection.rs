//! What a test can see of one proxied connection: its id, client address and traffic.

use std::fmt;
use std::net::SocketAddr;

/// Identifies one TCP connection accepted by a [`FaultProxy`](crate::FaultProxy).
///
/// Ids start at 1 and grow with every accepted connection. They are the proxy's own numbers,
/// unrelated to a [`MockServer`](crate::MockServer)'s [`ConnectionId`](crate::ConnectionId)s.
///
/// # Examples
///
/// ```
/// use zen_websocket_testing::ProxyConnectionId;
///
/// let id = ProxyConnectionId::new(2);
/// assert_eq!(id.get(), 2);
/// assert_eq!(id.to_string(), "proxy#2");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProxyConnectionId(u64);

impl ProxyConnectionId {
    /// Wraps a raw id.
    ///
    /// # Examples
    ///
    /// ```
    /// # use zen_websocket_testing::ProxyConnectionId;
    /// assert_eq!(ProxyConnectionId::new(1), ProxyConnectionId::new(1));
    /// ```
    pub const fn new(raw: u64) -> Self {
        Self(raw)
    }

    /// The raw number behind the id.
    ///
    /// # Examples
    ///
    /// ```
    /// # use zen_websocket_testing::ProxyConnectionId;
    /// assert_eq!(ProxyConnectionId::new(4).get(), 4);
    /// ```
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ProxyConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "proxy#{}", self.0)
    }
}

/// Bytes moved one way through a proxied connection.
///
/// # Examples
///
/// ```
/// use zen_websocket_testing::Traffic;
///
/// let traffic = Traffic::default();
/// assert_eq!((traffic.forwarded, traffic.discarded), (0, 0));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Traffic {
    /// Bytes written to the receiving side.
    pub forwarded: u64,
    /// Bytes read and thrown away: by a [`Fault::Blackhole`](crate::Fault::Blackhole), or the
    /// rest of a chunk cut by [`Fault::Truncate`](crate::Fault::Truncate) or
    /// [`Fault::CloseAfter`](crate::Fault::CloseAfter).
    pub discarded: u64,
}

/// A snapshot of one connection accepted by a [`FaultProxy`](crate::FaultProxy), from
/// [`FaultProxy::connections`](crate::FaultProxy::connections).
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use zen_websocket_testing::{FaultProxy, MockServer};
///
/// let server = MockServer::start().await?;
/// let proxy = FaultProxy::start(server.addr()).await?;
/// let tcp = tokio::net::TcpStream::connect(proxy.addr()).await?;
/// let (_ws, _) = tokio_tungstenite::client_async(proxy.url_for(&server.url()), tcp).await?;
///
/// let connection = &proxy.connections()[0];
/// assert!(connection.open);
/// assert!(connection.client_to_server.forwarded > 0); // the upgrade request
/// assert!(connection.server_to_client.forwarded > 0); // the 101 answer
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProxyConnection {
    /// The proxy's id for the connection.
    pub id: ProxyConnectionId,
    /// The client's address (the peer of the proxy's listening side; compare with the
    /// client socket's `local_addr`).
    pub client: SocketAddr,
    /// What the client sent towards the server.
    pub client_to_server: Traffic,
    /// What the server sent towards the client.
    pub server_to_client: Traffic,
    /// Whether the proxy still holds the connection's sockets.
    pub open: bool,
}
