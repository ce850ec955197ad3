//! Frames waiting to be written, in two lanes (heartbeat frames jump the queue), and the clock
//! that notices a write making no progress.

use std::{
    collections::VecDeque,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use tokio::{
    sync::oneshot,
    time::{Instant, Sleep},
};
use tokio_tungstenite::tungstenite;

use super::pending::Waiter;
use crate::{error::Result, message::Message, rpc::RequestId};

/// Most frames taken from the command queue before the ones already taken are written: the
/// bound on what waits here besides the client's own frames.
pub(super) const MAX_QUEUED: usize = 64;

/// One frame to write.
#[derive(Debug)]
pub(super) enum Outgoing {
    /// A user's frame, acknowledged once flushed.
    Send { message: Message, ack: oneshot::Sender<Result<()>> },
    /// A request: its waiter is registered when the frame is written.
    Request(Box<OutRequest>),
    /// A frame the client sends on its own (a ping, a custom heartbeat, a close frame).
    Internal(tungstenite::Message),
}

/// A request waiting to be written.
#[derive(Debug)]
pub(super) struct OutRequest {
    pub(super) id: RequestId,
    pub(super) frame: Message,
    pub(super) waiter: Waiter,
    pub(super) deadline: Instant,
}

/// The frames of one connection waiting for the socket.
#[derive(Debug, Default)]
pub(super) struct Outbox {
    /// Heartbeat frames: written before anything in `queue`.
    urgent: VecDeque<Outgoing>,
    queue: VecDeque<Outgoing>,
    /// Acknowledgements of frames started but not yet flushed.
    pub(super) unflushed: Vec<oneshot::Sender<Result<()>>>,
    /// Whether frames were started since the last completed flush.
    pub(super) flush_due: bool,
    /// The no-progress clock, from the first write that had to wait (boxed: an idle
    /// connection has none).
    stall: Option<Box<Stall>>,
}

impl Outbox {
    pub(super) fn push(&mut self, item: Outgoing) {
        self.queue.push_back(item);
    }

    pub(super) fn push_urgent(&mut self, item: Outgoing) {
        self.urgent.push_back(item);
    }

    pub(super) fn pop(&mut self) -> Option<Outgoing> {
        self.urgent.pop_front().or_else(|| self.queue.pop_front())
    }

    pub(super) fn is_empty(&self) -> bool {
        self.urgent.is_empty() && self.queue.is_empty()
    }

    /// Whether the command queue may be read: few enough frames wait already.
    pub(super) fn has_room(&self) -> bool {
        self.queue.len() < MAX_QUEUED
    }

    /// Whether anything waits to reach the socket.
    pub(super) fn is_busy(&self) -> bool {
        self.flush_due || !self.is_empty()
    }

    /// Takes every waiting frame out (the socket is gone).
    pub(super) fn drain(&mut self) -> impl Iterator<Item = Outgoing> + '_ {
        self.flush_due = false;
        self.urgent.drain(..).chain(self.queue.drain(..))
    }

    /// Watches for a write that makes no progress: `written` is the transport's byte count.
    /// Ready with the stall's length once nothing moved for `timeout` while frames waited.
    pub(super) fn poll_stalled(
        &mut self,
        cx: &mut Context<'_>,
        written: u64,
        timeout: Duration,
    ) -> Poll<Duration> {
        if !self.is_busy() {
            if let Some(stall) = &mut self.stall {
                stall.armed = false;
            }
            return Poll::Pending;
        }
        let stall = self.stall.get_or_insert_with(|| Box::new(Stall::new(timeout)));
        stall.poll(cx, written, timeout)
    }
}

/// The no-progress clock. Progress only moves a timestamp; the timer is reset lazily when it
/// fires early, so a busy writer pays no timer operation per write.
#[derive(Debug)]
struct Stall {
    timer: Pin<Box<Sleep>>,
    armed: bool,
    written: u64,
    since: Instant,
}

impl Stall {
    fn new(timeout: Duration) -> Self {
        let now = Instant::now();
        let timer = Box::pin(tokio::time::sleep_until(now + timeout));
        Self { timer, armed: false, written: 0, since: now }
    }

    fn poll(&mut self, cx: &mut Context<'_>, written: u64, timeout: Duration) -> Poll<Duration> {
        if !self.armed || written != self.written {
            // The timer's deadline is never later than `since + timeout` (every earlier
            // deadline was set from an earlier `since`), so an early firing is all that can
            // happen, and the loop below puts it right.
            (self.armed, self.written, self.since) = (true, written, Instant::now());
        }
        loop {
            std::task::ready!(self.timer.as_mut().poll(cx));
            let deadline = self.since + timeout;
            if Instant::now() >= deadline {
                self.armed = false;
                return Poll::Ready(timeout);
            }
            self.timer.as_mut().reset(deadline);
        }
    }
}
