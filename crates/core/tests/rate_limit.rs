//! A rate-limited client against a real server: the server never sees more than the rate.

mod support;

use std::time::{Duration, Instant};

use support::{connect_with, within};
use zen_websocket_core::{
    Error,
    rate_limiter::{self, PressureLevel, RateLimiter, RateLimiterConfig},
};
use zen_websocket_testing::MockServer;

fn five_per_second(max_queue: usize) -> RateLimiter {
    let config = RateLimiterConfig::new()
        .name("test")
        .capacity(5)
        .refill_rate(5)
        .refill_interval(Duration::from_secs(1))
        .max_queue(max_queue);
    RateLimiter::new(config).unwrap()
}

#[tokio::test]
async fn twenty_quick_sends_keep_to_five_per_second() {
    let server = MockServer::start().await.unwrap();
    let limiter = five_per_second(100);
    let client = connect_with(&server, |config| config.rate_limiter(limiter.clone())).await;
    assert_eq!(limiter.status().pressure_level, PressureLevel::Low);

    let started = Instant::now();
    for n in 0..20 {
        tokio::time::timeout(Duration::from_secs(10), client.send_message(format!("m{n}")))
            .await
            .unwrap()
            .unwrap();
    }
    let took = started.elapsed();
    // 5 at once, then 15 at 5 per second: three seconds at least.
    assert!(took >= Duration::from_millis(2_900), "{took:?}");
    assert_eq!(limiter.status().pressure_level, PressureLevel::Critical);

    within(server.assert_message_sent("m19", support::WAIT)).await.unwrap();
    let arrivals: Vec<Instant> = server.received().iter().map(|message| message.at).collect();
    assert_eq!(arrivals.len(), 20);
    // Message k (0-based) cannot arrive before the bucket had room for it: 5 at once, then one
    // every 200 ms.
    for (k, at) in arrivals.iter().enumerate().skip(5) {
        let earliest = arrivals[0] + Duration::from_millis(200 * (k as u64 - 4));
        assert!(
            *at + Duration::from_millis(30) >= earliest,
            "message {k} came {:?} early",
            earliest - *at
        );
    }

    // Left alone for a second, the bucket refills.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(limiter.status().pressure_level, PressureLevel::Low);
}

#[tokio::test]
async fn an_empty_bucket_refuses_without_waiting_and_a_full_queue_says_so() {
    let server = MockServer::start().await.unwrap();
    let limiter = five_per_second(1);
    let client = connect_with(&server, |config| config.rate_limiter(limiter.clone())).await;
    for n in 0..5 {
        within(client.send_message(format!("m{n}"))).await.unwrap();
    }
    // try_acquire is not async: it answers at once, here with a refusal.
    assert!(matches!(limiter.try_acquire(1), Err(rate_limiter::Error::RateLimited { .. })));

    // One caller may queue; the next finds the queue full at once.
    let queued = tokio::spawn({
        let client = client.clone();
        async move { client.send_message("queued").await }
    });
    support::eventually("a queued caller", || limiter.status().queue_size == 1).await;
    let err = within(client.send_message("one too many")).await.unwrap_err();
    assert!(matches!(err, Error::RateLimited(rate_limiter::Error::QueueFull)), "{err:?}");
    assert!(err.is_recoverable());
    within(queued).await.unwrap().unwrap();
}
