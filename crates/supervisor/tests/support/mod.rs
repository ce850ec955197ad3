//! Helpers shared by the pool's integration tests: bounded waits, servers, quick configs.

#![allow(dead_code, unreachable_pub)] // Each test binary uses a different subset.

use std::{future::Future, time::Duration};

use zen_websocket_core::Config;
use zen_websocket_supervisor::{ClientSpec, PoolEvent, PoolEvents, SupervisorConfig};
use zen_websocket_testing::MockServer;

/// The bound on every wait in these tests.
pub const WAIT: Duration = Duration::from_secs(10);

/// Awaits `future`, failing the test if it takes longer than [`WAIT`].
pub async fn within<F: Future>(future: F) -> F::Output {
    tokio::time::timeout(WAIT, future).await.expect("timed out waiting")
}

/// Polls `condition` until it holds, failing the test after [`WAIT`].
pub async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !condition() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A mock server on loopback.
pub async fn server() -> MockServer {
    MockServer::start().await.expect("mock server starts")
}

/// A client config that notices a lost server fast and re-dials quickly.
pub fn quick() -> Config {
    Config::default()
        .retry_delay(Duration::from_millis(20))
        .max_backoff(Duration::from_millis(100))
        .request_timeout(Duration::from_secs(5))
}

/// A spec for `server` with [`quick`].
pub fn spec(name: &str, server: &MockServer) -> ClientSpec {
    ClientSpec::new(name, server.url()).config(quick())
}

/// A rate limiter with one token that never comes back and no queue: the first frame goes,
/// every later one is refused before it is written.
pub fn one_token() -> zen_websocket_core::RateLimiter {
    use zen_websocket_core::rate_limiter::RateLimiterConfig;
    let config = RateLimiterConfig::new()
        .capacity(1)
        .refill_rate(1)
        .refill_interval(Duration::from_secs(86_400))
        .max_queue(0);
    zen_websocket_core::RateLimiter::new(config).expect("a valid limiter")
}

/// A pool config with short restart delays and no opening pace.
pub fn pool_config() -> SupervisorConfig {
    SupervisorConfig::default()
        .restart_delay(Duration::from_millis(10), Duration::from_millis(50))
        .open_limiter(None)
}

/// Reads pool events until one matches `wanted`, failing after [`WAIT`]; returns it.
pub async fn wait_for(
    events: &PoolEvents,
    what: &str,
    mut wanted: impl FnMut(&PoolEvent) -> bool,
) -> PoolEvent {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, events.recv()).await {
            Ok(Some(event)) if wanted(&event) => return event,
            Ok(Some(_)) => {}
            Ok(None) => panic!("pool events ended while waiting for {what}"),
            Err(_) => panic!("timed out waiting for {what}"),
        }
    }
}
