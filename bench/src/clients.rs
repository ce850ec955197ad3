//! Who is measured, and how zen's `Client` and raw tokio-tungstenite connect: raw the way a user
//! would write it (TCP with `TCP_NODELAY`, optional rustls, `client_async` with tungstenite's
//! defaults). The peers connect in [`crate::ez`] and [`crate::scripts`].

use std::net::{IpAddr, Ipv4Addr};

use anyhow::Context;
use rustls::pki_types::ServerName;
use serde::Serialize;
use tokio::{
    io::{AsyncRead, AsyncWrite},
    net::TcpStream,
};
use tokio_rustls::{TlsConnector, client::TlsStream};
use tokio_tungstenite::{WebSocketStream, client_async};
use zen_websocket_core::{Client, Config};

/// Whose samples: zen, the raw baseline, or one of the peers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Contender {
    /// zen-websocket's `Client`.
    Zen,
    /// Raw tokio-tungstenite.
    Raw,
    /// ezsockets, the other reconnecting Rust client ([`crate::ez`]).
    Ezsockets,
    /// Python `websockets` ([`crate::scripts`]).
    Python,
    /// Node `ws` ([`crate::scripts`]).
    Node,
}

impl Contender {
    /// Every contender, in the order the table and the chart show them.
    pub(crate) const ALL: [Self; 5] =
        [Self::Zen, Self::Raw, Self::Ezsockets, Self::Python, Self::Node];
    /// The peers.
    pub(crate) const PEERS: [Self; 3] = [Self::Ezsockets, Self::Python, Self::Node];

    /// The column name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Zen => "zen",
            Self::Raw => "raw",
            Self::Ezsockets => "ezsockets",
            Self::Python => "python",
            Self::Node => "node",
        }
    }
}

/// Rounds the peers take part in: their samples are long (Python's 64 B flood about 13 s), and
/// their ratios are far from their targets; zen and raw, whose ratios are close to theirs, take
/// a sample in every round.
pub(crate) const PEER_ROUNDS: usize = 3;

/// Who takes a sample in round `round` (numbered from 0): `contenders` without the peers after
/// [`PEER_ROUNDS`], turned left by `round`, so that each goes first in turn.
pub(crate) fn rotated(contenders: &[Contender], round: usize) -> Vec<Contender> {
    let mut order = contenders.to_vec();
    if round >= PEER_ROUNDS {
        order.retain(|who| !Contender::PEERS.contains(who));
    }
    if !order.is_empty() {
        let turn = round % order.len();
        order.rotate_left(turn);
    }
    order
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_contender_goes_first_in_turn() {
        let all = [Contender::Zen, Contender::Raw, Contender::Node];
        assert_eq!(rotated(&all, 0), all);
        assert_eq!(rotated(&all, 1), [Contender::Raw, Contender::Node, Contender::Zen]);
        assert_eq!(rotated(&all, 2), [Contender::Node, Contender::Zen, Contender::Raw]);
        // After the peers' rounds, zen and raw alone, still taking turns to go first.
        assert_eq!(rotated(&all, PEER_ROUNDS), [Contender::Raw, Contender::Zen]);
        assert_eq!(rotated(&all, PEER_ROUNDS + 1), [Contender::Zen, Contender::Raw]);
        assert_eq!(rotated(&Contender::ALL, PEER_ROUNDS - 1).len(), 5);
        assert!(rotated(&[], 1).is_empty());
    }
}
