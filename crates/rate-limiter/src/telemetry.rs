//! Metrics through the `metrics` facade and pressure changes through `tracing`: handles are
//! registered once per bucket, so acquisitions only bump them.

use std::time::Duration;

use metrics::{Gauge, Histogram, Unit};

use crate::status::PressureLevel;

/// The metric names, in one place.
pub(crate) mod names {
    pub(crate) const PRESSURE: &str = "zen_websocket.rate_limiter.pressure";
    pub(crate) const QUEUE_SIZE: &str = "zen_websocket.rate_limiter.queue_size";
    pub(crate) const WAIT: &str = "zen_websocket.rate_limiter.wait";
}

/// The metric handles of one bucket, labelled `limiter` (the configured name) and `bucket`.
#[derive(Debug)]
pub(crate) struct Telemetry {
    limiter: String,
    bucket: &'static str,
    pressure: Gauge,
    queue_size: Gauge,
    wait: Histogram,
}

impl Telemetry {
    /// Registers (or finds) the bucket's handles with the installed recorder.
    pub(crate) fn new(limiter: &str, bucket: &'static str) -> Self {
        describe();
        let labels = [("limiter", limiter.to_owned()), ("bucket", bucket.to_owned())];
        let telemetry = Self {
            limiter: limiter.to_owned(),
            bucket,
            pressure: metrics::gauge!(names::PRESSURE, &labels),
            queue_size: metrics::gauge!(names::QUEUE_SIZE, &labels),
            wait: metrics::histogram!(names::WAIT, &labels),
        };
        telemetry.pressure.set(PressureLevel::Low.as_gauge());
        telemetry.queue_size.set(0.0);
        telemetry
    }

    /// Sets the queue-size gauge (called under the bucket's lock, so values arrive in order).
    pub(crate) fn queue_size(&self, len: usize) {
        self.queue_size.set(len as f64);
    }

    /// Sets the pressure gauge (under the lock, like [`queue_size`](Self::queue_size)).
    pub(crate) fn pressure(&self, level: PressureLevel) {
        self.pressure.set(level.as_gauge());
    }

    /// Logs a pressure change at INFO (outside the lock: subscribers may be slow).
    pub(crate) fn pressure_changed(&self, change: PressureChange) {
        tracing::info!(
            limiter = %self.limiter,
            bucket = self.bucket,
            from = %change.from,
            to = %change.to,
            tokens = change.tokens,
            queue_size = change.queue_size,
            "rate limiter pressure changed"
        );
    }

    /// Records how long an acquisition waited in the queue.
    pub(crate) fn waited(&self, took: Duration) {
        self.wait.record(took.as_secs_f64() * 1000.0);
    }
}

/// A pressure level change seen under the lock, reported after it is released.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PressureChange {
    pub(crate) from: PressureLevel,
    pub(crate) to: PressureLevel,
    pub(crate) tokens: f64,
    pub(crate) queue_size: usize,
}

/// Gives each metric its unit and description (once per recorder; cheap to repeat).
fn describe() {
    metrics::describe_gauge!(
        names::PRESSURE,
        "Pressure level of a rate-limiter bucket: 0 low, 1 medium, 2 high, 3 critical."
    );
    metrics::describe_gauge!(
        names::QUEUE_SIZE,
        Unit::Count,
        "Acquisitions waiting in a rate-limiter bucket's queue."
    );
    metrics::describe_histogram!(
        names::WAIT,
        Unit::Milliseconds,
        "Time an acquisition waited for tokens (only those that had to wait)."
    );
}
