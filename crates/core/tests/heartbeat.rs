//! Heartbeats against a real server: ping/pong round trips, silence that ends a half-open
//! connection, Deribit's test_request, and a custom message.

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::{connect_with, eventually, next_event, next_message, within};
use zen_websocket_core::{ConnectionState, DisconnectReason, Error, Event, HeartbeatConfig};
use zen_websocket_testing::{Matcher, MockServer, ServerEvent};

fn fast_reconnect(config: zen_websocket_core::Config) -> zen_websocket_core::Config {
    config.retry_delay(Duration::from_millis(20)).max_backoff(Duration::from_millis(50))
}

#[tokio::test]
async fn ping_heartbeat_measures_round_trips() {
    let server = MockServer::start().await.unwrap();
    let heartbeat = HeartbeatConfig::ping().interval(Duration::from_millis(50));
    let client = connect_with(&server, |config| config.heartbeat(heartbeat)).await;
    // Three pings answered: the health shows a round trip and no failures.
    for _ in 0..3 {
        within(
            server.wait_for_event(|event| matches!(event, ServerEvent::Ping { .. }), support::WAIT),
        )
        .await
        .unwrap();
        server.clear_events();
    }
    eventually("a measured round trip", || client.get_heartbeat_health().last_rtt.is_some()).await;
    let health = client.get_heartbeat_health();
    assert_eq!(health.failures, 0);
    assert!(health.last_at.is_some());
    assert!(health.last_rtt.unwrap() > Duration::ZERO);
    assert!(client.get_latency_stats().count >= 1, "pong round trips feed the latency stats");
}

#[tokio::test]
async fn unanswered_pings_end_a_half_open_connection_and_reconnect() {
    let server = MockServer::builder().auto_pong(false).start().await.unwrap();
    let heartbeat = HeartbeatConfig::ping().interval(Duration::from_millis(40)).max_failures(2);
    let client = connect_with(&server, |config| fast_reconnect(config).heartbeat(heartbeat)).await;
    let started = Instant::now();
    match next_event(&client).await {
        Event::Disconnected {
            reason: DisconnectReason::Error(Error::HeartbeatTimeout { failures }),
            ..
        } => {
            assert_eq!(failures, 2);
        }
        other => panic!("expected a heartbeat timeout, got {other:?}"),
    }
    // Ping at 40 ms, miss at 80 ms (1), miss at 120 ms (2): dropped after about three intervals.
    assert!(started.elapsed() >= Duration::from_millis(110), "{:?}", started.elapsed());
    assert!(matches!(next_event(&client).await, Event::Reconnecting { attempt: 1, .. }));
    assert!(matches!(next_event(&client).await, Event::Connected));
    assert_eq!(server.total_connections(), 2);
    assert_eq!(client.get_state_metrics().reconnects, 1);
}

#[tokio::test]
async fn pong_heartbeat_counts_server_silence_as_failure() {
    let server = MockServer::start().await.unwrap();
    let heartbeat = HeartbeatConfig::pong().interval(Duration::from_millis(40)).max_failures(3);
    let client =
        connect_with(&server, |config| config.reconnect_on_error(false).heartbeat(heartbeat)).await;
    eventually("a missed beat", || client.get_heartbeat_health().failures >= 1).await;
    // A server ping resets the count.
    within(server.inject(zen_websocket_testing::Reply::Ping(b"beat".to_vec()))).await;
    eventually("the count reset", || client.get_heartbeat_health().failures == 0).await;
    assert!(client.get_heartbeat_health().last_at.is_some());
    // Then silence again, until the connection is given up.
    match next_event(&client).await {
        Event::Disconnected {
            reason: DisconnectReason::Error(Error::HeartbeatTimeout { failures: 3 }),
            ..
        } => {}
        other => panic!("expected a heartbeat timeout, got {other:?}"),
    }
    assert_eq!(client.get_state(), ConnectionState::Disconnected);
}

#[tokio::test]
async fn deribit_heartbeat_answers_test_requests_and_hides_notices() {
    let server = MockServer::start().await.unwrap();
    let client = connect_with(&server, |config| {
        config.heartbeat(HeartbeatConfig::deribit().interval(Duration::from_secs(10)))
    })
    .await;
    let set = within(server.assert_message_sent(
        Matcher::json(json!({"method": "public/set_heartbeat", "params": {"interval": 10}})),
        support::WAIT,
    ))
    .await
    .unwrap();
    assert!(set.json().unwrap()["id"].is_u64());

    server
        .inject_json(
            &json!({"jsonrpc": "2.0", "method": "heartbeat", "params": {"type": "heartbeat"}}),
        )
        .await;
    server
        .inject_json(
            &json!({"jsonrpc": "2.0", "method": "heartbeat", "params": {"type": "test_request"}}),
        )
        .await;
    within(
        server.assert_message_sent(Matcher::json(json!({"method": "public/test"})), support::WAIT),
    )
    .await
    .unwrap();
    server.inject_message("after the heartbeats").await;
    // Neither notice, nor the answers to set_heartbeat and public/test, reach the user.
    assert_eq!(next_message(&client).await.as_text(), Some("after the heartbeats"));
    eventually("a measured round trip", || client.get_heartbeat_health().last_rtt.is_some()).await;
    assert_eq!(client.get_heartbeat_health().failures, 0);
}

#[tokio::test]
async fn custom_heartbeat_is_sent_every_interval() {
    let server = MockServer::start().await.unwrap();
    let heartbeat = HeartbeatConfig::custom(r#"{"op":"ping"}"#).interval(Duration::from_millis(60));
    let _client = connect_with(&server, |config| config.heartbeat(heartbeat)).await;
    let mut seen = Vec::new();
    for _ in 0..4 {
        let beat =
            within(server.assert_message_sent(r#"{"op":"ping"}"#, support::WAIT)).await.unwrap();
        seen.push(beat.at);
        server.clear_received();
    }
    for gap in seen.windows(2).map(|pair| pair[1] - pair[0]) {
        assert!(gap >= Duration::from_millis(50), "beats come an interval apart: {gap:?}");
    }
}

#[tokio::test]
async fn a_half_open_connection_is_noticed_and_replaced() {
    let server = MockServer::start().await.unwrap();
    let proxy = zen_websocket_testing::FaultProxy::start(server.addr()).await.unwrap();
    // The default heartbeat kind (ping, two misses), with a short interval.
    let heartbeat = HeartbeatConfig::ping().interval(Duration::from_millis(100));
    let config =
        support::config_for(&server).heartbeat(heartbeat).retry_delay(Duration::from_millis(20));
    let client =
        within(zen_websocket_core::Client::connect(&proxy.url("ws"), config)).await.unwrap();
    within(proxy.wait_for_connections(1, support::WAIT)).await.unwrap();
    // Half-open: the TCP connection stays up, but nothing gets through either way.
    use zen_websocket_testing::{Direction, Fault};
    proxy.apply_all(Fault::blackhole(Direction::Both));
    match next_event(&client).await {
        Event::Disconnected {
            reason: DisconnectReason::Error(Error::HeartbeatTimeout { failures: 2 }),
            ..
        } => {}
        other => panic!("expected a heartbeat timeout, got {other:?}"),
    }
    assert!(matches!(next_event(&client).await, Event::Reconnecting { attempt: 1, .. }));
    assert!(matches!(next_event(&client).await, Event::Connected));
    assert_eq!(proxy.total_accepted(), 2);
    within(client.request("public/test", json!({}))).await.unwrap();
}
