//! Requests waiting for their response, each with its own deadline.

use std::{
    collections::BTreeMap,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use serde_json::Value;
use tokio::{
    sync::oneshot,
    time::{Instant, Sleep},
};

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
    /// Where it sits in `deadlines`.
    due: Due,
}

/// A deadline, made unique by the order of insertion.
type Due = (Instant, u64);

/// The in-flight requests of one connection.
#[derive(Debug)]
pub(crate) struct Pending {
    entries: BTreeMap<RequestId, Entry>,
    /// Every entry's deadline, earliest first, with its request.
    deadlines: BTreeMap<Due, RequestId>,
    /// Insertions so far: what makes two equal deadlines different.
    inserted: u64,
    /// One timer for the earliest deadline, created on the first request (an idle connection
    /// does not pay for it). Moved only when it would fire too late: one that fires early is
    /// set again then, so a request costs no timer operation.
    timer: Option<Pin<Box<Sleep>>>,
    timeout: Duration,
}

impl Pending {
    pub(crate) fn new(timeout: Duration) -> Self {
        Self {
            entries: BTreeMap::new(),
            deadlines: BTreeMap::new(),
            inserted: 0,
            timer: None,
            timeout,
        }
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
    /// already in flight. Wakes nobody: the pass that inserts polls the deadlines after.
    pub(crate) fn insert(
        &mut self,
        id: RequestId,
        waiter: Waiter,
        deadline: Instant,
    ) -> Result<(), Waiter> {
        if self.entries.contains_key(&id) {
            return Err(waiter);
        }
        self.inserted += 1;
        let due = (deadline, self.inserted);
        self.deadlines.insert(due, id.clone());
        self.entries.insert(id, Entry { waiter, sent_at: Instant::now(), due });
        Ok(())
    }

    /// Removes the waiter for `id`, with the time since its request was written.
    pub(crate) fn take(&mut self, id: &RequestId) -> Option<(Waiter, Duration)> {
        let entry = self.entries.remove(id)?;
        self.deadlines.remove(&entry.due);
        Some((entry.waiter, entry.sent_at.elapsed()))
    }

    /// The next request whose deadline passed. Cancel safe.
    pub(crate) fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<(RequestId, Waiter)> {
        loop {
            let Some((&(earliest, _), _)) = self.deadlines.first_key_value() else {
                return Poll::Pending;
            };
            if earliest <= Instant::now() {
                let (_, id) = self.deadlines.pop_first().expect("looked at just now");
                let entry = self.entries.remove(&id).expect("every deadline has its entry");
                return Poll::Ready((id, entry.waiter));
            }
            match &mut self.timer {
                // Due no later than the earliest deadline, and not fired yet: it wakes in time.
                Some(timer) if timer.deadline() <= earliest && !timer.is_elapsed() => {}
                // Fired (perhaps early, for a deadline since answered), or due too late.
                Some(timer) => timer.as_mut().reset(earliest),
                None => self.timer = Some(Box::pin(tokio::time::sleep_until(earliest))),
            }
            let timer = self.timer.as_mut().expect("armed just now");
            std::task::ready!(timer.as_mut().poll(cx));
        }
    }

    /// Takes every waiter out, e.g. to fail them when the socket is lost.
    pub(crate) fn drain(&mut self) -> Vec<Waiter> {
        self.deadlines.clear();
        std::mem::take(&mut self.entries).into_values().map(|entry| entry.waiter).collect()
    }

    /// The bound each caller was given.
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wake_count::WakeCount;

    fn waiter() -> Waiter {
        Waiter::Internal("test")
    }

    #[tokio::test(start_paused = true)]
    async fn the_task_is_woken_at_each_deadline_whatever_was_answered_meanwhile() {
        let (woken, waker) = WakeCount::new();
        let poll = |pending: &mut Pending| {
            pending.poll_expired(&mut Context::from_waker(&waker)).map(|(id, _)| id)
        };
        let wakes = || woken.get();
        let mut pending = Pending::new(Duration::from_secs(30));
        let start = Instant::now();
        let at = |secs| start + Duration::from_secs(secs);
        pending.insert(RequestId::from(1), waiter(), at(10)).unwrap();
        pending.insert(RequestId::from(2), waiter(), at(20)).unwrap();
        assert!(pending.insert(RequestId::from(2), waiter(), at(25)).is_err(), "in flight");
        assert!(poll(&mut pending).is_pending());
        assert!(pending.take(&RequestId::from(1)).is_some(), "answered");
        // The timer set for the answered request fires early: nothing is due yet.
        tokio::time::advance(Duration::from_secs(15)).await;
        assert_eq!(wakes(), 1);
        assert!(poll(&mut pending).is_pending());
        // One inserted later, due before the timer now set for request 2, comes first.
        pending.insert(RequestId::from(3), waiter(), at(17)).unwrap();
        assert!(poll(&mut pending).is_pending());
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(wakes(), 2, "woken at request 3's deadline");
        assert_eq!(poll(&mut pending), Poll::Ready(RequestId::from(3)));
        assert!(poll(&mut pending).is_pending());
        tokio::time::advance(Duration::from_secs(3)).await;
        assert_eq!(wakes(), 3, "woken at request 2's deadline");
        assert_eq!(poll(&mut pending), Poll::Ready(RequestId::from(2)));
        assert!(pending.is_empty() && poll(&mut pending).is_pending());
    }
}
