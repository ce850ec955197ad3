//! The default echo and custom handlers.

use std::time::Duration;

use futures_util::SinkExt;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use zen_websocket_testing::{MockServer, Reply, ServerEvent};

use crate::support::{WAIT, bounded, connect, drain, next, next_text, send_text};

#[tokio::test]
async fn text_and_binary_are_echoed_unchanged() {
    let server = MockServer::start().await.expect("start");
    let mut ws = connect(&server).await;
    send_text(&mut ws, "hello").await;
    assert_eq!(next_text(&mut ws).await, "hello");
    bounded(ws.send(Message::binary(vec![0, 1, 255]))).await.expect("send");
    assert_eq!(next(&mut ws).await, Message::binary(vec![0, 1, 255]));
    // JSON that is not a JSON-RPC request (no id) is echoed too.
    send_text(&mut ws, r#"{"method":"x"}"#).await;
    assert_eq!(next_text(&mut ws).await, r#"{"method":"x"}"#);
}

#[tokio::test]
async fn frames_above_the_tungstenite_default_limit_are_accepted() {
    let server = MockServer::start().await.expect("start");
    let config = WebSocketConfig::default().max_frame_size(Some(64 << 20));
    let tcp = bounded(TcpStream::connect(server.addr())).await.expect("connect");
    let handshake = tokio_tungstenite::client_async_with_config(server.url(), tcp, Some(config));
    let (mut ws, _) = bounded(handshake).await.expect("handshake");
    // 20 MiB in one frame: above tungstenite's default 16 MiB frame limit.
    let big = "x".repeat(20 << 20);
    bounded(ws.send(Message::text(big.clone()))).await.expect("send");
    assert_eq!(next_text(&mut ws).await.len(), big.len());
}

#[tokio::test]
async fn custom_handler_replies_in_order_and_can_stay_silent() {
    let server = MockServer::builder()
        .handler(|incoming| match incoming.message.text() {
            Some("silent") => Reply::None,
            Some("many") => {
                Reply::Many(vec![Reply::Text("one".into()), Reply::Binary(vec![2]), Reply::Default])
            }
            _ => Reply::Default,
        })
        .start()
        .await
        .expect("start");
    let mut ws = connect(&server).await;
    send_text(&mut ws, "silent").await;
    send_text(&mut ws, "many").await;
    assert_eq!(next_text(&mut ws).await, "one");
    assert_eq!(next(&mut ws).await, Message::binary(vec![2]));
    assert_eq!(next_text(&mut ws).await, "many");
}

#[tokio::test]
async fn delayed_replies_come_out_of_order() {
    let server = MockServer::builder()
        .handler(|incoming| match incoming.message.text() {
            Some("slow") => Reply::delayed(Duration::from_millis(200), Reply::Default),
            _ => Reply::Default,
        })
        .start()
        .await
        .expect("start");
    let mut ws = connect(&server).await;
    send_text(&mut ws, "slow").await;
    send_text(&mut ws, "fast").await;
    assert_eq!(next_text(&mut ws).await, "fast");
    assert_eq!(next_text(&mut ws).await, "slow");
}

#[tokio::test]
async fn set_handler_applies_to_open_connections() {
    let server = MockServer::start().await.expect("start");
    let mut ws = connect(&server).await;
    send_text(&mut ws, "a").await;
    assert_eq!(next_text(&mut ws).await, "a");
    server.set_handler(|incoming| {
        Reply::Text(format!(
            "{} says {}",
            incoming.connection,
            incoming.message.text().unwrap_or("")
        ))
    });
    send_text(&mut ws, "b").await;
    assert_eq!(next_text(&mut ws).await, "#1 says b");
}

#[tokio::test]
async fn handler_close_reply_closes_the_connection() {
    let server = MockServer::builder()
        .handler(|_| Reply::Close { code: 4001, reason: "go away".into() })
        .start()
        .await
        .expect("start");
    let mut ws = connect(&server).await;
    send_text(&mut ws, "anything").await;
    let frames = drain(&mut ws).await;
    match frames.first() {
        Some(Ok(Message::Close(Some(frame)))) => {
            assert_eq!(u16::from(frame.code), 4001);
            assert_eq!(frame.reason.as_str(), "go away");
        }
        other => panic!("expected a close frame, got {other:?}"),
    }
    let closed = |e: &ServerEvent| matches!(e, ServerEvent::ServerClosed { code: Some(4001), .. });
    server.wait_for_event(closed, WAIT).await.expect("server closed");
    server.wait_for_connection_count(0, WAIT).await.expect("closed");
}

#[tokio::test]
async fn ping_reply_is_answered_by_the_client() {
    let server = MockServer::start().await.expect("start");
    let mut ws = connect(&server).await;
    assert_eq!(server.inject(Reply::Ping(b"are you there".to_vec())).await, 1);
    assert_eq!(next(&mut ws).await, Message::Ping(b"are you there".to_vec().into()));
    // tungstenite flushes its queued pong on the next read.
    let reader = tokio::spawn(async move { drain(&mut ws).await });
    let pong = |e: &ServerEvent| matches!(e, ServerEvent::Pong { payload, .. } if payload == b"are you there");
    server.wait_for_event(pong, WAIT).await.expect("pong");
    server.stop().await;
    bounded(reader).await.expect("reader");
}
