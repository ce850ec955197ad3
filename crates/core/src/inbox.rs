//! The inbox: events the connection task hands to readers, a batch at a time, bounded by count
//! and by bytes.
//!
//! The task appends everything one wake-up produced under one lock and wakes the readers once;
//! a reader takes up to a batch under one lock and gives the batch's charge back with one
//! atomic operation per counter. No lock or wake-up per message on either side, and a reader
//! that takes all there is into an empty buffer swaps the buffer for the queue, moving nothing.

use std::{
    collections::VecDeque,
    sync::{
        Mutex, MutexGuard, PoisonError,
        atomic::{AtomicBool, AtomicUsize, Ordering, fence},
    },
    task::{Context, Poll, Waker},
};

use futures_util::task::AtomicWaker;

use crate::{event::Event, message::Message};

/// Bytes an inbox event is charged beyond its payload: the event and its slot in the queue.
pub(crate) const INBOX_ENTRY_BYTES: usize = 64;

/// What a lifecycle event is charged against the inbox's byte bound.
const LIFECYCLE_BYTES: usize = 256;

/// What a data message is charged against the inbox's byte bound.
pub(crate) fn message_cost(message: &Message) -> usize {
    message.len() + INBOX_ENTRY_BYTES
}

/// An event in the inbox. Data messages are kept small; the rare lifecycle events are boxed.
#[derive(Debug)]
pub(crate) enum Delivered {
    /// A data message.
    Message(Message),
    /// A lifecycle event.
    Lifecycle(Box<Event>),
}

impl Delivered {
    pub(crate) fn new(event: Event) -> Self {
        match event {
            Event::Message(message) => Self::Message(message),
            other => Self::Lifecycle(Box::new(other)),
        }
    }

    /// What this event is charged against the inbox bound.
    pub(crate) fn cost(&self) -> usize {
        match self {
            Self::Message(message) => message_cost(message),
            Self::Lifecycle(_) => LIFECYCLE_BYTES,
        }
    }

    #[inline]
    pub(crate) fn into_event(self) -> Event {
        match self {
            Self::Message(message) => Event::Message(message),
            Self::Lifecycle(event) => *event,
        }
    }
}

/// Where a reader puts the events it takes.
pub(crate) trait Take: Extend<Delivered> {
    /// Takes every event in `events` at once, leaving its own empty buffer in their place;
    /// `false` when it cannot (then the events are moved one by one).
    fn swap_all(&mut self, events: &mut VecDeque<Delivered>) -> bool;
}

impl Take for VecDeque<Delivered> {
    fn swap_all(&mut self, events: &mut VecDeque<Delivered>) -> bool {
        // An empty buffer and the queue change places: nothing is copied.
        self.is_empty() && {
            std::mem::swap(self, events);
            true
        }
    }
}

/// What one take moved: how many events, and the bytes they were charged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Taken {
    pub(crate) events: usize,
    pub(crate) bytes: usize,
}

/// The queue between the connection task and the readers, with its bounds.
#[derive(Debug)]
pub(crate) struct Inbox {
    queue: Mutex<Queue>,
    len: AtomicUsize,
    bytes: AtomicUsize,
    capacity: usize,
    max_bytes: usize,
    /// Set while the connection task waits for room; a reader taking events then wakes it.
    waiting: AtomicBool,
    room: AtomicWaker,
}

#[derive(Debug, Default)]
struct Queue {
    events: VecDeque<Delivered>,
    /// What `events` are charged in all.
    cost: usize,
    /// Readers waiting for events (one entry per waiting task).
    readers: Vec<Waker>,
    /// Set when the connection task has ended: nothing more will come.
    closed: bool,
}

