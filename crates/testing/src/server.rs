//! `MockServer`: the handle a test holds; starting, addressing, TLS material, stop and restart.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use tokio::task::JoinHandle;

use crate::accept::{accept_loop, bind};
use crate::builder::MockServerBuilder;
use crate::event::DisconnectKind;
use crate::state::{Shared, lock};

/// How long `stop` waits for connections to finish their close handshakes.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// A real WebSocket server on 127.0.0.1 for tests, plain (`ws://`) or TLS (`wss://`).
///
/// It answers through handlers (echo and JSON-RPC by default), records every data frame and
/// event, injects messages, simulates disconnects and handshake failures, and can stop and
/// restart on the same port. Everything is controlled through `&self`, while clients are
/// connected. Dropping the server aborts everything at once; [`MockServer::stop`] closes
/// connections politely first.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use futures_util::{SinkExt, StreamExt};
/// use tokio_tungstenite::tungstenite::Message;
/// use zen_websocket_testing::MockServer;
///
/// let server = MockServer::start().await?;
/// let tcp = tokio::net::TcpStream::connect(server.addr()).await?;
/// let (mut ws, _) = tokio_tungstenite::client_async(server.url(), tcp).await?;
///
/// ws.send(Message::text("hello")).await?;
/// server.assert_message_sent("hello", Duration::from_secs(5)).await?;
/// assert_eq!(ws.next().await.transpose()?, Some(Message::text("hello"))); // echoed
/// # Ok(())
/// # }
/// ```
pub struct MockServer {
    pub(crate) shared: Arc<Shared>,
    addr: SocketAddr,
    /// The accept loop while the server is running.
    accept: Mutex<Option<JoinHandle<()>>>,
}

