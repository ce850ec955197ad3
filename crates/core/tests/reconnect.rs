//! Reconnection basics: a restarted server, restored subscriptions, and when not to reconnect.

mod support;

use std::time::Duration;

use serde_json::json;
use support::{connect_with, next_event, next_message, within};
use zen_websocket_core::{ConnectionState, Error, Event};
use zen_websocket_testing::{DisconnectKind, Matcher, MockServer};

fn fast(config: zen_websocket_core::Config) -> zen_websocket_core::Config {
    config.retry_delay(Duration::from_millis(50)).max_backoff(Duration::from_millis(200))
}

#[tokio::test]
async fn a_restarted_server_gets_the_client_and_its_subscriptions_back() {
    let server = MockServer::start().await.unwrap();
    let client = connect_with(&server, fast).await;
    within(client.subscribe(["ticker.BTC-PERPETUAL.100ms"])).await.unwrap();

    within(server.stop()).await;
    match next_event(&client).await {
        Event::Disconnected { .. } => {}
        other => panic!("expected Disconnected, got {other:?}"),
    }
    assert!(matches!(next_event(&client).await, Event::Reconnecting { attempt: 1, .. }));
    let err = within(client.send_message("while down")).await.unwrap_err();
    assert!(matches!(err, Error::NotConnected(ConnectionState::Connecting)), "{err:?}");

    server.clear_received();
    within(server.restart()).await.unwrap();
    loop {
        match next_event(&client).await {
            Event::Connected => break,
            Event::Reconnecting { .. } => {}
            other => panic!("expected Reconnecting or Connected, got {other:?}"),
        }
    }
    assert_eq!(client.get_state(), ConnectionState::Connected);
    within(server.assert_message_sent(
        Matcher::json(json!({"method": "public/subscribe", "params": {"channels": ["ticker.BTC-PERPETUAL.100ms"]}})),
        support::WAIT,
    ))
    .await
    .unwrap();
    within(client.send_message("echo again")).await.unwrap();
    assert_eq!(next_message(&client).await.as_text(), Some("echo again"));
    // The server answers in order: after this request, the restore was confirmed.
    within(client.request("public/test", json!({}))).await.unwrap();
    assert_eq!(client.get_state_metrics().subscriptions, 1);
}

#[tokio::test]
async fn a_subscription_the_server_refuses_to_restore_is_dropped() {
    let server = MockServer::start().await.unwrap();
    let client = connect_with(&server, fast).await;
    within(client.subscribe(["trades.BTC-PERPETUAL.raw"])).await.unwrap();
    server.set_rpc_handler(|request| match request.method.as_str() {
        "public/subscribe" => zen_websocket_testing::RpcReply::error(
            13778,
            "raw_subscriptions_not_available_for_unauthorized",
        ),
        _ => zen_websocket_testing::RpcReply::Default,
    });
    let mark = server.mark();
    within(server.simulate_disconnect(DisconnectKind::Abrupt)).await;
    let mut lost = false;
    loop {
        match next_event(&client).await {
            Event::SubscriptionLost { .. } => lost = true,
            Event::Connected => break,
            _ => {}
        }
    }
    assert!(lost, "the refusal is reported before Connected");
    // The restore was sent on the new socket (not just the original subscribe before the mark).
    let restore = Matcher::json(json!({"method": "public/subscribe"}));
    within(server.assert_message_sent_since(mark, restore, support::WAIT)).await.unwrap();
    assert_eq!(client.get_state_metrics().subscriptions, 0, "a refused restore is not kept");
}

#[tokio::test]
async fn no_reconnect_when_disabled() {
    let server = MockServer::start().await.unwrap();
    let client = connect_with(&server, |config| fast(config).reconnect_on_error(false)).await;
    within(server.wait_for_connections(1, support::WAIT)).await.unwrap();
    within(server.simulate_disconnect(DisconnectKind::Abrupt)).await;
    assert!(matches!(next_event(&client).await, Event::Disconnected { .. }));
    assert!(within(client.recv()).await.is_none(), "no Reconnecting event follows");
    assert_eq!(client.get_state(), ConnectionState::Disconnected);
    assert_eq!(server.total_connections(), 1);
}

