//! Hands events to the user — the inbox read by `recv`, or the message handler — with
//! back-pressure instead of loss.

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    sync::{Arc, atomic::Ordering},
};

use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

use crate::{config::MessageHandler, event::Event, monitor::Shared};

/// An event in the inbox; a data message holds one unit of inbox capacity until it is read.
pub(crate) type Delivered = (Event, Option<OwnedSemaphorePermit>);

/// The receiving side, held by the client handles.
pub(crate) type Inbox = mpsc::UnboundedReceiver<Delivered>;

/// Where events go.
#[derive(Debug)]
pub(crate) enum Delivery {
    /// Into the inbox; data messages are limited by `room`, lifecycle events are not.
    Inbox {
        sender: mpsc::UnboundedSender<Delivered>,
        room: Arc<Semaphore>,
        stash: Option<Event>,
        shared: Arc<Shared>,
    },
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
    /// An inbox limited by `room` (shared with the monitors), and its receiver.
    pub(crate) fn inbox(room: Arc<Semaphore>, shared: Arc<Shared>) -> (Self, Inbox) {
        let (sender, receiver) = mpsc::unbounded_channel();
        (
            Self::Inbox {
                sender,
                room,
                stash: None,
                shared,
            },
            receiver,
        )
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
            Self::Inbox {
                sender,
                room,
                stash,
                shared,
            } => {
                count_in(shared, &event);
                match Arc::clone(room).try_acquire_owned() {
                    Ok(permit) => drop(sender.send((event, Some(permit)))),
                    Err(_) => *stash = Some(event),
                }
                stash.is_some()
            }
        }
    }

    /// Delivers a lifecycle event (or a message while closing) at once, past the limit: these
    /// are few and never wait.
    pub(crate) fn lifecycle(&mut self, event: Event) {
        self.flush_stash();
        match self {
            Self::Handler(handler) => call(handler, event),
            Self::Inbox { sender, shared, .. } => {
                count_in(shared, &event);
                // A closed inbox means every handle is gone: nobody is left to tell.
                drop(sender.send((event, None)));
            }
        }
    }

    /// Waits for inbox room and delivers the kept message. Cancel safe.
    pub(crate) async fn wait_for_room(&mut self) {
        let Self::Inbox {
            sender,
            room,
            stash,
            ..
        } = self
        else {
            return;
        };
        let Ok(permit) = Arc::clone(room).acquire_owned().await else {
            return;
        };
        if let Some(event) = stash.take() {
            drop(sender.send((event, Some(permit))));
        }
    }

    /// Pushes a kept message past the limit; used when the connection ends, so nothing is lost.
    fn flush_stash(&mut self) {
        if let Self::Inbox { sender, stash, .. } = self
            && let Some(event) = stash.take()
        {
            drop(sender.send((event, None)));
        }
    }
}

/// Adds a message's bytes to the inbox estimate ([`Client::recv`](crate::Client::recv) takes
/// them off).
fn count_in(shared: &Shared, event: &Event) {
    if let Event::Message(message) = event {
        shared
            .inbox_bytes
            .fetch_add(message.len(), Ordering::Relaxed);
    }
}

fn call(handler: &HandlerCell, event: Event) {
    if catch_unwind(AssertUnwindSafe(|| (handler.0)(event))).is_err() {
        tracing::error!("the message handler panicked; the connection carries on");
    }
}
