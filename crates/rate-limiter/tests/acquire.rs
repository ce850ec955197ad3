//! Acquire, try_acquire, queueing and cancellation on a paused clock: fast and exact.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::time::{Instant, sleep, timeout};
use zen_websocket_rate_limiter::{Error, RateLimiter, RateLimiterConfig};

/// `capacity` tokens, refilled at `per_second`, up to 100 waiters.
fn limiter(capacity: u32, per_second: u32) -> RateLimiter {
    RateLimiter::new(
        RateLimiterConfig::default()
            .capacity(capacity)
            .refill_rate(per_second)
            .refill_interval(Duration::from_secs(1)),
    )
    .expect("valid config")
}

/// Lets spawned tasks run until the queue holds `len` waiters.
async fn until_queued(limiter: &RateLimiter, len: usize) {
    for _ in 0..1000 {
        if limiter.status().queue_size == len {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("queue never reached {len}: {:?}", limiter.status());
}

#[tokio::test(start_paused = true)]
async fn a_full_bucket_grants_at_once() {
    let limiter = limiter(5, 5);
    let start = Instant::now();
    for _ in 0..5 {
        limiter.acquire(1).await.unwrap();
    }
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(limiter.status().tokens, 0.0);
}

#[tokio::test(start_paused = true)]
async fn an_empty_bucket_waits_exactly_for_the_refill() {
    let limiter = limiter(10, 4);
    limiter.acquire(10).await.unwrap();
    let start = Instant::now();
    limiter.acquire(2).await.unwrap();
    // 2 tokens at 4 per second: 500 ms (the timer rounds up to the next millisecond).
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(500) && waited <= Duration::from_millis(501),
        "{waited:?}"
    );
    assert!(limiter.status().tokens < 0.01);
}

#[tokio::test(start_paused = true)]
async fn try_acquire_fails_fast_when_empty() {
    let limiter = limiter(3, 1);
    limiter.try_acquire(3).unwrap();
    let start = Instant::now();
    let err = limiter.try_acquire(2).unwrap_err();
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(err, Error::RateLimited { retry_after: Duration::from_secs(2) });
    sleep(Duration::from_secs(2)).await;
    limiter.try_acquire(2).unwrap();
}

#[tokio::test(start_paused = true)]
async fn try_acquire_never_passes_queued_waiters() {
    let limiter = limiter(4, 1);
    limiter.try_acquire(4).unwrap();
    let waiter = tokio::spawn({
        let limiter = limiter.clone();
        async move { limiter.acquire(3).await }
    });
    until_queued(&limiter, 1).await;
    // One token has arrived; enough for a cost of 1, but the waiter came first.
    sleep(Duration::from_secs(1)).await;
    let err = limiter.try_acquire(1).unwrap_err();
    // The queued 3 tokens and this 1: 4 tokens, 1 there, 3 more seconds.
    assert_eq!(err, Error::RateLimited { retry_after: Duration::from_secs(3) });
    waiter.await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_full_queue_is_refused_at_once() {
    let limiter =
        RateLimiter::new(RateLimiterConfig::default().capacity(1).refill_rate(1).max_queue(2))
            .unwrap();
    limiter.acquire(1).await.unwrap();
    let waiters: Vec<_> = (0..2)
        .map(|_| {
            let limiter = limiter.clone();
            tokio::spawn(async move { limiter.acquire(1).await })
        })
        .collect();
    until_queued(&limiter, 2).await;
    let start = Instant::now();
    assert_eq!(limiter.acquire(1).await, Err(Error::QueueFull));
    assert_eq!(limiter.acquire_for("x").await, Err(Error::QueueFull));
    assert_eq!(start.elapsed(), Duration::ZERO);
    for waiter in waiters {
        waiter.await.unwrap().unwrap();
    }
}

#[tokio::test(start_paused = true)]
async fn max_queue_zero_never_waits() {
    let limiter =
        RateLimiter::new(RateLimiterConfig::default().capacity(1).refill_rate(1).max_queue(0))
            .unwrap();
    limiter.acquire(1).await.unwrap();
    assert_eq!(limiter.acquire(1).await, Err(Error::QueueFull));
}

#[tokio::test(start_paused = true)]
async fn a_cost_above_capacity_is_an_error_not_a_hang() {
    let limiter = limiter(10, 1);
    let err = Error::CostExceedsCapacity { cost: 11, capacity: 10 };
    assert_eq!(limiter.acquire(11).await, Err(err.clone()));
    assert_eq!(limiter.try_acquire(11), Err(err));
    assert_eq!(limiter.status().tokens, 10.0);
}

#[tokio::test(start_paused = true)]
async fn cost_zero_passes_at_once_even_behind_a_queue() {
    let limiter = limiter(2, 1);
    limiter.acquire(2).await.unwrap();
    let waiter = tokio::spawn({
        let limiter = limiter.clone();
        async move { limiter.acquire(2).await }
    });
    until_queued(&limiter, 1).await;
    let start = Instant::now();
    limiter.acquire(0).await.unwrap();
    limiter.try_acquire(0).unwrap();
    assert_eq!(start.elapsed(), Duration::ZERO);
    waiter.await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn waiters_are_served_in_the_order_they_queued() {
    let limiter = limiter(10, 10);
    limiter.acquire(10).await.unwrap();
    let order = Arc::new(Mutex::new(Vec::new()));
    let costs = [7, 1, 10, 2, 3, 1, 9, 4];
    let mut tasks = Vec::new();
    for (index, cost) in costs.into_iter().enumerate() {
        let clone = limiter.clone();
        let order = Arc::clone(&order);
        tasks.push(tokio::spawn(async move {
            clone.acquire(cost).await.unwrap();
            order.lock().unwrap().push(index);
        }));
        until_queued(&limiter, index + 1).await;
    }
    for task in tasks {
        task.await.unwrap();
    }
    let order = order.lock().unwrap().clone();
    assert_eq!(order, (0..costs.len()).collect::<Vec<_>>());
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_head_spends_nothing_and_lets_the_next_move_up() {
    let limiter = limiter(5, 5);
    limiter.acquire(5).await.unwrap();
    // The head asks for all 5 tokens (1 s away) but gives up after 100 ms.
    let head = tokio::spawn({
        let limiter = limiter.clone();
        async move { timeout(Duration::from_millis(100), limiter.acquire(5)).await }
    });
    until_queued(&limiter, 1).await;
    let next = tokio::spawn({
        let limiter = limiter.clone();
        async move {
            limiter.acquire(1).await.unwrap();
            Instant::now()
        }
    });
    until_queued(&limiter, 2).await;
    let start = Instant::now();
    assert!(head.await.unwrap().is_err(), "the head timed out");
    let granted = next.await.unwrap();
    // The next waiter needed 1 token (200 ms): it did not wait for the head's 5.
    assert_eq!(granted.duration_since(start), Duration::from_millis(200));
    let status = limiter.status();
    assert_eq!(status.queue_size, 0);
    assert!(status.tokens.abs() < 1e-9, "{status:?}");
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_middle_waiter_leaves_no_hole() {
    let limiter = limiter(3, 3);
    limiter.acquire(3).await.unwrap();
    let order = Arc::new(Mutex::new(Vec::new()));
    let spawn = |index: usize, patience: Option<Duration>| {
        let limiter = limiter.clone();
        let order = Arc::clone(&order);
        tokio::spawn(async move {
            let acquire = limiter.acquire(3);
            let granted = match patience {
                Some(patience) => timeout(patience, acquire).await.is_ok(),
                None => acquire.await.is_ok(),
            };
            if granted {
                order.lock().unwrap().push(index);
            }
        })
    };
    let first = spawn(0, None);
    until_queued(&limiter, 1).await;
    let middle = spawn(1, Some(Duration::from_millis(500)));
    until_queued(&limiter, 2).await;
    let last = spawn(2, None);
    until_queued(&limiter, 3).await;
    let start = Instant::now();
    for task in [first, middle, last] {
        task.await.unwrap();
    }
    assert_eq!(*order.lock().unwrap(), [0, 2]);
    // Two grants of 3 tokens at 3 per second: 2 s, no time lost to the cancelled waiter.
    assert_eq!(start.elapsed(), Duration::from_secs(2));
}

#[tokio::test(start_paused = true)]
async fn a_limiter_shared_by_clones_is_one_bucket() {
    let limiter = limiter(4, 1);
    let clone = limiter.clone();
    limiter.try_acquire(2).unwrap();
    clone.try_acquire(2).unwrap();
    assert!(limiter.try_acquire(1).is_err());
    assert_eq!(clone.status().tokens, 0.0);
}
