//! Runtime controls on `MockServer`: handlers, pongs, handshake faults, injection, disconnects.

use std::time::Duration;

use futures_util::future::join_all;
use serde_json::Value;
use tokio::sync::oneshot;

use crate::connection::Command;
use crate::event::DisconnectKind;
use crate::message::ConnectionId;
use crate::reply::{Handler, Incoming, Reply};
use crate::rpc::{RpcHandler, RpcReply, RpcRequest};
use crate::server::MockServer;

/// The longest an injection or a disconnect waits for a connection to carry it out.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

impl MockServer {
    /// Replaces the handler for data frames, on open and future connections alike (see
    /// [`MockServerBuilder::handler`](crate::MockServerBuilder::handler)).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use zen_websocket_testing::{MockServer, Reply};
    ///
    /// let server = MockServer::start().await?;
    /// server.set_handler(|_| Reply::None); // swallow everything from now on
    /// server.set_handler(|_| Reply::Default); // and back to echo / JSON-RPC
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_handler<F>(&self, handler: F)
    where
        F: Fn(&Incoming) -> Reply + Send + Sync + 'static,
    {
        let handler = Handler::new(handler);
        self.shared.update_settings(|settings| settings.handler = Some(handler));
    }

    /// Replaces the JSON-RPC handler, on open and future connections alike (see
    /// [`MockServerBuilder::rpc_handler`](crate::MockServerBuilder::rpc_handler)).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use zen_websocket_testing::{MockServer, RpcReply};
    ///
    /// let server = MockServer::start().await?;
    /// server.set_rpc_handler(|_| RpcReply::error(-32000, "maintenance"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_rpc_handler<F>(&self, handler: F)
    where
        F: Fn(&RpcRequest) -> RpcReply + Send + Sync + 'static,
    {
        let handler = RpcHandler::new(handler);
        self.shared.update_settings(|settings| settings.rpc_handler = Some(handler));
    }

