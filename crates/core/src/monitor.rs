//! Connection monitors: the state shared with every handle, latency, heartbeat health and
//! counters.

use std::{
    collections::VecDeque,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, SystemTime},
};

use tokio::sync::Semaphore;

use crate::{
    config::Config,
    heartbeat::HeartbeatHealth,
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

/// Counters and gauges of one client, surviving reconnects, from
/// [`Client::get_state_metrics`](crate::Client::get_state_metrics).
///
/// # Examples
///
/// ```
/// use zen_websocket_core::StateMetrics;
///
/// let metrics = StateMetrics::default();
/// assert_eq!((metrics.messages_in, metrics.reconnects), (0, 0));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StateMetrics {
    /// Requests (and subscribe/unsubscribe calls) waiting for their response.
    pub pending_requests: usize,
    /// Confirmed, active subscriptions.
    pub subscriptions: usize,
    /// An estimate of the heap memory the connection holds: its buffers, pending requests,
    /// subscriptions and unread inbox messages.
    pub memory_bytes: usize,
    /// Data messages waiting in the inbox for [`Client::recv`](crate::Client::recv).
    pub inbox_len: usize,
    /// Successful reconnections since `connect`.
    pub reconnects: u64,
    /// Data messages received (responses and heartbeats included).
    pub messages_in: u64,
    /// Data messages sent (requests and heartbeats included).
    pub messages_out: u64,
    /// Payload bytes received.
    pub bytes_in: u64,
    /// Payload bytes sent.
    pub bytes_out: u64,
}

/// Rough heap cost of one pending request (map entry, timer slot, reply channel).
const PENDING_ENTRY_BYTES: usize = 256;

/// What the connection task and every [`Client`](crate::Client) handle share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) state: StateCell,
    latency: Mutex<LatencyWindow>,
    heartbeat: Mutex<HeartbeatHealth>,
    subprotocol: Mutex<Option<String>>,
    next_id: AtomicU64,
    /// Free inbox slots for data messages; `None` with a message handler.
    pub(crate) inbox_room: Option<Arc<Semaphore>>,
    inbox_capacity: usize,
    buffers: usize,
    pub(crate) reconnects: AtomicU64,
    pub(crate) messages_in: AtomicU64,
    pub(crate) messages_out: AtomicU64,
    pub(crate) bytes_in: AtomicU64,
    pub(crate) bytes_out: AtomicU64,
    pub(crate) pending: AtomicUsize,
    pub(crate) subscriptions: AtomicUsize,
    pub(crate) subscription_bytes: AtomicUsize,
    pub(crate) inbox_bytes: AtomicUsize,
}

impl Shared {
    pub(crate) fn new(config: &Config) -> Self {
        let inbox_room = config
            .message_handler
            .is_none()
            .then(|| Arc::new(Semaphore::new(config.inbox_capacity)));
        Self {
            state: StateCell::new(ConnectionState::Connected),
            latency: Mutex::new(LatencyWindow::new(config.latency_buffer_size)),
            heartbeat: Mutex::new(HeartbeatHealth::default()),
            subprotocol: Mutex::new(None),
            next_id: AtomicU64::new(1),
            inbox_room,
            inbox_capacity: config.inbox_capacity,
            buffers: config.read_buffer_size + config.write_buffer_size,
            reconnects: AtomicU64::new(0),
            messages_in: AtomicU64::new(0),
            messages_out: AtomicU64::new(0),
            bytes_in: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
            pending: AtomicUsize::new(0),
            subscriptions: AtomicUsize::new(0),
            subscription_bytes: AtomicUsize::new(0),
            inbox_bytes: AtomicUsize::new(0),
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

    /// Records a heartbeat success, with its round trip when one was measured.
    pub(crate) fn heartbeat_succeeded(&self, rtt: Option<Duration>) {
        let mut health = self
            .heartbeat
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        health.failures = 0;
        health.last_at = Some(SystemTime::now());
        if rtt.is_some() {
            health.last_rtt = rtt;
        }
    }

    /// Records the current run of consecutive heartbeat failures.
    pub(crate) fn heartbeat_failed(&self, failures: u32) {
        self.heartbeat
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .failures = failures;
    }

    pub(crate) fn heartbeat_health(&self) -> HeartbeatHealth {
        *self
            .heartbeat
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn set_subprotocol(&self, chosen: Option<String>) {
        *self
            .subprotocol
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = chosen;
    }

    pub(crate) fn subprotocol(&self) -> Option<String> {
        self.subprotocol
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Counts one data message in (`true`) or out.
    pub(crate) fn count_message(&self, inbound: bool, bytes: usize) {
        let (messages, total) = if inbound {
            (&self.messages_in, &self.bytes_in)
        } else {
            (&self.messages_out, &self.bytes_out)
        };
        messages.fetch_add(1, Ordering::Relaxed);
        total.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    pub(crate) fn inbox_len(&self) -> usize {
        self.inbox_room.as_ref().map_or(0, |room| {
            self.inbox_capacity.saturating_sub(room.available_permits())
        })
    }

    pub(crate) fn state_metrics(&self) -> StateMetrics {
        let load = |gauge: &AtomicUsize| gauge.load(Ordering::Relaxed);
        let pending_requests = load(&self.pending);
        let memory_bytes = size_of::<Self>()
            + self.buffers
            + pending_requests * PENDING_ENTRY_BYTES
            + load(&self.subscription_bytes)
            + load(&self.inbox_bytes);
        StateMetrics {
            pending_requests,
            subscriptions: load(&self.subscriptions),
            memory_bytes,
            inbox_len: self.inbox_len(),
            reconnects: self.reconnects.load(Ordering::Relaxed),
            messages_in: self.messages_in.load(Ordering::Relaxed),
            messages_out: self.messages_out.load(Ordering::Relaxed),
            bytes_in: self.bytes_in.load(Ordering::Relaxed),
            bytes_out: self.bytes_out.load(Ordering::Relaxed),
        }
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
