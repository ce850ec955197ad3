//! What a client handle asks of the connection task.

use serde_json::Value;
use tokio::{sync::oneshot, time::Instant};

use crate::{error::Result, message::Message, rpc::RequestId, subscription::SubscriptionId};

/// One instruction from a [`Client`](crate::Client) handle; each carries its reply channel.
/// Closing is not a command: it travels outside the queue (see `CloseSignal`), so a full queue
/// never holds it up.
#[derive(Debug)]
pub(crate) enum Command {
    /// Write a data frame.
    Send { message: Message, ack: oneshot::Sender<Result<()>> },
    /// Write an encoded JSON-RPC request and answer with its response (boxed, like
    /// `Subscribe`, so the channel's slots stay the size of a `Send`).
    Request(Box<RequestCommand>),
    /// Subscribe through the configured protocol; answer once the server confirms.
    Subscribe(Box<SubscribeCommand>),
    /// Unsubscribe a confirmed subscription.
    Unsubscribe(Box<UnsubscribeCommand>),
}

/// A JSON-RPC request ready to write.
#[derive(Debug)]
pub(crate) struct RequestCommand {
    pub(crate) id: RequestId,
    pub(crate) frame: String,
    pub(crate) reply: oneshot::Sender<Result<Value>>,
    /// When the caller's `request_timeout` runs out.
    pub(crate) deadline: Instant,
}

/// A subscribe request ready to write, with the channels it must confirm.
#[derive(Debug)]
pub(crate) struct SubscribeCommand {
    pub(crate) id: RequestId,
    pub(crate) frame: String,
    pub(crate) channels: Vec<String>,
    pub(crate) reply: oneshot::Sender<Result<SubscriptionId>>,
    pub(crate) deadline: Instant,
}

/// An unsubscribe of a confirmed subscription.
#[derive(Debug)]
pub(crate) struct UnsubscribeCommand {
    pub(crate) id: SubscriptionId,
    pub(crate) reply: oneshot::Sender<Result<()>>,
    pub(crate) deadline: Instant,
}

impl Command {
    /// Answers the command with `err` without doing it.
    pub(crate) fn refuse(self, err: impl FnOnce() -> crate::Error) {
        // A caller that stopped waiting no longer needs the answer.
        match self {
            Self::Send { ack, .. } => drop(ack.send(Err(err()))),
            Self::Request(request) => drop(request.reply.send(Err(err()))),
            Self::Subscribe(subscribe) => drop(subscribe.reply.send(Err(err()))),
            Self::Unsubscribe(unsubscribe) => drop(unsubscribe.reply.send(Err(err()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_stay_small_so_channel_blocks_do() {
        // tokio allocates channel slots 32 at a time for every connection.
        assert!(size_of::<Command>() <= 48, "{}", size_of::<Command>());
        assert!(
            size_of::<crate::inbox::Delivered>() <= 48,
            "{}",
            size_of::<crate::inbox::Delivered>()
        );
    }
}
