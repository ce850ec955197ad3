//! What the server sends back: the `Reply` a handler returns, and the default handler.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::message::{ConnectionId, MessageKind, ReceivedMessage};
use crate::rpc::{RpcHandler, RpcReply, RpcRequest};

/// A data frame handed to a [`handler`](crate::MockServerBuilder::handler).
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// use zen_websocket_testing::{Incoming, MockServer, Reply};
///
/// let server = MockServer::builder()
///     .handler(|incoming: &Incoming| match incoming.message.text() {
///         Some("ping") => Reply::Text("pong".into()),
///         _ => Reply::Default,
///     })
///     .start()
///     .await?;
/// # drop(server);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    /// The connection the frame arrived on.
    pub connection: ConnectionId,
    /// The frame itself (also recorded in [`MockServer::received`](crate::MockServer::received)).
    pub message: ReceivedMessage,
}

/// How the server answers a data frame (or what [`MockServer::inject`] sends).
///
/// [`MockServer::inject`]: crate::MockServer::inject
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use serde_json::json;
/// use zen_websocket_testing::Reply;
///
/// // An acknowledgement now, the real answer 50 ms later.
/// let reply = Reply::Many(vec![
///     Reply::Json(json!({"ack": true})),
///     Reply::delayed(Duration::from_millis(50), Reply::Text("done".into())),
/// ]);
/// # drop(reply);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Reply {
    /// Send nothing.
    None,
    /// Send a text frame.
    Text(String),
    /// Send a binary frame.
    Binary(Vec<u8>),
    /// Send a text frame holding this JSON.
    Json(Value),
    /// Send each reply in order (a `Close` ends the list).
    Many(Vec<Reply>),
    /// Send the reply later, from a separate task, so replies can come out of order.
    Delayed(Duration, Box<Reply>),
    /// Close the connection gracefully with this code and reason (cut to 123 bytes).
    Close {
        /// The close code.
        code: u16,
        /// The close reason.
        reason: String,
    },
    /// Send a ping frame with this payload (at most 125 bytes); the client's pong is recorded as
    /// [`ServerEvent::Pong`](crate::ServerEvent::Pong).
    Ping(Vec<u8>),
    /// Do what the default handler does: a JSON-RPC request goes to the rpc handler, anything
    /// else is echoed back unchanged. Sends nothing when used with [`MockServer::inject`].
    ///
    /// [`MockServer::inject`]: crate::MockServer::inject
    Default,
}

impl Reply {
    /// A [`Reply::Delayed`] without the `Box::new`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use zen_websocket_testing::Reply;
    /// let reply = Reply::delayed(Duration::from_millis(10), Reply::Default);
    /// assert!(matches!(reply, Reply::Delayed(..)));
    /// ```
    pub fn delayed(delay: Duration, reply: Reply) -> Self {
        Self::Delayed(delay, Box::new(reply))
    }
}

/// A user's frame handler, shared between connection tasks.
#[derive(Clone)]
pub(crate) struct Handler(Arc<dyn Fn(&Incoming) -> Reply + Send + Sync>);

impl Handler {
    pub(crate) fn new<F>(handler: F) -> Self
    where
        F: Fn(&Incoming) -> Reply + Send + Sync + 'static,
    {
        Self(Arc::new(handler))
    }
}

impl fmt::Debug for Handler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Handler(<closure>)")
    }
}

/// Asks the handlers for the answer to `incoming`, with every [`Reply::Default`] resolved.
pub(crate) fn respond(
    incoming: &Incoming,
    handler: Option<&Handler>,
    rpc: Option<&RpcHandler>,
) -> Reply {
    let reply = handler.map_or(Reply::Default, |handler| (handler.0)(incoming));
    resolve(reply, incoming, rpc)
}

fn resolve(reply: Reply, incoming: &Incoming, rpc: Option<&RpcHandler>) -> Reply {
    match reply {
        Reply::Default => default_reply(incoming, rpc),
        Reply::Many(replies) => {
            Reply::Many(replies.into_iter().map(|r| resolve(r, incoming, rpc)).collect())
        }
        Reply::Delayed(delay, reply) => {
            Reply::Delayed(delay, Box::new(resolve(*reply, incoming, rpc)))
        }
        other => other,
    }
}

/// The default handler: JSON-RPC requests go to the rpc handler, everything else is echoed.
fn default_reply(incoming: &Incoming, rpc: Option<&RpcHandler>) -> Reply {
    match &incoming.message.kind {
        MessageKind::Text(text) => match RpcRequest::parse(incoming.connection, text) {
            Some(request) => {
                let answer = rpc.map_or(RpcReply::Default, |rpc| rpc.call(&request));
                answer.into_reply(&request)
            }
            None => Reply::Text(text.clone()),
        },
        MessageKind::Binary(bytes) => Reply::Binary(bytes.clone()),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use serde_json::json;

    use super::*;

    fn incoming(kind: MessageKind) -> Incoming {
        let connection = ConnectionId::new(1);
        Incoming { connection, message: ReceivedMessage { connection, kind, at: Instant::now() } }
    }

    #[test]
    fn default_echoes_text_and_binary() {
        let text = incoming(MessageKind::Text("hi".into()));
        assert_eq!(respond(&text, None, None), Reply::Text("hi".into()));
        let binary = incoming(MessageKind::Binary(vec![1]));
        assert_eq!(respond(&binary, None, None), Reply::Binary(vec![1]));
    }

    #[test]
    fn default_inside_many_and_delayed_is_resolved() {
        let handler = Handler::new(|_| {
            Reply::Many(vec![Reply::Default, Reply::delayed(Duration::ZERO, Reply::Default)])
        });
        let text = incoming(MessageKind::Text("x".into()));
        let expected = Reply::Many(vec![
            Reply::Text("x".into()),
            Reply::delayed(Duration::ZERO, Reply::Text("x".into())),
        ]);
        assert_eq!(respond(&text, Some(&handler), None), expected);
    }

    #[test]
    fn rpc_requests_go_to_the_rpc_handler() {
        let rpc = RpcHandler::new(|req| RpcReply::Result(json!(req.method)));
        let text = incoming(MessageKind::Text(r#"{"id":1,"method":"m"}"#.into()));
        let expected = Reply::Json(json!({"jsonrpc":"2.0","id":1,"result":"m"}));
        assert_eq!(respond(&text, None, Some(&rpc)), expected);
    }
}
