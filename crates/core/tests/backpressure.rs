//! A slow consumer: every message arrives, in order; while the inbox is full the client stops
//! reading the socket (the server feels TCP back-pressure), and the inbox stays within its
//! bounds by count and by bytes.

mod support;

use std::time::Duration;

use serde_json::json;
use support::{connect_with, eventually, next_event, next_message, within};
use zen_websocket_core::{Error, Event};
use zen_websocket_testing::{MockServer, Reply};

/// Messages of `size` bytes, numbered in their first five characters.
fn numbered(count: usize, size: usize) -> Reply {
    let one = |n: usize| Reply::Text(format!("{n:05}{}", "x".repeat(size - 5)));
    Reply::Many((0..count).map(one).collect())
}

async fn read_numbered(client: &zen_websocket_core::Client, count: usize) {
    for expected in 0..count {
        let message = next_message(client).await;
        assert_eq!(&message.as_text().unwrap()[..5], format!("{expected:05}"), "out of order");
    }
}

#[tokio::test]
async fn a_full_inbox_pauses_reading_and_the_server_feels_it() {
    const CAPACITY: usize = 64;
    const TOTAL: usize = 2_000;
    let server = MockServer::start().await.unwrap();
    // No heartbeat: nothing is awaited, so the count bound is the one that holds.
    let client =
        connect_with(&server, |config| config.inbox_capacity(CAPACITY).no_heartbeat()).await;
    within(server.wait_for_connections(1, support::WAIT)).await.unwrap();

    // 2,000 × 16 KiB = 32 MiB: far more than the socket buffers on both sides hold.
    let pushing = tokio::spawn(async move {
        server.inject(numbered(TOTAL, 16 << 10)).await;
        server
    });
    eventually("a full inbox", || client.get_state_metrics().inbox_len == CAPACITY).await;
    // Give the client every chance to read on, were it going to.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let metrics = client.get_state_metrics();
    assert_eq!(metrics.inbox_len, CAPACITY);
    assert!(
        metrics.messages_in <= CAPACITY as u64 + 1,
        "reading went on past a full inbox: {metrics:?}"
    );
    assert!(!pushing.is_finished(), "the server's writes are held back by TCP");

    read_numbered(&client, TOTAL).await;
    let _server = within(pushing).await.unwrap();
    assert_eq!(client.get_state_metrics().messages_in, TOTAL as u64);
    assert_eq!(client.get_state_metrics().inbox_len, 0);
}

#[tokio::test]
async fn unread_data_never_takes_more_than_the_byte_bound() {
    const BOUND: usize = 64 << 10;
    let server = MockServer::start().await.unwrap();
    let client = connect_with(&server, |config| {
        config.inbox_max_bytes(BOUND).request_timeout(Duration::from_millis(300)).no_heartbeat()
    })
    .await;
    within(server.wait_for_connections(1, support::WAIT)).await.unwrap();
    within(server.inject(numbered(200, 4 << 10))).await;

    // A reply awaited lets reading go past the count bound, never past the byte bound: the
    // answer behind 800 KiB of unread data waits for the reader, and times out.
    let err = within(client.request("public/test", json!({}))).await.unwrap_err();
    assert!(matches!(err, Error::RequestTimeout { .. }), "{err:?}");
    let metrics = client.get_state_metrics();
    assert!(metrics.inbox_bytes <= BOUND, "{metrics:?}");
    assert!(metrics.inbox_len >= 10, "the bound was used: {metrics:?}");
    read_numbered(&client, 200).await;
    // The late answer, with nobody waiting for it any more, comes last as a message.
    let late = next_message(&client).await.json().unwrap();
    assert_eq!(late["result"]["version"], "1.2.26");
    assert_eq!(client.get_state_metrics().inbox_bytes, 0);
}

#[tokio::test]
async fn a_reader_that_stopped_reading_stops_the_reconnection_history_growing() {
    let server = MockServer::start().await.unwrap();
    let client = connect_with(&server, |config| {
        config
            .inbox_max_bytes(600) // two lifecycle events' worth
            .retry_delay(Duration::from_millis(10))
            .max_backoff(Duration::from_millis(10))
            .retry_count(20)
    })
    .await;
    within(server.wait_for_connections(1, support::WAIT)).await.unwrap();
    server.reject_handshake(Some(500));
    within(server.simulate_disconnect(zen_websocket_testing::DisconnectKind::Abrupt)).await;
    let rejected = |server: &MockServer| {
        let events = server.events();
        events
            .iter()
            .filter(|e| matches!(e, zen_websocket_testing::ServerEvent::HandshakeRejected { .. }))
            .count()
    };
    eventually("a rejected re-dial", || rejected(&server) >= 1).await;
    // Twenty re-dials would fit in this time; the unread events stop them at the bound.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let dials = rejected(&server);
    assert!(dials <= 3, "{dials} re-dials with nobody reading");
    assert!(client.get_state_metrics().inbox_len <= 4);
    // Reading lets it go on, to the end.
    loop {
        if let Event::ReconnectFailed { attempts, .. } = next_event(&client).await {
            assert_eq!(attempts, 20);
            break;
        }
    }
}
