//! Hands events to the user — the inbox read by `recv`, or the message handler — with
//! back-pressure instead of loss, and within bounds by count and by bytes.

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    sync::Arc,
    task::Context,
};

use tokio::sync::mpsc;

use crate::{
    config::MessageHandler,
    event::Event,
    message::Message,
    monitor::{INBOX_ENTRY_BYTES, InboxGauge, Shared},
};

/// What a lifecycle event is charged against the inbox's byte bound.
const LIFECYCLE_BYTES: usize = 256;

/// An event in the inbox. Data messages are kept small (the channel allocates its slots in
/// blocks); the rare lifecycle events are boxed.
#[derive(Debug)]
pub(crate) enum Delivered {
    /// A data message.
    Message(Message),
    /// A lifecycle event.
    Lifecycle(Box<Event>),
}

impl Delivered {
    fn new(event: Event) -> Self {
        match event {
            Event::Message(message) => Self::Message(message),
            other => Self::Lifecycle(Box::new(other)),
        }
    }

    /// What this event is charged against the inbox bound.
    pub(crate) fn cost(&self) -> usize {
        match self {
            Self::Message(message) => message.len() + INBOX_ENTRY_BYTES,
            Self::Lifecycle(_) => LIFECYCLE_BYTES,
        }
    }

    pub(crate) fn into_event(self) -> Event {
        match self {
            Self::Message(message) => Event::Message(message),
            Self::Lifecycle(event) => *event,
        }
    }
}

/// The receiving side, held by the client handles.
pub(crate) type Inbox = mpsc::UnboundedReceiver<Delivered>;

/// Where events go.
#[derive(Debug)]
pub(crate) enum Delivery {
    /// Into the inbox, bounded by the shared inbox gauge.
    Inbox(InboxWriter),
    /// Straight to the user's callback, on the connection task.
    Handler(HandlerCell),
}

/// The connection task's end of the inbox.
#[derive(Debug)]
pub(crate) struct InboxWriter {
    sender: mpsc::UnboundedSender<Delivered>,
    shared: Arc<Shared>,
    /// A data message that found no room; reading pauses until it is delivered.
    held: Option<Delivered>,
}

/// The user's callback, with a `Debug` that does not try to print a closure.
pub(crate) struct HandlerCell(pub(crate) MessageHandler);

impl std::fmt::Debug for HandlerCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HandlerCell(..)")
    }
}

impl Delivery {
    /// An inbox bounded by `shared`'s inbox gauge, and its receiver.
    pub(crate) fn inbox(shared: Arc<Shared>) -> (Self, Inbox) {
        let (sender, receiver) = mpsc::unbounded_channel();
        (Self::Inbox(InboxWriter { sender, shared, held: None }), receiver)
    }

    /// `true` while a data message waits for room: the socket is not read meanwhile.
    pub(crate) fn is_paused(&self) -> bool {
        matches!(self, Self::Inbox(InboxWriter { held: Some(_), .. }))
    }

    /// Delivers a data message, or holds it until there is room (see
    /// [`Self::poll_room`]); returns `true` when it had to be held. With `awaiting` (a reply
    /// or heartbeat is expected) the count bound may be passed, never the byte bound.
    pub(crate) fn message(&mut self, message: Message, awaiting: bool) -> bool {
        match self {
            Self::Handler(handler) => {
                call(handler, Event::Message(message));
                false
            }
            Self::Inbox(inbox) => {
                let delivered = Delivered::Message(message);
                if inbox.gauge().try_admit(delivered.cost(), awaiting) {
                    drop(inbox.sender.send(delivered));
                    false
                } else {
                    inbox.held = Some(delivered);
                    true
                }
            }
        }
    }

    /// Delivers the held message once there is room; `true` when it went (or nothing was
    /// held). Registers the task to be woken when the reader makes room.
    pub(crate) fn poll_room(&mut self, cx: &mut Context<'_>, awaiting: bool) -> bool {
        let Self::Inbox(inbox) = self else { return true };
        let Some(held) = inbox.held.take() else { return true };
        let gauge = inbox.gauge();
        let cost = held.cost();
        let mut admitted = gauge.try_admit(cost, awaiting);
        if !admitted {
            gauge.wait(cx);
            admitted = gauge.try_admit(cost, awaiting);
        }
        if admitted {
            gauge.stop_waiting();
            drop(inbox.sender.send(held));
        } else {
            inbox.held = Some(held);
        }
        admitted
    }

    /// Delivers a lifecycle event at once (after any held message, to keep the order): these
    /// are few and never wait.
    pub(crate) fn lifecycle(&mut self, event: Event) {
        match self {
            Self::Handler(handler) => call(handler, event),
            Self::Inbox(inbox) => {
                for delivered in inbox.held.take().into_iter().chain([Delivered::new(event)]) {
                    inbox.gauge().force(delivered.cost());
                    // A closed inbox means every handle is gone: nobody is left to tell.
                    drop(inbox.sender.send(delivered));
                }
            }
        }
    }
}

impl InboxWriter {
    fn gauge(&self) -> &InboxGauge {
        self.shared.inbox.as_ref().expect("an inbox delivery has an inbox gauge")
    }
}

fn call(handler: &HandlerCell, event: Event) {
    if std::thread::panicking() {
        // Unwinding already: a second panic from the handler would abort the process.
        return;
    }
    if catch_unwind(AssertUnwindSafe(|| (handler.0)(event))).is_err() {
        tracing::error!("the message handler panicked; the connection carries on");
    }
}
