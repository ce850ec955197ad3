//! Plain forwarding: URLs, counters, TLS passing through, stop and drop.

use futures_util::StreamExt;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_tungstenite::tungstenite::Message;
use zen_websocket_testing::{FaultProxy, MockServer, ServerEvent};

use crate::support::{WAIT, bounded, connect, drain, drain_and_drop, link, next_text, send, start};

#[tokio::test]
async fn forwards_both_ways_and_counts_bytes() {
    let (server, proxy) = start().await;
    let tcp = bounded(TcpStream::connect(proxy.addr())).await.expect("connect");
    let url = proxy.url_for(&format!("{}/ws/api/v2?x=1", server.url()));
    let (mut ws, _) = bounded(tokio_tungstenite::client_async(url, tcp)).await.expect("upgrade");
    assert_eq!(server.handshakes()[0].path, "/ws/api/v2?x=1");

    let before = link(&proxy, &ws);
    send(&mut ws, Message::text("hello")).await;
    assert_eq!(next_text(&mut ws).await, "hello");
    let after = link(&proxy, &ws);
    assert!(after.open);
    // A masked 5-byte text frame is 11 bytes; the unmasked echo is 7.
    assert_eq!(after.client_to_server.forwarded - before.client_to_server.forwarded, 11);
    assert_eq!(after.server_to_client.forwarded - before.server_to_client.forwarded, 7);
    assert_eq!((proxy.connection_count(), proxy.total_accepted()), (1, 1));

    drop(ws);
    proxy.wait_for_connection_count(0, WAIT).await.expect("closed after the client left");
    server.wait_for_connection_count(0, WAIT).await.expect("the server saw it too");
}

#[tokio::test]
async fn tls_passes_through_untouched() {
    let server = MockServer::builder().tls(true).start().await.expect("server");
    let proxy = FaultProxy::start(server.addr()).await.expect("proxy");
    let url = proxy.url_for(&server.url());
    assert!(url.starts_with("wss://127.0.0.1:"));

    let connector = TlsConnector::from(server.client_tls_config().expect("TLS"));
    let tcp = bounded(TcpStream::connect(proxy.addr())).await.expect("connect");
    let name = ServerName::IpAddress(proxy.addr().ip().into());
    let tls = bounded(connector.connect(name, tcp)).await.expect("TLS through the proxy");
    let (mut ws, _) = bounded(tokio_tungstenite::client_async(url, tls)).await.expect("upgrade");
    futures_util::SinkExt::send(&mut ws, Message::text("secret")).await.expect("send");
    let echo = bounded(ws.next()).await.expect("a frame").expect("readable");
    assert_eq!(echo, Message::text("secret"));
    server.assert_message_sent("secret", WAIT).await.expect("decrypted by the server");
}

#[tokio::test]
async fn stop_closes_connections_and_refuses_new_ones() {
    let (server, proxy) = start().await;
    let ws = connect(&proxy, &server).await;
    let (_, frames) = tokio::join!(bounded(proxy.stop()), drain_and_drop(ws));
    assert!(!frames.iter().any(Result::is_ok), "{frames:?}");
    assert!(!proxy.is_listening());
    assert!(bounded(TcpStream::connect(proxy.addr())).await.is_err());
    bounded(proxy.stop()).await; // no-op
}

#[tokio::test]
async fn dropping_the_proxy_ends_everything() {
    let (server, proxy) = start().await;
    let addr = proxy.addr();
    let mut ws = connect(&proxy, &server).await;
    server.wait_for_connections(1, WAIT).await.expect("connected");
    let mark = server.mark();
    drop(proxy);
    let frames = drain(&mut ws).await;
    assert!(!frames.iter().any(Result::is_ok), "{frames:?}");
    let dropped = |e: &ServerEvent| matches!(e, ServerEvent::Dropped { .. });
    server.wait_for_event_since(mark, dropped, WAIT).await.expect("upstream closed");
    assert!(bounded(TcpStream::connect(addr)).await.is_err());
}

#[tokio::test]
async fn closed_connections_are_forgotten_past_a_bound() {
    let server = MockServer::start().await.unwrap();
    let proxy = FaultProxy::start(server.addr()).await.unwrap();
    const DIALS: usize = 1_030;
    for _ in 0..DIALS {
        drop(TcpStream::connect(proxy.addr()).await.unwrap());
    }
    bounded(proxy.wait_for_accepted(DIALS, WAIT)).await.unwrap();
    bounded(proxy.wait_for_connection_count(0, WAIT)).await.unwrap();
    assert_eq!(proxy.total_accepted(), DIALS, "every connection still counts");
    let kept = proxy.connections();
    assert_eq!(kept.len(), 1_024, "the table keeps the last 1,024 closed connections");
    assert_eq!(kept[0].id.get(), (DIALS - 1_024 + 1) as u64, "the oldest are the ones forgotten");
}
