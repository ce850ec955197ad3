//! `DeribitSimulator`: the handle a test holds; starting, the accept loop, addressing, TLS
//! material, stop and restart.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::accept_async_with_config;

use super::builder::DeribitSimulatorBuilder;
use super::market;
use super::session::{self, CloseReason};
use super::state::{Outbox, Sim};
use crate::accept::{bind, secure_with, ws_config};
use crate::state::lock;

/// How long `stop` waits for connections to finish their close handshakes.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// A local Deribit: a real WebSocket JSON-RPC server on 127.0.0.1 (`ws://` or `wss://`) that
/// plays Deribit's API v2 — login with all three grants, heartbeats with `test_request`,
/// subscriptions with generated market data, orders, cancel-on-disconnect and credits — from
/// one process, deterministically where it can. Tests observe it ([`requests`](Self::requests),
/// [`open_orders`](Self::open_orders), [`authenticated`](Self::authenticated), …) and script
/// faults ([`drop_connections`](Self::drop_connections), [`refuse_auth`](Self::refuse_auth),
/// [`skip_book_change`](Self::skip_book_change), …) while clients are connected.
///
/// Dropping the simulator aborts everything at once; [`stop`](Self::stop) closes connections
/// with a close frame first.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use futures_util::{SinkExt, StreamExt};
/// use serde_json::{Value, json};
/// use tokio_tungstenite::tungstenite::Message;
/// use zen_websocket_testing::DeribitSimulator;
///
/// let simulator = DeribitSimulator::start().await?;
/// let tcp = tokio::net::TcpStream::connect(simulator.addr()).await?;
/// let (mut ws, _) = tokio_tungstenite::client_async(simulator.url(), tcp).await?;
///
/// let auth = json!({"id": 1, "method": "public/auth", "params": {
///     "grant_type": "client_credentials",
///     "client_id": simulator.client_id(),
///     "client_secret": simulator.client_secret(),
/// }});
/// ws.send(Message::text(auth.to_string())).await?;
/// let answer: Value = serde_json::from_str(ws.next().await.expect("an answer")?.to_text()?)?;
/// assert_eq!(answer["result"]["token_type"], "bearer");
/// assert_eq!(answer["testnet"], true);
///
/// let request = simulator.wait_for_request("public/auth", Duration::from_secs(5)).await?;
/// assert!(simulator.authenticated(request.connection));
/// # Ok(())
/// # }
/// ```
pub struct DeribitSimulator {
    pub(crate) sim: Arc<Sim>,
    addr: SocketAddr,
    /// The accept loop and the market data task while running.
    running: Mutex<Option<Running>>,
}

struct Running {
    accept: JoinHandle<()>,
    market: JoinHandle<()>,
}

impl Running {
    fn spawn(sim: &Arc<Sim>, listener: TcpListener) -> Self {
        Self {
            accept: tokio::spawn(accept_loop(listener, Arc::clone(sim))),
            market: tokio::spawn(market::run(Arc::clone(sim))),
        }
    }

    fn abort(&self) {
        self.accept.abort();
        self.market.abort();
    }
}

