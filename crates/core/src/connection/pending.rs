//! Requests waiting for their response, each with its own deadline.

use std::{
    collections::BTreeMap,
    task::{Context, Poll},
    time::Duration,
};

use serde_json::Value;
use tokio::{sync::oneshot, time::Instant};
use tokio_util::time::{DelayQueue, delay_queue::Key};

use crate::{
    error::{Error, Result},
    rpc::RequestId,
    subscription::SubscriptionId,
};

/// Who is waiting for a response, and what to do with it.
#[derive(Debug)]
pub(crate) enum Waiter {
    /// A [`Client::request`](crate::Client::request) caller.
    Request(oneshot::Sender<Result<Value>>),
    /// A [`Client::subscribe`](crate::Client::subscribe) caller.
    Subscribe { channels: Vec<String>, reply: oneshot::Sender<Result<SubscriptionId>> },
    /// A subscription being re-established after a reconnect.
    Restore { id: SubscriptionId },
    /// A [`Client::unsubscribe`](crate::Client::unsubscribe) caller.
    Unsubscribe { id: SubscriptionId, reply: oneshot::Sender<Result<()>> },
    /// The `public/test` answer to a Deribit `test_request`: its round trip is the heartbeat's.
    Heartbeat,
    /// A request the client makes for itself (e.g. `public/set_heartbeat`, or undoing a
    /// subscription nobody holds).
    Internal(&'static str),
}

impl Waiter {
    /// Whether the caller stopped waiting (its future was dropped or timed out): its request
    /// need not be written.
    pub(crate) fn is_abandoned(&self) -> bool {
        match self {
            Self::Request(reply) => reply.is_closed(),
            Self::Subscribe { reply, .. } => reply.is_closed(),
            Self::Unsubscribe { reply, .. } => reply.is_closed(),
            Self::Restore { .. } | Self::Heartbeat | Self::Internal(_) => false,
        }
    }

    /// Tells the waiter its request failed (subscribes and restores that need more — undoing,
    /// reporting a loss — are handled by the connection task before it gets here).
    pub(crate) fn fail(self, err: Error) {
        // Callers that stopped waiting (cancelled futures) no longer need the answer.
        match self {
            Self::Request(reply) => drop(reply.send(Err(err))),
            Self::Subscribe { reply, .. } => drop(reply.send(Err(err))),
            Self::Unsubscribe { reply, .. } => drop(reply.send(Err(err))),
            Self::Restore { id } => {
                tracing::debug!(subscription = %id, error = %err, "restoring a subscription ended");
            }
            Self::Heartbeat => {
                tracing::debug!(error = %err, "no answer to the heartbeat's public/test")
            }
            Self::Internal(method) => {
                tracing::debug!(method, error = %err, "an internal request failed")
            }
        }
    }
}

#[derive(Debug)]
struct Entry {
    waiter: Waiter,
    sent_at: Instant,
    timer: Key,
}

/// The in-flight requests of one connection.
#[derive(Debug)]
pub(crate) struct Pending {
    entries: BTreeMap<RequestId, Entry>,
    /// Created on the first request: an idle connection does not pay for the timer wheel.
    timers: Option<Box<DelayQueue<RequestId>>>,
    /// When `timers` was created: its wheel counts from then and cannot take deadlines more
    /// than about two years later, so an idle wheel is replaced once it is a day old.
    timers_since: Instant,
    timeout: Duration,
}

/// Age after which an empty timer wheel is replaced by a fresh one.
const TIMERS_RENEWED_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

impl Pending {
    pub(crate) fn new(timeout: Duration) -> Self {
        Self { entries: BTreeMap::new(), timers: None, timers_since: Instant::now(), timeout }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn contains(&self, id: &RequestId) -> bool {
        self.entries.contains_key(id)
    }

    /// Registers `waiter` under `id` until `deadline`, or hands it back when the id is
    /// already in flight.
    pub(crate) fn insert(
        &mut self,
        id: RequestId,
        waiter: Waiter,
        deadline: Instant,
    ) -> Result<(), Waiter> {
        if self.entries.contains_key(&id) {
            return Err(waiter);
        }
        if self.entries.is_empty() && self.timers_since.elapsed() > TIMERS_RENEWED_AFTER {
            self.timers = None;
        }
        if self.timers.is_none() {
            self.timers_since = Instant::now();
        }
        let timer = self.timers.get_or_insert_with(Box::default).insert_at(id.clone(), deadline);
        self.entries.insert(id, Entry { waiter, sent_at: Instant::now(), timer });
        Ok(())
    }

    /// Removes the waiter for `id`, with the time since its request was written.
    pub(crate) fn take(&mut self, id: &RequestId) -> Option<(Waiter, Duration)> {
        let entry = self.entries.remove(id)?;
        if let Some(timers) = &mut self.timers {
            timers.remove(&entry.timer);
        }
        Some((entry.waiter, entry.sent_at.elapsed()))
    }

    /// The next request whose deadline passed. Cancel safe.
    pub(crate) fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<(RequestId, Waiter)> {
        loop {
            let Some(timers) = &mut self.timers else { return Poll::Pending };
            let Some(expired) = std::task::ready!(timers.poll_expired(cx)) else {
                // Empty: `poll_expired` registered no waker. A new insert polls again anyway,
                // since it happens inside the same pass of the connection task.
                return Poll::Pending;
            };
            let id = expired.into_inner();
            if let Some(entry) = self.entries.remove(&id) {
                return Poll::Ready((id, entry.waiter));
            }
        }
    }

    /// Takes every waiter out, e.g. to fail them when the socket is lost.
    pub(crate) fn drain(&mut self) -> Vec<Waiter> {
        // A fresh wheel on the next request (see `timers_since`).
        self.timers = None;
        std::mem::take(&mut self.entries).into_values().map(|entry| entry.waiter).collect()
    }

    /// The bound each caller was given.
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }
}
