//! The connection task: the one owner of the socket, its pending requests and subscriptions.

mod command;
mod delivery;
mod failure;
mod heartbeat;
mod pending;
mod reconnect;
mod subscriptions;
mod task;

pub(crate) use command::{Command, RequestCommand, SubscribeCommand};
pub(crate) use delivery::{Delivered, Inbox};
pub(crate) use task::spawn;