    /// The subprotocols new connections may agree on. The server picks the first protocol the
    /// client offers (`Sec-WebSocket-Protocol`) that is in this list and names it in its
    /// answer; with no match (or an empty list) it names none.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::MockServer;
    /// let server = MockServer::start().await?;
    /// server.set_subprotocols(["graphql-transport-ws", "v1.json"]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_subprotocols<I>(&self, protocols: I)
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let protocols: Vec<String> = protocols.into_iter().map(Into::into).collect();
        self.shared.update_settings(|settings| settings.subprotocols = protocols);
    }

    /// Whether client pings are answered with pongs from now on. Pings are still recorded as
    /// [`ServerEvent::Ping`](crate::ServerEvent::Ping) either way.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::MockServer;
    /// let server = MockServer::start().await?;
    /// server.set_auto_pong(false); // the client's heartbeat should now time out
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_auto_pong(&self, enabled: bool) {
        self.shared.update_settings(|settings| settings.auto_pong = enabled);
    }

    /// With `Some(status)`, answers every new upgrade request with that HTTP status (for example
    /// 403, 429 or 500), a short text body and, for 429, a `Retry-After: 1` header; recorded as
    /// [`ServerEvent::HandshakeRejected`](crate::ServerEvent::HandshakeRejected). A status that
    /// is not a valid 3xx–5xx code is sent as 500. `None` accepts upgrades again. Open
    /// connections are not affected.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use tokio_tungstenite::tungstenite::Error;
    /// use zen_websocket_testing::MockServer;
    ///
    /// let server = MockServer::start().await?;
    /// server.reject_handshake(Some(429));
    /// let tcp = tokio::net::TcpStream::connect(server.addr()).await?;
    /// match tokio_tungstenite::client_async(server.url(), tcp).await {
    ///     Err(Error::Http(response)) => assert_eq!(response.status(), 429),
    ///     other => panic!("expected a 429, got {other:?}"),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn reject_handshake(&self, status: Option<u16>) {
        self.shared.update_settings(|settings| settings.reject = status);
    }

    /// When `true`, new connections are accepted at the TCP (and TLS) level but the HTTP upgrade
    /// is never answered, so clients run into their handshake timeout. Stalled connections stay
    /// stalled until [`stop`](Self::stop) or drop; `false` only affects new connections.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use std::time::Duration;
    /// use zen_websocket_testing::MockServer;
    ///
    /// let server = MockServer::start().await?;
    /// server.stall_handshakes(true);
    /// let tcp = tokio::net::TcpStream::connect(server.addr()).await?;
    /// let handshake = tokio_tungstenite::client_async(server.url(), tcp);
    /// assert!(tokio::time::timeout(Duration::from_millis(100), handshake).await.is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn stall_handshakes(&self, stall: bool) {
        self.shared.update_settings(|settings| settings.stall = stall);
    }

    /// Sends a text frame to every open connection; returns how many connections sent it.
    ///
    /// # Cancel safety
    ///
    /// Cancelling stops the wait, not the sending: connections still send the frame.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::MockServer;
    /// let server = MockServer::start().await?;
    /// assert_eq!(server.inject_message("no one is listening").await, 0);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn inject_message(&self, text: impl Into<String>) -> usize {
        self.inject(Reply::Text(text.into())).await
    }

    /// Sends a binary frame to every open connection; returns how many connections sent it.
    ///
    /// # Cancel safety
    ///
    /// Cancelling stops the wait, not the sending: connections still send the frame.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::MockServer;
    /// let server = MockServer::start().await?;
    /// assert_eq!(server.inject_binary([0xde, 0xad]).await, 0);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn inject_binary(&self, bytes: impl Into<Vec<u8>>) -> usize {
        self.inject(Reply::Binary(bytes.into())).await
    }

    /// Sends `value` as a JSON text frame to every open connection; returns how many
    /// connections sent it.
    ///
    /// # Cancel safety
    ///
    /// Cancelling stops the wait, not the sending: connections still send the frame.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::MockServer;
    /// use serde_json::json;
    ///
    /// let server = MockServer::start().await?;
    /// let notification = json!({"method": "subscription", "params": {"channel": "x", "data": 1}});
    /// assert_eq!(server.inject_json(&notification).await, 0);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn inject_json(&self, value: &Value) -> usize {
        self.inject(Reply::Json(value.clone())).await
    }

    /// Carries out `reply` on every open connection, as if a handler had returned it
    /// ([`Reply::Default`] sends nothing); returns how many connections did so. Waits until the
    /// immediate frames are written (at most ten seconds); delayed parts are sent later.
    ///
    /// # Cancel safety
    ///
    /// Cancelling stops the wait, not the sending: connections still carry out the reply.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use std::time::Duration;
    /// use zen_websocket_testing::{MockServer, Reply};
    ///
    /// let server = MockServer::start().await?;
    /// let reply = Reply::delayed(Duration::from_millis(10), Reply::Text("later".into()));
    /// assert_eq!(server.inject(reply).await, 0);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn inject(&self, reply: Reply) -> usize {
        self.command_all(None, |done| Command::Send { reply: reply.clone(), done: Some(done) })
            .await
    }

    /// Carries out `reply` on one connection; returns whether it was open and did so.
    ///
    /// # Cancel safety
    ///
    /// Cancelling stops the wait, not the sending: the connection still carries out the reply.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use zen_websocket_testing::{ConnectionId, MockServer, Reply};
    ///
    /// let server = MockServer::start().await?;
    /// let sent = server.inject_to(ConnectionId::new(1), Reply::Text("hi".into())).await;
    /// assert!(!sent); // no such connection
    /// # Ok(())
    /// # }
    /// ```
    pub async fn inject_to(&self, connection: ConnectionId, reply: Reply) -> bool {
        let command = |done| Command::Send { reply: reply.clone(), done: Some(done) };
        self.command_all(Some(connection), command).await == 1
    }

    /// Ends every open connection the given way and waits until they are closed; returns how
    /// many there were.
    ///
    /// Graceful kinds send the close frame, wait up to a second for the client's answer and
    /// then close the TCP connection. [`DisconnectKind::Abrupt`] resets the TCP connection
    /// (`SO_LINGER` 0) without a close frame, so the client reads `ECONNRESET`.
    ///
    /// # Cancel safety
    ///
    /// Cancelling stops the wait, not the disconnects.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use futures_util::StreamExt;
    /// use tokio_tungstenite::tungstenite::Message;
    /// use zen_websocket_testing::{DisconnectKind, MockServer};
    ///
    /// let server = MockServer::start().await?;
    /// let tcp = tokio::net::TcpStream::connect(server.addr()).await?;
    /// let (mut ws, _) = tokio_tungstenite::client_async(server.url(), tcp).await?;
    /// let (closed, frames) = tokio::join!(
    ///     server.simulate_disconnect(DisconnectKind::GoingAway),
    ///     ws.collect::<Vec<_>>(), // reads until the server closes the TCP connection
    /// );
    /// assert_eq!(closed, 1);
    /// match frames.first() {
    ///     Some(Ok(Message::Close(Some(frame)))) => assert_eq!(u16::from(frame.code), 1001),
    ///     other => panic!("expected a close frame, got {other:?}"),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn simulate_disconnect(&self, kind: DisconnectKind) -> usize {
        self.command_all(None, |done| Command::Disconnect { kind: kind.clone(), done }).await
    }

    /// Sends a command to the open connections (all, or just `only`) and counts how many
    /// acknowledged it in time.
    async fn command_all(
        &self,
        only: Option<ConnectionId>,
        command: impl Fn(oneshot::Sender<()>) -> Command,
    ) -> usize {
        let acks = self.shared.senders(only).into_iter().filter_map(|(_, commands)| {
            let (done, ack) = oneshot::channel();
            commands.send(command(done)).ok().map(|()| ack)
        });
        let waits = acks.map(|ack| tokio::time::timeout(COMMAND_TIMEOUT, ack));
        join_all(waits.collect::<Vec<_>>())
            .await
            .into_iter()
            .filter(|r| matches!(r, Ok(Ok(()))))
            .count()
    }
}
