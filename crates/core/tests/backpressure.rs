//! A slow consumer: every message arrives, in order, and the inbox never exceeds its bound.

mod support;

use std::time::Duration;

use support::{connect_with, within};
use zen_websocket_core::Event;
use zen_websocket_testing::{MockServer, Reply};

#[tokio::test]
async fn ten_thousand_messages_reach_a_slow_consumer_in_order() {
    const TOTAL: usize = 10_000;
    const CAPACITY: usize = 64;
    let server = MockServer::start().await.unwrap();
    let client = connect_with(&server, |config| config.inbox_capacity(CAPACITY)).await;
    within(server.wait_for_connections(1, support::WAIT)).await.unwrap();

    // One injected batch: the server writes all 10,000 frames as fast as the socket takes them.
    let batch = (0..TOTAL).map(|n| Reply::Text(format!("{n:05}"))).collect();
    let sender = tokio::spawn(async move {
        server.inject(Reply::Many(batch)).await;
        server
    });

    let mut highest_inbox = 0;
    for expected in 0..TOTAL {
        let event =
            tokio::time::timeout(Duration::from_secs(10), client.recv()).await.unwrap().unwrap();
        let Event::Message(message) = event else { panic!("unexpected {event:?}") };
        assert_eq!(message.as_text(), Some(format!("{expected:05}").as_str()));
        let metrics = client.get_state_metrics();
        highest_inbox = highest_inbox.max(metrics.inbox_len);
        assert!(metrics.inbox_len <= CAPACITY, "inbox holds {} > {CAPACITY}", metrics.inbox_len);
        if expected % 500 == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await; // the consumer is slow
        }
    }
    let _server = within(sender).await.unwrap();
    assert!(
        highest_inbox >= CAPACITY / 2,
        "the consumer was slow enough to fill the inbox ({highest_inbox})"
    );
    let metrics = client.get_state_metrics();
    assert_eq!(metrics.messages_in, TOTAL as u64);
    assert_eq!(metrics.inbox_len, 0);
}
