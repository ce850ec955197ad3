//! Blackholes: a half-open connection where bytes vanish while both TCP connections stay up.

use tokio_tungstenite::tungstenite::Message;
use zen_websocket_testing::{Direction, Fault, FaultProxy, MockServer, Reply, ServerEvent};

use crate::support::{QUIET, WAIT, assert_silent, connect, discarded_at_least, link, next, send};

/// Far more than the client's socket buffer holds with the proxy's small segments (tens of
/// KiB), so these writes complete only if the proxy keeps reading.
const FLOOD: usize = 1024 * 1024;

#[tokio::test]
async fn blackhole_swallows_pings_and_data_but_keeps_the_connection() {
    let server = MockServer::builder().handler(|_| Reply::None).start().await.expect("server");
    let builder =
        FaultProxy::builder(server.addr()).socket_buffer_size(4096).max_segment_size(1460);
    let proxy = builder.start().await.expect("proxy");
    let mut ws = connect(&proxy, &server).await;
    send(&mut ws, Message::Ping(b"a".as_slice().into())).await;
    assert_eq!(next(&mut ws).await, Message::Pong(b"a".as_slice().into()));
    let mark = server.mark();

    assert_eq!(proxy.apply_all(Fault::blackhole(Direction::Both)), 1);
    send(&mut ws, Message::Ping(b"b".as_slice().into())).await;
    assert_eq!(server.inject_message("lost").await, 1);
    // Neither the ping nor the pushed message gets through; no pong comes back.
    let ping = |e: &ServerEvent| matches!(e, ServerEvent::Ping { .. });
    let (pinged, ()) =
        tokio::join!(server.wait_for_event_since(mark, ping, QUIET), assert_silent(&mut ws));
    assert!(pinged.is_err(), "the ping got through");

    // The proxy keeps reading and discarding: writes far beyond any buffer complete.
    let chunk = vec![0_u8; 16 * 1024];
    for _ in 0..FLOOD / chunk.len() {
        send(&mut ws, Message::binary(chunk.clone())).await;
    }
    // Everything written reaches the proxy and is discarded (some of it may still be in the
    // client's socket buffer when the last write returns).
    let connection = discarded_at_least(&proxy, &ws, FLOOD as u64).await;
    assert!(connection.open);
    assert!(server.received_since(mark).is_empty());
    // Both TCP connections are still up.
    assert_eq!(server.connection_count(), 1);
    let dropped = |e: &ServerEvent| matches!(e, ServerEvent::Dropped { .. });
    assert!(!server.events_since(mark).iter().any(dropped));
    proxy.wait_for_connections(1, WAIT).await.expect("still open");
}

#[tokio::test]
async fn blackhole_one_way_only() {
    let server = MockServer::start().await.expect("server");
    let proxy = FaultProxy::start(server.addr()).await.expect("proxy");
    let mut ws = connect(&proxy, &server).await;
    proxy.apply_all(Fault::blackhole(Direction::ServerToClient));
    send(&mut ws, Message::text("echo me")).await;
    // The server gets the frame; its echo vanishes.
    server.assert_message_sent("echo me", WAIT).await.expect("client to server flows");
    assert_silent(&mut ws).await;
    let connection = link(&proxy, &ws);
    assert!(connection.server_to_client.discarded > 0, "{connection:?}");
}
