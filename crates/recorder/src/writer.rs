//! The writer thread and the state it shares with `Recorder` handles.
//!
//! Handles push entries onto a bounded [`Queue`] behind a mutex and wake the writer only when
//! it has work worth a wake-up — a full batch, half the byte bound, the first drop of a gap —
//! so a `record` call is a lock, a push, and now and then a condvar notification. Otherwise the
//! writer wakes on its own every flush interval and writes what is waiting. It takes the whole
//! queue, then redacts, serializes and writes it without holding the lock.

use std::{
    fs::File,
    io::{self, BufWriter, Write},
    path::{Path, PathBuf},
    sync::{
        Condvar, Mutex, MutexGuard, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
    task::{Poll, Waker},
    time::{Duration, Instant},
};

use crate::{
    entry::{Entry, EntryView, PayloadView},
    queue::{Pushed, Queue, Queued},
    redact::Redaction,
};

/// The queue and the bookkeeping shared by the handles and the writer thread.
#[derive(Debug)]
pub(crate) struct Shared {
    state: Mutex<State>,
    /// Signalled when the writer has something to do.
    wake_writer: Condvar,
    /// Signalled when a batch is written and when the writer exits.
    written: Condvar,
    batch_size: usize,
    /// Waiting bytes that wake the writer early: half the byte bound.
    wake_bytes: usize,
    /// Entries dropped because the queue was full, since the recorder was created.
    dropped: AtomicU64,
}

#[derive(Debug)]
struct State {
    queue: Queue,
    flush_requested: u64,
    flush_done: u64,
    closing: bool,
    finished: bool,
    /// The first write error since the last flush.
    error: Option<io::Error>,
    /// Tasks awaiting the writer's exit ([`Closing`](crate::Closing) futures).
    wakers: Vec<Waker>,
}

/// What [`Shared::flush`] found.
#[derive(Debug)]
pub(crate) enum Flushed {
    /// Everything queued before the call is written; with the first error since the last flush.
    Done(Option<io::Error>),
    /// The recorder was closed before the call.
    Closed,
}

impl Shared {
    pub(crate) fn new(batch_size: usize, limit: Queued) -> Self {
        let state = State {
            queue: Queue::new(limit, batch_size.min(1024)),
            flush_requested: 0,
            flush_done: 0,
            closing: false,
            finished: false,
            error: None,
            wakers: Vec::new(),
        };
        Self {
            state: Mutex::new(state),
            wake_writer: Condvar::new(),
            written: Condvar::new(),
            batch_size,
            wake_bytes: limit.bytes / 2,
            dropped: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; recover the state if something ever does.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `entry` for the writer, or drops and counts it when the queue is full; ignores
    /// it once closing has begun. Never blocks on I/O.
    pub(crate) fn push(&self, entry: Entry) {
        let mut state = self.lock();
        if state.closing {
            return;
        }
        let bytes_before = state.queue.waiting_bytes();
        let pushed = state.queue.push(entry);
        if pushed != Pushed::Queued {
            // Counted under the lock, so a flush that writes the gap also sees its count.
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        let wake = match pushed {
            Pushed::Queued => {
                state.queue.len() == self.batch_size
                    || (bytes_before < self.wake_bytes
                        && state.queue.waiting_bytes() >= self.wake_bytes)
            }
            Pushed::DroppedFirst => true,
            Pushed::Dropped => false,
        };
        drop(state);
        if wake {
            self.wake_writer.notify_one();
        }
    }

    /// Entries dropped so far because the queue was full.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// What is recorded and not yet written.
    pub(crate) fn queued(&self) -> Queued {
        self.lock().queue.held()
    }

    /// Waits until everything queued before the call is written and flushed.
    pub(crate) fn flush(&self) -> Flushed {
        let mut state = self.lock();
        if state.closing {
            return Flushed::Closed;
        }
        state.flush_requested += 1;
        let ticket = state.flush_requested;
        self.wake_writer.notify_one();
        while state.flush_done < ticket && !state.finished {
            state = self.written.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
        Flushed::Done(state.error.take())
    }

    /// Stops taking entries and tells the writer to write the rest and exit.
    pub(crate) fn begin_close(&self) {
        self.lock().closing = true;
        self.wake_writer.notify_one();
    }

    /// Waits for the writer to exit; returns the first error since the last flush.
    pub(crate) fn wait_finished(&self) -> Option<io::Error> {
        let mut state = self.lock();
        while !state.finished {
            state = self.written.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
        state.error.take()
    }

    /// The writer's exit as a poll: `Ready` with the first error since the last flush once it
    /// has exited; otherwise `waker` is woken when it does.
    pub(crate) fn poll_finished(&self, waker: &Waker) -> Poll<Option<io::Error>> {
        let mut state = self.lock();
        if state.finished {
            return Poll::Ready(state.error.take());
        }
        if !state.wakers.iter().any(|known| known.will_wake(waker)) {
            state.wakers.push(waker.clone());
        }
        Poll::Pending
    }

    /// Whether the writer has work: a close or flush request, a full batch, half the byte
    /// bound waiting, or a gap to mark.
    fn has_work(&self, state: &State) -> bool {
        state.closing
            || state.flush_requested > state.flush_done
            || state.queue.len() >= self.batch_size
            || state.queue.waiting_bytes() >= self.wake_bytes
            || state.queue.has_gap()
    }

    /// Waits for a batch to write: [work](Self::has_work), or the next tick (every `interval`)
    /// with entries waiting. Returns the flush ticket it answers and whether the writer should
    /// exit afterwards.
    fn next_batch(&self, batch: &mut Vec<Entry>, ticks: &mut Ticks) -> (u64, bool) {
        let mut state = self.lock();
        while !self.has_work(&state) {
            let Some(next) = ticks.next else {
                // An interval too long for `Instant`: only work wakes us.
                state = self.wake_writer.wait(state).unwrap_or_else(PoisonError::into_inner);
                continue;
            };
            let left = next.saturating_duration_since(Instant::now());
            if left.is_zero() {
                ticks.advance();
                if state.queue.len() > 0 {
                    break;
                }
                continue;
            }
            state = self
                .wake_writer
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        state.queue.take(batch);
        (state.flush_requested, state.closing)
    }

    fn finish_batch(&self, ticket: u64, result: io::Result<()>, path: &Path) {
        let mut state = self.lock();
        state.queue.written();
        if let Err(err) = result
            && state.error.is_none()
        {
            tracing::warn!(path = %path.display(), error = %err, "recording write failed");
            state.error = Some(err);
        }
        state.flush_done = state.flush_done.max(ticket);
        drop(state);
        self.written.notify_all();
    }
}

/// The writer's clock: a tick every interval, counted from the last tick.
#[derive(Debug)]
struct Ticks {
    interval: Duration,
    next: Option<Instant>,
}

impl Ticks {
    fn new(interval: Duration) -> Self {
        Self { interval, next: Instant::now().checked_add(interval) }
    }

    fn advance(&mut self) {
        self.next = Instant::now().checked_add(self.interval);
    }
}

/// Marks the writer finished when it exits, even by unwinding, so no flush waits forever.
struct FinishGuard<'a>(&'a Shared);

impl Drop for FinishGuard<'_> {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.finished = true;
        let wakers = std::mem::take(&mut state.wakers);
        drop(state);
        self.0.written.notify_all();
        wakers.into_iter().for_each(Waker::wake);
    }
}

/// Everything the writer thread owns.
#[derive(Debug)]
pub(crate) struct Writer {
    pub(crate) out: BufWriter<File>,
    pub(crate) path: PathBuf,
    pub(crate) redaction: Redaction,
    pub(crate) interval: Duration,
}

impl Writer {
    /// The writer thread's body: write batches until the recorder closes.
    pub(crate) fn run(mut self, shared: &Shared) {
        let _finished = FinishGuard(shared);
        let capacity = shared.batch_size.min(1024);
        let mut batch = Vec::with_capacity(capacity);
        let mut ticks = Ticks::new(self.interval);
        loop {
            let (ticket, closing) = shared.next_batch(&mut batch, &mut ticks);
            let result = self.write_batch(&batch);
            batch.clear();
            // After a burst, give back what the queue grew to (the bound is by entry count).
            if batch.capacity() > 4 * capacity {
                batch.shrink_to(capacity);
            }
            shared.finish_batch(ticket, result, &self.path);
            if closing {
                return;
            }
        }
    }

    /// Redacts, serializes and writes every entry of `batch`, one line each, then flushes.
    fn write_batch(&mut self, batch: &[Entry]) -> io::Result<()> {
        for entry in batch {
            let view = entry.view();
            match view.payload {
                PayloadView::Text(text) => {
                    let text = self.redaction.redact_text(text);
                    write_line(&mut self.out, &view.with(PayloadView::Text(&text)))?;
                }
                PayloadView::Binary(bytes) => {
                    let bytes = self.redaction.redact_bytes(bytes);
                    write_line(&mut self.out, &view.with(PayloadView::Binary(&bytes)))?;
                }
                PayloadView::Close { code, reason } => {
                    let reason = self.redaction.redact_text(reason);
                    write_line(
                        &mut self.out,
                        &view.with(PayloadView::Close { code, reason: &reason }),
                    )?;
                }
                PayloadView::Gap { .. } => write_line(&mut self.out, &view)?,
            }
        }
        self.out.flush()
    }
}

fn write_line(out: &mut impl Write, view: &EntryView<'_>) -> io::Result<()> {
    serde_json::to_writer(&mut *out, view)?;
    out.write_all(b"\n")
}