impl DeribitSimulator {
    /// Starts a plain `ws://` simulator on an ephemeral port of 127.0.0.1 with the defaults;
    /// the same as `DeribitSimulator::builder().start()`.
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
    /// When polled outside a Tokio runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use zen_websocket_testing::DeribitSimulator;
    ///
    /// let simulator = DeribitSimulator::start().await?;
    /// assert!(simulator.url().starts_with("ws://127.0.0.1:"));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn start() -> io::Result<Self> {
        Self::builder().start().await
    }

    /// A builder: TLS, port, credentials, token lifetime, heartbeat minimum, market data rate,
    /// credits, instruments.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use zen_websocket_testing::DeribitSimulator;
    ///
    /// let simulator = DeribitSimulator::builder().tls(true).start().await?;
    /// assert!(simulator.url().starts_with("wss://"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn builder() -> DeribitSimulatorBuilder {
        DeribitSimulatorBuilder::default()
    }

    /// Binds `addr` and spawns the accept loop and the market data task.
    pub(crate) fn launch(sim: Arc<Sim>, addr: SocketAddr) -> io::Result<Self> {
        let listener = bind(addr)?;
        let addr = listener.local_addr()?;
        let running = Running::spawn(&sim, listener);
        Ok(Self { sim, addr, running: Mutex::new(Some(running)) })
    }

    /// The URL to connect to: `ws://127.0.0.1:PORT` or `wss://127.0.0.1:PORT` (any path works;
    /// Deribit's is `/ws/api/v2`).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::DeribitSimulator;
    /// let simulator = DeribitSimulator::start().await?;
    /// assert_eq!(simulator.url(), format!("ws://{}", simulator.addr()));
    /// # Ok(())
    /// # }
    /// ```
    pub fn url(&self) -> String {
        let scheme = if self.is_tls() { "wss" } else { "ws" };
        format!("{scheme}://{}", self.addr)
    }

    /// The address the simulator listens on (always 127.0.0.1; the port stays the same across
    /// [`restart`](Self::restart)).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::DeribitSimulator;
    /// let simulator = DeribitSimulator::start().await?;
    /// assert!(simulator.addr().ip().is_loopback());
    /// # Ok(())
    /// # }
    /// ```
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Whether the simulator speaks TLS (`wss://`).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::DeribitSimulator;
    /// assert!(!DeribitSimulator::start().await?.is_tls());
    /// # Ok(())
    /// # }
    /// ```
    pub fn is_tls(&self) -> bool {
        self.sim.tls.is_some()
    }

    /// The generated CA certificate (DER) a client must trust; `None` without TLS. It stays the
    /// same across [`restart`](Self::restart).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use zen_websocket_testing::DeribitSimulator;
    /// let simulator = DeribitSimulator::builder().tls(true).start().await?;
    /// let mut roots = rustls::RootCertStore::empty();
    /// roots.add(simulator.ca_certificate().expect("a TLS simulator has a CA"))?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn ca_certificate(&self) -> Option<CertificateDer<'static>> {
        self.sim.tls.as_ref().map(|tls| tls.ca_der.clone())
    }

    /// The generated CA certificate in PEM form; `None` without TLS.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::DeribitSimulator;
    /// let simulator = DeribitSimulator::builder().tls(true).start().await?;
    /// assert!(simulator.ca_certificate_pem().expect("TLS").starts_with("-----BEGIN CERTIFICATE-----"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn ca_certificate_pem(&self) -> Option<String> {
        self.sim.tls.as_ref().map(|tls| tls.ca_pem.clone())
    }

    /// A rustls client configuration (ring provider) that trusts only the generated CA; `None`
    /// without TLS.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use rustls::pki_types::ServerName;
    /// use tokio_rustls::TlsConnector;
    /// use zen_websocket_testing::DeribitSimulator;
    ///
    /// let simulator = DeribitSimulator::builder().tls(true).start().await?;
    /// let connector = TlsConnector::from(simulator.client_tls_config().expect("TLS"));
    /// let tcp = tokio::net::TcpStream::connect(simulator.addr()).await?;
    /// let name = ServerName::IpAddress(simulator.addr().ip().into());
    /// let tls = connector.connect(name, tcp).await?;
    /// let (_ws, response) = tokio_tungstenite::client_async(simulator.url(), tls).await?;
    /// assert_eq!(response.status(), 101);
    /// # Ok(())
    /// # }
    /// ```
    pub fn client_tls_config(&self) -> Option<Arc<rustls::ClientConfig>> {
        self.sim.tls.as_ref().map(|tls| Arc::clone(&tls.client_config))
    }

    /// Whether the simulator is listening (not [`stop`](Self::stop)ped).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::DeribitSimulator;
    /// let simulator = DeribitSimulator::start().await?;
    /// simulator.stop().await;
    /// assert!(!simulator.is_running());
    /// # Ok(())
    /// # }
    /// ```
    pub fn is_running(&self) -> bool {
        lock(&self.running).is_some()
    }

    /// Stops listening and publishing, and closes every connection with a 1001 (going away)
    /// close frame — cancel-on-disconnect fires for connections that have it on — waiting at
    /// most about two seconds for the close handshakes, then ends every remaining task. Orders,
    /// positions, recorded requests and credits are kept. Calling it again is a no-op.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: when cancelled part-way, some connections may stay open until the
    /// simulator is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::DeribitSimulator;
    /// let simulator = DeribitSimulator::start().await?;
    /// simulator.stop().await;
    /// assert!(tokio::net::TcpStream::connect(simulator.addr()).await.is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn stop(&self) {
        let Some(running) = lock(&self.running).take() else {
            return;
        };
        running.abort();
        // Wait for the loop to end so the listening socket is closed when `stop` returns.
        let _ = running.accept.await;
        let _ = running.market.await;
        self.sim.read(|inner| {
            inner.connections.values().for_each(|conn| conn.close(CloseReason::Stopped));
        });
        let closed = |inner: &super::state::Inner| inner.connections.is_empty().then_some(());
        let _ = self.sim.wait_for(STOP_GRACE, closed).await;
        self.sim.take_tasks().shutdown().await;
    }

    /// Stops (if running) and listens again on the same port, with the same TLS certificate
    /// and settings, and the same orders, positions, credits and recorded requests. Connection
    /// ids keep counting up.
    ///
    /// # Errors
    ///
    /// The port cannot be bound again.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: when cancelled part-way the simulator may be left stopped.
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
    /// # use zen_websocket_testing::DeribitSimulator;
    /// let simulator = DeribitSimulator::start().await?;
    /// let url = simulator.url();
    /// simulator.restart().await?;
    /// assert_eq!(simulator.url(), url);
    /// assert!(tokio::net::TcpStream::connect(simulator.addr()).await.is_ok());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn restart(&self) -> io::Result<()> {
        self.stop().await;
        let listener = bind(self.addr)?;
        let running = Running::spawn(&self.sim, listener);
        if let Some(previous) = lock(&self.running).replace(running) {
            // A concurrent restart won the race; keep one set of tasks.
            previous.abort();
        }
        Ok(())
    }
}

