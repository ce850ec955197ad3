//! Hands events to the user — the inbox read by `recv` and `events`, or the message handler —
//! a wake-up's worth at a time, with back-pressure instead of loss.

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    sync::Arc,
    task::Context,
};

use crate::{
    config::MessageHandler,
    event::Event,
    inbox::{Delivered, Inbox, message_cost},
    message::Message,
    monitor::Shared,
};

/// Where events go.
#[derive(Debug)]
pub(crate) enum Delivery {
    /// Into the inbox, a batch per wake-up.
    Inbox(InboxWriter),
    /// Straight to the user's callback, on the connection task.
    Handler(HandlerCell),
}

/// The connection task's end of the inbox: events gather in a local batch, admitted against a
/// view of the bounds read once per batch, and go to the readers in one step.
#[derive(Debug)]
pub(crate) struct InboxWriter {
    shared: Arc<Shared>,
    batch: Vec<Delivered>,
    batch_cost: usize,
    /// The inbox's count and bytes when this batch began; readers only ever lower them, so
    /// this plus the batch is a safe upper bound.
    seen: Option<(usize, usize)>,
    /// A data message that found no room; reading pauses until it is delivered (boxed: rare).
    held: Option<Box<Delivered>>,
}

/// The user's callback, with a `Debug` that does not try to print a closure.
pub(crate) struct HandlerCell(pub(crate) MessageHandler);

impl std::fmt::Debug for HandlerCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HandlerCell(..)")
    }
}

impl Delivery {
    /// The inbox of `shared`.
    pub(crate) fn inbox(shared: Arc<Shared>) -> Self {
        Self::Inbox(InboxWriter {
            shared,
            batch: Vec::new(),
            batch_cost: 0,
            seen: None,
            held: None,
        })
    }

    /// `true` while a data message waits for room: the socket is not read meanwhile.
    pub(crate) fn is_paused(&self) -> bool {
        matches!(self, Self::Inbox(InboxWriter { held: Some(_), .. }))
    }

    /// Delivers a data message that fits within the bounds; hands it back when it does not
    /// (then [`Self::message_at_bound`] decides).
    pub(crate) fn message(&mut self, message: Message) -> Result<(), Message> {
        match self {
            Self::Handler(handler) => {
                call(handler, || Event::Message(message));
                Ok(())
            }
            Self::Inbox(writer) => writer.admit_within(message),
        }
    }

    /// Delivers a data message that found the inbox at a bound, or holds it until there is
    /// room (see [`Self::poll_room`]); returns `true` when it had to be held. With `awaiting`
    /// (a reply or heartbeat is expected) the count bound may be passed, never the byte bound.
    pub(crate) fn message_at_bound(&mut self, message: Message, awaiting: bool) -> bool {
        match self {
            Self::Handler(handler) => {
                call(handler, || Event::Message(message));
                false
            }
            Self::Inbox(writer) => !writer.admit(Delivered::Message(message), awaiting),
        }
    }

    /// Delivers the held message once there is room; `true` when it went (or nothing was
    /// held). Registers the task to be woken when a reader makes room.
    pub(crate) fn poll_room(&mut self, cx: &mut Context<'_>, awaiting: bool) -> bool {
        let Self::Inbox(writer) = self else { return true };
        let Some(held) = writer.held.take().map(|held| *held) else { return true };
        writer.flush();
        let inbox = writer.inbox();
        let cost = held.cost();
        let mut fits = inbox.fits(inbox.load(), cost, awaiting);
        if !fits {
            inbox.wait_for_room(cx);
            fits = inbox.fits(inbox.load(), cost, awaiting);
        }
        if fits {
            inbox.stop_waiting();
            writer.batch_cost += cost;
            writer.batch.push(held);
        } else {
            writer.held = Some(Box::new(held));
        }
        fits
    }

