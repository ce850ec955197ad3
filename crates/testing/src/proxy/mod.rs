//! `FaultProxy`: a TCP proxy on loopback that injects network faults between a client and a
//! server, controlled at run time.

mod accept;
mod builder;
mod connection;
mod controls;
mod fault;
mod link;
mod observe;
mod pump;
mod socket;
mod state;
mod timing;

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::task::JoinHandle;

pub use self::builder::FaultProxyBuilder;
pub use self::connection::{ProxyConnection, ProxyConnectionId, Traffic};
pub use self::fault::{Admission, Direction, Fault, Faults};

use self::accept::{accept_loop, bind};
use self::state::ProxyShared;
use crate::state::lock;

/// A TCP proxy on loopback that sits between a client and a server and injects network faults:
/// latency, bandwidth caps, stalls, blackholes, resets, closes after some bytes, truncated
/// frames and refused connections.
///
/// The client dials the proxy ([`addr`](Self::addr), [`url_for`](Self::url_for)) instead of
/// the server; every accepted connection is forwarded to the upstream address given at start
/// — a [`MockServer`](crate::MockServer) or any other server. The proxy works on bytes, so it
/// is protocol-agnostic: `ws://` and `wss://` alike (TLS passes through untouched).
///
/// Faults are set for new connections ([`set_default`](Self::set_default)), for every open
/// connection ([`apply_all`](Self::apply_all), [`clear_all`](Self::clear_all),
/// [`heal_all`](Self::heal_all), [`reset_all`](Self::reset_all), [`close_all`](Self::close_all))
/// or for one ([`apply`](Self::apply) and friends, by [`ProxyConnectionId`]); changes take
/// effect on live connections at once. [`connections`](Self::connections) lists every
/// connection with its byte counts; [`wait_for_connections`](Self::wait_for_connections) and
/// [`wait_for_accepted`](Self::wait_for_accepted) wait without polling. Dropping the proxy ends
/// all its tasks and connections.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::{Duration, Instant};
/// use futures_util::{SinkExt, StreamExt};
/// use tokio_tungstenite::tungstenite::Message;
/// use zen_websocket_testing::{Direction, Fault, FaultProxy, MockServer};
///
/// let server = MockServer::start().await?;
/// let proxy = FaultProxy::start(server.addr()).await?;
/// let tcp = tokio::net::TcpStream::connect(proxy.addr()).await?;
/// let (mut ws, _) = tokio_tungstenite::client_async(proxy.url_for(&server.url()), tcp).await?;
///
/// let delay = Duration::from_millis(50);
/// proxy.apply_all(Fault::latency(Direction::ServerToClient, delay, Duration::ZERO));
/// let started = Instant::now();
/// ws.send(Message::text("hello")).await?;
/// assert_eq!(ws.next().await.transpose()?, Some(Message::text("hello"))); // echoed
/// assert!(started.elapsed() >= delay);
/// # Ok(())
/// # }
/// ```
pub struct FaultProxy {
    shared: Arc<ProxyShared>,
    addr: SocketAddr,
    /// The accept loop while the proxy is listening.
    accept: Mutex<Option<JoinHandle<()>>>,
}