impl Inbox {
    pub(crate) fn new(capacity: usize, max_bytes: usize) -> Self {
        Self {
            queue: Mutex::default(),
            len: AtomicUsize::new(0),
            bytes: AtomicUsize::new(0),
            capacity,
            max_bytes,
            waiting: AtomicBool::new(false),
            room: AtomicWaker::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        // Nothing panics while holding the lock; recover the queue if something ever does.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The count and bytes charged right now.
    pub(crate) fn load(&self) -> (usize, usize) {
        (self.len.load(Ordering::Acquire), self.bytes.load(Ordering::Acquire))
    }

    /// Whether an event costing `cost` fits next to `len` events of `bytes`: within the count
    /// bound (or past it, when `overflow`) and within the byte bound (or into an empty inbox).
    pub(crate) fn fits(&self, (len, bytes): (usize, usize), cost: usize, overflow: bool) -> bool {
        let fits_bytes = len == 0 || bytes.saturating_add(cost) <= self.max_bytes;
        fits_bytes && (len < self.capacity || overflow)
    }

    /// Appends `batch` (costing `cost` in all), leaving it empty; with `wake`, wakes the
    /// waiting readers too (otherwise [`Self::wake_readers`] must follow). Only the connection
    /// task (or a reader doing its turn) appends.
    pub(crate) fn push(&self, batch: &mut Vec<Delivered>, cost: usize, wake: bool) {
        if batch.is_empty() {
            return;
        }
        self.len.fetch_add(batch.len(), Ordering::AcqRel);
        self.bytes.fetch_add(cost, Ordering::AcqRel);
        let readers = {
            let mut queue = self.lock();
            queue.cost += cost;
            queue.events.extend(batch.drain(..));
            if wake { std::mem::take(&mut queue.readers) } else { Vec::new() }
        };
        readers.into_iter().for_each(Waker::wake);
    }

    /// Wakes the readers waiting for events that are there.
    pub(crate) fn wake_readers(&self) {
        let readers = {
            let mut queue = self.lock();
            if queue.events.is_empty() {
                return;
            }
            std::mem::take(&mut queue.readers)
        };
        readers.into_iter().for_each(Waker::wake);
    }

    /// Moves up to `limit` events to the back of `into`; `Ready` with no events once the
    /// inbox is closed and empty. Registers the reader to be woken when nothing is there yet.
    pub(crate) fn poll_take(
        &self,
        cx: &mut Context<'_>,
        into: &mut impl Take,
        limit: usize,
    ) -> Poll<Taken> {
        let mut queue = self.lock();
        let take = queue.events.len().min(limit.max(1));
        if take == 0 {
            if queue.closed {
                return Poll::Ready(Taken::default());
            }
            if !queue.readers.iter().any(|reader| reader.will_wake(cx.waker())) {
                queue.readers.push(cx.waker().clone());
            }
            return Poll::Pending;
        }
        let cost = if take == queue.events.len() && into.swap_all(&mut queue.events) {
            std::mem::take(&mut queue.cost)
        } else {
            let mut cost = 0;
            into.extend(queue.events.drain(..take).inspect(|delivered| cost += delivered.cost()));
            queue.cost -= cost;
            cost
        };
        let more = !queue.events.is_empty();
        let readers = if more { std::mem::take(&mut queue.readers) } else { Vec::new() };
        drop(queue);
        // Whoever else waits gets a turn at what is left.
        readers.into_iter().for_each(Waker::wake);
        self.release(take, cost);
        Poll::Ready(Taken { events: take, bytes: cost })
    }

    /// Returns events a reader took but never handed out to the front of the queue, in order,
    /// charged again.
    pub(crate) fn put_back(&self, taken: VecDeque<Delivered>) {
        let cost: usize = taken.iter().map(Delivered::cost).sum();
        self.len.fetch_add(taken.len(), Ordering::AcqRel);
        self.bytes.fetch_add(cost, Ordering::AcqRel);
        let readers = {
            let mut queue = self.lock();
            queue.cost += cost;
            for delivered in taken.into_iter().rev() {
                queue.events.push_front(delivered);
            }
            std::mem::take(&mut queue.readers)
        };
        readers.into_iter().for_each(Waker::wake);
    }

    /// Gives the charge of `count` events (`cost` bytes) back, waking the connection task if it
    /// waits for room.
    fn release(&self, count: usize, cost: usize) {
        self.len.fetch_sub(count, Ordering::AcqRel);
        self.bytes.fetch_sub(cost, Ordering::AcqRel);
        // Pairs with the fence in `wait_for_room`: either this load sees `waiting`, or the
        // task's check after its store sees the room just made (no lost wake-up).
        fence(Ordering::SeqCst);
        if self.waiting.load(Ordering::Relaxed) {
            self.room.wake();
        }
    }

    /// Registers the connection task to be woken when a reader takes events. Call, then check
    /// again.
    pub(crate) fn wait_for_room(&self, cx: &mut Context<'_>) {
        self.room.register(cx.waker());
        self.waiting.store(true, Ordering::Relaxed);
        fence(Ordering::SeqCst);
    }

    /// The task no longer waits for room.
    pub(crate) fn stop_waiting(&self) {
        self.waiting.store(false, Ordering::Release);
    }

    /// Whether the bytes charged exceed the byte bound.
    pub(crate) fn over_budget(&self) -> bool {
        self.bytes.load(Ordering::Acquire) > self.max_bytes
    }

    /// No more events will come: readers get what is left, then the end.
    pub(crate) fn close(&self) {
        let readers = {
            let mut queue = self.lock();
            queue.closed = true;
            std::mem::take(&mut queue.readers)
        };
        readers.into_iter().for_each(Waker::wake);
    }

    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::Acquire)
    }

