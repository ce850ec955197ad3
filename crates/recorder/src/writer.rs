//! The writer thread and the queue it shares with `Recorder` handles.
//!
//! Handles push entries onto a `Vec` behind a mutex and wake the writer only when the queue
//! reaches the batch size, so a `record` call is a lock, a push, and once per batch a condvar
//! notification. Otherwise the writer wakes on its own every flush interval and writes what is
//! waiting. It swaps the whole queue out, then redacts, serializes and writes it without
//! holding the lock.

use std::{
    fs::File,
    io::{self, BufWriter, Write},
    path::{Path, PathBuf},
    sync::{Condvar, Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant},
};

use crate::{
    entry::{Entry, EntryView, PayloadView},
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
}

#[derive(Debug, Default)]
struct State {
    queue: Vec<Entry>,
    flush_requested: u64,
    flush_done: u64,
    closing: bool,
    finished: bool,
    /// The first write error since the last flush.
    error: Option<io::Error>,
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
    pub(crate) fn new(batch_size: usize) -> Self {
        Self {
            state: Mutex::new(State {
                queue: Vec::with_capacity(batch_size.min(1024)),
                ..State::default()
            }),
            wake_writer: Condvar::new(),
            written: Condvar::new(),
            batch_size,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; recover the state if something ever does.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `entry` for the writer; drops it once closing has begun. Never blocks on I/O.
    pub(crate) fn push(&self, entry: Entry) {
        let mut state = self.lock();
        if state.closing {
            return;
        }
        state.queue.push(entry);
        let len = state.queue.len();
        let wake = len == self.batch_size;
        drop(state);
        if wake {
            self.wake_writer.notify_one();
        }
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

    /// Waits for a batch to write: a full batch, a flush or close request, or the next tick
    /// (every `interval`) with entries waiting. Returns the flush ticket it answers and whether
    /// the writer should exit afterwards.
    fn next_batch(&self, batch: &mut Vec<Entry>, ticks: &mut Ticks) -> (u64, bool) {
        let mut state = self.lock();
        loop {
            let ready = state.closing
                || state.flush_requested > state.flush_done
                || state.queue.len() >= self.batch_size;
            if ready {
                break;
            }
            let Some(next) = ticks.next else {
                // An interval too long for `Instant`: only full batches and requests wake us.
                state = self.wake_writer.wait(state).unwrap_or_else(PoisonError::into_inner);
                continue;
            };
            let left = next.saturating_duration_since(Instant::now());
            if left.is_zero() {
                ticks.advance();
                if !state.queue.is_empty() {
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
        std::mem::swap(batch, &mut state.queue);
        (state.flush_requested, state.closing)
    }

    fn finish_batch(&self, ticket: u64, result: io::Result<()>, path: &Path) {
        let mut state = self.lock();
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
        self.0.lock().finished = true;
        self.0.written.notify_all();
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
        let mut batch = Vec::with_capacity(shared.batch_size.min(1024));
        let mut ticks = Ticks::new(self.interval);
        loop {
            let (ticket, closing) = shared.next_batch(&mut batch, &mut ticks);
            let result = self.write_batch(&batch);
            batch.clear();
            shared.finish_batch(ticket, result, &self.path);
            if closing {
                return;
            }
        }
    }

    /// Redacts, serializes and writes every entry of `batch`, one line each, then flushes.
    fn write_batch(&mut self, batch: &[Entry]) -> io::Result<()> {
        for entry in batch {
            let mut view = entry.view();
            let redacted;
            if let PayloadView::Text(text) = view.payload {
                redacted = self.redaction.redact_text(text);
                view.payload = PayloadView::Text(&redacted);
            }
            write_line(&mut self.out, &view)?;
        }
        self.out.flush()
    }
}

fn write_line(out: &mut impl Write, view: &EntryView<'_>) -> io::Result<()> {
    serde_json::to_writer(&mut *out, view)?;
    out.write_all(b"\n")
}