impl FaultProxy {
    /// Starts a proxy to `upstream` on an ephemeral port of loopback, with no faults; the same
    /// as `FaultProxy::builder(upstream).start()`.
    ///
    /// # Errors
    ///
    /// No port of the loopback address can be bound.
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
    /// use zen_websocket_testing::{FaultProxy, MockServer};
    ///
    /// let server = MockServer::start().await?;
    /// let proxy = FaultProxy::start(server.addr()).await?;
    /// assert_eq!(proxy.upstream(), server.addr());
    /// assert!(proxy.addr().ip().is_loopback());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn start(upstream: SocketAddr) -> io::Result<Self> {
        Self::builder(upstream).start().await
    }

    /// A builder for a proxy with small socket buffers and segments, default faults or a fixed
    /// port.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use zen_websocket_testing::{FaultProxy, MockServer};
    ///
    /// let server = MockServer::start().await?;
    /// let proxy = FaultProxy::builder(server.addr()).socket_buffer_size(4096).start().await?;
    /// # drop(proxy);
    /// # Ok(())
    /// # }
    /// ```
    pub fn builder(upstream: SocketAddr) -> FaultProxyBuilder {
        FaultProxyBuilder::new(upstream)
    }

    /// Binds `addr` and spawns the accept loop.
    fn launch(shared: Arc<ProxyShared>, addr: SocketAddr) -> io::Result<Self> {
        let listener = bind(addr, shared.sockets)?;
        let addr = listener.local_addr()?;
        let accept = tokio::spawn(accept_loop(listener, Arc::clone(&shared)));
        Ok(Self { shared, addr, accept: Mutex::new(Some(accept)) })
    }

    /// The address the proxy listens on: `127.0.0.1` (`::1` when the upstream is an IPv6
    /// address) and a port that stays the same for the proxy's lifetime.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::{FaultProxy, MockServer};
    /// let server = MockServer::start().await?;
    /// let proxy = FaultProxy::start(server.addr()).await?;
    /// assert_ne!(proxy.addr(), server.addr());
    /// # Ok(())
    /// # }
    /// ```
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The address every connection is forwarded to.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::{FaultProxy, MockServer};
    /// let server = MockServer::start().await?;
    /// let proxy = FaultProxy::start(server.addr()).await?;
    /// assert_eq!(proxy.upstream(), server.addr());
    /// # Ok(())
    /// # }
    /// ```
    pub fn upstream(&self) -> SocketAddr {
        self.shared.upstream
    }

    /// `scheme://ADDR` with the proxy's address, for example `proxy.url("wss")`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::{FaultProxy, MockServer};
    /// let server = MockServer::start().await?;
    /// let proxy = FaultProxy::start(server.addr()).await?;
    /// assert_eq!(proxy.url("ws"), format!("ws://{}", proxy.addr()));
    /// # Ok(())
    /// # }
    /// ```
    pub fn url(&self, scheme: &str) -> String {
        format!("{scheme}://{}", self.addr)
    }

    /// The URL to dial instead of `target`: the same scheme, user info, path, query and
    /// fragment, with the host and port replaced by the proxy's address. A `target` without
    /// `scheme://` gets `ws://`.
    ///
    /// With TLS, the client still has to verify the server's certificate: a
    /// [`MockServer`](crate::MockServer)'s certificate names `127.0.0.1` (and `::1`), so
    /// rewritten loopback URLs just work; for a server known by name, keep the name for
    /// verification and dial the proxy's address.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::{FaultProxy, MockServer};
    /// let server = MockServer::start().await?;
    /// let proxy = FaultProxy::start(server.addr()).await?;
    /// let url = proxy.url_for(&format!("{}/ws/api/v2?x=1", server.url()));
    /// assert_eq!(url, format!("ws://{}/ws/api/v2?x=1", proxy.addr()));
    /// assert_eq!(proxy.url_for("wss://example.com"), format!("wss://{}", proxy.addr()));
    /// # Ok(())
    /// # }
    /// ```
    pub fn url_for(&self, target: &str) -> String {
        rewrite(target, self.addr)
    }

    /// Whether the proxy is listening (its [`admission`](Self::admission) is not
    /// [`Admission::Refuse`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::{FaultProxy, MockServer};
    /// let server = MockServer::start().await?;
    /// let proxy = FaultProxy::start(server.addr()).await?;
    /// assert!(proxy.is_listening());
    /// proxy.stop().await;
    /// assert!(!proxy.is_listening());
    /// # Ok(())
    /// # }
    /// ```
    pub fn is_listening(&self) -> bool {
        lock(&self.accept).is_some()
    }

    /// Stops listening (dials are refused from now on) and closes every open connection with a
    /// FIN to both peers, waiting until they are closed (about a second at most). Counters and
    /// the connection list are kept; [`set_admission`](Self::set_admission)`(Admission::Accept)`
    /// listens again on the same port. Calling it again is a no-op.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: when cancelled part-way, connections may stay open until the proxy is
    /// dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use zen_websocket_testing::{FaultProxy, MockServer};
    ///
    /// let server = MockServer::start().await?;
    /// let proxy = FaultProxy::start(server.addr()).await?;
    /// proxy.stop().await;
    /// assert!(tokio::net::TcpStream::connect(proxy.addr()).await.is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn stop(&self) {
        self.shared.set_admission(Admission::Refuse);
        self.stop_listening().await;
        self.close_all().await;
        self.shared.take_tasks().shutdown().await;
    }

    /// Listens again on the proxy's port, unless already listening.
    fn listen(&self) -> io::Result<()> {
        let mut accept = lock(&self.accept);
        if accept.is_none() {
            let listener = bind(self.addr, self.shared.sockets)?;
            *accept = Some(tokio::spawn(accept_loop(listener, Arc::clone(&self.shared))));
        }
        Ok(())
    }

    /// Closes the listening socket and waits until it is closed.
    async fn stop_listening(&self) {
        let accept = lock(&self.accept).take();
        if let Some(accept) = accept {
            accept.abort();
            // The listener is closed once the aborted task is dropped.
            let _ = accept.await;
        }
    }
}

/// `target` with its authority (after any user info) replaced by `addr`.
fn rewrite(target: &str, addr: SocketAddr) -> String {
    let (scheme, rest) = target.split_once("://").unwrap_or(("ws", target));
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let user = authority.rfind('@').map_or("", |at| &authority[..=at]);
    format!("{scheme}://{user}{addr}{tail}")
}

impl Drop for FaultProxy {
    /// Aborts the accept loop and every connection at once.
    fn drop(&mut self) {
        if let Some(accept) = lock(&self.accept).take() {
            accept.abort();
        }
        self.shared.abort_tasks();
    }
}

impl fmt::Debug for FaultProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaultProxy")
            .field("addr", &self.addr)
            .field("listening", &self.is_listening())
            .field("shared", &self.shared)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrite_keeps_everything_but_the_authority() {
        let addr: SocketAddr = "127.0.0.1:9".parse().expect("addr");
        assert_eq!(rewrite("ws://127.0.0.1:1/a?b#c", addr), "ws://127.0.0.1:9/a?b#c");
        assert_eq!(rewrite("wss://u:p@host:443", addr), "wss://u:p@127.0.0.1:9");
        assert_eq!(rewrite("host:1/path", addr), "ws://127.0.0.1:9/path");
        assert_eq!(rewrite("ws://h?q=a@b", addr), "ws://127.0.0.1:9?q=a@b");
        let v6: SocketAddr = "[::1]:9".parse().expect("addr");
        assert_eq!(rewrite("ws://[::1]:1/x", v6), "ws://[::1]:9/x");
    }
}
