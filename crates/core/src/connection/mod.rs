//! The connection task: answerable for the socket, its pending requests and subscriptions —
//! with a busy reader doing turns of its work on the reader's own thread (`drive`).
//!
//! The task never awaits a write: [`serve`] polls commands, the socket (reads and writes),
//! request deadlines, the heartbeat and the no-progress clock in one pass, so a peer that
//! stops reading cannot freeze anything else.

mod command;
mod delivery;
mod drive;
mod failure;
mod heartbeat;
mod inbound;
mod outbox;
mod pending;
mod queue;
mod reconnect;
mod replies;
mod serve;
mod subscriptions;
mod task;
mod writer;

pub(crate) use command::{Command, RequestCommand, SubscribeCommand, UnsubscribeCommand};
pub(crate) use drive::{Drive, ReplyClaim};
pub(crate) use queue::CommandQueue;
pub(crate) use task::spawn;
