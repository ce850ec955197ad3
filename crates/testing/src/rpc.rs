//! JSON-RPC requests the server recognises, the replies a handler can give, and the defaults.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::message::ConnectionId;
use crate::reply::Reply;

/// The version [`RpcReply::Default`] reports for `public/test`.
const TEST_VERSION: &str = "1.2.26";

/// A JSON-RPC request a client sent: a text frame holding a JSON object with a string
/// `"method"` and a number or string `"id"`.
///
/// # Examples
///
/// ```
/// use serde_json::json;
/// use zen_websocket_testing::{ConnectionId, RpcRequest};
///
/// let request = RpcRequest {
///     connection: ConnectionId::new(1),
///     id: json!(7),
///     method: "public/get_time".into(),
///     params: json!({}),
///     raw: r#"{"id":7,"method":"public/get_time","params":{}}"#.into(),
/// };
/// assert_eq!(request.method, "public/get_time");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RpcRequest {
    /// The connection the request arrived on.
    pub connection: ConnectionId,
    /// The request id, as sent (a number or a string); replies echo it verbatim.
    pub id: Value,
    /// The method name, for example `public/subscribe`.
    pub method: String,
    /// The `"params"` member, or [`Value::Null`] when absent.
    pub params: Value,
    /// The text frame exactly as received.
    pub raw: String,
}

impl RpcRequest {
    /// Parses a text frame; `None` when it is not a JSON-RPC request.
    pub(crate) fn parse(connection: ConnectionId, text: &str) -> Option<Self> {
        let value: Value = serde_json::from_str(text).ok()?;
        let object = value.as_object()?;
        let method = object.get("method")?.as_str()?.to_owned();
        let id = object.get("id").filter(|id| id.is_number() || id.is_string())?.clone();
        let params = object.get("params").cloned().unwrap_or(Value::Null);
        Some(Self { connection, id, method, params, raw: text.to_owned() })
    }
}

/// How the server answers a [`RpcRequest`]; returned by an
/// [`rpc_handler`](crate::MockServerBuilder::rpc_handler).
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// use std::time::Duration;
/// use serde_json::json;
/// use zen_websocket_testing::{MockServer, RpcReply};
///
/// let server = MockServer::builder()
///     .rpc_handler(|request| match request.method.as_str() {
///         "public/get_time" => RpcReply::Result(json!(1_700_000_000_000_u64)),
///         "private/buy" => RpcReply::error(13009, "unauthorized"),
///         "public/slow" => RpcReply::delayed(Duration::from_millis(50), RpcReply::Default),
///         "public/black_hole" => RpcReply::None,
///         _ => RpcReply::Default,
///     })
///     .start()
///     .await?;
/// # drop(server);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum RpcReply {
    /// Answer `{"jsonrpc":"2.0","id":…,"result":<value>}`.
    Result(Value),
    /// Answer `{"jsonrpc":"2.0","id":…,"error":{"code":…,"message":…,"data":…}}`
    /// (`data` omitted when `None`).
    Error {
        /// The JSON-RPC error code.
        code: i64,
        /// The error message.
        message: String,
        /// Extra error data.
        data: Option<Value>,
    },
    /// Never answer: for request-timeout tests.
    None,
    /// Answer later, from a separate task, so answers can arrive out of order.
    Delayed(Duration, Box<RpcReply>),
    /// Do what the default rpc handler does: a method ending in `/subscribe` or
    /// `/unsubscribe` answers `params.channels` (or `[]`), `public/test` answers
    /// `{"version":"1.2.26"}`, and anything else echoes `params` as the result.
    Default,
}

impl RpcReply {
    /// An [`RpcReply::Error`] without data.
    ///
    /// # Examples
    ///
    /// ```
    /// # use zen_websocket_testing::RpcReply;
    /// let reply = RpcReply::error(10028, "too_many_requests");
    /// assert!(matches!(reply, RpcReply::Error { code: 10028, data: None, .. }));
    /// ```
    pub fn error(code: i64, message: impl Into<String>) -> Self {
        Self::Error { code, message: message.into(), data: None }
    }

    /// An [`RpcReply::Delayed`] without the `Box::new`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use zen_websocket_testing::RpcReply;
    /// let reply = RpcReply::delayed(Duration::from_millis(10), RpcReply::Default);
    /// assert!(matches!(reply, RpcReply::Delayed(..)));
    /// ```
    pub fn delayed(delay: Duration, reply: RpcReply) -> Self {
        Self::Delayed(delay, Box::new(reply))
    }

