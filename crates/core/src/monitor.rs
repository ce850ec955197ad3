//! Connection monitors: the state shared with every handle, and round-trip latency stats.

use std::{
    collections::VecDeque,
    sync::{
        Mutex, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use crate::{
    rpc::RequestId,
    state::{ConnectionState, StateCell},
};

/// A summary of recent round-trip times, in milliseconds, from
/// [`Client::get_latency_stats`](crate::Client::get_latency_stats).
///
/// Samples are the times between sending a request (or subscription) and receiving its
/// response, over the last [`Config::latency_buffer_size`](crate::Config::latency_buffer_size)
/// responses. With no samples yet every figure is `0.0` and `count` is 0.
///
/// # Examples
///
/// ```
/// use zen_websocket_core::LatencyStats;
///
/// let stats = LatencyStats::default();
/// assert_eq!((stats.count, stats.p99), (0, 0.0));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LatencyStats {
    /// Median round trip.
    pub p50: f64,
    /// 99th percentile round trip (nearest rank).
    pub p99: f64,
    /// The most recent round trip.
    pub last: f64,
    /// How many samples the figures summarise.
    pub count: usize,
}

/// A fixed-capacity window of the most recent latency samples.
#[derive(Debug)]
pub(crate) struct LatencyWindow {
    samples: VecDeque<f64>,
    capacity: usize,
}

impl LatencyWindow {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            samples: VecDeque::with_capacity(capacity),
            capacity,
        }
    }

    pub(crate) fn record(&mut self, rtt: Duration) {
        if self.samples.len() == self.capacity {
            self.samples.pop_front();
        }
        self.samples.push_back(rtt.as_secs_f64() * 1000.0);
    }

    pub(crate) fn stats(&self) -> LatencyStats {
        let Some(&last) = self.samples.back() else {
            return LatencyStats::default();
        };
        let mut sorted: Vec<f64> = self.samples.iter().copied().collect();
        sorted.sort_by(f64::total_cmp);
        LatencyStats {
            p50: percentile(&sorted, 50),
            p99: percentile(&sorted, 99),
            last,
            count: sorted.len(),
        }
    }
}

/// Nearest-rank percentile of a sorted, non-empty slice.
fn percentile(sorted: &[f64], pct: usize) -> f64 {
    let rank = (pct * sorted.len()).div_ceil(100).max(1);
    sorted[rank - 1]
}

/// What the connection task and every [`Client`](crate::Client) handle share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) state: StateCell,
    latency: Mutex<LatencyWindow>,
    next_id: AtomicU64,
}

impl Shared {
    pub(crate) fn new(latency_buffer_size: usize) -> Self {
        Self {
            state: StateCell::new(ConnectionState::Connected),
            latency: Mutex::new(LatencyWindow::new(latency_buffer_size)),
            next_id: AtomicU64::new(1),
        }
    }

    /// A fresh numeric request id.
    pub(crate) fn next_request_id(&self) -> RequestId {
        RequestId::Number(self.next_id.fetch_add(1, Ordering::Relaxed))
    }

    pub(crate) fn record_latency(&self, rtt: Duration) {
        self.latency
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .record(rtt);
    }

    pub(crate) fn latency_stats(&self) -> LatencyStats {
        self.latency
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .stats()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_keeps_only_the_latest_samples() {
        let mut window = LatencyWindow::new(3);
        for ms in [100, 1, 2, 3] {
            window.record(Duration::from_millis(ms));
        }
        let stats = window.stats();
        assert_eq!(stats.count, 3);
        assert_eq!((stats.p50, stats.p99, stats.last), (2.0, 3.0, 3.0));
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let mut window = LatencyWindow::new(100);
        for ms in 1..=100 {
            window.record(Duration::from_millis(ms));
        }
        let stats = window.stats();
        assert_eq!((stats.p50, stats.p99), (50.0, 99.0));
    }
}