    /// Delivers a lifecycle event (after any held message, to keep the order) and hands the
    /// batch over at once: these are few and never wait.
    pub(crate) fn lifecycle(&mut self, event: Event) {
        match self {
            // Unwinding already (a connection dropped by a panic): a second panic from the
            // handler would abort the process. Messages are only delivered from a pass.
            Self::Handler(_) if std::thread::panicking() => {}
            Self::Handler(handler) => call(handler, || event),
            Self::Inbox(writer) => {
                let held = writer.held.take().map(|held| *held);
                for delivered in held.into_iter().chain([Delivered::new(event)]) {
                    writer.batch_cost += delivered.cost();
                    writer.batch.push(delivered);
                }
                writer.flush();
            }
        }
    }

    /// Hands what this pass gathered to the inbox, without waking the readers yet: a burst
    /// spanning many passes costs one wake-up, at [`Self::wake_readers`].
    pub(crate) fn stage(&mut self) {
        if let Self::Inbox(writer) = self {
            writer.push(false);
        }
    }

    /// The events waiting in the inbox for a reader (none with a handler).
    pub(crate) fn waiting(&self) -> usize {
        match self {
            Self::Inbox(writer) => writer.inbox().len(),
            Self::Handler(_) => 0,
        }
    }

    /// Wakes the readers for what was staged (the task is about to sleep or yield).
    pub(crate) fn wake_readers(&self) {
        if let Self::Inbox(writer) = self {
            writer.inbox().wake_readers();
        }
    }
}

impl InboxWriter {
    fn inbox(&self) -> &Inbox {
        self.shared.inbox.as_ref().expect("an inbox delivery has an inbox")
    }

    /// The count and bytes charged against the bounds: the inbox as this batch found it, plus
    /// the batch.
    #[inline]
    fn charged(&mut self) -> (usize, usize) {
        let (len, bytes) = *self
            .seen
            .get_or_insert_with(|| self.shared.inbox.as_ref().map_or((0, 0), Inbox::load));
        (len + self.batch.len(), bytes + self.batch_cost)
    }

    /// Adds a data message to the batch if it fits within both bounds; hands it back if not.
    #[inline]
    fn admit_within(&mut self, message: Message) -> Result<(), Message> {
        let cost = message_cost(&message);
        let charged = self.charged();
        if !self.inbox().fits(charged, cost, false) {
            return Err(message);
        }
        self.batch_cost += cost;
        self.batch.push(Delivered::Message(message));
        Ok(())
    }

    /// Adds `delivered` to the batch if it fits; holds it (and hands the batch over, so the
    /// reader can make room) if not. `true` when it was admitted.
    fn admit(&mut self, delivered: Delivered, overflow: bool) -> bool {
        let cost = delivered.cost();
        let charged = self.charged();
        if self.inbox().fits(charged, cost, overflow) {
            self.batch_cost += cost;
            self.batch.push(delivered);
            return true;
        }
        self.held = Some(Box::new(delivered));
        self.flush();
        false
    }

    /// Hands the batch to the readers and wakes them.
    fn flush(&mut self) {
        self.push(true);
    }

    fn push(&mut self, wake: bool) {
        if !self.batch.is_empty() {
            let cost = std::mem::take(&mut self.batch_cost);
            let inbox = self.shared.inbox.as_ref().expect("an inbox delivery has an inbox");
            inbox.push(&mut self.batch, cost, wake);
        }
        self.seen = None;
    }
}

impl Drop for InboxWriter {
    /// The task is gone: readers get what is left, then the end.
    fn drop(&mut self) {
        if let Some(held) = self.held.take() {
            self.batch_cost += held.cost();
            self.batch.push(*held);
        }
        self.flush();
        if let Some(inbox) = &self.shared.inbox {
            inbox.close();
        }
    }
}

/// Calls the handler with the event `make` builds, inside the call: a data message moves
/// once, straight into the handler's argument. (An event built first and then moved in is
/// read back right after it was written, a stall on every message; `docs/performance.md`
/// has the figures.) A panic in the handler is logged and the connection carries on.
#[inline]
fn call(handler: &HandlerCell, make: impl FnOnce() -> Event) {
    let handler = &handler.0;
    if catch_unwind(AssertUnwindSafe(move || handler(make()))).is_err() {
        tracing::error!("the message handler panicked; the connection carries on");
    }
}
