//! Auto-pong: on by default, switchable off (the server then never answers pings).

use futures_util::SinkExt;
use tokio_tungstenite::tungstenite::Message;
use zen_websocket_testing::{MockServer, ServerEvent};

use crate::support::{WAIT, Ws, bounded, connect, next};

/// Sends a ping, waits until the server handled it, then injects a marker: any pong the server
/// sent is written before the marker.
async fn ping_then_marker(
    server: &MockServer,
    ws: &mut Ws,
    payload: &'static [u8],
) -> Vec<Message> {
    server.clear_events();
    bounded(ws.send(Message::Ping(payload.into()))).await.expect("ping");
    let ping = |e: &ServerEvent| matches!(e, ServerEvent::Ping { payload: p, .. } if p == payload);
    server.wait_for_event(ping, WAIT).await.expect("the server saw the ping");
    assert_eq!(server.inject_message("marker").await, 1);
    let mut frames = Vec::new();
    loop {
        let frame = next(ws).await;
        if frame == Message::text("marker") {
            return frames;
        }
        frames.push(frame);
    }
}

#[tokio::test]
async fn pings_are_answered_by_default() {
    let server = MockServer::start().await.expect("start");
    let mut ws = connect(&server).await;
    let frames = ping_then_marker(&server, &mut ws, b"beat").await;
    assert_eq!(frames, [Message::Pong(b"beat".as_slice().into())]);
}

#[tokio::test]
async fn auto_pong_off_means_no_pong() {
    let server = MockServer::builder().auto_pong(false).start().await.expect("start");
    let mut ws = connect(&server).await;
    let frames = ping_then_marker(&server, &mut ws, b"beat").await;
    assert_eq!(frames, []);
}

#[tokio::test]
async fn auto_pong_can_be_switched_at_runtime() {
    let server = MockServer::start().await.expect("start");
    let mut ws = connect(&server).await;
    server.set_auto_pong(false);
    assert_eq!(ping_then_marker(&server, &mut ws, b"one").await, []);
    server.set_auto_pong(true);
    let frames = ping_then_marker(&server, &mut ws, b"two").await;
    assert_eq!(frames, [Message::Pong(b"two".as_slice().into())]);
}

#[tokio::test]
async fn data_around_pings_is_intact() {
    let server = MockServer::builder().auto_pong(false).start().await.expect("start");
    let mut ws = connect(&server).await;
    bounded(async {
        ws.feed(Message::text("before")).await?;
        ws.feed(Message::Ping(b"p".as_slice().into())).await?;
        ws.feed(Message::binary(vec![7; 300])).await?;
        ws.flush().await
    })
    .await
    .expect("send");
    assert_eq!(next(&mut ws).await, Message::text("before"));
    assert_eq!(next(&mut ws).await, Message::binary(vec![7; 300]));
    let lengths: Vec<_> = server.received().iter().map(|m| m.bytes().len()).collect();
    assert_eq!(lengths, [6, 300]);
}
