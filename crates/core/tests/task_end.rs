//! However the connection task ends — a panicking user callback, a duration too large for the
//! timer, the runtime shutting down — the client never keeps claiming to be connected.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::{connect_with, within};
use zen_websocket_core::{
    Client, Config, ConnectionState, Error, Event, RequestId, SubscriptionProtocol,
};
use zen_websocket_testing::MockServer;

/// A dialect whose confirmation panics.
#[derive(Debug)]
struct PanickingConfirm;

impl SubscriptionProtocol for PanickingConfirm {
    fn subscribe_message(&self, id: &RequestId, channels: &[String]) -> Value {
        json!({"jsonrpc": "2.0", "id": id, "method": "public/subscribe", "params": {"channels": channels}})
    }
    fn unsubscribe_message(&self, id: &RequestId, channels: &[String]) -> Value {
        json!({"jsonrpc": "2.0", "id": id, "method": "public/unsubscribe", "params": {"channels": channels}})
    }
    fn confirm(&self, _: &[String], _: &Value) -> Result<(), Vec<String>> {
        panic!("a bug in the user's dialect")
    }
}

#[tokio::test]
async fn a_panicking_subscription_protocol_fails_the_call_not_the_connection() {
    let server = MockServer::start().await.unwrap();
    let client =
        connect_with(&server, |config| config.subscription_protocol(PanickingConfirm)).await;
    let err = within(client.subscribe(["ticker.a.100ms"])).await.unwrap_err();
    assert!(!matches!(err, Error::NotConnected(_) | Error::Disconnected), "{err:?}");
    assert_eq!(client.get_state(), ConnectionState::Connected);
    let answer = within(client.request("public/test", json!({}))).await.unwrap();
    assert_eq!(answer["version"], "1.2.26");
}

#[tokio::test]
async fn durations_too_large_for_the_timer_are_refused_by_name() {
    let huge = Duration::MAX;
    let cases: Vec<(&str, Config)> = vec![
        ("request_timeout", Config::default().request_timeout(huge)),
        ("timeout", Config::default().timeout(huge)),
        ("close_timeout", Config::default().close_timeout(huge)),
        ("max_backoff", Config::default().max_backoff(huge)),
        (
            "heartbeat.interval",
            Config::default().heartbeat(zen_websocket_core::HeartbeatConfig::ping().interval(huge)),
        ),
    ];
    for (field, config) in cases {
        match config.validate() {
            Err(Error::InvalidConfig { field: named, reason }) => {
                assert_eq!(named, field);
                assert!(reason.contains("at most"), "{field}: {reason}");
            }
            other => panic!("{field}: expected InvalidConfig, got {other:?}"),
        }
    }
}

#[test]
fn a_runtime_shutting_down_leaves_the_client_disconnected() {
    let server_runtime = tokio::runtime::Runtime::new().unwrap();
    let server = server_runtime.block_on(MockServer::start()).unwrap();
    let url = server.url();
    let client_runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let client =
        client_runtime.block_on(Client::connect(&url, Config::default())).expect("connects");
    assert_eq!(client.get_state(), ConnectionState::Connected);
    drop(client_runtime);
    assert_eq!(client.get_state(), ConnectionState::Disconnected);
    // The reader is told too, with a final event.
    let reader = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let events: Vec<Event> = reader.block_on(async {
        let mut events = Vec::new();
        while let Ok(Some(event)) = tokio::time::timeout(support::WAIT, client.recv()).await {
            events.push(event);
        }
        events
    });
    assert!(
        matches!(events.last(), Some(Event::Disconnected { .. })),
        "expected a final Disconnected, got {events:?}"
    );
    drop(server);
}
