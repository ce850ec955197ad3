//! Requests: `request_timeout` bounds the whole call, and a request whose caller gave up is
//! never written.

mod support;

use std::time::Duration;

use serde_json::json;
use support::{connect_with, within};
use zen_websocket_core::{
    Error,
    rate_limiter::{RateLimiter, RateLimiterConfig},
};
use zen_websocket_testing::{Matcher, MockServer};

#[tokio::test]
async fn time_spent_waiting_for_the_rate_limiter_counts_against_the_request_timeout() {
    let server = MockServer::start().await.unwrap();
    // One request per ten seconds: the second waits in the limiter far past its timeout.
    let limiter = RateLimiter::new(
        RateLimiterConfig::new()
            .name("slow")
            .capacity(1)
            .refill_rate(1)
            .refill_interval(Duration::from_secs(10))
            .max_queue(10),
    )
    .unwrap();
    let client = connect_with(&server, |config| {
        config.rate_limiter(limiter).request_timeout(Duration::from_millis(200))
    })
    .await;
    within(client.request("public/test", json!({"n": 1}))).await.unwrap();
    let err = tokio::time::timeout(
        Duration::from_secs(20),
        client.request("public/test", json!({"n": 2})),
    )
    .await
    .expect("the timeout bounds the whole call")
    .unwrap_err();
    assert!(matches!(err, Error::RequestTimeout { .. }), "{err:?}");
    // The abandoned request never reached the server.
    let second = Matcher::json(json!({"params": {"n": 2}}));
    assert!(server.assert_message_sent(second, Duration::from_millis(50)).await.is_err());
}