    pub(crate) fn bytes(&self) -> usize {
        self.bytes.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wake_count::WakeCount;

    /// How many events a take moved.
    fn events(taken: Taken) -> usize {
        taken.events
    }

    fn text(n: usize) -> Delivered {
        Delivered::Message(Message::from("x".repeat(n)))
    }

    #[test]
    fn batches_go_in_and_out_with_their_charge() {
        let inbox = Inbox::new(4, 1 << 20);
        let (woken, waker) = WakeCount::new();
        let mut cx = Context::from_waker(&waker);
        let mut out = VecDeque::new();
        assert!(inbox.poll_take(&mut cx, &mut out, 10).is_pending());
        let mut batch = vec![text(10), text(20), text(30)];
        inbox.push(&mut batch, 10 + 20 + 30 + 3 * INBOX_ENTRY_BYTES, true);
        assert_eq!(woken.get(), 1, "one wake-up for the batch");
        assert_eq!(inbox.load(), (3, 60 + 3 * INBOX_ENTRY_BYTES));
        assert_eq!(inbox.poll_take(&mut cx, &mut out, 2).map(events), Poll::Ready(2));
        assert_eq!(inbox.load(), (1, 30 + INBOX_ENTRY_BYTES));
        assert_eq!(inbox.poll_take(&mut cx, &mut out, 2).map(events), Poll::Ready(1));
        inbox.close();
        assert_eq!(inbox.poll_take(&mut cx, &mut out, 2).map(events), Poll::Ready(0));
        assert_eq!(out.len(), 3);
    }

    #[test]
    fn a_reader_taking_all_swaps_buffers_and_every_charge_comes_back() {
        let inbox = Inbox::new(100, 1 << 20);
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        let cost = |sizes: &[usize]| sizes.iter().map(|n| n + INBOX_ENTRY_BYTES).sum::<usize>();
        // Two batches, one behind the other.
        let mut batch = vec![text(1), text(2), text(3)];
        inbox.push(&mut batch, cost(&[1, 2, 3]), true);
        assert!(batch.is_empty(), "the batch is handed over whole");
        let mut batch = vec![text(4), text(5)];
        inbox.push(&mut batch, cost(&[4, 5]), true);
        assert_eq!(inbox.load(), (5, cost(&[1, 2, 3, 4, 5])));
        // Part of it (moved), then all that is left into an empty buffer (swapped), then back
        // and out again into a buffer that holds some already (moved).
        let mut out = VecDeque::new();
        assert_eq!(inbox.poll_take(&mut cx, &mut out, 2).map(events), Poll::Ready(2));
        assert_eq!(inbox.load(), (3, cost(&[3, 4, 5])));
        let mut rest = VecDeque::new();
        assert_eq!(inbox.poll_take(&mut cx, &mut rest, 10).map(events), Poll::Ready(3));
        assert_eq!(inbox.load(), (0, 0));
        inbox.put_back(rest);
        assert_eq!(inbox.load(), (3, cost(&[3, 4, 5])));
        assert_eq!(inbox.poll_take(&mut cx, &mut out, 10).map(events), Poll::Ready(3));
        assert_eq!(inbox.load(), (0, 0), "every charge is given back");
        let sizes: Vec<usize> = out.iter().map(|d| d.cost() - INBOX_ENTRY_BYTES).collect();
        assert_eq!(sizes, [1, 2, 3, 4, 5], "in order, each once");
    }

    #[test]
    fn bounds_by_count_unless_overflowing_and_always_by_bytes() {
        let inbox = Inbox::new(2, 1000);
        assert!(inbox.fits((1, 100), 100, false));
        assert!(!inbox.fits((2, 100), 100, false));
        assert!(inbox.fits((2, 100), 100, true));
        assert!(!inbox.fits((2, 950), 100, true));
        assert!(inbox.fits((0, 0), 5000, false), "one oversized event goes into an empty inbox");
    }
}
