//! Connection monitors: the state shared with every handle, latency, heartbeat health and
//! counters.

use std::{
    collections::VecDeque,
    sync::{
        Mutex, OnceLock, PoisonError,
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
    },
    task::{Context, Poll},
    time::{Duration, SystemTime},
};

use futures_util::task::AtomicWaker;
use tokio::sync::Notify;

use crate::{
    config::Config,
    connection::CommandQueue,
    event::Ending,
    heartbeat::HeartbeatHealth,
    inbox::{Inbox, Take},
    rpc::RequestId,
    state::{ConnectionState, StateCell},
    subscription::SubscriptionId,
};

/// A summary of recent round-trip times, in milliseconds, from
/// [`Client::get_latency_stats`](crate::Client::get_latency_stats).
///
/// Samples are round trips measured by the connection: a request (or subscribe, unsubscribe)
/// to its response, and a heartbeat ping to its pong, over the last
/// [`Config::latency_buffer_size`](crate::Config::latency_buffer_size) samples. With no samples
/// yet every figure is `0.0` and `count` is 0.
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
#[non_exhaustive]
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
    /// Events waiting in the inbox for [`Client::recv`](crate::Client::recv).
    pub inbox_len: usize,
    /// What the waiting events take, counted as the inbox bound counts it (payload bytes plus
    /// 64 per event); never above [`Config::inbox_max_bytes`](crate::Config::inbox_max_bytes)
    /// but for one oversized message or the events of one reconnection.
    pub inbox_bytes: usize,
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

/// [`Client::close`](crate::Client::close)'s request to the connection task: a flag and a
/// waker, outside the command queue so a full queue can never hold it up.
#[derive(Debug, Default)]
pub(crate) struct CloseSignal {
    requested: AtomicBool,
    waker: AtomicWaker,
}

impl CloseSignal {
    pub(crate) fn request(&self) {
        self.requested.store(true, Ordering::Release);
        self.waker.wake();
    }

    /// Ready once a close was requested. Cancel safe.
    pub(crate) fn poll_requested(&self, cx: &mut Context<'_>) -> Poll<()> {
        self.waker.register(cx.waker());
        if self.requested.load(Ordering::Acquire) { Poll::Ready(()) } else { Poll::Pending }
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
    /// The inbox; `None` with a message handler.
    pub(crate) inbox: Option<Inbox>,
    pub(crate) close: CloseSignal,
    /// Commands from the client handles to the connection task.
    pub(crate) commands: CommandQueue,
    /// The served socket's slot: readers with nothing to hand out do a turn of its work.
    pub(crate) drive: crate::connection::Drive,
    /// `true` once the connection task has ended, whatever ended it; waiters on `ended_signal`.
    ended: AtomicBool,
    ended_signal: Notify,
    /// How the connection ended, set once as it finishes.
    ending: OnceLock<Ending>,
    buffers: usize,
    pub(crate) reconnects: AtomicU64,
    messages_in: AtomicU64,
    messages_out: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    pub(crate) pending: AtomicUsize,
    pub(crate) subscriptions: AtomicUsize,
    pub(crate) subscription_bytes: AtomicUsize,
    subscription_list: Mutex<Vec<(SubscriptionId, Vec<String>)>>,
}

impl Shared {
    /// A reader's take of up to `limit` events from the inbox (see
    /// [`Drive::poll_take`](crate::connection::Drive::poll_take)); `Ready(0)` once the inbox
    /// is closed and empty, or at once when events go to a message handler.
    pub(crate) fn poll_take(
        &self,
        cx: &mut Context<'_>,
        into: &mut impl Take,
        limit: usize,
    ) -> Poll<usize> {
        match &self.inbox {
            Some(inbox) => self.drive.poll_take(inbox, cx, into, limit),
            None => Poll::Ready(0),
        }
    }

