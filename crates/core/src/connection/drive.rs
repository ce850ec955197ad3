//! Who runs a live socket's work: the connection task, or — while it keeps up — the reader
//! that consumes the events.
//!
//! While a socket is served, the connection and the socket sit in a slot that the task and
//! the readers can lock, and every source (the socket, the timers, the command queue) is given
//! one waker, the [`Relay`], which decides who does the next turn of work:
//!
//! - By default the task: a wake goes to it, exactly as if it owned the socket alone.
//! - A busy reader ([`Client::recv`](crate::Client::recv), [`Events`](crate::Events)) — one
//!   whose last take brought many events, or many bytes — that has run out of events *claims*
//!   the work: it polls the connection on its own thread, and wakes go to it while it waits for
//!   events (to nobody while it is handing events out: it does a turn as soon as it runs out).
//!   A flood is then parsed on the thread that consumes it, with no hand-off between threads,
//!   instead of on a third thread competing for the cores. A claim made while the task is in
//!   a turn waits for that turn to end (the task wakes the reader), it does not spin.
//! - The task watches a claim: when a whole tick ([`WATCH_TICK`]) passes with work waiting and
//!   no turn done — a reader that stopped reading, or reads too slowly — it takes the work
//!   back. Replies, heartbeats and commands therefore wait at most about two ticks for a reader
//!   that does not keep up, and an idle connection's claim lapses within two ticks.
//! - A caller that has just queued a command, when nobody holds the work or the slot, does one
//!   pass that writes it and reads nothing ([`Drive::write_now`]); the task is then not woken
//!   for the command (what the pass left to do wakes it, as the socket wakes it to read).

use std::{
    pin::Pin,
    sync::{
        Arc, Mutex, MutexGuard, PoisonError, TryLockError,
        atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering, fence},
    },
    task::{Context, Poll, Wake, Waker},
    time::Duration,
};

use futures_util::task::AtomicWaker;
use tokio::time::{Instant, Sleep};

use super::task::{Connection, Ended};
use crate::{
    inbox::{Inbox, Take, Taken},
    transport::WsStream,
};

/// How often the task checks that a reader holding the work keeps doing it.
pub(crate) const WATCH_TICK: Duration = Duration::from_millis(1);

/// A reader claims the work once a take of its brought at least this many events, or
/// [`CLAIM_AFTER_BYTES`]: a reader that keeps up with a trickle has nothing to gain, a busy
/// one does.
pub(crate) const CLAIM_AFTER: usize = 16;

/// A take of this many bytes shows a busy reader too, however few the messages: a flood of
/// large messages arrives a few frames per wake-up.
pub(crate) const CLAIM_AFTER_BYTES: usize = 32 << 10;

/// The data a reader's turn reads at most: it hands them out while they are still in its
/// cache (a turn of large messages that filled the inbox's byte bound would not be).
pub(crate) const READER_TURN_BYTES: u64 = 256 << 10;

/// Where a turn of work stops early: after the pass that read `bytes` of data, or left
/// `events` waiting in the inbox.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TurnBound {
    pub(crate) bytes: u64,
    pub(crate) events: usize,
}

impl TurnBound {
    /// The task's turns: only the number of passes bounds them.
    const TASK: Self = Self { bytes: u64::MAX, events: usize::MAX };

    /// A caller's turn after it queued a command: one pass that writes it and reads nothing
    /// (the socket's reads stay the task's, woken by the socket as before).
    const SENDER: Self = Self { bytes: 0, events: 0 };

    /// A reader's turn, for a reader taking up to `limit` events: it stops once there is as
    /// much as it takes, so it takes the whole batch at once and hands it out while it is
    /// still in its cache.
    fn reader(limit: usize) -> Self {
        Self { bytes: READER_TURN_BYTES, events: limit.max(1) }
    }
}

/// A source fired since the last turn began.
const WORK: u8 = 1;
/// A reader holds the work: wakes go to it, not to the task.
const CLAIMED: u8 = 2;
/// The reader that holds the work waits for a wake.
const WAITING: u8 = 4;

/// The waker every source of a served socket gets.
#[derive(Debug, Default)]
pub(crate) struct Relay {
    flags: AtomicU8,
    task: AtomicWaker,
    reader: AtomicWaker,
}

