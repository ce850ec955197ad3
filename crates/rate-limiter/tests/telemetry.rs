//! Every documented metric, seen by `metrics-util`'s debugging recorder.
//!
//! This binary installs the global recorder, so it holds one test only.

use std::time::Duration;

use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use tokio::time::sleep;
use zen_websocket_rate_limiter::{DeribitTier, RateLimiter, RateLimiterConfig};

const PRESSURE: &str = "zen_websocket.rate_limiter.pressure";
const QUEUE_SIZE: &str = "zen_websocket.rate_limiter.queue_size";
const WAIT: &str = "zen_websocket.rate_limiter.wait";

/// The value of metric `name` labelled `limiter` and `bucket`, if recorded.
fn value(snapshotter: &Snapshotter, name: &str, limiter: &str, bucket: &str) -> Option<DebugValue> {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .find(|(key, ..)| {
            let key = key.key();
            let label = |wanted: &str| {
                key.labels().find(|l| l.key() == wanted).map(|l| l.value().to_owned())
            };
            key.name() == name
                && label("limiter").as_deref() == Some(limiter)
                && label("bucket").as_deref() == Some(bucket)
        })
        .map(|(.., value)| value)
}

fn gauge(snapshotter: &Snapshotter, name: &str, limiter: &str, bucket: &str) -> f64 {
    match value(snapshotter, name, limiter, bucket) {
        Some(DebugValue::Gauge(value)) => value.into_inner(),
        other => panic!("{name} for {limiter}/{bucket}: {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn every_documented_metric_is_recorded() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    recorder.install().expect("the only recorder in this binary");

    let limiter =
        RateLimiter::new(RateLimiterConfig::default().name("orders").capacity(4).refill_rate(4))
            .unwrap();
    // Registered at build time, at rest.
    assert_eq!(gauge(&snapshotter, PRESSURE, "orders", "main"), 0.0);
    assert_eq!(gauge(&snapshotter, QUEUE_SIZE, "orders", "main"), 0.0);

    limiter.try_acquire(2).unwrap();
    assert_eq!(gauge(&snapshotter, PRESSURE, "orders", "main"), 2.0); // 50 %: High
    limiter.try_acquire(2).unwrap();
    assert_eq!(gauge(&snapshotter, PRESSURE, "orders", "main"), 3.0);

    let waiters: Vec<_> = (0..2)
        .map(|_| {
            let limiter = limiter.clone();
            tokio::spawn(async move { limiter.acquire(1).await })
        })
        .collect();
    while limiter.status().queue_size < 2 {
        tokio::task::yield_now().await;
    }
    assert_eq!(gauge(&snapshotter, QUEUE_SIZE, "orders", "main"), 2.0);
    for waiter in waiters {
        waiter.await.unwrap().unwrap();
    }
    // (Histogram values are drained by each snapshot: read the waits first.)
    match value(&snapshotter, WAIT, "orders", "main") {
        Some(DebugValue::Histogram(waits)) => {
            let waits: Vec<f64> = waits.iter().map(|ms| ms.into_inner()).collect();
            assert_eq!(waits, [250.0, 500.0]);
        }
        other => panic!("{WAIT}: {other:?}"),
    }
    assert_eq!(gauge(&snapshotter, QUEUE_SIZE, "orders", "main"), 0.0);

    // Left to refill, the level falls back when next looked at.
    sleep(Duration::from_secs(1)).await;
    let _ = limiter.status();
    assert_eq!(gauge(&snapshotter, PRESSURE, "orders", "main"), 0.0);

    // A Deribit limiter labels both buckets.
    let deribit = RateLimiter::deribit(DeribitTier::Tier4);
    for _ in 0..16 {
        deribit.try_acquire_for(r#"{"method":"private/buy"}"#).unwrap();
    }
    assert_eq!(gauge(&snapshotter, PRESSURE, "deribit", "matching_engine"), 3.0);
    assert_eq!(gauge(&snapshotter, PRESSURE, "deribit", "main"), 0.0);
}