    pub(crate) fn new(config: &Config) -> Self {
        let inbox = config
            .message_handler
            .is_none()
            .then(|| Inbox::new(config.inbox_capacity, config.inbox_max_bytes));
        Self {
            state: StateCell::new(ConnectionState::Connected),
            latency: Mutex::new(LatencyWindow::new(config.latency_buffer_size)),
            heartbeat: Mutex::new(HeartbeatHealth::default()),
            subprotocol: Mutex::new(None),
            next_id: AtomicU64::new(1),
            inbox,
            close: CloseSignal::default(),
            commands: CommandQueue::new(config.outbox_capacity),
            drive: crate::connection::Drive::default(),
            ended: AtomicBool::new(false),
            ended_signal: Notify::new(),
            ending: OnceLock::new(),
            buffers: config.read_buffer_size + config.write_buffer_size,
            reconnects: AtomicU64::new(0),
            messages_in: AtomicU64::new(0),
            messages_out: AtomicU64::new(0),
            bytes_in: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
            pending: AtomicUsize::new(0),
            subscriptions: AtomicUsize::new(0),
            subscription_bytes: AtomicUsize::new(0),
            subscription_list: Mutex::new(Vec::new()),
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

    /// A new socket: nothing has been missed on it yet.
    pub(crate) fn heartbeat_restarted(&self) {
        self.heartbeat.lock().unwrap_or_else(PoisonError::into_inner).failures = 0;
    }

    /// Records how the connection ends (the first call wins).
    pub(crate) fn set_ending(&self, ending: Ending) {
        let _ = self.ending.set(ending);
    }

    /// How the connection ended; `None` while it has not.
    pub(crate) fn ending(&self) -> Option<Ending> {
        self.ended.load(Ordering::Acquire).then(|| self.ending.get().copied()).flatten()
    }

    /// Marks the connection task ended (by [`Ending::TaskEnded`] unless it finished on its
    /// own terms) and wakes whoever waits for it.
    pub(crate) fn mark_ended(&self) {
        self.set_ending(Ending::TaskEnded);
        self.ended.store(true, Ordering::Release);
        self.ended_signal.notify_waiters();
    }

    /// Waits until the connection task has ended. Cancel safe.
    pub(crate) async fn ended(&self) {
        loop {
            let signal = self.ended_signal.notified();
            let mut signal = std::pin::pin!(signal);
            signal.as_mut().enable();
            if self.ended.load(Ordering::Acquire) {
                return;
            }
            signal.await;
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

    /// Publishes the record of confirmed subscriptions.
    pub(crate) fn publish_subscriptions(&self, list: Vec<(SubscriptionId, Vec<String>)>) {
        *self.subscription_list.lock().unwrap_or_else(PoisonError::into_inner) = list;
    }

    pub(crate) fn subscriptions(&self) -> Vec<(SubscriptionId, Vec<String>)> {
        self.subscription_list.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Publishes the task's message and byte counts.
    pub(crate) fn publish_totals(&self, totals: &Totals) {
        self.messages_in.store(totals.messages_in, Ordering::Relaxed);
        self.messages_out.store(totals.messages_out, Ordering::Relaxed);
        self.bytes_in.store(totals.bytes_in, Ordering::Relaxed);
        self.bytes_out.store(totals.bytes_out, Ordering::Relaxed);
    }

    /// Ready while the inbox is within its byte bound (always, without an inbox); otherwise
    /// registers the caller to be woken as the reader takes events.
    pub(crate) fn poll_inbox_within_budget(&self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(inbox) = &self.inbox else { return Poll::Ready(()) };
        if !inbox.over_budget() {
            return Poll::Ready(());
        }
        inbox.wait_for_room(cx);
        if inbox.over_budget() {
            return Poll::Pending;
        }
        inbox.stop_waiting();
        Poll::Ready(())
    }

    pub(crate) fn inbox_len(&self) -> usize {
        self.inbox.as_ref().map_or(0, Inbox::len)
    }

    pub(crate) fn state_metrics(&self) -> StateMetrics {
        let load = |gauge: &AtomicUsize| gauge.load(Ordering::Relaxed);
        let pending_requests = load(&self.pending);
        let messages_in = self.messages_in.load(Ordering::Relaxed);
        let bytes_in = self.bytes_in.load(Ordering::Relaxed);
        let inbox_len = self.inbox_len();
        let inbox_bytes = self.inbox.as_ref().map_or(0, Inbox::bytes);
        let memory_bytes = size_of::<Self>()
            + self.buffers
            + pending_requests * PENDING_ENTRY_BYTES
            + load(&self.subscription_bytes)
            + inbox_bytes;
        StateMetrics {
            pending_requests,
            subscriptions: load(&self.subscriptions),
            memory_bytes,
            inbox_len,
            inbox_bytes,
            reconnects: self.reconnects.load(Ordering::Relaxed),
            messages_in,
            messages_out: self.messages_out.load(Ordering::Relaxed),
            bytes_in,
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
