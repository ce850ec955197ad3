//! Resets: both peers get a TCP RST, on every connection or on one.

use std::io::ErrorKind;

use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use zen_websocket_testing::ServerEvent;

use crate::support::{WAIT, Ws, bounded, connect, link, next_text, send, start};

/// Asserts that the next read on `ws` fails with a connection reset.
async fn assert_reset(ws: &mut Ws) {
    match bounded(ws.next()).await {
        Some(Err(WsError::Io(error))) => assert_eq!(error.kind(), ErrorKind::ConnectionReset),
        other => panic!("expected a connection reset, got {other:?}"),
    }
}

#[tokio::test]
async fn reset_all_resets_both_peers() {
    let (server, proxy) = start().await;
    let mut ws = connect(&proxy, &server).await;
    server.wait_for_connections(1, WAIT).await.expect("connected");
    let mark = server.mark();

    assert_eq!(proxy.reset_all().await, 1);
    assert_reset(&mut ws).await;
    // The server read a reset too: no close frame, the connection dropped.
    let dropped = |e: &ServerEvent| matches!(e, ServerEvent::Dropped { .. });
    server.wait_for_event_since(mark, dropped, WAIT).await.expect("the server saw the drop");
    server.wait_for_connection_count(0, WAIT).await.expect("server side closed");
    assert_eq!(proxy.connection_count(), 0);
    assert!(!proxy.connections()[0].open);
}

#[tokio::test]
async fn reset_one_connection_leaves_the_others() {
    let (server, proxy) = start().await;
    let mut a = connect(&proxy, &server).await;
    let mut b = connect(&proxy, &server).await;
    let a_id = link(&proxy, &a).id;

    assert!(proxy.reset(a_id).await);
    assert_reset(&mut a).await;
    assert!(!proxy.reset(a_id).await, "already closed");
    send(&mut b, Message::text("still here")).await;
    assert_eq!(next_text(&mut b).await, "still here");
    assert_eq!(proxy.connection_count(), 1);
}
