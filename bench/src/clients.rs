//! How each side connects: zen's `Client`, and raw tokio-tungstenite the way a user would write
//! it (TCP with `TCP_NODELAY`, optional rustls, `client_async` with tungstenite's defaults).

use std::net::{IpAddr, Ipv4Addr};

use anyhow::Context;
use rustls::pki_types::ServerName;
use tokio::{
    io::{AsyncRead, AsyncWrite},
    net::TcpStream,
};
use tokio_rustls::{TlsConnector, client::TlsStream};
use tokio_tungstenite::{WebSocketStream, client_async};
use zen_websocket_core::{Client, Config};

/// zen's configuration for every row: the defaults, except that a connection the server ends
/// is not re-dialled (a re-dial would start another flood and disturb the next sample).
pub(crate) fn zen_config() -> Config {
    Config::default().reconnect_on_error(false)
}

/// `ws://127.0.0.1:{port}/` or `wss://…`.
pub(crate) fn url(secure: bool, port: u16) -> String {
    let scheme = if secure { "wss" } else { "ws" };
    format!("{scheme}://127.0.0.1:{port}/")
}

/// Connects zen's `Client` to `url`.
///
/// # Errors
///
/// Whatever [`Client::connect`] fails with.
pub(crate) async fn zen(url: &str, config: Config) -> anyhow::Result<Client> {
    // The dial future is large (handshake buffers): keep it on the heap.
    Box::pin(Client::connect(url, config))
        .await
        .with_context(|| format!("zen: connecting to {url}"))
}

/// Raw tokio-tungstenite over plain TCP.
///
/// # Errors
///
/// When TCP or the upgrade fails.
pub(crate) async fn raw_plain(port: u16) -> anyhow::Result<WebSocketStream<TcpStream>> {
    upgrade(&url(false, port), tcp(port).await?).await
}

/// Raw tokio-tungstenite over rustls.
///
/// # Errors
///
/// When TCP, TLS or the upgrade fails.
pub(crate) async fn raw_tls(
    port: u16,
    connector: &TlsConnector,
) -> anyhow::Result<WebSocketStream<TlsStream<TcpStream>>> {
    let name = ServerName::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST).into());
    let tls =
        Box::pin(connector.connect(name, tcp(port).await?)).await.context("raw: TLS handshake")?;
    upgrade(&url(true, port), tls).await
}

/// TCP to `127.0.0.1:{port}` with Nagle off.
async fn tcp(port: u16) -> anyhow::Result<TcpStream> {
    let stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port))
        .await
        .with_context(|| format!("raw: connecting to 127.0.0.1:{port}"))?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// The client handshake with tungstenite's default `WebSocketConfig`.
async fn upgrade<S>(url: &str, stream: S) -> anyhow::Result<WebSocketStream<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (ws, _response) =
        Box::pin(client_async(url, stream)).await.context("raw: WebSocket upgrade")?;
    Ok(ws)
}
