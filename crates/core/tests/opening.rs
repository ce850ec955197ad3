//! `Config::open_limiter` paces every dial — the first and each re-dial — across the clients
//! that share it.

mod support;

use std::time::Duration;

use support::within;
use zen_websocket_core::{
    Client, Config, Ending, Error, RateLimiter, rate_limiter::RateLimiterConfig,
};
use zen_websocket_testing::{DisconnectKind, MockServer};

/// One opening, then none for an hour; a dial that would wait fails at once instead.
fn one_opening() -> RateLimiter {
    RateLimiter::new(
        RateLimiterConfig::new()
            .name("opens")
            .capacity(1)
            .refill_rate(1)
            .refill_interval(Duration::from_secs(3600))
            .max_queue(0),
    )
    .unwrap()
}

#[tokio::test]
async fn clients_sharing_a_limiter_share_its_openings() {
    let server = MockServer::start().await.unwrap();
    let opens = one_opening();
    let config = Config::default().open_limiter(opens.clone()).no_heartbeat();
    let first = within(Client::connect(&server.url(), config.clone())).await.unwrap();
    let second = within(Client::connect(&server.url(), config)).await.unwrap_err();
    assert!(matches!(second, Error::RateLimited(_)), "{second:?}");
    assert_eq!(server.total_connections(), 1, "the second client never dialled");
    drop(first);
}

#[tokio::test]
async fn a_re_dial_takes_an_opening_too() {
    let server = MockServer::start().await.unwrap();
    let config = Config::default()
        .open_limiter(one_opening())
        .retry_count(3)
        .retry_delay(Duration::from_millis(10))
        .no_heartbeat();
    let client = within(Client::connect(&server.url(), config)).await.unwrap();
    within(server.simulate_disconnect(DisconnectKind::Abrupt)).await;
    assert_eq!(within(client.closed()).await, Ending::GaveUp);
    assert_eq!(server.total_connections(), 1, "no re-dial went past the limiter");
}
