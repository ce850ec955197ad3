//! The servers the clients are measured against: raw tokio-tungstenite on 127.0.0.1, one
//! behaviour each — flood, JSON-RPC echo, sink, and idle (for the memory rows, in a child
//! process).

use std::{future::Future, io, net::Ipv4Addr, time::Duration};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncRead, AsyncWrite},
    net::{TcpListener, TcpStream},
    runtime::Handle,
    task::JoinHandle,
};
use tokio_rustls::TlsAcceptor;
use tokio_tungstenite::{
    WebSocketStream, accept_async_with_config,
    tungstenite::{Message, Utf8Bytes, protocol::WebSocketConfig},
};

/// Messages the flood writes between two flushes.
const FLOOD_BATCH: usize = 64;

/// A listener on a free port of 127.0.0.1.
///
/// # Errors
///
/// When binding fails.
pub(crate) async fn bind() -> io::Result<TcpListener> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await
}

/// Serves a flood on `runtime`: each connection gets `count` copies of `payload` as fast as the
/// server can write them (feed, one flush per batch), then a close. Returns the port.
///
/// # Errors
///
/// When binding fails.
pub(crate) fn spawn_flood(
    runtime: &Handle,
    payload: Utf8Bytes,
    count: usize,
) -> io::Result<(u16, JoinHandle<()>)> {
    spawn(runtime, None, move |ws| flood(ws, payload.clone(), count))
}

/// Serves JSON-RPC echo on `runtime`: each request is answered with its `params` as the
/// `result`. Returns the port.
///
/// # Errors
///
/// When binding fails.
pub(crate) fn spawn_echo(runtime: &Handle) -> io::Result<(u16, JoinHandle<()>)> {
    spawn(runtime, None, echo)
}

/// Serves a sink on `runtime`: every frame each connection sends is read and dropped; nothing
/// is sent back (but the answers to pings and closes). A 4 KiB read buffer: tungstenite
/// zero-fills the whole buffer before every read, and with its 128 KiB default that would be
/// most of the sink's work per frame. Returns the port.
///
/// # Errors
///
/// When binding fails.
pub(crate) fn spawn_sink(runtime: &Handle) -> io::Result<(u16, JoinHandle<()>)> {
    spawn(runtime, Some(WebSocketConfig::default().read_buffer_size(4 << 10)), sink)
}

/// Accepts connections (plain or TLS) and holds them open, answering pings and closes, until
/// the client leaves. Small buffers: the server's memory is not what is measured.
pub(crate) async fn serve_idle(listener: TcpListener, tls: Option<TlsAcceptor>) {
    loop {
        let Some(tcp) = accept(&listener).await else {
            continue;
        };
        let tls = tls.clone();
        tokio::spawn(async move {
            let _ = match tls {
                Some(acceptor) => match Box::pin(acceptor.accept(tcp)).await {
                    Ok(stream) => hold(stream).await,
                    Err(err) => Err(err.into()),
                },
                None => hold(tcp).await,
            };
        });
    }
}

/// The reply the echo server sends to `request`.
///
/// # Errors
///
/// When `request` is not JSON.
pub(crate) fn rpc_reply(request: &str) -> anyhow::Result<String> {
    let mut request: Value = serde_json::from_str(request)?;
    let reply = json!({
        "jsonrpc": "2.0",
        "id": request["id"].take(),
        "result": request["params"].take(),
    });
    Ok(reply.to_string())
}

/// Binds a free port here and serves it on `runtime` (whose I/O driver then owns the
/// listener), running `handler` on each connection after the upgrade (with `config`, or
/// tungstenite's defaults).
fn spawn<F, Fut>(
    runtime: &Handle,
    config: Option<WebSocketConfig>,
    handler: F,
) -> io::Result<(u16, JoinHandle<()>)>
where
    F: Fn(WebSocketStream<TcpStream>) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    listener.set_nonblocking(true)?;
    let port = listener.local_addr()?.port();
    let task = runtime.spawn(async move {
        match TcpListener::from_std(listener) {
            Ok(listener) => serve(listener, config, handler).await,
            Err(err) => eprintln!("bench server: cannot listen: {err}"),
        }
    });
    Ok((port, task))
}

/// Accepts plain connections and runs `handler` on each after the upgrade (with `config`).
async fn serve<F, Fut>(listener: TcpListener, config: Option<WebSocketConfig>, handler: F)
where
    F: Fn(WebSocketStream<TcpStream>) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    loop {
        let Some(tcp) = accept(&listener).await else {
            continue;
        };
        let handler = handler.clone();
        tokio::spawn(async move {
            // A client that leaves early ends its connection; nothing to report.
            if let Ok(ws) = Box::pin(accept_async_with_config(tcp, config)).await {
                let _ = handler(ws).await;
            }
        });
    }
}

/// The next connection with Nagle off; `None` (after a short pause) when accepting failed,
/// e.g. when the process ran out of file descriptors.
async fn accept(listener: &TcpListener) -> Option<TcpStream> {
    match listener.accept().await {
        Ok((tcp, _peer)) => tcp.set_nodelay(true).ok().map(|()| tcp),
        Err(err) => {
            eprintln!("bench server: accept failed: {err}");
            tokio::time::sleep(Duration::from_millis(10)).await;
            None
        }
    }
}

async fn flood(
    mut ws: WebSocketStream<TcpStream>,
    payload: Utf8Bytes,
    count: usize,
) -> anyhow::Result<()> {
    for sent in 1..=count {
        ws.feed(Message::Text(payload.clone())).await?;
        if sent % FLOOD_BATCH == 0 {
            ws.flush().await?;
        }
    }
    ws.close(None).await?;
    while let Some(Ok(_)) = ws.next().await {}
    Ok(())
}

async fn echo(mut ws: WebSocketStream<TcpStream>) -> anyhow::Result<()> {
    while let Some(frame) = ws.next().await {
        if let Message::Text(request) = frame? {
            ws.send(Message::text(rpc_reply(request.as_str())?)).await?;
        }
    }
    Ok(())
}

async fn sink(mut ws: WebSocketStream<TcpStream>) -> anyhow::Result<()> {
    while let Some(frame) = ws.next().await {
        frame?;
    }
    Ok(())
}

async fn hold<S>(stream: S) -> anyhow::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let config = WebSocketConfig::default().read_buffer_size(4 << 10).write_buffer_size(0);
    let mut ws = Box::pin(accept_async_with_config(stream, Some(config))).await?;
    while let Some(Ok(_)) = ws.next().await {}
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_replies_with_the_params_as_result() {
        let request = r#"{"jsonrpc":"2.0","id":7,"method":"echo","params":{"seq":6}}"#;
        let reply: Value = serde_json::from_str(&rpc_reply(request).unwrap()).unwrap();
        assert_eq!(reply, json!({"jsonrpc": "2.0", "id": 7, "result": {"seq": 6}}));
        assert!(rpc_reply("not json").is_err());
    }
}
