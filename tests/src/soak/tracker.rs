//! What one client told its user: the reader task that drains `recv()`, and the record it
//! keeps — connections, losses, give-ups, lost subscriptions, the notifications' order.

use std::{
    collections::{BTreeMap, VecDeque},
    sync::{Arc, Mutex, PoisonError},
};

use tokio::{sync::watch, time::Instant};
use zen_websocket::{Client, DisconnectReason, Error, Event};

use super::sequence::SequenceCheck;

/// How many recent events each client keeps as evidence for the report.
const RECENT: usize = 24;

/// The latest (re)connection of a client: how many `Connected` events so far, and when the
/// last one (or the first connect) happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Connections {
    /// `Connected` events seen (the first connection, reported by `connect`, is not one).
    pub(crate) count: u64,
    /// When the last one was read.
    pub(crate) at: Instant,
}

/// The record of one client's events.
#[derive(Debug, Default)]
pub(crate) struct Record {
    /// `Disconnected` events with `will_retry: true`, by reason.
    pub(crate) losses: BTreeMap<&'static str, u64>,
    /// `Reconnecting` events.
    pub(crate) reconnect_attempts: u64,
    /// The highest `attempt` of a `Reconnecting` event.
    pub(crate) highest_attempt: u32,
    /// Endings the client will not recover from (`ReconnectFailed`, a loss without retry).
    pub(crate) gave_up: Vec<String>,
    /// The first `SubscriptionLost` events, described.
    pub(crate) subscriptions_lost: Vec<String>,
    /// Channels named by `SubscriptionLost` events.
    pub(crate) channels_lost: usize,
    /// Messages that were not numbered notifications (none are expected).
    pub(crate) other_messages: u64,
    /// The numbered notifications' order check.
    pub(crate) sequence: SequenceCheck,
    /// The last few events, `+12.345s Disconnected(...)`.
    pub(crate) recent: VecDeque<String>,
    /// The last few `Connected` events: their number and when they were read.
    connected: VecDeque<(u64, Instant)>,
}

impl Record {
    /// `Disconnected` events that promised a reconnection.
    pub(crate) fn loss_count(&self) -> u64 {
        self.losses.values().sum()
    }
}

/// One client's record, shared by its reader task and the soak.
#[derive(Debug)]
pub(crate) struct Tracker {
    /// When the soak started, for timestamps in `recent`.
    epoch: Instant,
    /// The record.
    record: Mutex<Record>,
    /// Bumped on every `Connected` event.
    connected: watch::Sender<Connections>,
}

impl Tracker {
    /// A tracker for a client that just connected.
    pub(crate) fn new(epoch: Instant) -> Self {
        let first = Connections { count: 0, at: Instant::now() };
        Self { epoch, record: Mutex::default(), connected: watch::Sender::new(first) }
    }

    /// Reads the record.
    pub(crate) fn read<T>(&self, read: impl FnOnce(&Record) -> T) -> T {
        read(&self.record.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn write(&self, write: impl FnOnce(&mut Record)) {
        write(&mut self.record.lock().unwrap_or_else(PoisonError::into_inner));
    }

    /// The latest (re)connection.
    pub(crate) fn connections(&self) -> Connections {
        *self.connected.borrow()
    }

    /// Waits until more than `seen` `Connected` events were read, or `deadline`; returns when
    /// the first of them (number `seen + 1`) was read, if it came.
    pub(crate) async fn connected_after(&self, seen: u64, deadline: Instant) -> Option<Instant> {
        let mut changes = self.connected.subscribe();
        let wait = changes.wait_for(|latest| latest.count > seen);
        let latest = match tokio::time::timeout_at(deadline, wait).await {
            Ok(Ok(latest)) => *latest,
            _ => return None,
        };
        let first = self.read(|record| {
            record.connected.iter().find(|(number, _)| *number == seen + 1).map(|(_, at)| *at)
        });
        Some(first.unwrap_or(latest.at))
    }

    /// Takes one event into the record.
    fn observe(&self, event: Event) {
        let now = Instant::now();
        if let Event::Message(message) = &event {
            let number =
                message.json().ok().and_then(|value| value["params"]["data"]["seq"].as_u64());
            return self.write(|record| match number {
                Some(number) => record.sequence.observe(number),
                None => record.other_messages += 1,
            });
        }
        let stamp = now.duration_since(self.epoch).as_secs_f64();
        let line = format!("+{stamp:.3}s {}", describe(&event));
        self.write(|record| {
            note(record, &event, line);
            if matches!(event, Event::Disconnected { .. } | Event::Reconnecting { .. }) {
                record.sequence.connection_changed();
            }
        });
        if let Event::Connected = event {
            let count = self.connections().count + 1;
            self.write(|record| {
                if record.connected.len() == RECENT {
                    record.connected.pop_front();
                }
                record.connected.push_back((count, now));
            });
            self.connected.send_replace(Connections { count, at: now });
        }
    }
}

/// Adds a lifecycle event to the record.
fn note(record: &mut Record, event: &Event, line: String) {
    match event {
        Event::Disconnected { reason, will_retry: true, .. } => {
            *record.losses.entry(reason_label(reason)).or_default() += 1;
        }
        Event::Disconnected { reason: DisconnectReason::ClientClosed, .. } => {}
        Event::Disconnected { .. } | Event::ReconnectFailed { .. } => {
            record.gave_up.push(line.clone());
        }
        Event::Reconnecting { attempt, .. } => {
            record.reconnect_attempts += 1;
            record.highest_attempt = record.highest_attempt.max(*attempt);
        }
        Event::SubscriptionLost { channels, .. } => {
            record.channels_lost += channels.len();
            if record.subscriptions_lost.len() < RECENT {
                record.subscriptions_lost.push(line.clone());
            }
        }
        _ => {}
    }
    if record.recent.len() == RECENT {
        record.recent.pop_front();
    }
    record.recent.push_back(line);
}

/// A one-line description of a lifecycle event.
fn describe(event: &Event) -> String {
    match event {
        Event::Connected => "Connected".to_owned(),
        Event::Disconnected { reason, will_retry, .. } => {
            format!("Disconnected({}, will_retry: {will_retry})", reason_label(reason))
        }
        Event::Reconnecting { attempt, delay, .. } => {
            format!("Reconnecting(attempt {attempt}, delay {} ms)", delay.as_millis())
        }
        Event::ReconnectFailed { attempts, last_error, .. } => {
            format!("ReconnectFailed(after {attempts} attempts: {last_error})")
        }
        Event::SubscriptionLost { id, channels, error, .. } => {
            format!("SubscriptionLost({id:?}, {channels:?}: {error})")
        }
        other => format!("{other:?}"),
    }
}

/// A short name for why a connection ended.
pub(crate) fn reason_label(reason: &DisconnectReason) -> &'static str {
    if let Some(code) = reason.close_code() {
        return if code == 1001 { "server close 1001" } else { "server close (other code)" };
    }
    match reason.error() {
        None => "closed by the client",
        Some(Error::HeartbeatTimeout { .. }) => "heartbeat timeout",
        Some(Error::WriteTimeout { .. }) => "write timeout",
        Some(Error::Io(_) | Error::WebSocket(_)) => "reset or end of stream",
        Some(_) => "other error",
    }
}

/// Drains `client`'s events into `tracker` until the client has ended and every event was read.
pub(crate) async fn read_events(client: Client, tracker: Arc<Tracker>) {
    while let Some(event) = client.recv().await {
        tracker.observe(event);
    }
}
