//! Helpers shared by the proxy tests: bounded waits, a client that dials through the proxy,
//! and lookups of the proxy's view of a client.

use std::future::Future;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use zen_websocket_testing::{FaultProxy, MockServer, ProxyConnection};

/// The bound on every wait that should succeed.
pub(crate) const WAIT: Duration = Duration::from_secs(5);
/// How long a test watches for something that must not happen (a lower bound on silence).
pub(crate) const QUIET: Duration = Duration::from_millis(300);

/// A plain client connection.
pub(crate) type Ws = WebSocketStream<TcpStream>;

/// Awaits `future`, failing the test if it takes longer than [`WAIT`].
pub(crate) fn bounded<F: Future>(future: F) -> impl Future<Output = F::Output> {
    let future = Box::pin(future);
    async move { tokio::time::timeout(WAIT, future).await.expect("timed out") }
}

/// A server and a proxy in front of it.
pub(crate) async fn start() -> (MockServer, FaultProxy) {
    let server = MockServer::start().await.expect("server");
    let proxy = FaultProxy::start(server.addr()).await.expect("proxy");
    (server, proxy)
}

/// Opens a WebSocket connection to `server` through `proxy`, or returns the handshake error.
pub(crate) async fn try_connect(proxy: &FaultProxy, server: &MockServer) -> Result<Ws, WsError> {
    bounded(async {
        let tcp = TcpStream::connect(proxy.addr()).await?;
        let (ws, _) = tokio_tungstenite::client_async(proxy.url_for(&server.url()), tcp).await?;
        Ok(ws)
    })
    .await
}

/// Opens a WebSocket connection to `server` through `proxy`.
pub(crate) async fn connect(proxy: &FaultProxy, server: &MockServer) -> Ws {
    try_connect(proxy, server).await.expect("WebSocket handshake through the proxy")
}

/// Sends a frame.
pub(crate) async fn send(ws: &mut Ws, message: Message) {
    bounded(ws.send(message)).await.expect("send");
}

/// Reads the next frame, which must exist.
pub(crate) async fn next(ws: &mut Ws) -> Message {
    bounded(ws.next()).await.expect("a frame").expect("a readable frame")
}

/// Reads the next frame, which must be text.
pub(crate) async fn next_text(ws: &mut Ws) -> String {
    match next(ws).await {
        Message::Text(text) => text.to_string(),
        other => panic!("expected text, got {other:?}"),
    }
}

/// Asserts that nothing arrives on `ws` for [`QUIET`].
pub(crate) async fn assert_silent(ws: &mut Ws) {
    if let Ok(frame) = tokio::time::timeout(QUIET, ws.next()).await {
        panic!("expected silence, got {frame:?}");
    }
}

/// Reads until the stream ends, returning every frame (or error) seen.
pub(crate) async fn drain(ws: &mut Ws) -> Vec<Result<Message, WsError>> {
    bounded(async {
        let mut seen = Vec::new();
        while let Some(item) = ws.next().await {
            let end = item.is_err();
            seen.push(item);
            if end {
                break;
            }
        }
        seen
    })
    .await
}

/// Reads until the stream ends, then closes the client's socket, as a client would.
pub(crate) async fn drain_and_drop(mut ws: Ws) -> Vec<Result<Message, WsError>> {
    drain(&mut ws).await
}

/// The proxy's record of the connection `ws` made.
pub(crate) fn link(proxy: &FaultProxy, ws: &Ws) -> ProxyConnection {
    let local = ws.get_ref().local_addr().expect("local address");
    let connections = proxy.connections();
    let found = connections.into_iter().find(|connection| connection.client == local);
    found.expect("the proxy knows the client")
}

/// The proxy's record of `ws`'s connection once it has discarded at least `bytes` the client
/// sent, checked every few milliseconds (its counters have no event to await); fails after
/// [`WAIT`].
pub(crate) async fn discarded_at_least(proxy: &FaultProxy, ws: &Ws, bytes: u64) -> ProxyConnection {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let connection = link(proxy, ws);
        if connection.client_to_server.discarded >= bytes {
            return connection;
        }
        assert!(tokio::time::Instant::now() < deadline, "discarded too little: {connection:?}");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}