impl Wake for Relay {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let before = self.flags.fetch_or(WORK, Ordering::AcqRel);
        if before & CLAIMED == 0 {
            self.task.wake();
        } else if before & WAITING != 0 {
            self.reader.wake();
        }
        // Claimed by a reader handing events out: it does a turn when it runs out, and the
        // task's watch takes over if it does not.
    }
}

/// The slot a served socket sits in, and who works on it.
#[derive(Debug)]
pub(crate) struct Drive {
    slot: Mutex<Option<Box<Serving>>>,
    relay: Arc<Relay>,
    waker: Waker,
    /// Turns begun, by anyone: the watch compares it tick to tick.
    turns: AtomicU64,
    /// Set by the task before it tries the slot: a reader that held it wakes the task after.
    task_missed: AtomicBool,
    /// Set by a reader that has work to do but found the task doing a turn: the task wakes it
    /// after, instead of the reader spinning on the slot meanwhile.
    reader_missed: AtomicBool,
    /// Whether the readers' last take brought at least [`CLAIM_AFTER`] events.
    busy: AtomicBool,
}

impl Default for Drive {
    fn default() -> Self {
        let relay = Arc::new(Relay::default());
        let waker = Waker::from(Arc::clone(&relay));
        Self {
            slot: Mutex::default(),
            relay,
            waker,
            turns: AtomicU64::new(0),
            task_missed: AtomicBool::new(false),
            reader_missed: AtomicBool::new(false),
            busy: AtomicBool::new(false),
        }
    }
}

/// A connection and its socket, with what a reader needs to poll them as the task would.
#[derive(Debug)]
pub(crate) struct Serving {
    pub(super) connection: Connection,
    /// `None` between sockets.
    pub(super) ws: Option<WsStream>,
    /// How the socket's service ended, when a reader's turn ended it.
    ended: Option<Ended>,
    /// The connection's runtime: a reader may poll from another thread (or runtime), and the
    /// timers the connection creates belong to this one.
    runtime: tokio::runtime::Handle,
    span: tracing::Span,
}

impl Serving {
    pub(super) fn new(connection: Connection, ws: WsStream, span: tracing::Span) -> Box<Self> {
        let runtime = tokio::runtime::Handle::current();
        Box::new(Self { connection, ws: Some(ws), ended: None, runtime, span })
    }
}

/// The task's watch over a reader's claim.
struct Watch {
    timer: Option<Pin<Box<Sleep>>>,
    turns: u64,
}

impl Drive {
    fn lock(&self) -> MutexGuard<'_, Option<Box<Serving>>> {
        self.slot.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Serves the socket in `serving` until it is closed or lost, sharing its work with the
    /// readers meanwhile; returns it with how it ended.
    pub(super) async fn serve(&self, serving: Box<Serving>) -> (Box<Serving>, Ended) {
        self.release();
        *self.lock() = Some(serving);
        // Dropped with the task (its runtime shutting down): the connection leaves the slot
        // and is dropped, so the readers hear that it ended.
        let lent = Lent(self);
        let mut watch = Watch { timer: None, turns: 0 };
        let ended = std::future::poll_fn(|cx| self.poll_task(cx, &mut watch)).await;
        self.release();
        let serving = self.lock().take().expect("the task lent the connection");
        drop(lent);
        (serving, ended)
    }

    /// The task's turn: watches a reader's claim, and does the work when nobody holds it (or
    /// the holder stopped doing it).
    fn poll_task(&self, cx: &mut Context<'_>, watch: &mut Watch) -> Poll<Ended> {
        self.relay.task.register(cx.waker());
        if self.relay.flags.load(Ordering::Acquire) & CLAIMED != 0 && self.watch(cx, watch) {
            return Poll::Pending;
        }
        watch.timer = None;
        self.task_missed.store(true, Ordering::Relaxed);
        // Pairs with the fence in `turn`: either this try sees the slot free, or the reader
        // that holds it sees `task_missed`.
        fence(Ordering::SeqCst);
        let Some(mut slot) = self.try_slot() else { return Poll::Pending };
        self.task_missed.store(false, Ordering::Relaxed);
        let serving = slot.as_deref_mut().expect("the task lent the connection");
        if let Some(ended) = serving.ended.take() {
            return Poll::Ready(ended);
        }
        let turn = self.poll_serving(serving, TurnBound::TASK);
        drop(slot);
        self.task_turn_done();
        turn
    }

