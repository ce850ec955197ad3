//! Hands events to the user — the inbox read by `recv`, or the message handler — with
//! back-pressure instead of loss.

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    sync::Arc,
};

use tokio::sync::mpsc;

use crate::{config::MessageHandler, event::Event, message::Message, monitor::Shared};

/// An event in the inbox. Data messages are kept small (the channel allocates its slots in
/// blocks); the rare lifecycle events are boxed.
#[derive(Debug)]
pub(crate) enum Delivered {
    /// A data message holding one of the inbox's slots.
    Message(Message),
    /// A data message past the bound (delivered while closing), holding no slot.
    Unbounded(Message),
    /// A lifecycle event.
    Lifecycle(Box<Event>),
}

impl Delivered {
    fn unbounded(event: Event) -> Self {
        match event {
            Event::Message(message) => Self::Unbounded(message),
            other => Self::Lifecycle(Box::new(other)),
        }
    }

    /// The event, and whether it held an inbox slot.
    pub(crate) fn into_event(self) -> (Event, bool) {
        match self {
            Self::Message(message) => (Event::Message(message), true),
            Self::Unbounded(message) => (Event::Message(message), false),
            Self::Lifecycle(event) => (*event, false),
        }
    }
}

/// A data message held back until the inbox has room.
fn into_message(event: Event) -> Delivered {
    match event {
        Event::Message(message) => Delivered::Message(message),
        other => Delivered::Lifecycle(Box::new(other)),
    }
}

/// The receiving side, held by the client handles.
pub(crate) type Inbox = mpsc::UnboundedReceiver<Delivered>;

/// Where events go.
#[derive(Debug)]
pub(crate) enum Delivery {
    /// Into the inbox; data messages are bounded by the shared inbox gauge.
    Inbox { sender: mpsc::UnboundedSender<Delivered>, shared: Arc<Shared>, stash: Option<Event> },
    /// Straight to the user's callback, on the connection task.
    Handler(HandlerCell),
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
        (Self::Inbox { sender, shared, stash: None }, receiver)
    }

    /// `true` while a data message waits for room: the socket is not read meanwhile.
    pub(crate) fn is_blocked(&self) -> bool {
        matches!(self, Self::Inbox { stash: Some(_), .. })
    }

    /// Delivers a data message, or keeps it until there is room (see [`Self::wait_for_room`]);
    /// returns `true` when it had to be kept.
    pub(crate) fn message(&mut self, event: Event) -> bool {
        match self {
            Self::Handler(handler) => {
                call(handler, event);
                false
            }
            Self::Inbox { sender, shared, stash } => {
                if shared.inbox.as_ref().is_some_and(|inbox| inbox.try_take()) {
                    drop(sender.send(into_message(event)));
                    false
                } else {
                    *stash = Some(event);
                    true
                }
            }
        }
    }

    /// Delivers a lifecycle event (or a message while closing) at once, past the bound: these
    /// are few and never wait.
    pub(crate) fn lifecycle(&mut self, event: Event) {
        self.flush_stash();
        match self {
            Self::Handler(handler) => call(handler, event),
            // A closed inbox means every handle is gone: nobody is left to tell.
            Self::Inbox { sender, .. } => drop(sender.send(Delivered::unbounded(event))),
        }
    }

    /// Waits for inbox room and delivers the kept message. Cancel safe.
    pub(crate) async fn wait_for_room(&mut self) {
        let Self::Inbox { sender, shared, stash } = self else {
            return;
        };
        let Some(inbox) = shared.inbox.as_ref() else {
            return;
        };
        inbox.take().await;
        match stash.take() {
            Some(event) => drop(sender.send(into_message(event))),
            None => inbox.release(),
        }
    }

    /// Pushes a kept message past the bound; used when the connection ends, so nothing is lost.
    fn flush_stash(&mut self) {
        if let Self::Inbox { sender, stash, .. } = self
            && let Some(event) = stash.take()
        {
            drop(sender.send(Delivered::unbounded(event)));
        }
    }
}

fn call(handler: &HandlerCell, event: Event) {
    if catch_unwind(AssertUnwindSafe(|| (handler.0)(event))).is_err() {
        tracing::error!("the message handler panicked; the connection carries on");
    }
}
