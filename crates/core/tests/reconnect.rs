//! Reconnection basics: a restarted server, restored subscriptions, and when not to reconnect.

mod support;

use std::time::Duration;

use serde_json::json;
use support::{connect_with, next_event, next_message, within};
use zen_websocket_core::{ConnectionState, Error, Event};
use zen_websocket_testing::{DisconnectKind, Matcher, MockServer};

fn fast(config: zen_websocket_core::Config) -> zen_websocket_core::Config {
    config
        .retry_delay(Duration::from_millis(50))
        .max_backoff(Duration::from_millis(200))
}

#[tokio::test]
async fn a_restarted_server_gets_the_client_and_its_subscriptions_back() {
    let server = MockServer::start().await.unwrap();
    let client = connect_with(&server, fast).await;
    within(client.subscribe(["ticker.BTC-PERPETUAL.100ms"]))
        .await
        .unwrap();

    within(server.stop()).await;
    match next_event(&client).await {
        Event::Disconnected { .. } => {}
        other => panic!("expected Disconnected, got {other:?}"),
    }
    assert!(matches!(
        next_event(&client).await,
        Event::Reconnecting { attempt: 1, .. }
    ));
    let err = within(client.send_message("while down")).await.unwrap_err();
    assert!(
        matches!(err, Error::NotConnected(ConnectionState::Connecting)),
        "{err:?}"
    );

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
}

#[tokio::test]
async fn no_reconnect_when_disabled() {
    let server = MockServer::start().await.unwrap();
    let client = connect_with(&server, |config| fast(config).reconnect_on_error(false)).await;
    within(server.wait_for_connections(1, support::WAIT))
        .await
        .unwrap();
    within(server.simulate_disconnect(DisconnectKind::Abrupt)).await;
    assert!(matches!(
        next_event(&client).await,
        Event::Disconnected { .. }
    ));
    assert!(
        within(client.recv()).await.is_none(),
        "no Reconnecting event follows"
    );
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
            Event::Reconnecting { attempt, delay } => attempts.push((attempt, delay.as_millis())),
            Event::ReconnectFailed {
                attempts: made,
                last_error,
            } => {
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
