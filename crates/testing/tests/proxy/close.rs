//! Closing triggers: close after N bytes, truncate mid-frame, and a FIN from `close_all`.

use std::io::ErrorKind;

use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use zen_websocket_testing::{Direction, Fault, FaultProxy, Faults, ServerEvent};

use crate::support::{WAIT, bounded, connect, drain_and_drop, link, send, start};

#[tokio::test]
async fn close_after_forwards_exactly_n_bytes_then_fins_both_sides() {
    // A raw TCP peer upstream: the proxy is protocol-agnostic.
    let upstream = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let faults = Faults::from(Fault::close_after(Direction::ClientToServer, 1000));
    let proxy = FaultProxy::builder(upstream.local_addr().expect("addr")).faults(faults).start();
    let proxy = proxy.await.expect("proxy");
    let mut client = bounded(TcpStream::connect(proxy.addr())).await.expect("connect");
    let (mut peer, _) = bounded(upstream.accept()).await.expect("accept");

    // The write may be cut short once the proxy closes; what matters is what arrives.
    let _ = bounded(client.write_all(&[1_u8; 5000])).await;
    let mut arrived = Vec::new();
    bounded(peer.read_to_end(&mut arrived)).await.expect("a FIN, not a reset");
    assert_eq!(arrived.len(), 1000);
    let mut back = Vec::new();
    bounded(client.read_to_end(&mut back)).await.expect("the client gets a FIN too");
    assert!(back.is_empty());
    drop((client, peer));
    proxy.wait_for_connection_count(0, WAIT).await.expect("closed");
    assert_eq!(proxy.connections()[0].client_to_server.forwarded, 1000);
}

#[tokio::test]
async fn close_after_applied_live_counts_from_now() {
    let (server, proxy) = start().await;
    let ws = connect(&proxy, &server).await;
    server.wait_for_connections(1, WAIT).await.expect("connected");
    let before = link(&proxy, &ws).server_to_client.forwarded;
    assert!(before > 3, "the 101 answer went through");

    proxy.apply_all(Fault::close_after(Direction::ServerToClient, 3));
    assert_eq!(server.inject_message("hello, world").await, 1);
    let frames = drain_and_drop(ws).await;
    assert!(!frames.iter().any(|f| matches!(f, Ok(Message::Text(_)))), "{frames:?}");
    proxy.wait_for_connection_count(0, WAIT).await.expect("closed");
    assert_eq!(proxy.connections()[0].server_to_client.forwarded, before + 3);
}

#[tokio::test]
async fn truncate_leaves_the_server_a_partial_frame() {
    let (server, proxy) = start().await;
    let mut ws = connect(&proxy, &server).await;
    server.wait_for_connections(1, WAIT).await.expect("connected");
    let before = link(&proxy, &ws).client_to_server;
    let mark = server.mark();

    proxy.apply_all(Fault::truncate(Direction::ClientToServer, 5));
    send(&mut ws, Message::text("x".repeat(100))).await;
    // Five bytes of a 106-byte frame, then the end of the stream: the server drops the
    // connection without ever seeing a message.
    let dropped = |e: &ServerEvent| matches!(e, ServerEvent::Dropped { .. });
    server.wait_for_event_since(mark, dropped, WAIT).await.expect("the server saw a drop");
    assert!(server.received_since(mark).is_empty());
    drop(ws);
    proxy.wait_for_connection_count(0, WAIT).await.expect("closed");
    let after = proxy.connections()[0].client_to_server;
    assert_eq!(after.forwarded, before.forwarded + 5);
    assert!(after.discarded > before.discarded);
}

#[tokio::test]
async fn close_all_sends_a_fin_not_a_reset() {
    let (server, proxy) = start().await;
    let mut ws = connect(&proxy, &server).await;
    server.wait_for_connections(1, WAIT).await.expect("connected");
    let mark = server.mark();

    let reading = async {
        let end = bounded(ws.next()).await;
        drop(ws); // the client closes its socket once the stream ends
        end
    };
    let (closed, end) = tokio::join!(proxy.close_all(), reading);
    assert_eq!(closed, 1);
    match end {
        None | Some(Err(WsError::Protocol(_))) => {}
        Some(Err(WsError::Io(error))) if error.kind() != ErrorKind::ConnectionReset => {}
        other => panic!("expected the end of the stream, got {other:?}"),
    }
    let dropped = |e: &ServerEvent| matches!(e, ServerEvent::Dropped { .. });
    server.wait_for_event_since(mark, dropped, WAIT).await.expect("the server saw the end");
}