#[tokio::test]
async fn exhausted_retries_end_in_reconnect_failed() {
    let server = MockServer::start().await.unwrap();
    let client = connect_with(&server, |config| fast(config).retry_count(2)).await;
    within(server.stop()).await;
    let mut attempts = Vec::new();
    loop {
        match next_event(&client).await {
            Event::Disconnected { .. } => {}
            Event::Reconnecting { attempt, delay, .. } => {
                attempts.push((attempt, delay.as_millis()))
            }
            Event::ReconnectFailed { attempts: made, last_error, .. } => {
                assert_eq!(made, 2);
                assert!(last_error.is_recoverable(), "{last_error:?}");
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(attempts, [(1, 50), (2, 100)]);
    assert_eq!(client.get_state(), ConnectionState::Disconnected);
    assert!(within(client.recv()).await.is_none());
}

/// Collects reconnection events until `Connected` or `ReconnectFailed`, with when each came.
async fn reconnect_sequence(
    client: &zen_websocket_core::Client,
) -> Vec<(std::time::Instant, Event)> {
    let mut events = Vec::new();
    loop {
        let event = next_event(client).await;
        let last = matches!(event, Event::Connected | Event::ReconnectFailed { .. });
        events.push((std::time::Instant::now(), event));
        if last {
            return events;
        }
    }
}

#[tokio::test]
async fn backoff_doubles_caps_and_restarts_after_a_success() {
    let server = MockServer::start().await.unwrap();
    let delay = Duration::from_millis(80);
    let client = connect_with(&server, |config| {
        config.retry_delay(delay).max_backoff(Duration::from_millis(250)).retry_count(4)
    })
    .await;
    within(server.stop()).await;
    let events = within(reconnect_sequence(&client)).await;
    let attempts: Vec<(std::time::Instant, u32, Duration)> = events
        .iter()
        .filter_map(|(at, event)| match event {
            Event::Reconnecting { attempt, delay, .. } => Some((*at, *attempt, *delay)),
            _ => None,
        })
        .collect();
    let announced: Vec<u128> = attempts.iter().map(|(_, _, d)| d.as_millis()).collect();
    assert_eq!(announced, [80, 160, 250, 250], "1×, 2×, then capped at max_backoff");
    // Each attempt is announced, then waited for: two announcements are at least the
    // earlier one's delay apart.
    for pair in attempts.windows(2) {
        let gap = pair[1].0 - pair[0].0;
        let expected = pair[0].2;
        assert!(gap >= expected, "{gap:?} vs {expected:?}");
    }
    assert!(matches!(events.last(), Some((_, Event::ReconnectFailed { attempts: 4, .. }))));

    // A fresh client reconnects once, then — the connection having stayed up long enough —
    // on the next loss counts from 1 again.
    let server = MockServer::start().await.unwrap();
    let stable = Duration::from_millis(30);
    let client = connect_with(&server, |config| {
        config.retry_delay(Duration::from_millis(20)).backoff_reset_after(stable)
    })
    .await;
    for _ in 0..2 {
        within(server.wait_for_connections(1, support::WAIT)).await.unwrap();
        tokio::time::sleep(stable).await; // the connection stays up that long
        within(server.simulate_disconnect(DisconnectKind::Abrupt)).await;
        let events = within(reconnect_sequence(&client)).await;
        assert!(matches!(events[1].1, Event::Reconnecting { attempt: 1, .. }), "{events:?}");
        assert!(matches!(events.last(), Some((_, Event::Connected))));
    }
    assert_eq!(client.get_state_metrics().reconnects, 2);
}

#[tokio::test]
async fn one_abrupt_drop_makes_exactly_one_new_connection() {
    let server = MockServer::start().await.unwrap();
    let client =
        connect_with(&server, |config| config.retry_delay(Duration::from_millis(20))).await;
    within(server.wait_for_connections(1, support::WAIT)).await.unwrap();
    within(server.simulate_disconnect(DisconnectKind::Abrupt)).await;
    let events = within(reconnect_sequence(&client)).await;
    assert_eq!(events.len(), 3, "Disconnected, Reconnecting, Connected: {events:?}");
    // Prove the negative over ten back-off periods: no second reconnect sequence starts.
    let echo = async {
        for n in 0..10 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            client.send_message(format!("still here {n}")).await.unwrap();
            assert_eq!(
                next_message(&client).await.as_text(),
                Some(format!("still here {n}").as_str())
            );
        }
    };
    within(echo).await;
    assert_eq!(server.total_connections(), 2);
    assert_eq!(server.connection_count(), 1);
}

#[tokio::test]
async fn a_listener_that_never_upgrades_is_retried_with_backoff() {
    let server = MockServer::start().await.unwrap();
    let client = connect_with(&server, |config| {
        config
            .timeout(Duration::from_millis(100))
            .retry_delay(Duration::from_millis(20))
            .retry_count(3)
    })
    .await;
    within(server.wait_for_connections(1, support::WAIT)).await.unwrap();
    server.stall_handshakes(true);
    within(server.simulate_disconnect(DisconnectKind::Abrupt)).await;
    let events = within(reconnect_sequence(&client)).await;
    match events.last() {
        Some((_, Event::ReconnectFailed { attempts: 3, last_error, .. })) => {
            assert!(
                matches!(
                    last_error,
                    Error::Timeout { stage: zen_websocket_core::ConnectStage::Upgrade, .. }
                ),
                "{last_error:?}"
            );
        }
        other => panic!("expected ReconnectFailed after 3 timeouts, got {other:?}"),
    }
    assert_eq!(client.get_state(), ConnectionState::Disconnected);
}

#[tokio::test]
async fn closing_never_reconnects() {
    let server = MockServer::start().await.unwrap();
    let client =
        connect_with(&server, |config| config.retry_delay(Duration::from_millis(10))).await;
    within(client.close()).await.unwrap();
    assert!(matches!(next_event(&client).await, Event::Disconnected { .. }));
    assert!(within(client.recv()).await.is_none(), "the task ended without a Reconnecting event");
    assert_eq!(server.total_connections(), 1);
}

#[tokio::test]
async fn unsubscribing_while_offline_drops_the_subscription_from_the_restore() {
    let server = MockServer::start().await.unwrap();
    let client =
        connect_with(&server, |config| config.retry_delay(Duration::from_millis(100))).await;
    let gone = within(client.subscribe(["ticker.gone.100ms"])).await.unwrap();
    let kept = within(client.subscribe(["ticker.kept.100ms"])).await.unwrap();
    within(server.simulate_disconnect(DisconnectKind::Abrupt)).await;
    assert!(matches!(next_event(&client).await, Event::Disconnected { .. }));
    within(client.unsubscribe(gone)).await.unwrap();
    server.clear_received();
    let events = within(reconnect_sequence(&client)).await;
    assert!(matches!(events.last(), Some((_, Event::Connected))));
    within(server.assert_message_sent(
        Matcher::json(json!({"params": {"channels": ["ticker.kept.100ms"]}})),
        support::WAIT,
    ))
    .await
    .unwrap();
    // The server answers in order: once this is answered, so is the restore.
    within(client.request("public/test", json!({}))).await.unwrap();
    let sent = server.received();
    assert!(sent.iter().all(|m| !m.text().unwrap_or_default().contains("ticker.gone")), "{sent:?}");
    assert_eq!(client.get_state_metrics().subscriptions, 1);
    within(client.unsubscribe(kept)).await.unwrap();
}
