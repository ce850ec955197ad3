//! `FaultProxyBuilder`: port, socket options and the faults new connections start with.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use super::FaultProxy;
use super::fault::Faults;
use super::socket::SocketOptions;
use super::state::ProxyShared;

/// Configures a [`FaultProxy`] before it starts; from [`FaultProxy::builder`].
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// use std::time::Duration;
/// use zen_websocket_testing::{Direction, Fault, FaultProxy, Faults, MockServer};
///
/// let server = MockServer::start().await?;
/// let proxy = FaultProxy::builder(server.addr())
///     .socket_buffer_size(4096)
///     .faults(Faults::from(Fault::latency(Direction::Both, Duration::from_millis(5), Duration::ZERO)))
///     .start()
///     .await?;
/// assert!(!proxy.default_faults().is_none());
/// # Ok(())
/// # }
/// ```
#[must_use = "a builder does nothing until `start` is awaited"]
#[derive(Debug, Clone)]
pub struct FaultProxyBuilder {
    upstream: SocketAddr,
    port: u16,
    sockets: SocketOptions,
    faults: Faults,
}

impl FaultProxyBuilder {
    pub(super) fn new(upstream: SocketAddr) -> Self {
        Self { upstream, port: 0, sockets: SocketOptions::default(), faults: Faults::none() }
    }

    /// Listens on this port of the loopback address.
    ///
    /// Default is `0`: an ephemeral port chosen by the system (read it back with
    /// [`FaultProxy::addr`]). Prefer the default in tests, so parallel tests never collide.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::{FaultProxy, MockServer};
    /// let server = MockServer::start().await?;
    /// let proxy = FaultProxy::builder(server.addr()).port(0).start().await?;
    /// assert_ne!(proxy.addr().port(), 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Sets `SO_RCVBUF` and `SO_SNDBUF` to `bytes` on the listening socket before it listens
    /// (accepted sockets inherit them) and on each upstream socket before it connects. The
    /// kernel may round the sizes up (Linux doubles them and enforces a minimum).
    ///
    /// Small buffers make a [`Fault::Stall`](crate::Fault::Stall) bite quickly, together with
    /// [`max_segment_size`](Self::max_segment_size): what the peers' own socket buffers hold
    /// still counts.
    ///
    /// Default is none: the system's sizes and automatic tuning.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::{FaultProxy, MockServer};
    /// let server = MockServer::start().await?;
    /// let proxy = FaultProxy::builder(server.addr()).socket_buffer_size(4 * 1024).start().await?;
    /// # drop(proxy);
    /// # Ok(())
    /// # }
    /// ```
    pub fn socket_buffer_size(mut self, bytes: usize) -> Self {
        self.sockets.buffer_size = Some(bytes);
        self
    }

    /// Sets `TCP_MAXSEG` on the listening socket before it listens (the segment size the proxy
    /// announces to clients) and on each upstream socket before it connects.
    ///
    /// Loopback has a 64 KiB MTU, and a kernel sizes a new connection's send buffer from the
    /// segment size (Linux: about twenty segments, some megabytes on loopback). An
    /// Ethernet-like 1460 keeps that to tens of KiB, so a client writing into a
    /// [`Fault::Stall`](crate::Fault::Stall) blocks after a few hundred KiB at most (with
    /// [`socket_buffer_size`](Self::socket_buffer_size) set small too).
    ///
    /// Unix only: elsewhere [`start`](Self::start) fails with
    /// [`Unsupported`](std::io::ErrorKind::Unsupported).
    ///
    /// Default is none: the system's choice.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::{FaultProxy, MockServer};
    /// let server = MockServer::start().await?;
    /// // A stall blocks the writer quickly: small buffers, Ethernet-sized segments.
    /// let proxy = FaultProxy::builder(server.addr())
    ///     .socket_buffer_size(4 * 1024)
    ///     .max_segment_size(1460)
    ///     .start()
    ///     .await?;
    /// # drop(proxy);
    /// # Ok(())
    /// # }
    /// ```
    pub fn max_segment_size(mut self, bytes: u32) -> Self {
        self.sockets.max_segment_size = Some(bytes);
        self
    }

    /// The faults every new connection starts with; change them later with
    /// [`FaultProxy::set_default`].
    ///
    /// Default is [`Faults::none`].
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use zen_websocket_testing::{Direction, Fault, FaultProxy, Faults, MockServer};
    ///
    /// let server = MockServer::start().await?;
    /// // Every connection dies after 1 KiB from the server: a flaky network.
    /// let flaky = Faults::from(Fault::close_after(Direction::ServerToClient, 1024));
    /// let proxy = FaultProxy::builder(server.addr()).faults(flaky).start().await?;
    /// assert_eq!(proxy.default_faults(), flaky);
    /// # Ok(())
    /// # }
    /// ```
    pub fn faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// Binds the loopback address (`127.0.0.1`, or `::1` for an IPv6 upstream) and starts
    /// accepting connections.
    ///
    /// # Errors
    ///
    /// The port cannot be bound (for example it is in use) or a socket option cannot be set
    /// (see [`max_segment_size`](Self::max_segment_size)).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future before it completes starts nothing.
    ///
    /// # Panics
    ///
    /// When polled outside a Tokio runtime (the proxy runs on Tokio tasks).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::{FaultProxy, MockServer};
    /// let server = MockServer::start().await?;
    /// let proxy = FaultProxy::builder(server.addr()).start().await?;
    /// assert_eq!(proxy.addr().ip(), std::net::Ipv4Addr::LOCALHOST);
    /// # Ok(())
    /// # }
    /// ```
    // Async like `MockServerBuilder::start` (tests read the same either way), though binding
    // needs no waiting today.
    #[allow(clippy::unused_async)]
    pub async fn start(self) -> io::Result<FaultProxy> {
        let ip = match self.upstream.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
        };
        let shared = Arc::new(ProxyShared::new(self.upstream, self.sockets, self.faults));
        FaultProxy::launch(shared, SocketAddr::new(ip, self.port))
    }
}
