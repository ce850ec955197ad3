//! A full inbox never holds back what the connection itself needs: replies to requests,
//! subscription confirmations and heartbeat notices are read past unread data, and the data
//! waits, in order and within its bounds, for the reader.

mod support;

use std::time::Duration;

use serde_json::json;
use support::{connect_with, next_message, within};
use zen_websocket_core::{ConnectionState, HeartbeatConfig};
use zen_websocket_testing::{Matcher, MockServer, Reply};

const NOTIFICATIONS: usize = 5_000;

/// `count` Deribit-style notifications, numbered from 0.
fn notifications(count: usize) -> Reply {
    let one = |n: usize| {
        Reply::Json(json!({
            "jsonrpc": "2.0",
            "method": "subscription",
            "params": {"channel": "ticker.BTC-PERPETUAL.100ms", "data": {"n": n}}
        }))
    };
    Reply::Many((0..count).map(one).collect())
}

/// Reads `count` notifications and checks they come in order.
async fn read_in_order(client: &zen_websocket_core::Client, count: usize) {
    for expected in 0..count {
        let message = next_message(client).await;
        let value = message.json().unwrap();
        assert_eq!(value["params"]["data"]["n"], expected, "out of order");
    }
}

#[tokio::test]
async fn a_reply_behind_five_thousand_unread_notifications_still_arrives() {
    let server = MockServer::start().await.unwrap();
    let client = connect_with(&server, |config| {
        config.inbox_capacity(8).request_timeout(Duration::from_secs(3))
    })
    .await;
    within(server.wait_for_connections(1, support::WAIT)).await.unwrap();
    within(server.inject(notifications(NOTIFICATIONS))).await;

    // Nobody reads the inbox, yet the answer behind the notifications comes back.
    let answer = within(client.request("public/test", json!({}))).await;
    assert_eq!(answer.unwrap()["version"], "1.2.26");

    let metrics = client.get_state_metrics();
    assert!(metrics.inbox_len > 8, "the data was read past the count bound: {metrics:?}");
    read_in_order(&client, NOTIFICATIONS).await;
    assert_eq!(client.get_state_metrics().inbox_len, 0);
}

#[tokio::test]
async fn a_deribit_test_request_behind_unread_notifications_is_answered() {
    let server = MockServer::start().await.unwrap();
    let heartbeat = HeartbeatConfig::deribit().interval(Duration::from_secs(10));
    let client =
        connect_with(&server, |config| config.inbox_capacity(8).heartbeat(heartbeat)).await;
    let set = Matcher::json(json!({"method": "public/set_heartbeat"}));
    within(server.assert_message_sent(set, support::WAIT)).await.unwrap();
    server.clear_received();

    let test_request =
        json!({"jsonrpc": "2.0", "method": "heartbeat", "params": {"type": "test_request"}});
    let burst = Reply::Many(vec![notifications(NOTIFICATIONS), Reply::Json(test_request)]);
    within(server.inject(burst)).await;
    let answer = Matcher::json(json!({"method": "public/test"}));
    within(server.assert_message_sent(answer, support::WAIT)).await.unwrap();

    read_in_order(&client, NOTIFICATIONS).await;
    assert_eq!(client.get_heartbeat_health().failures, 0);
    assert_eq!(client.get_state(), ConnectionState::Connected);
    assert_eq!(client.get_state_metrics().inbox_len, 0, "nothing else was delivered");
}
