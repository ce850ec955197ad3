//! Connection monitors: the state shared with every handle, latency, heartbeat health and
//! counters.

use std::{
    collections::VecDeque,
    sync::{
        Mutex, PoisonError,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, SystemTime},
};

use tokio::sync::Notify;

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
        // Grows with the first samples: an idle connection holds no buffer.
        Self { samples: VecDeque::new(), capacity }
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

/// How many data messages wait for [`Client::recv`](crate::Client::recv), bounded by the inbox
/// capacity: the connection task takes a slot per message, `recv` gives it back.
#[derive(Debug)]
pub(crate) struct InboxGauge {
    len: AtomicUsize,
    capacity: usize,
    room: Notify,
}

impl InboxGauge {
    fn new(capacity: usize) -> Self {
        Self { len: AtomicUsize::new(0), capacity, room: Notify::new() }
    }

    /// Takes a slot when one is free. Only the connection task takes slots.
    pub(crate) fn try_take(&self) -> bool {
        if self.len.load(Ordering::Acquire) >= self.capacity {
            return false;
        }
        self.len.fetch_add(1, Ordering::AcqRel);
        true
    }

    /// Waits until a slot is free and takes it. Cancel safe.
    pub(crate) async fn take(&self) {
        loop {
            let notified = self.room.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            if self.try_take() {
                return;
            }
            notified.await;
        }
    }

    /// Gives a slot back, waking the connection task if it waits for one.
    pub(crate) fn release(&self) {
        if self.len.fetch_sub(1, Ordering::AcqRel) >= self.capacity {
            self.room.notify_one();
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::Acquire)
    }
}

/// Message and byte counts, kept by the connection task and published after each batch.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Totals {
    pub(crate) messages_in: u64,
    pub(crate) messages_out: u64,
    pub(crate) bytes_in: u64,
    pub(crate) bytes_out: u64,
}

impl Totals {
    /// Counts one data message in (`true`) or out.
    pub(crate) fn count(&mut self, inbound: bool, bytes: usize) {
        if inbound {
            self.messages_in += 1;
            self.bytes_in += bytes as u64;
        } else {
            self.messages_out += 1;
            self.bytes_out += bytes as u64;
        }
    }
}

/// What the connection task and every [`Client`](crate::Client) handle share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) state: StateCell,
    latency: Mutex<LatencyWindow>,
    heartbeat: Mutex<HeartbeatHealth>,
    subprotocol: Mutex<Option<String>>,
    next_id: AtomicU64,
    /// The inbox bound; `None` with a message handler.
    pub(crate) inbox: Option<InboxGauge>,
    buffers: usize,
    pub(crate) reconnects: AtomicU64,
    messages_in: AtomicU64,
    messages_out: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    pub(crate) pending: AtomicUsize,
    pub(crate) subscriptions: AtomicUsize,
    pub(crate) subscription_bytes: AtomicUsize,
}

impl Shared {
    pub(crate) fn new(config: &Config) -> Self {
        let inbox =
            config.message_handler.is_none().then(|| InboxGauge::new(config.inbox_capacity));
        Self {
            state: StateCell::new(ConnectionState::Connected),
            latency: Mutex::new(LatencyWindow::new(config.latency_buffer_size)),
            heartbeat: Mutex::new(HeartbeatHealth::default()),
            subprotocol: Mutex::new(None),
            next_id: AtomicU64::new(1),
            inbox,
            buffers: config.read_buffer_size + config.write_buffer_size,
            reconnects: AtomicU64::new(0),
            messages_in: AtomicU64::new(0),
            messages_out: AtomicU64::new(0),
            bytes_in: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
            pending: AtomicUsize::new(0),
            subscriptions: AtomicUsize::new(0),
            subscription_bytes: AtomicUsize::new(0),
        }
    }

    /// A fresh numeric request id.
    pub(crate) fn next_request_id(&self) -> RequestId {
        RequestId::Number(self.next_id.fetch_add(1, Ordering::Relaxed))
    }

    pub(crate) fn record_latency(&self, rtt: Duration) {
        self.latency.lock().unwrap_or_else(PoisonError::into_inner).record(rtt);
    }

    pub(crate) fn latency_stats(&self) -> LatencyStats {
        self.latency.lock().unwrap_or_else(PoisonError::into_inner).stats()
    }

    /// Records a heartbeat success, with its round trip when one was measured.
    pub(crate) fn heartbeat_succeeded(&self, rtt: Option<Duration>) {
        let mut health = self.heartbeat.lock().unwrap_or_else(PoisonError::into_inner);
        health.failures = 0;
        health.last_at = Some(SystemTime::now());
        if rtt.is_some() {
            health.last_rtt = rtt;
        }
    }

    /// Records the current run of consecutive heartbeat failures.
    pub(crate) fn heartbeat_failed(&self, failures: u32) {
        self.heartbeat.lock().unwrap_or_else(PoisonError::into_inner).failures = failures;
    }

    pub(crate) fn heartbeat_health(&self) -> HeartbeatHealth {
        *self.heartbeat.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn set_subprotocol(&self, chosen: Option<String>) {
        *self.subprotocol.lock().unwrap_or_else(PoisonError::into_inner) = chosen;
    }

    pub(crate) fn subprotocol(&self) -> Option<String> {
        self.subprotocol.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Publishes the task's message and byte counts.
    pub(crate) fn publish_totals(&self, totals: &Totals) {
        self.messages_in.store(totals.messages_in, Ordering::Relaxed);
        self.messages_out.store(totals.messages_out, Ordering::Relaxed);
        self.bytes_in.store(totals.bytes_in, Ordering::Relaxed);
        self.bytes_out.store(totals.bytes_out, Ordering::Relaxed);
    }

    pub(crate) fn inbox_len(&self) -> usize {
        self.inbox.as_ref().map_or(0, InboxGauge::len)
    }

    pub(crate) fn state_metrics(&self) -> StateMetrics {
        let load = |gauge: &AtomicUsize| gauge.load(Ordering::Relaxed);
        let pending_requests = load(&self.pending);
        let messages_in = self.messages_in.load(Ordering::Relaxed);
        let bytes_in = self.bytes_in.load(Ordering::Relaxed);
        let inbox_len = self.inbox_len();
        // Unread messages are estimated at the average inbound size.
        let average_in = bytes_in.checked_div(messages_in).unwrap_or(0) as usize;
        let memory_bytes = size_of::<Self>()
            + self.buffers
            + pending_requests * PENDING_ENTRY_BYTES
            + load(&self.subscription_bytes)
            + inbox_len * (average_in + INBOX_ENTRY_BYTES);
        StateMetrics {
            pending_requests,
            subscriptions: load(&self.subscriptions),
            memory_bytes,
            inbox_len,
            reconnects: self.reconnects.load(Ordering::Relaxed),
            messages_in,
            messages_out: self.messages_out.load(Ordering::Relaxed),
            bytes_in,
            bytes_out: self.bytes_out.load(Ordering::Relaxed),
        }
    }
}

/// Rough size of one inbox entry besides its payload (the event and its channel slot).
const INBOX_ENTRY_BYTES: usize = 128;

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
