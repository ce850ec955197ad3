//! Stalls: the proxy stops reading, back-pressure reaches the sender, nothing is lost.

use std::time::Duration;

use futures_util::SinkExt;
use tokio_tungstenite::tungstenite::Message;
use zen_websocket_testing::{Direction, Fault, FaultProxy, MockServer, Reply};

use crate::support::{WAIT, assert_silent, bounded, connect, link, next_text, send, start};

/// How long a client write may make no progress before the test calls it blocked.
const BLOCKED: Duration = Duration::from_millis(300);
/// What a client may write into a stalled connection before it must block: the client's send
/// buffer (sized from the small segments), the proxy's small receive buffer and one frame.
const BOUND: usize = 256 * 1024;
/// Where the test gives up: writes this far past the stall never blocked.
const RUNAWAY: usize = 4 * BOUND;

#[tokio::test]
async fn stalled_client_to_server_blocks_the_clients_writes_and_loses_nothing() {
    // No echo: without the stall, the server reads everything and the client never blocks.
    let server = MockServer::builder().handler(|_| Reply::None).start().await.expect("server");
    let builder =
        FaultProxy::builder(server.addr()).socket_buffer_size(4096).max_segment_size(1460);
    let proxy = builder.start().await.expect("proxy");
    let mut ws = connect(&proxy, &server).await;
    send(&mut ws, Message::text("before")).await;
    server.assert_message_sent("before", WAIT).await.expect("forwarded before the stall");
    let forwarded = link(&proxy, &ws).client_to_server.forwarded;
    let mark = server.mark();

    assert_eq!(proxy.apply_all(Fault::stall(Direction::ClientToServer)), 1);
    let frame = vec![7_u8; 1024];
    let mut written = 0;
    while let Ok(sent) =
        tokio::time::timeout(BLOCKED, ws.send(Message::binary(frame.clone()))).await
    {
        sent.expect("send");
        written += frame.len();
        assert!(written < RUNAWAY, "{written} bytes went into a stall without blocking");
    }
    assert!(written < BOUND, "the client blocked only after {written} bytes");
    assert!(server.received_since(mark).is_empty(), "the server got bytes through a stall");
    assert_eq!(link(&proxy, &ws).client_to_server.forwarded, forwarded);

    // Healing delivers every frame, the one cut off by the timeout included, in order.
    assert_eq!(proxy.heal_all(), 1);
    bounded(ws.flush()).await.expect("flush");
    send(&mut ws, Message::text("after")).await;
    server.assert_message_sent_since(mark, "after", WAIT).await.expect("after");
    let received = server.received_since(mark);
    let (last, frames) = received.split_last().expect("frames");
    assert_eq!(last.text(), Some("after"));
    let whole = written / frame.len();
    assert!((whole..=whole + 1).contains(&frames.len()), "{} of {whole}", frames.len());
    assert!(frames.iter().all(|m| m.bytes() == frame.as_slice()));
}

#[tokio::test]
async fn stalled_server_to_client_holds_messages_until_healed() {
    let (server, proxy) = start().await;
    let mut ws = connect(&proxy, &server).await;
    server.wait_for_connections(1, WAIT).await.expect("connected");
    let forwarded = link(&proxy, &ws).server_to_client.forwarded;

    proxy.apply_all(Fault::stall(Direction::ServerToClient));
    for i in 0..5 {
        assert_eq!(server.inject_message(format!("m{i}")).await, 1);
    }
    assert_silent(&mut ws).await;
    assert_eq!(link(&proxy, &ws).server_to_client.forwarded, forwarded);

    proxy.clear_all(Fault::stall(Direction::ServerToClient));
    for i in 0..5 {
        assert_eq!(next_text(&mut ws).await, format!("m{i}"));
    }
}

#[tokio::test]
async fn clearing_one_direction_keeps_the_other_stalled() {
    let (server, proxy) = start().await;
    let mut ws = connect(&proxy, &server).await;
    proxy.apply_all(Fault::stall(Direction::Both));
    proxy.clear_all(Fault::stall(Direction::ClientToServer));

    send(&mut ws, Message::text("ping?")).await;
    server.assert_message_sent("ping?", WAIT).await.expect("client to server flows");
    assert_silent(&mut ws).await; // the echo waits behind the stall
    proxy.clear_all(Fault::stall(Direction::ServerToClient));
    assert_eq!(next_text(&mut ws).await, "ping?");
}

#[tokio::test]
async fn a_fault_on_one_connection_leaves_the_others_alone() {
    let (server, proxy) = start().await;
    let mut a = connect(&proxy, &server).await;
    let mut b = connect(&proxy, &server).await;
    let a_id = link(&proxy, &a).id;
    assert!(proxy.apply(a_id, Fault::stall(Direction::ClientToServer)));

    let mark = server.mark();
    send(&mut a, Message::text("from a")).await;
    send(&mut b, Message::text("from b")).await;
    assert_eq!(next_text(&mut b).await, "from b");
    let short = crate::support::QUIET;
    assert!(server.assert_message_sent_since(mark, "from a", short).await.is_err());

    assert!(proxy.heal(a_id));
    server.assert_message_sent_since(mark, "from a", WAIT).await.expect("delivered after healing");
    assert_eq!(next_text(&mut a).await, "from a");
}