impl MockServer {
    /// Starts a plain `ws://` server on an ephemeral port of 127.0.0.1 with the default
    /// handlers; the same as `MockServer::builder().start()`.
    ///
    /// # Errors
    ///
    /// No port of 127.0.0.1 can be bound.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future before it completes starts nothing.
    ///
    /// # Panics
    ///
    /// When polled outside a Tokio runtime (the server runs on Tokio tasks).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use zen_websocket_testing::MockServer;
    ///
    /// let server = MockServer::start().await?;
    /// assert!(server.url().starts_with("ws://127.0.0.1:"));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn start() -> io::Result<Self> {
        Self::builder().start().await
    }

    /// A builder for a server with TLS, a fixed port, custom handlers or auto-pong off.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use zen_websocket_testing::MockServer;
    ///
    /// let server = MockServer::builder().tls(true).start().await?;
    /// assert!(server.url().starts_with("wss://"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn builder() -> MockServerBuilder {
        MockServerBuilder::default()
    }

    /// Binds `addr` and spawns the accept loop.
    pub(crate) fn launch(shared: Arc<Shared>, addr: SocketAddr) -> io::Result<Self> {
        let listener = bind(addr)?;
        let addr = listener.local_addr()?;
        let accept = tokio::spawn(accept_loop(listener, Arc::clone(&shared)));
        Ok(Self { shared, addr, accept: Mutex::new(Some(accept)) })
    }

    /// The URL to connect to: `ws://127.0.0.1:PORT` or `wss://127.0.0.1:PORT`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::MockServer;
    /// let server = MockServer::start().await?;
    /// assert_eq!(server.url(), format!("ws://{}", server.addr()));
    /// # Ok(())
    /// # }
    /// ```
    pub fn url(&self) -> String {
        let scheme = if self.is_tls() { "wss" } else { "ws" };
        format!("{scheme}://{}", self.addr)
    }

    /// The address the server listens on (always 127.0.0.1; the port stays the same across
    /// [`restart`](Self::restart)).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::MockServer;
    /// let server = MockServer::start().await?;
    /// assert!(server.addr().ip().is_loopback());
    /// # Ok(())
    /// # }
    /// ```
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Whether the server speaks TLS (`wss://`).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::MockServer;
    /// assert!(!MockServer::start().await?.is_tls());
    /// # Ok(())
    /// # }
    /// ```
    pub fn is_tls(&self) -> bool {
        self.shared.tls.is_some()
    }

    /// The generated CA certificate (DER) a client must trust; `None` without TLS. It stays the
    /// same across [`restart`](Self::restart).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use zen_websocket_testing::MockServer;
    /// let server = MockServer::builder().tls(true).start().await?;
    /// let mut roots = rustls::RootCertStore::empty();
    /// roots.add(server.ca_certificate().expect("a TLS server has a CA"))?;
    /// assert_eq!(roots.len(), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn ca_certificate(&self) -> Option<CertificateDer<'static>> {
        self.shared.tls.as_ref().map(|tls| tls.ca_der.clone())
    }

    /// The generated CA certificate in PEM form; `None` without TLS.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::MockServer;
    /// let server = MockServer::builder().tls(true).start().await?;
    /// let pem = server.ca_certificate_pem().expect("a TLS server has a CA");
    /// assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn ca_certificate_pem(&self) -> Option<String> {
        self.shared.tls.as_ref().map(|tls| tls.ca_pem.clone())
    }

    /// A rustls client configuration (ring provider) that trusts only the generated CA; `None`
    /// without TLS.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use tokio_rustls::TlsConnector;
    /// use rustls::pki_types::ServerName;
    /// use zen_websocket_testing::MockServer;
    ///
    /// let server = MockServer::builder().tls(true).start().await?;
    /// let connector = TlsConnector::from(server.client_tls_config().expect("TLS"));
    /// let tcp = tokio::net::TcpStream::connect(server.addr()).await?;
    /// let name = ServerName::IpAddress(server.addr().ip().into());
    /// let tls = connector.connect(name, tcp).await?;
    /// let (_ws, response) = tokio_tungstenite::client_async(server.url(), tls).await?;
    /// assert_eq!(response.status(), 101);
    /// # Ok(())
    /// # }
    /// ```
    pub fn client_tls_config(&self) -> Option<Arc<rustls::ClientConfig>> {
        self.shared.tls.as_ref().map(|tls| Arc::clone(&tls.client_config))
    }

    /// Whether the server is listening (not [`stop`](Self::stop)ped).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::MockServer;
    /// let server = MockServer::start().await?;
    /// assert!(server.is_running());
    /// server.stop().await;
    /// assert!(!server.is_running());
    /// # Ok(())
    /// # }
    /// ```
    pub fn is_running(&self) -> bool {
        lock(&self.accept).is_some()
    }

    /// Stops listening and closes every connection with a 1001 (going away) close frame, waiting
    /// at most about two seconds for the close handshakes; then ends every remaining task
    /// (stalled handshakes, delayed replies). Calling it again is a no-op. Recorded messages
    /// and events are kept.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: when cancelled part-way, some connections may stay open until the
    /// server is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::MockServer;
    /// let server = MockServer::start().await?;
    /// server.stop().await;
    /// server.stop().await; // no-op
    /// assert!(tokio::net::TcpStream::connect(server.addr()).await.is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn stop(&self) {
        let Some(accept) = lock(&self.accept).take() else {
            return;
        };
        accept.abort();
        // Wait for the loop to end so the listening socket is closed when `stop` returns.
        let _ = accept.await;
        let closing = self.simulate_disconnect(DisconnectKind::GoingAway);
        let _ = tokio::time::timeout(STOP_GRACE, closing).await;
        self.shared.take_tasks().shutdown().await;
    }

    /// Stops (if running) and listens again on the same port, with the same TLS certificate,
    /// handlers and settings. Connection ids keep counting up.
    ///
    /// # Errors
    ///
    /// The port cannot be bound again (for example another process took it meanwhile).
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: when cancelled part-way the server may be left stopped.
    ///
    /// # Panics
    ///
    /// When polled outside a Tokio runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::MockServer;
    /// let server = MockServer::start().await?;
    /// let url = server.url();
    /// server.stop().await;
    /// server.restart().await?;
    /// assert_eq!(server.url(), url);
    /// assert!(tokio::net::TcpStream::connect(server.addr()).await.is_ok());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn restart(&self) -> io::Result<()> {
        self.stop().await;
        let listener = bind(self.addr)?;
        let accept = tokio::spawn(accept_loop(listener, Arc::clone(&self.shared)));
        if let Some(previous) = lock(&self.accept).replace(accept) {
            // A concurrent restart won the race; keep one accept loop.
            previous.abort();
        }
        Ok(())
    }
}

impl Drop for MockServer {
    /// Aborts the accept loop and every connection at once (no close frames).
    fn drop(&mut self) {
        if let Some(accept) = lock(&self.accept).take() {
            accept.abort();
        }
        self.shared.abort_tasks();
    }
}

impl fmt::Debug for MockServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockServer")
            .field("url", &self.url())
            .field("running", &self.is_running())
            .field("shared", &self.shared)
            .finish()
    }
}
