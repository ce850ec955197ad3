//! When an event is seen, `get_state()` already agrees with it, and each transition is
//! reported once.

mod support;

use std::time::Duration;

use support::{EventLog, connect_with, next_event, within};
use zen_websocket_core::{ConnectionState, Event, HeartbeatConfig};
use zen_websocket_testing::{DisconnectKind, MockServer};

#[tokio::test]
async fn without_reconnection_disconnected_is_seen_with_the_state_disconnected() {
    let server = MockServer::start().await.unwrap();
    let log = EventLog::default();
    let _client = log.connect(&server, |config| config.reconnect_on_error(false)).await;
    within(server.wait_for_connections(1, support::WAIT)).await.unwrap();
    within(server.simulate_disconnect(DisconnectKind::Abrupt)).await;
    let seen = log.wait_for("Disconnected").await;
    assert_eq!(seen.last().unwrap().state, ConnectionState::Disconnected, "{seen:?}");
}

#[tokio::test]
async fn every_event_of_a_reconnection_agrees_with_the_state() {
    let server = MockServer::start().await.unwrap();
    let log = EventLog::default();
    let _client =
        log.connect(&server, |config| config.retry_delay(Duration::from_millis(20))).await;
    within(server.wait_for_connections(1, support::WAIT)).await.unwrap();
    within(server.simulate_disconnect(DisconnectKind::Abrupt)).await;
    let seen = log.wait_for("Connected").await;
    let expected = |event: &str| match event {
        e if e.starts_with("Connected") => ConnectionState::Connected,
        _ => ConnectionState::Connecting,
    };
    for one in &seen {
        assert_eq!(one.state, expected(&one.event), "{seen:?}");
    }
}

#[tokio::test]
async fn closing_while_reconnecting_reports_the_loss_once() {
    let server = MockServer::start().await.unwrap();
    let client =
        connect_with(&server, |config| config.retry_delay(Duration::from_millis(200))).await;
    within(server.stop()).await;
    let mut disconnects = 0;
    loop {
        match next_event(&client).await {
            Event::Disconnected { .. } => disconnects += 1,
            Event::Reconnecting { .. } => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    within(client.close()).await.unwrap();
    while let Some(event) = within(client.recv()).await {
        if matches!(event, Event::Disconnected { .. }) {
            disconnects += 1;
        }
    }
    assert_eq!(disconnects, 1, "one loss, one Disconnected");
    assert_eq!(client.get_state(), ConnectionState::Disconnected);
}

#[tokio::test]
async fn heartbeat_failures_start_from_zero_on_a_new_socket() {
    let server = MockServer::builder().auto_pong(false).start().await.unwrap();
    let heartbeat = HeartbeatConfig::ping().interval(Duration::from_millis(40)).max_failures(2);
    let log = EventLog::default();
    let _client = log
        .connect(&server, |config| {
            config.heartbeat(heartbeat).retry_delay(Duration::from_millis(20))
        })
        .await;
    let seen = log.wait_for("Connected").await;
    assert!(
        seen.iter().any(|one| one.failures == 2),
        "the first socket died of 2 misses: {seen:?}"
    );
    // When the new socket is reported up, nothing has been missed on it yet.
    assert_eq!(seen.last().unwrap().failures, 0, "the old socket's misses carried over: {seen:?}");
}