/// Accepts connections until aborted; each one is served in its own task.
async fn accept_loop(listener: TcpListener, sim: Arc<Sim>) {
    loop {
        match listener.accept().await {
            Ok((tcp, _)) => sim.spawn(connect(Arc::clone(&sim), tcp)),
            Err(error) => {
                // Typically out of file descriptors: back off instead of spinning.
                tracing::warn!(%error, "deribit simulator accept failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// TLS (when `wss://`), the WebSocket handshake, then the session.
async fn connect(sim: Arc<Sim>, tcp: TcpStream) {
    let stream = match secure_with(sim.tls.as_ref(), tcp).await {
        Ok(stream) => stream,
        Err(error) => {
            tracing::debug!(%error, "deribit simulator TLS handshake failed");
            return;
        }
    };
    let ws = match Box::pin(accept_async_with_config(stream, Some(ws_config()))).await {
        Ok(ws) => ws,
        Err(error) => {
            tracing::debug!(%error, "deribit simulator WebSocket handshake failed");
            return;
        }
    };
    let (sender, receiver) = mpsc::unbounded_channel();
    let id = sim.register(Outbox::new(sender));
    Box::pin(session::serve(sim, ws, id, receiver)).await;
}

impl Drop for DeribitSimulator {
    /// Aborts the accept loop, the market data task and every connection at once.
    fn drop(&mut self) {
        if let Some(running) = lock(&self.running).take() {
            running.abort();
        }
        self.sim.abort_tasks();
    }
}

impl fmt::Debug for DeribitSimulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeribitSimulator")
            .field("url", &self.url())
            .field("running", &self.is_running())
            .field("sim", &self.sim)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_handle_can_be_shared_between_tasks() {
        fn assert_bounds<T: Send + Sync + 'static>() {}
        assert_bounds::<DeribitSimulator>();
    }
}