    /// The task let go of the slot: a reader that found it at work is woken to take over.
    fn task_turn_done(&self) {
        // Pairs with the fence in `wait`: either the reader's try sees the slot free, or this
        // sees `reader_missed`.
        fence(Ordering::SeqCst);
        if self.reader_missed.swap(false, Ordering::Relaxed) {
            self.relay.reader.wake();
        }
    }

    /// The slot, unless someone is working on it (a panic while it was held does not lock
    /// the connection away: it is still whole between passes).
    fn try_slot(&self) -> Option<MutexGuard<'_, Option<Box<Serving>>>> {
        match self.slot.try_lock() {
            Ok(slot) => Some(slot),
            Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        }
    }

    /// `true` while the reader holding the work keeps doing it (the timer armed); `false` once
    /// a tick passed without a turn: the claim is revoked and the task works.
    fn watch(&self, cx: &mut Context<'_>, watch: &mut Watch) -> bool {
        loop {
            let timer = watch.timer.get_or_insert_with(|| {
                watch.turns = self.turns.load(Ordering::Acquire);
                Box::pin(tokio::time::sleep(WATCH_TICK))
            });
            if timer.as_mut().poll(cx).is_pending() {
                return true;
            }
            let turns = self.turns.load(Ordering::Acquire);
            if turns == watch.turns {
                // A tick without a turn: work waits or the connection is idle; either way
                // the task takes the wakes again.
                self.relay.flags.fetch_and(!(CLAIMED | WAITING), Ordering::AcqRel);
                return false;
            }
            watch.turns = turns;
            timer.as_mut().reset(Instant::now() + WATCH_TICK);
        }
    }

    /// One turn over the connection, within `bound`, with the relay as every source's waker.
    fn poll_serving(&self, serving: &mut Serving, bound: TurnBound) -> Poll<Ended> {
        self.turns.fetch_add(1, Ordering::AcqRel);
        self.relay.flags.fetch_and(!WORK, Ordering::AcqRel);
        let ws = serving.ws.as_mut().expect("a socket is served");
        serving.connection.poll_serve(&mut Context::from_waker(&self.waker), ws, bound)
    }

    /// Moves up to `limit` events into `into`, as [`Inbox::poll_take`] does — after doing a
    /// turn of the connection's work first when this reader holds it (or claims it now,
    /// being busy) and a source fired. `Ready(0)` once the inbox is closed and empty.
    pub(crate) fn poll_take(
        &self,
        inbox: &Inbox,
        cx: &mut Context<'_>,
        into: &mut impl Take,
        limit: usize,
    ) -> Poll<usize> {
        self.help(limit);
        match inbox.poll_take(cx, into, limit) {
            Poll::Ready(taken) => {
                self.got(taken);
                Poll::Ready(taken.events)
            }
            Poll::Pending => {
                if !self.wait(cx) {
                    // Work came in since the turn: look again rather than sleep on it.
                    cx.waker().wake_by_ref();
                }
                Poll::Pending
            }
        }
    }

    /// Claims the work when the last take showed the readers busy, and does a turn when a
    /// reader holds it and a source fired.
    fn help(&self, limit: usize) {
        let flags = self.relay.flags.load(Ordering::Acquire);
        if flags & CLAIMED == 0 {
            if !self.busy.load(Ordering::Relaxed) {
                return;
            }
            let before = self.relay.flags.fetch_or(CLAIMED | WORK, Ordering::AcqRel);
            if before & CLAIMED == 0 {
                // The task starts its watch (and finds the work claimed).
                self.relay.task.wake();
            }
        } else if flags & WORK == 0 {
            return;
        }
        self.turn(TurnBound::reader(limit));
    }

    /// A caller queued a command: when nobody is working on the socket it does the turn that
    /// writes it, on its own thread, instead of waiting for the task to be scheduled; `true`
    /// when it did (the task need not be woken: what the pass left to do wakes it). A reader
    /// holding the work is left to do it.
    pub(crate) fn write_now(&self) -> bool {
        self.relay.flags.load(Ordering::Acquire) & CLAIMED == 0 && self.turn(TurnBound::SENDER)
    }

    /// A reader's (or a sender's) turn, when the slot is free; `true` when it was.
    fn turn(&self, bound: TurnBound) -> bool {
        {
            let Some(mut slot) = self.try_slot() else { return false };
            let Some(serving) = slot.as_deref_mut() else { return false };
            if serving.ended.is_some() {
                return false;
            }
            let (runtime, span) = (serving.runtime.clone(), serving.span.clone());
            let (_runtime, _span) = (runtime.enter(), span.enter());
            if let Poll::Ready(ended) = self.poll_serving(serving, bound) {
                serving.ended = Some(ended);
                self.release();
                self.relay.task.wake();
            }
        }
        fence(Ordering::SeqCst);
        if self.task_missed.swap(false, Ordering::Relaxed) {
            self.relay.task.wake();
        }
        true
    }

    /// A reader found no events and will wait: wakes reach it while it holds the work. `false`
    /// when work came in since its turn and the slot is free to do it.
    fn wait(&self, cx: &Context<'_>) -> bool {
        if self.relay.flags.load(Ordering::Acquire) & CLAIMED == 0 {
            return true;
        }
        self.relay.reader.register(cx.waker());
        let before = self.relay.flags.fetch_or(WAITING, Ordering::AcqRel);
        if before & WORK == 0 {
            return true;
        }
        // The work may wait only because the task is doing a turn (it began before the
        // claim): then the task wakes this reader when it is done.
        self.reader_missed.store(true, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        if self.try_slot().is_none() {
            return true;
        }
        self.reader_missed.store(false, Ordering::Relaxed);
        false
    }

    /// A reader took events: wakes no longer go to it until it runs out and waits again, and
    /// whether it counts as busy is noted.
    fn got(&self, taken: Taken) {
        if self.relay.flags.load(Ordering::Relaxed) & WAITING != 0 {
            self.relay.flags.fetch_and(!WAITING, Ordering::AcqRel);
        }
        let busy = taken.events >= CLAIM_AFTER || taken.bytes >= CLAIM_AFTER_BYTES;
        if self.busy.load(Ordering::Relaxed) != busy {
            self.busy.store(busy, Ordering::Relaxed);
        }
    }

    /// The socket's service is over: any claim lapses.
    fn release(&self) {
        self.relay.flags.fetch_and(!(CLAIMED | WAITING), Ordering::AcqRel);
    }
}

