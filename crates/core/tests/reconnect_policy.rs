//! The reconnection policy never hammers a venue: back-off survives connections that die at
//! once, `Retry-After` is honoured, and errors retrying cannot fix end reconnection.

mod support;

use std::{sync::Arc, time::Duration};

use support::{connect_with, next_event, within};
use zen_websocket_core::{ConnectionState, Error, Event};
use zen_websocket_testing::{DisconnectKind, MockServer};

/// Reconnection events until `ReconnectFailed`, or until `limit` attempts were announced.
async fn attempts_until_failed(
    client: &zen_websocket_core::Client,
    limit: usize,
) -> (Vec<(u32, Duration)>, Option<(u32, Error)>) {
    let mut attempts = Vec::new();
    while attempts.len() < limit {
        match next_event(client).await {
            Event::Reconnecting { attempt, delay, .. } => attempts.push((attempt, delay)),
            Event::ReconnectFailed { attempts: made, last_error, .. } => {
                return (attempts, Some((made, last_error)));
            }
            _ => {}
        }
    }
    (attempts, None)
}

#[tokio::test]
async fn a_server_that_closes_every_new_connection_at_once_exhausts_the_retries() {
    let server = Arc::new(MockServer::start().await.unwrap());
    let client = connect_with(&server, |config| {
        config
            .retry_delay(Duration::from_millis(10))
            .max_backoff(Duration::from_millis(40))
            .retry_count(3)
    })
    .await;
    let closer = tokio::spawn({
        let server = Arc::clone(&server);
        async move {
            loop {
                if server.wait_for_connections(1, support::WAIT).await.is_err() {
                    return;
                }
                server.simulate_disconnect(DisconnectKind::GoingAway).await;
            }
        }
    });
    let (attempts, failed) = within(attempts_until_failed(&client, 6)).await;
    closer.abort();
    let numbers: Vec<u32> = attempts.iter().map(|(attempt, _)| *attempt).collect();
    assert_eq!(numbers, [1, 2, 3], "each short-lived connection counts: {attempts:?}");
    let delays: Vec<u128> = attempts.iter().map(|(_, delay)| delay.as_millis()).collect();
    assert_eq!(delays, [10, 20, 40], "the back-off keeps growing");
    let (made, _) = failed.expect("the retries run out");
    assert_eq!(made, 3);
    assert_eq!(client.get_state(), ConnectionState::Disconnected);
}

#[tokio::test]
async fn a_429_retry_after_is_honoured() {
    let server = MockServer::start().await.unwrap();
    let client = connect_with(&server, |config| {
        config
            .retry_delay(Duration::from_millis(20))
            .max_backoff(Duration::from_secs(5))
            .retry_count(5)
    })
    .await;
    within(server.wait_for_connections(1, support::WAIT)).await.unwrap();
    server.reject_handshake(Some(429)); // with `Retry-After: 1`
    within(server.simulate_disconnect(DisconnectKind::Abrupt)).await;
    let (attempts, _) = within(attempts_until_failed(&client, 2)).await;
    assert_eq!(attempts[0], (1, Duration::from_millis(20)));
    assert_eq!(attempts[1].0, 2);
    assert!(attempts[1].1 >= Duration::from_secs(1), "Retry-After ignored: {attempts:?}");
    within(client.close()).await.unwrap();
}

#[tokio::test]
async fn a_403_ends_reconnection_at_once_and_says_why() {
    let server = MockServer::start().await.unwrap();
    let client = connect_with(&server, |config| {
        config.retry_delay(Duration::from_millis(10)).retry_count(5)
    })
    .await;
    within(server.wait_for_connections(1, support::WAIT)).await.unwrap();
    server.reject_handshake(Some(403));
    within(server.simulate_disconnect(DisconnectKind::Abrupt)).await;
    let (attempts, failed) = within(attempts_until_failed(&client, 5)).await;
    assert_eq!(attempts.len(), 1, "{attempts:?}");
    let (made, last_error) = failed.expect("403 is not worth retrying");
    assert_eq!(made, 1);
    match last_error {
        Error::HandshakeRejected { status, .. } => assert_eq!(status.as_u16(), 403),
        other => panic!("expected the 403, got {other:?}"),
    }
    assert_eq!(client.get_state(), ConnectionState::Disconnected);
}
