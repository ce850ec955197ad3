//! What a client handle asks of the connection task.

use serde_json::Value;
use tokio::sync::oneshot;

use crate::{error::Result, message::Message, rpc::RequestId, subscription::SubscriptionId};

/// One instruction from a [`Client`](crate::Client) handle; each carries its reply channel.
#[derive(Debug)]
pub(crate) enum Command {
    /// Write a data frame.
    Send { message: Message, ack: oneshot::Sender<Result<()>> },
    /// Write an encoded JSON-RPC request and answer with its response.
    Request { id: RequestId, frame: String, reply: oneshot::Sender<Result<Value>> },
    /// Subscribe through the configured protocol; answer once the server confirms.
    Subscribe {
        id: RequestId,
        frame: String,
        channels: Vec<String>,
        reply: oneshot::Sender<Result<SubscriptionId>>,
    },
    /// Unsubscribe a confirmed subscription.
    Unsubscribe { id: SubscriptionId, reply: oneshot::Sender<Result<()>> },
    /// Close with code 1000 and end the task.
    Close { done: oneshot::Sender<()> },
}

impl Command {
    /// Answers the command with `err` without doing it.
    pub(crate) fn refuse(self, err: impl FnOnce() -> crate::Error) {
        // A caller that stopped waiting no longer needs the answer.
        match self {
            Self::Send { ack, .. } => drop(ack.send(Err(err()))),
            Self::Request { reply, .. } => drop(reply.send(Err(err()))),
            Self::Subscribe { reply, .. } => drop(reply.send(Err(err()))),
            Self::Unsubscribe { reply, .. } => drop(reply.send(Err(err()))),
            Self::Close { done } => {
                let _ = done.send(());
            }
        }
    }
}
