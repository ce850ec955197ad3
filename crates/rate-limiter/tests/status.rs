//! Status: pressure levels at their exact boundaries, the walk from Low to Critical and back,
//! and the suggested delay.

use std::time::Duration;

use tokio::time::sleep;
use zen_websocket_rate_limiter::{DeribitTier, PressureLevel::*, RateLimiter, RateLimiterConfig};

/// A bucket that barely refills (1 token an hour), so levels stay where the test puts them.
fn still(capacity: u32) -> RateLimiter {
    RateLimiter::new(
        RateLimiterConfig::default()
            .capacity(capacity)
            .refill_rate(1)
            .refill_interval(Duration::from_secs(3600)),
    )
    .unwrap()
}

#[tokio::test(start_paused = true)]
async fn pressure_boundaries_are_exact() {
    // (tokens taken out of 100, expected level)
    let cases = [
        (0, Low),
        (24, Low),
        (25, Medium),
        (49, Medium),
        (50, High),
        (75, High),
        (76, Critical),
        (100, Critical),
    ];
    for (used, expected) in cases {
        let limiter = still(100);
        limiter.try_acquire(used).unwrap();
        assert_eq!(limiter.status().pressure_level, expected, "{used} % used");
    }
}

#[tokio::test(start_paused = true)]
async fn a_queued_waiter_counts_as_full_use() {
    let limiter = still(100);
    limiter.try_acquire(10).unwrap();
    let waiter = tokio::spawn({
        let limiter = limiter.clone();
        async move { limiter.acquire(95).await }
    });
    while limiter.status().queue_size == 0 {
        tokio::task::yield_now().await;
    }
    let status = limiter.status();
    assert!(status.tokens >= 90.0);
    assert_eq!(status.pressure_level, Critical);
    waiter.abort();
}

/// The walk the issue describes: capacity 5, refilled 5/s, drained by 20 quick acquires,
/// then left to refill.
#[tokio::test(start_paused = true)]
async fn status_walks_low_to_critical_and_back() {
    let limiter =
        RateLimiter::new(RateLimiterConfig::default().capacity(5).refill_rate(5).max_queue(20))
            .unwrap();
    let mut levels = vec![limiter.status().pressure_level];
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let clone = limiter.clone();
        tasks.push(tokio::spawn(async move { clone.acquire(1).await }));
        tokio::task::yield_now().await; // let it take its token or queue
        levels.push(limiter.status().pressure_level);
    }
    assert_eq!(limiter.status().queue_size, 15);
    while !tasks.iter().all(|task| task.is_finished()) {
        sleep(Duration::from_millis(50)).await;
        levels.push(limiter.status().pressure_level);
    }
    for _ in 0..25 {
        sleep(Duration::from_millis(50)).await;
        levels.push(limiter.status().pressure_level);
    }
    levels.dedup();
    assert_eq!(levels, [Low, Medium, High, Critical, High, Medium, Low]);
    for task in tasks {
        task.await.unwrap().unwrap();
    }
}

#[tokio::test(start_paused = true)]
async fn suggested_delay_is_zero_when_a_request_can_pass() {
    let limiter = still(10);
    limiter.try_acquire(3).unwrap();
    assert_eq!(limiter.status().suggested_delay_ms, 0);
}

#[tokio::test(start_paused = true)]
async fn suggested_delay_with_an_empty_queue_is_for_a_request_like_the_last() {
    let limiter =
        RateLimiter::new(RateLimiterConfig::default().capacity(10).refill_rate(10)).unwrap();
    limiter.try_acquire(8).unwrap();
    // 2 tokens left; another 8-token request needs 6 more: 600 ms.
    assert_eq!(limiter.status().suggested_delay_ms, 600);
    sleep(Duration::from_millis(250)).await;
    assert_eq!(limiter.status().suggested_delay_ms, 350);
}

#[tokio::test(start_paused = true)]
async fn suggested_delay_with_a_queue_is_for_its_head() {
    let limiter =
        RateLimiter::new(RateLimiterConfig::default().capacity(10).refill_rate(10)).unwrap();
    limiter.try_acquire(10).unwrap();
    let head = tokio::spawn({
        let limiter = limiter.clone();
        async move { limiter.acquire(4).await }
    });
    while limiter.status().queue_size == 0 {
        tokio::task::yield_now().await;
    }
    let behind = tokio::spawn({
        let limiter = limiter.clone();
        async move { limiter.acquire(9).await }
    });
    while limiter.status().queue_size < 2 {
        tokio::task::yield_now().await;
    }
    // The head needs 4 tokens at 10 per second.
    assert_eq!(limiter.status().suggested_delay_ms, 400);
    head.await.unwrap().unwrap();
    // Now the 9-token waiter is the head, with nothing in the bucket.
    assert_eq!(limiter.status().suggested_delay_ms, 900);
    behind.await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn deribit_buckets_report_separately() {
    let limiter = RateLimiter::deribit(DeribitTier::Tier4);
    for _ in 0..16 {
        limiter.try_acquire_for(r#"{"jsonrpc":"2.0","id":1,"method":"private/edit"}"#).unwrap();
    }
    let matching = limiter.status_of("matching_engine").unwrap();
    assert_eq!(matching.capacity, 20);
    assert_eq!(matching.tokens, 4.0);
    assert_eq!(matching.pressure_level, Critical);
    let main = limiter.status();
    assert_eq!(main.tokens, 50_000.0);
    assert_eq!(main.pressure_level, Low);
    assert!(limiter.status_of("nope").is_none());
}
