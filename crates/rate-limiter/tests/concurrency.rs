//! Many concurrent acquirers: the bucket never over-grants, FIFO holds, cancellation loses
//! nothing. Property tests on a paused clock (exact), plus real-time multi-thread runs.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use proptest::prelude::*;
use tokio::time::{Instant, sleep, timeout};
use zen_websocket_rate_limiter::{RateLimiter, RateLimiterConfig};

/// One acquisition's plan: start after `delay_ms`, ask for `cost`, maybe give up.
#[derive(Debug, Clone)]
struct Plan {
    delay_ms: u64,
    cost: u32,
    patience_ms: Option<u64>,
}

/// What happened to one granted acquisition.
#[derive(Debug, Clone, Copy)]
struct Grant {
    arrived: usize,
    at: Instant,
    cost: u32,
}

fn limiter(capacity: u32, per_second: u32, max_queue: usize) -> RateLimiter {
    RateLimiter::new(
        RateLimiterConfig::default()
            .capacity(capacity)
            .refill_rate(per_second)
            .refill_interval(Duration::from_secs(1))
            .max_queue(max_queue),
    )
    .expect("valid config")
}

/// Runs every plan concurrently; returns the grants and when the run started.
async fn run(limiter: &RateLimiter, plans: Vec<Plan>) -> (Vec<Grant>, Instant) {
    let start = Instant::now();
    let arrivals = Arc::new(AtomicUsize::new(0));
    let grants = Arc::new(Mutex::new(Vec::new()));
    let tasks: Vec<_> = plans
        .into_iter()
        .map(|plan| {
            let (limiter, arrivals, grants) =
                (limiter.clone(), Arc::clone(&arrivals), Arc::clone(&grants));
            tokio::spawn(async move {
                sleep(Duration::from_millis(plan.delay_ms)).await;
                // No await between taking the number and joining the queue: the first poll
                // of `acquire` queues synchronously, so `arrived` is the queue order.
                let arrived = arrivals.fetch_add(1, Ordering::SeqCst);
                let acquire = limiter.acquire(plan.cost);
                let granted = match plan.patience_ms {
                    Some(ms) => timeout(Duration::from_millis(ms), acquire).await.ok(),
                    None => Some(acquire.await),
                };
                if let Some(result) = granted {
                    result.expect("no errors: the queue is large enough");
                    let at = Instant::now();
                    grants.lock().unwrap().push(Grant { arrived, at, cost: plan.cost });
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("no task panics");
    }
    let grants = grants.lock().unwrap().clone();
    (grants, start)
}

/// Over every window between two grants, no more than capacity + the window's refill.
fn check_windows(grants: &[Grant], capacity: u32, per_second: u32, slack: Duration) {
    let mut sorted = grants.to_vec();
    sorted.sort_by_key(|grant| grant.at);
    for (i, first) in sorted.iter().enumerate() {
        let mut sum = 0u64;
        for last in &sorted[i..] {
            sum += u64::from(last.cost);
            let window = last.at.duration_since(first.at) + slack;
            let allowance = f64::from(capacity) + window.as_secs_f64() * f64::from(per_second);
            assert!(
                sum as f64 <= allowance + 1e-9,
                "{sum} tokens granted within {window:?}; allowance {allowance}"
            );
        }
    }
}

/// Replays the grants through an exact bucket: none may overdraw it, and the level it ends at
/// must be what the limiter reports (so cancelled waiters took nothing).
fn replay(grants: &[Grant], start: Instant, end: Instant, capacity: u32, per_second: u32) -> f64 {
    let per_token = 1_000_000_000u128; // refill interval 1 s, in ns
    let max = u128::from(capacity) * per_token;
    let (mut level, mut last) = (max, start);
    let mut sorted = grants.to_vec();
    sorted.sort_by_key(|grant| grant.at);
    let mut refill = |level: &mut u128, now: Instant| {
        let gained = now.duration_since(last).as_nanos() * u128::from(per_second);
        *level = (*level + gained).min(max);
        last = now;
    };
    for grant in &sorted {
        refill(&mut level, grant.at);
        let cost = u128::from(grant.cost) * per_token;
        assert!(level >= cost, "overdrawn at {:?}", grant.at.duration_since(start));
        level -= cost;
    }
    refill(&mut level, end);
    level as f64 / per_token as f64
}

/// On one thread, grants are recorded in the order they happen: paid grants (cost 0 passes
/// without queueing) must follow the arrival order.
fn check_fifo(grants: &[Grant]) {
    let paid: Vec<_> = grants.iter().filter(|grant| grant.cost > 0).collect();
    for pair in paid.windows(2) {
        assert!(pair[0].arrived < pair[1].arrived, "granted out of order: {pair:?}");
    }
}

fn plans(capacity: u32) -> impl Strategy<Value = Vec<Plan>> {
    let plan = (0u64..600, 0..=capacity, proptest::option::weighted(0.2, 1u64..400))
        .prop_map(|(delay_ms, cost, patience_ms)| Plan { delay_ms, cost, patience_ms });
    proptest::collection::vec(plan, 1..50)
}

fn paused_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a runtime")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Random costs, arrival times and cancellations on a paused clock: every window stays
    /// within capacity + refill, FIFO holds, and the final level is exactly what the grants
    /// alone explain.
    #[test]
    fn never_over_grants_and_serves_in_order(
        (capacity, per_second, plans) in (1u32..30, 1u32..60)
            .prop_flat_map(|(capacity, rate)| (Just(capacity), Just(rate), plans(capacity))),
    ) {
        paused_runtime().block_on(async {
            let limiter = limiter(capacity, per_second, 64);
            let (grants, start) = run(&limiter, plans).await;
            let end = Instant::now();
            check_windows(&grants, capacity, per_second, Duration::ZERO);
            check_fifo(&grants);
            let expected = replay(&grants, start, end, capacity, per_second);
            let status = limiter.status();
            assert!((status.tokens - expected).abs() < 1e-6, "{} vs {expected}", status.tokens);
            assert_eq!(status.queue_size, 0);
        });
    }
}

/// A xorshift generator: reproducible costs without another dependency.
fn costs(count: usize, max: u32, mut seed: u64) -> Vec<u32> {
    (0..count)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            1 + (seed % u64::from(max)) as u32
        })
        .collect()
}

/// 50 tasks on a multi-thread runtime in real time: status never leaves `0..=capacity`, and
/// grants stay within capacity + refill (with slack for the time between a grant and its
/// timestamp on a busy machine).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_tasks_on_many_threads_stay_within_the_limit() {
    let (capacity, per_second) = (10, 200);
    let limiter = limiter(capacity, per_second, 64);
    let watching = Arc::new(AtomicUsize::new(1));
    let watcher = tokio::spawn({
        let (limiter, watching) = (limiter.clone(), Arc::clone(&watching));
        async move {
            let mut samples = 0;
            while watching.load(Ordering::SeqCst) == 1 {
                let status = limiter.status();
                assert!(status.tokens >= 0.0 && status.tokens <= f64::from(capacity));
                assert!(status.queue_size <= 50);
                samples += 1;
                sleep(Duration::from_millis(1)).await;
            }
            samples
        }
    });
    let plans = costs(50, 5, 0x5eed)
        .into_iter()
        .map(|cost| Plan { delay_ms: 0, cost, patience_ms: None })
        .collect();
    let (grants, start) = run(&limiter, plans).await;
    watching.store(0, Ordering::SeqCst);
    assert!(watcher.await.unwrap() > 0);
    assert_eq!(grants.len(), 50);
    check_windows(&grants, capacity, per_second, Duration::from_millis(50));
    let total: u32 = grants.iter().map(|grant| grant.cost).sum();
    let floor = Duration::from_secs_f64(f64::from(total - capacity) / f64::from(per_second));
    assert!(start.elapsed() >= floor, "{:?} < {floor:?}", start.elapsed());
}

/// Cancelled waiters on a multi-thread runtime: the patient ones are all served, promptly.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cancellations_on_many_threads_block_nobody() {
    let limiter = limiter(5, 100, 64);
    let plans = costs(40, 5, 42)
        .into_iter()
        .enumerate()
        .map(|(index, cost)| Plan {
            delay_ms: 0,
            cost,
            patience_ms: (index % 3 == 0).then_some(20),
        })
        .collect();
    let (grants, _) = timeout(Duration::from_secs(10), run(&limiter, plans))
        .await
        .expect("nobody is stuck behind a cancelled waiter");
    let patient = (0..40).filter(|index| index % 3 != 0).count();
    assert!(grants.len() >= patient, "{} < {patient}", grants.len());
    assert_eq!(limiter.status().queue_size, 0);
}
