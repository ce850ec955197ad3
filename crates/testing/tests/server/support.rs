//! Helpers shared by the tests: a bounded wait and a raw tokio-tungstenite client.

use std::future::Future;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use zen_websocket_testing::MockServer;

/// The bound on every wait that should succeed.
pub(crate) const WAIT: Duration = Duration::from_secs(5);

/// A plain client connection.
pub(crate) type Ws = WebSocketStream<TcpStream>;

/// Awaits `future` (boxed: WebSocket handshakes are large futures), failing the test if it
/// takes longer than [`WAIT`].
pub(crate) fn bounded<F: Future>(future: F) -> impl Future<Output = F::Output> {
    let future = Box::pin(future);
    async move { tokio::time::timeout(WAIT, future).await.expect("timed out") }
}

/// Opens a plain WebSocket connection to `server`.
pub(crate) async fn connect(server: &MockServer) -> Ws {
    try_connect(server).await.expect("WebSocket handshake")
}

/// Opens a plain WebSocket connection to `server`, returning the handshake error if any.
pub(crate) async fn try_connect(server: &MockServer) -> Result<Ws, WsError> {
    bounded(async {
        let tcp = TcpStream::connect(server.addr()).await?;
        let (ws, _) = tokio_tungstenite::client_async(server.url(), tcp).await?;
        Ok(ws)
    })
    .await
}

/// Sends a text frame.
pub(crate) async fn send_text(ws: &mut Ws, text: &str) {
    bounded(ws.send(Message::text(text))).await.expect("send");
}

/// Reads the next frame, which must exist.
pub(crate) async fn next<S>(ws: &mut WebSocketStream<S>) -> Message
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    bounded(ws.next()).await.expect("a frame").expect("a readable frame")
}

/// Reads the next frame, which must be text.
pub(crate) async fn next_text<S>(ws: &mut WebSocketStream<S>) -> String
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    match next(ws).await {
        Message::Text(text) => text.to_string(),
        other => panic!("expected text, got {other:?}"),
    }
}

/// Reads the next frame, which must be JSON text.
pub(crate) async fn next_json(ws: &mut Ws) -> Value {
    serde_json::from_str(&next_text(ws).await).expect("JSON")
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
