//! `assert_message_sent` with every kind of matcher, passing and failing.

use std::time::{Duration, Instant};

use futures_util::SinkExt;
use regex::Regex;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use zen_websocket_testing::{AssertionError, Matcher, MockServer};

use crate::support::{WAIT, bounded, connect, send_text};

const REQUEST: &str =
    r#"{"jsonrpc":"2.0","id":7,"method":"public/subscribe","params":{"channels":["a","b"]}}"#;

#[tokio::test]
async fn each_matcher_kind_finds_the_message() {
    let server = MockServer::start().await.expect("start");
    let mut ws = connect(&server).await;
    send_text(&mut ws, "plain text").await;
    send_text(&mut ws, REQUEST).await;
    bounded(ws.send(Message::binary(vec![9, 8]))).await.expect("send");

    let found = server.assert_message_sent("plain text", WAIT).await.expect("exact");
    assert_eq!(found.text(), Some("plain text"));
    server.assert_message_sent(String::from(REQUEST), WAIT).await.expect("exact String");
    let regex = Matcher::regex(r#""id":7\b"#).expect("regex");
    server.assert_message_sent(regex, WAIT).await.expect("regex");
    let regex = Regex::new(r"^plain").expect("regex");
    server.assert_message_sent(regex, WAIT).await.expect("From<Regex>");
    let subset = json!({"method": "public/subscribe", "params": {"channels": ["a", "b"]}});
    let found = server.assert_message_sent(subset, WAIT).await.expect("json");
    assert_eq!(found.json().expect("json")["id"], 7);
    let predicate = Matcher::predicate(|m| m.bytes() == [9, 8]);
    server.assert_message_sent(predicate, WAIT).await.expect("predicate");
    server.assert_message_sent(Matcher::bytes([9, 8]), WAIT).await.expect("bytes");
}

#[tokio::test]
async fn non_matching_messages_fail_within_the_timeout() {
    let server = MockServer::start().await.expect("start");
    let mut ws = connect(&server).await;
    send_text(&mut ws, REQUEST).await;
    server.assert_message_sent(REQUEST, WAIT).await.expect("arrived");

    let timeout = Duration::from_millis(200);
    let wrong = [
        Matcher::exact("plain"),
        Matcher::regex(r#""id":8\b"#).expect("regex"),
        Matcher::json(json!({"params": {"channels": ["a"]}})),
        Matcher::predicate(|m| m.text().is_none()),
    ];
    for matcher in wrong {
        let started = Instant::now();
        let error = bounded(server.assert_message_sent(matcher, timeout)).await.unwrap_err();
        assert!(started.elapsed() >= timeout);
        let AssertionError::NoMatchingMessage { count, ref seen, .. } = error else {
            panic!("unexpected error {error:?}");
        };
        assert_eq!(count, 1);
        assert!(seen.contains("public/subscribe"), "{seen}");
        assert!(error.to_string().contains("no message matching"), "{error}");
    }
}

#[tokio::test]
async fn waits_for_messages_that_arrive_later() {
    let server = MockServer::start().await.expect("start");
    let mut ws = connect(&server).await;
    let waiting = server.assert_message_sent("later", WAIT);
    let sending = async {
        send_text(&mut ws, "first").await;
        send_text(&mut ws, "later").await;
    };
    let (found, ()) = tokio::join!(waiting, sending);
    assert_eq!(found.expect("found").text(), Some("later"));
}

#[tokio::test]
async fn cleared_messages_no_longer_match() {
    let server = MockServer::start().await.expect("start");
    let mut ws = connect(&server).await;
    send_text(&mut ws, "old").await;
    server.assert_message_sent("old", WAIT).await.expect("old");
    server.clear_received();
    assert!(server.received().is_empty());
    let result = server.assert_message_sent("old", Duration::from_millis(50)).await;
    assert!(result.is_err());
    send_text(&mut ws, "new").await;
    server.assert_message_sent("new", WAIT).await.expect("new");
    assert_eq!(server.received().len(), 1);
}

#[tokio::test]
async fn received_keeps_arrival_order_across_connections() {
    let server = MockServer::start().await.expect("start");
    let mut a = connect(&server).await;
    let mut b = connect(&server).await;
    send_text(&mut a, "1").await;
    server.assert_message_sent("1", WAIT).await.expect("1");
    send_text(&mut b, "2").await;
    server.assert_message_sent("2", WAIT).await.expect("2");
    send_text(&mut a, "3").await;
    server.assert_message_sent("3", WAIT).await.expect("3");
    let received = server.received();
    let texts: Vec<_> = received.iter().map(|m| m.text().unwrap_or_default()).collect();
    assert_eq!(texts, ["1", "2", "3"]);
    assert_eq!(received[0].connection, received[2].connection);
    assert_ne!(received[0].connection, received[1].connection);
    assert!(received[0].at <= received[1].at && received[1].at <= received[2].at);
}
