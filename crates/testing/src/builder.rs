//! `MockServerBuilder`: plain or TLS, port, handlers and auto-pong, set before starting.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use crate::replay::Replay;
use crate::reply::{Handler, Incoming, Reply};
use crate::rpc::{RpcHandler, RpcReply, RpcRequest};
use crate::server::MockServer;
use crate::state::{Settings, Shared};
use crate::tls::TlsMaterial;

/// Configures a [`MockServer`] before it starts; from [`MockServer::builder`].
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// use serde_json::json;
/// use zen_websocket_testing::{MockServer, Reply, RpcReply};
///
/// let server = MockServer::builder()
///     .tls(true)
///     .auto_pong(false)
///     .handler(|incoming| match incoming.message.text() {
///         Some("hello") => Reply::Text("world".into()),
///         _ => Reply::Default,
///     })
///     .rpc_handler(|request| RpcReply::Result(json!({"method": request.method})))
///     .start()
///     .await?;
/// assert!(server.url().starts_with("wss://127.0.0.1:"));
/// # Ok(())
/// # }
/// ```
#[must_use = "a builder does nothing until `start` is awaited"]
#[derive(Debug)]
pub struct MockServerBuilder {
    tls: bool,
    port: u16,
    handler: Option<Handler>,
    rpc_handler: Option<RpcHandler>,
    auto_pong: bool,
    replay: Option<Replay>,
}

impl Default for MockServerBuilder {
    fn default() -> Self {
        Self {
            tls: false,
            port: 0,
            handler: None,
            rpc_handler: None,
            auto_pong: true,
            replay: None,
        }
    }
}

impl MockServerBuilder {
    /// Serves `wss://` with a freshly generated CA and a server certificate it signs, valid for
    /// `127.0.0.1`, `localhost` and `::1`; trust it with [`MockServer::ca_certificate`] or
    /// [`MockServer::client_tls_config`].
    ///
    /// Default is `false` (plain `ws://`).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::MockServer;
    /// let server = MockServer::builder().tls(true).start().await?;
    /// assert!(server.is_tls());
    /// assert!(server.ca_certificate_pem().is_some());
    /// # Ok(())
    /// # }
    /// ```
    pub fn tls(mut self, enabled: bool) -> Self {
        self.tls = enabled;
        self
    }

    /// Listens on this port of 127.0.0.1.
    ///
    /// Default is `0`: an ephemeral port chosen by the system (read it back with
    /// [`MockServer::addr`]). Prefer the default in tests, so parallel tests never collide.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::MockServer;
    /// let server = MockServer::builder().port(0).start().await?;
    /// assert_ne!(server.addr().port(), 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Answers every data frame with what `handler` returns; return [`Reply::Default`] to fall
    /// back to the default behaviour. Can be changed later with [`MockServer::set_handler`].
    ///
    /// Default is the default handler: a text frame holding a JSON-RPC request (an object with
    /// a string `"method"` and a number or string `"id"`) goes to the
    /// [`rpc_handler`](Self::rpc_handler); anything else is echoed back unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::{MockServer, Reply};
    /// let server = MockServer::builder()
    ///     .handler(|incoming| Reply::Text(format!("got {} bytes", incoming.message.bytes().len())))
    ///     .start()
    ///     .await?;
    /// # drop(server);
    /// # Ok(())
    /// # }
    /// ```
    pub fn handler<F>(mut self, handler: F) -> Self
    where
        F: Fn(&Incoming) -> Reply + Send + Sync + 'static,
    {
        self.handler = Some(Handler::new(handler));
        self
    }

    /// Answers JSON-RPC requests with what `handler` returns; return [`RpcReply::Default`] to
    /// fall back to the default. Can be changed later with [`MockServer::set_rpc_handler`].
    ///
    /// Default is the default rpc handler: a method ending in `/subscribe` or `/unsubscribe`
    /// answers `params.channels` (or `[]`), `public/test` answers `{"version":"1.2.26"}`, and
    /// anything else echoes `params` as the result.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::{MockServer, RpcReply};
    /// let server = MockServer::builder()
    ///     .rpc_handler(|request| match request.method.as_str() {
    ///         "private/get_positions" => RpcReply::error(13009, "unauthorized"),
    ///         _ => RpcReply::Default,
    ///     })
    ///     .start()
    ///     .await?;
    /// # drop(server);
    /// # Ok(())
    /// # }
    /// ```
    pub fn rpc_handler<F>(mut self, handler: F) -> Self
    where
        F: Fn(&RpcRequest) -> RpcReply + Send + Sync + 'static,
    {
        self.rpc_handler = Some(RpcHandler::new(handler));
        self
    }

    /// Whether the server answers client pings with pongs. Can be changed later with
    /// [`MockServer::set_auto_pong`].
    ///
    /// Default is `true`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::MockServer;
    /// // A server that never answers pings: the client's heartbeat should notice.
    /// let server = MockServer::builder().auto_pong(false).start().await?;
    /// # drop(server);
    /// # Ok(())
    /// # }
    /// ```
    pub fn auto_pong(mut self, enabled: bool) -> Self {
        self.auto_pong = enabled;
        self
    }

    /// Sends every connecting client the inbound side of a recorded session (see [`Replay`]),
    /// while the handlers still answer whatever the client sends.
    ///
    /// Default is none.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use zen_websocket_testing::{MockServer, Replay};
    ///
    /// # let path = std::env::temp_dir().join(format!("builder-replay-{}.jsonl", std::process::id()));
    /// # std::fs::write(&path, "")?;
    /// let server = MockServer::builder().replay(Replay::from_recording(&path)?.realtime(10.0)).start().await?;
    /// # std::fs::remove_file(&path)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn replay(mut self, replay: Replay) -> Self {
        self.replay = Some(replay);
        self
    }

    /// Binds 127.0.0.1 and starts accepting connections.
    ///
    /// # Errors
    ///
    /// The port cannot be bound (for example it is in use), or generating the TLS material
    /// failed.
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
    /// # use zen_websocket_testing::MockServer;
    /// let server = MockServer::builder().start().await?;
    /// assert!(server.url().starts_with("ws://127.0.0.1:"));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn start(self) -> io::Result<MockServer> {
        let tls = if self.tls {
            // Key generation is CPU work: keep it off the async workers.
            let generated = tokio::task::spawn_blocking(TlsMaterial::generate).await;
            Some(generated.map_err(io::Error::other)??)
        } else {
            None
        };
        let settings = Settings {
            handler: self.handler,
            rpc_handler: self.rpc_handler,
            auto_pong: self.auto_pong,
            reject: None,
            stall: false,
            subprotocols: Vec::new(),
            replay: self.replay,
        };
        let shared = Arc::new(Shared::new(settings, tls));
        MockServer::launch(shared, SocketAddr::from((Ipv4Addr::LOCALHOST, self.port)))
    }
}
