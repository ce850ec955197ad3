//! Injecting frames into open connections.

use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use zen_websocket_testing::{MockServer, Reply};

use crate::support::{connect, next, next_json, next_text};

#[tokio::test]
async fn injections_reach_every_open_connection() {
    let server = MockServer::start().await.expect("start");
    assert_eq!(server.inject_message("nobody").await, 0);
    let mut a = connect(&server).await;
    let mut b = connect(&server).await;
    assert_eq!(server.inject_message("text").await, 2);
    assert_eq!(server.inject_binary(vec![1, 2, 3]).await, 2);
    assert_eq!(server.inject_json(&json!({"method": "subscription"})).await, 2);
    for ws in [&mut a, &mut b] {
        assert_eq!(next_text(ws).await, "text");
        assert_eq!(next(ws).await, Message::binary(vec![1, 2, 3]));
        assert_eq!(next_json(ws).await, json!({"method": "subscription"}));
    }
}

#[tokio::test]
async fn inject_to_reaches_one_connection_only() {
    let server = MockServer::start().await.expect("start");
    let mut a = connect(&server).await;
    let mut b = connect(&server).await;
    let handshakes = server.handshakes();
    let (first, second) = (handshakes[0].connection, handshakes[1].connection);
    assert!(server.inject_to(second, Reply::Text("just b".into())).await);
    assert!(server.inject_to(first, Reply::Text("just a".into())).await);
    assert_eq!(server.inject_message("everyone").await, 2);
    assert_eq!(next_text(&mut a).await, "just a");
    assert_eq!(next_text(&mut a).await, "everyone");
    assert_eq!(next_text(&mut b).await, "just b");
    assert_eq!(next_text(&mut b).await, "everyone");
}
