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
//! - A caller that has just queued a request (or a subscribe, an unsubscribe), when nobody
//!   holds the work, claims it ([`ReplyClaim`]) and holds it until the reply comes: it writes
//!   the request and reads the reply on its own thread, as a plain socket read would, and gives
//!   the work back with the reply (or when the call is dropped). The task watches that claim as
//!   a reader's, and keeps watching a tick beyond it, so requests made one after another do not
//!   each wake the task.

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

    /// A requester's turn while it waits for its reply: what the task's would read, up to
    /// [`READER_TURN_BYTES`] (data read meanwhile goes to the inbox, as the task's would).
    const REQUESTER: Self = Self { bytes: READER_TURN_BYTES, events: usize::MAX };

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
/// The requester that holds the work waits for a wake.
const REQUESTER_WAITING: u8 = 8;
/// The task watches the claims: a new claim need not wake it.
const WATCHING: u8 = 16;

/// The waker every source of a served socket gets.
#[derive(Debug, Default)]
pub(crate) struct Relay {
    flags: AtomicU8,
    task: AtomicWaker,
    reader: AtomicWaker,
    requester: AtomicWaker,
}

impl Wake for Relay {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let before = self.flags.fetch_or(WORK, Ordering::AcqRel);
        if before & CLAIMED == 0 {
            self.task.wake();
            return;
        }
        if before & WAITING != 0 {
            self.reader.wake();
        }
        if before & REQUESTER_WAITING != 0 {
            self.requester.wake();
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

/// What came of trying a turn.
enum Turn {
    Done,
    /// Someone else is doing one.
    Busy,
    /// No socket is served (between sockets, or the last one ended): nothing to do until the
    /// task serves the next.
    NotServing,
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
        if self.watch(cx, watch) {
            return Poll::Pending;
        }
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
            self.relay.requester.wake();
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

    /// `true` while a reader holding the work keeps doing it; `false` when nobody holds it,
    /// or once a tick passed without a turn: the claim is revoked and the task works. The
    /// watch outlives a claim by up to a tick, so that claims following one another (a
    /// requester's, request after request) do not each wake the task to start one.
    fn watch(&self, cx: &mut Context<'_>, watch: &mut Watch) -> bool {
        let flags = &self.relay.flags;
        loop {
            let Some(timer) = watch.timer.as_mut() else {
                if flags.load(Ordering::Acquire) & CLAIMED == 0 {
                    return false;
                }
                watch.turns = self.turns.load(Ordering::Acquire);
                watch.timer = Some(Box::pin(tokio::time::sleep(WATCH_TICK)));
                flags.fetch_or(WATCHING, Ordering::AcqRel);
                continue;
            };
            if timer.as_mut().poll(cx).is_pending() {
                return flags.load(Ordering::Acquire) & CLAIMED != 0;
            }
            let turns = self.turns.load(Ordering::Acquire);
            if flags.load(Ordering::Acquire) & CLAIMED == 0 {
                // Nobody holds the work: the watch ends, unless a claim comes as it does.
                if flags.fetch_and(!WATCHING, Ordering::AcqRel) & CLAIMED == 0 {
                    watch.timer = None;
                    return false;
                }
                flags.fetch_or(WATCHING, Ordering::AcqRel);
            } else if turns == watch.turns {
                // A tick without a turn: work waits or the connection is idle; either way
                // the task takes the wakes again.
                self.release();
                watch.timer = None;
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
            self.claim();
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
        matches!(self.try_turn(bound), Turn::Done)
    }

    /// A turn, when the slot is free and a socket is served in it.
    fn try_turn(&self, bound: TurnBound) -> Turn {
        {
            let Some(mut slot) = self.try_slot() else { return Turn::Busy };
            let Some(serving) = slot.as_deref_mut() else { return Turn::NotServing };
            if serving.ended.is_some() {
                return Turn::NotServing;
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
        Turn::Done
    }

    /// A reader found no events and will wait: wakes reach it while it holds the work. `false`
    /// when work came in since its turn and the slot is free to do it.
    fn wait(&self, cx: &Context<'_>) -> bool {
        self.wait_as(cx, &self.relay.reader, WAITING)
    }

    /// [`Drive::wait`] for the holder whose waker is `waker`, marked waiting by `waiting`.
    fn wait_as(&self, cx: &Context<'_>, waker: &AtomicWaker, waiting: u8) -> bool {
        if self.relay.flags.load(Ordering::Acquire) & CLAIMED == 0 {
            return true;
        }
        waker.register(cx.waker());
        let before = self.relay.flags.fetch_or(waiting, Ordering::AcqRel);
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

    /// Claims the work (with work marked, so the claimant does a turn first); `true` when this
    /// call took it from nobody. The task is woken to start its watch unless it watches.
    fn claim(&self) -> bool {
        let before = self.relay.flags.fetch_or(CLAIMED | WORK, Ordering::AcqRel);
        if before & (CLAIMED | WATCHING) == 0 {
            self.relay.task.wake();
        }
        before & CLAIMED == 0
    }

    /// The socket's service is over: any claim lapses.
    fn release(&self) {
        let cleared = CLAIMED | WAITING | REQUESTER_WAITING | WATCHING;
        self.relay.flags.fetch_and(!cleared, Ordering::AcqRel);
    }
}

/// A caller waiting for its reply, holding the connection's work meanwhile when nobody else
/// does: the socket's wakes then go to the caller, which reads and matches the reply on its
/// own thread — as a plain socket read would — instead of the connection task reading it on
/// another and handing it over. The task watches the claim as it watches a reader's; dropping
/// the claim (the reply came, or the call was cancelled) gives the work back.
#[derive(Debug)]
pub(crate) struct ReplyClaim<'a> {
    drive: &'a Drive,
    held: bool,
}

impl<'a> ReplyClaim<'a> {
    /// Turns done in one poll at most before the caller yields (a reply is one turn away).
    const TURNS_PER_POLL: usize = 4;

    pub(crate) fn new(drive: &'a Drive) -> Self {
        Self { drive, held: false }
    }

    /// Polls `answer`, doing the connection's work while it waits, when it holds it or can
    /// claim it.
    pub(crate) fn poll<T>(
        &mut self,
        cx: &mut Context<'_>,
        answer: &mut tokio::sync::oneshot::Receiver<T>,
    ) -> Poll<Result<T, tokio::sync::oneshot::error::RecvError>> {
        for _ in 0..Self::TURNS_PER_POLL {
            if let Poll::Ready(reply) = Pin::new(&mut *answer).poll(cx) {
                self.release();
                return Poll::Ready(reply);
            }
            if !self.held && !self.claim() {
                // Someone else does the work: the reply comes through `answer`.
                return Poll::Pending;
            }
            let flags = self.drive.relay.flags.load(Ordering::Acquire);
            if flags & CLAIMED == 0 {
                // The task's watch took the work back.
                self.held = false;
                return Poll::Pending;
            }
            if flags & WORK != 0 {
                match self.turn() {
                    Turn::Done => continue,
                    Turn::Busy => {}
                    // The reply comes through the task, which writes the request once it
                    // serves the next socket.
                    Turn::NotServing => return Poll::Pending,
                }
            }
            if self.drive.wait_as(cx, &self.drive.relay.requester, REQUESTER_WAITING) {
                return Poll::Pending;
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    /// Claims the work when nobody holds it and does a turn — which writes the request just
    /// queued and reads what came — on the caller's thread; `true` when it did (the task need
    /// not be woken for the request).
    pub(crate) fn write_now(&mut self) -> bool {
        (self.held || self.claim()) && matches!(self.turn(), Turn::Done)
    }

    /// A turn on the caller's thread; when no socket is served the claim goes.
    fn turn(&mut self) -> Turn {
        let turn = self.drive.try_turn(TurnBound::REQUESTER);
        if let Turn::NotServing = turn {
            self.release();
        }
        turn
    }

    /// Claims the work when nobody holds it; the task starts its watch unless it watches.
    fn claim(&mut self) -> bool {
        if self.drive.relay.flags.load(Ordering::Acquire) & CLAIMED != 0 {
            return false;
        }
        self.held = self.drive.claim();
        self.held
    }

    /// Gives the work back: what came in meanwhile wakes the task.
    fn release(&mut self) {
        if !std::mem::take(&mut self.held) {
            return;
        }
        let cleared = CLAIMED | WAITING | REQUESTER_WAITING;
        let before = self.drive.relay.flags.fetch_and(!cleared, Ordering::AcqRel);
        if before & CLAIMED != 0 && before & WORK != 0 {
            self.drive.relay.task.wake();
        }
    }
}

impl Drop for ReplyClaim<'_> {
    fn drop(&mut self) {
        self.release();
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

    /// A drive whose task waker counts its wakes (registered again after each, as the task
    /// does when it is polled).
    fn watched_drive() -> (Drive, Arc<WakeCount>, Waker) {
        let drive = Drive::default();
        let (task_woken, task) = WakeCount::new();
        drive.relay.task.register(&task);
        (drive, task_woken, task)
    }

    fn flags(drive: &Drive) -> u8 {
        drive.relay.flags.load(Ordering::Acquire)
    }

    #[test]
    fn a_requester_claims_free_work_and_gives_it_back_waking_the_task_for_what_came() {
        let (drive, task_woken, task) = watched_drive();
        let mut claim = ReplyClaim::new(&drive);
        assert!(claim.claim(), "nobody held the work");
        assert_eq!(task_woken.get(), 1, "the task is woken to watch the claim");
        drive.relay.task.register(&task);
        assert!(!ReplyClaim::new(&drive).claim(), "one holder at a time");
        // A wake while the requester waits goes to it, not to the task.
        let (requester_woken, requester) = WakeCount::new();
        drive.relay.requester.register(&requester);
        drive.relay.flags.fetch_and(!WORK, Ordering::AcqRel);
        drive.relay.flags.fetch_or(REQUESTER_WAITING, Ordering::AcqRel);
        drive.waker.wake_by_ref();
        assert_eq!((requester_woken.get(), task_woken.get()), (1, 1));
        // Work came that the requester has not done: giving the work back wakes the task.
        drop(claim);
        assert_eq!(flags(&drive) & (CLAIMED | REQUESTER_WAITING), 0);
        assert_eq!(task_woken.get(), 2, "the task does what the requester left");
        drive.relay.task.register(&task);
        // Without work waiting, giving it back wakes nobody.
        let mut claim = ReplyClaim::new(&drive);
        drive.relay.flags.fetch_or(WATCHING, Ordering::AcqRel);
        assert!(claim.claim());
        drive.relay.flags.fetch_and(!WORK, Ordering::AcqRel);
        drop(claim);
        assert_eq!(task_woken.get(), 2, "a watching task is not woken for a claim, nor after");
    }

    #[test]
    fn a_requester_whose_answer_came_returns_it_and_lets_go() {
        let (drive, _task_woken, _task) = watched_drive();
        let mut claim = ReplyClaim::new(&drive);
        assert!(claim.claim());
        let (reply, mut answer) = tokio::sync::oneshot::channel();
        reply.send(7).unwrap();
        let (_woken, waker) = WakeCount::new();
        let polled = claim.poll(&mut Context::from_waker(&waker), &mut answer);
        assert!(matches!(polled, Poll::Ready(Ok(7))));
        assert_eq!(flags(&drive) & CLAIMED, 0, "the work is given back with the answer");
    }

    #[test]
    fn a_requester_finding_no_socket_served_lets_go_and_waits_for_its_answer() {
        // Between sockets (or before the task serves the first): the slot is empty.
        let (drive, _task_woken, _task) = watched_drive();
        let mut claim = ReplyClaim::new(&drive);
        assert!(!claim.write_now(), "nothing to write on");
        assert_eq!(flags(&drive) & CLAIMED, 0, "the claim is given back");
        let (_reply, mut answer) = tokio::sync::oneshot::channel::<()>();
        let (woken, waker) = WakeCount::new();
        let polled = claim.poll(&mut Context::from_waker(&waker), &mut answer);
        assert!(polled.is_pending());
        assert_eq!(flags(&drive) & CLAIMED, 0);
        assert_eq!(woken.get(), 0, "it waits for its answer, it does not poll again at once");
    }

    #[tokio::test(start_paused = true)]
    async fn the_watch_outlives_a_claim_by_a_tick_then_ends_and_revokes_an_idle_claim() {
        let (drive, _task_woken, _task) = watched_drive();
        let (_woken, waker) = WakeCount::new();
        let mut cx = Context::from_waker(&waker);
        let mut watch = Watch { timer: None, turns: 0 };
        let mut claim = ReplyClaim::new(&drive);
        assert!(claim.claim());
        assert!(drive.watch(&mut cx, &mut watch), "claimed: the task leaves the work");
        assert_ne!(flags(&drive) & WATCHING, 0);
        drive.turns.fetch_add(1, Ordering::AcqRel);
        drop(claim);
        assert!(!drive.watch(&mut cx, &mut watch), "given back: the task works");
        assert_ne!(flags(&drive) & WATCHING, 0, "the watch lasts until its tick");
        // The next claim finds the task watching: no wake.
        let mut claim = ReplyClaim::new(&drive);
        assert!(claim.claim());
        tokio::time::advance(WATCH_TICK).await;
        assert!(drive.watch(&mut cx, &mut watch), "a turn was done: the claim stands");
        // A whole tick without a turn: the claim is revoked.
        tokio::time::advance(WATCH_TICK).await;
        assert!(!drive.watch(&mut cx, &mut watch));
        assert_eq!(flags(&drive) & (CLAIMED | WATCHING), 0);
        drop(claim);
        // Unclaimed, the watch does not start.
        assert!(!drive.watch(&mut cx, &mut watch));
        assert!(watch.timer.is_none());
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