    /// Turns the answer into frames for `request`, resolving [`RpcReply::Default`].
    pub(crate) fn into_reply(self, request: &RpcRequest) -> Reply {
        match self {
            Self::Result(result) => {
                Reply::Json(json!({"jsonrpc": "2.0", "id": request.id, "result": result}))
            }
            Self::Error { code, message, data } => {
                let mut error = Map::new();
                error.insert("code".into(), code.into());
                error.insert("message".into(), message.into());
                if let Some(data) = data {
                    error.insert("data".into(), data);
                }
                Reply::Json(json!({"jsonrpc": "2.0", "id": request.id, "error": error}))
            }
            Self::None => Reply::None,
            Self::Delayed(delay, reply) => {
                Reply::Delayed(delay, Box::new(reply.into_reply(request)))
            }
            Self::Default => default_rpc_reply(request).into_reply(request),
        }
    }
}

/// The answer of the default rpc handler.
fn default_rpc_reply(request: &RpcRequest) -> RpcReply {
    let method = request.method.as_str();
    if method.ends_with("/subscribe") || method.ends_with("/unsubscribe") {
        let channels = request.params.get("channels").filter(|c| c.is_array());
        RpcReply::Result(channels.cloned().unwrap_or_else(|| json!([])))
    } else if method == "public/test" {
        RpcReply::Result(json!({"version": TEST_VERSION}))
    } else {
        RpcReply::Result(request.params.clone())
    }
}

/// A user's rpc handler, shared between connection tasks.
#[derive(Clone)]
pub(crate) struct RpcHandler(Arc<dyn Fn(&RpcRequest) -> RpcReply + Send + Sync>);

impl RpcHandler {
    pub(crate) fn new<F>(handler: F) -> Self
    where
        F: Fn(&RpcRequest) -> RpcReply + Send + Sync + 'static,
    {
        Self(Arc::new(handler))
    }

    pub(crate) fn call(&self, request: &RpcRequest) -> RpcReply {
        (self.0)(request)
    }
}

impl fmt::Debug for RpcHandler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RpcHandler(<closure>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(text: &str) -> Option<RpcRequest> {
        RpcRequest::parse(ConnectionId::new(1), text)
    }

    fn answer(text: &str) -> Reply {
        let req = request(text).expect("a request");
        RpcReply::Default.into_reply(&req)
    }

    #[test]
    fn parse_requires_method_and_id() {
        assert!(request(r#"{"method":"a","id":1}"#).is_some());
        assert!(request(r#"{"method":"a","id":"x"}"#).is_some());
        assert!(request(r#"{"method":"a"}"#).is_none());
        assert!(request(r#"{"method":"a","id":null}"#).is_none());
        assert!(request(r#"{"method":1,"id":1}"#).is_none());
        assert!(request(r#"[1]"#).is_none());
        assert!(request("hello").is_none());
        assert_eq!(request(r#"{"method":"a","id":1}"#).map(|r| r.params), Some(Value::Null));
    }

    #[test]
    fn default_answers() {
        let sub = r#"{"id":1,"method":"private/subscribe","params":{"channels":["a"]}}"#;
        assert_eq!(answer(sub), Reply::Json(json!({"jsonrpc":"2.0","id":1,"result":["a"]})));
        let unsub = r#"{"id":2,"method":"public/unsubscribe"}"#;
        assert_eq!(answer(unsub), Reply::Json(json!({"jsonrpc":"2.0","id":2,"result":[]})));
        let test = r#"{"id":"t","method":"public/test"}"#;
        let version = json!({"jsonrpc":"2.0","id":"t","result":{"version":"1.2.26"}});
        assert_eq!(answer(test), Reply::Json(version));
        let other = r#"{"id":3,"method":"x","params":{"k":1}}"#;
        assert_eq!(answer(other), Reply::Json(json!({"jsonrpc":"2.0","id":3,"result":{"k":1}})));
    }

    #[test]
    fn error_with_and_without_data() {
        let req = request(r#"{"id":1,"method":"x"}"#).expect("a request");
        let plain = RpcReply::error(1, "bad").into_reply(&req);
        let expected = json!({"jsonrpc":"2.0","id":1,"error":{"code":1,"message":"bad"}});
        assert_eq!(plain, Reply::Json(expected));
        let data = RpcReply::Error { code: 2, message: "m".into(), data: Some(json!(5)) };
        let expected = json!({"jsonrpc":"2.0","id":1,"error":{"code":2,"message":"m","data":5}});
        assert_eq!(data.into_reply(&req), Reply::Json(expected));
    }
}