/// Takes the connection back out of the slot if the serving task is dropped.
struct Lent<'a>(&'a Drive);

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        self.0.release();
        let serving = self.0.lock().take();
        drop(serving);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wake_count::WakeCount;

    fn claimed_with_work() -> Drive {
        let drive = Drive::default();
        drive.relay.flags.store(CLAIMED | WORK, Ordering::Release);
        drive
    }

    #[test]
    fn a_reader_that_finds_the_task_at_work_sleeps_until_the_task_wakes_it() {
        let drive = claimed_with_work();
        let (woken, waker) = WakeCount::new();
        let cx = Context::from_waker(&waker);
        // The task is in a turn that began before the claim.
        let held = drive.slot.lock().unwrap();
        assert!(drive.wait(&cx), "a reader sleeps while the task works, it does not spin");
        drop(held);
        drive.task_turn_done();
        assert_eq!(woken.get(), 1, "the task wakes it when done");
        // Work waiting and the slot free: the reader looks again at once.
        assert!(!drive.wait(&cx));
        drive.task_turn_done();
        assert_eq!(woken.get(), 1, "no wake for a reader that did not miss");
    }

    #[test]
    fn a_reader_counts_as_busy_by_events_or_by_bytes() {
        let drive = Drive::default();
        let busy_after = |events, bytes| {
            drive.got(Taken { events, bytes });
            drive.busy.load(Ordering::Relaxed)
        };
        assert!(!busy_after(1, 200), "a trickle");
        assert!(busy_after(CLAIM_AFTER, CLAIM_AFTER * 100), "a batch of small messages");
        assert!(!busy_after(CLAIM_AFTER - 1, 1 << 10));
        assert!(busy_after(2, CLAIM_AFTER_BYTES), "two large messages");
    }
}
