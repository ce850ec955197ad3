//! JSON-RPC 2.0 framing: request ids, encoding requests, and peeking at responses.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Value, value::RawValue};

use crate::error::{Error, Result};

/// The `id` of a JSON-RPC request: a number or a string, echoed verbatim by the server.
///
/// Ids the client generates are numbers counting up from 1; supply your own with
/// [`Client::request_with_id`](crate::Client::request_with_id).
///
/// # Examples
///
/// ```
/// use zen_websocket_core::RequestId;
///
/// assert_eq!(RequestId::from(7).to_string(), "7");
/// assert_eq!(RequestId::from("auth-1").to_string(), "\"auth-1\"");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RequestId {
    /// A numeric id.
    Number(u64),
    /// A string id.
    String(String),
}

impl From<u64> for RequestId {
    fn from(id: u64) -> Self {
        Self::Number(id)
    }
}

impl From<&str> for RequestId {
    fn from(id: &str) -> Self {
        Self::String(id.to_owned())
    }
}

impl From<String> for RequestId {
    fn from(id: String) -> Self {
        Self::String(id)
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Number(id) => write!(f, "{id}"),
            Self::String(id) => write!(f, "{id:?}"),
        }
    }
}

/// Encodes `{"jsonrpc":"2.0","id":…,"method":…,"params":…}`.
pub(crate) fn encode_request<P: Serialize>(
    id: &RequestId,
    method: &str,
    params: P,
) -> Result<String> {
    #[derive(Serialize)]
    struct Request<'a, P> {
        jsonrpc: &'static str,
        id: &'a RequestId,
        method: &'a str,
        params: P,
    }
    let request = Request { jsonrpc: "2.0", id, method, params };
    Ok(serde_json::to_string(&request)?)
}

/// The parts of an inbound frame that decide whether it answers a pending request.
#[derive(Debug, Deserialize)]
pub(crate) struct Response<'a> {
    pub(crate) id: RequestId,
    /// `Some` whenever the member is there, `null` included (Binance confirms with it).
    #[serde(borrow, default, deserialize_with = "present")]
    result: Option<&'a RawValue>,
    #[serde(default)]
    error: Option<ErrorBody>,
    /// A request from the server carries one; a response never does.
    #[serde(borrow, default)]
    method: Option<&'a RawValue>,
}

/// Reads a member that is present, whatever its value.
fn present<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(deserializer).map(Some)
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    code: i64,
    #[serde(default, alias = "msg")]
    message: String,
    #[serde(default)]
    data: Option<Value>,
}

impl<'a> Response<'a> {
    /// Reads a response — an object with an `id` and a `result` or `error` member, and no
    /// `method` — cheaply ruling out frames that cannot be one.
    ///
    /// Only called while something waits for a response; data messages without a top-level
    /// `"id"` cost one substring search.
    pub(crate) fn peek(text: &'a str) -> Option<Self> {
        if !text.trim_start().starts_with('{') || !text.contains("\"id\"") {
            return None;
        }
        let response: Self = serde_json::from_str(text).ok()?;
        let answers = response.result.is_some() || response.error.is_some();
        (answers && response.method.is_none()).then_some(response)
    }

    /// `Err(Error::JsonRpc)` when the response carries an `error` object.
    pub(crate) fn check_error(&mut self) -> Result<()> {
        match self.error.take() {
            Some(error) => {
                Err(Error::JsonRpc { code: error.code, message: error.message, data: error.data })
            }
            None => Ok(()),
        }
    }

    /// The `result` value, or the `error` object as [`Error::JsonRpc`].
    pub(crate) fn into_result(mut self) -> Result<Value> {
        self.check_error()?;
        match self.result {
            Some(raw) => Ok(serde_json::from_str(raw.get())?),
            None => Ok(Value::Null),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_encode_with_version_id_method_and_params() {
        let text =
            encode_request(&RequestId::from(3), "public/test", serde_json::json!({})).unwrap();
        assert_eq!(text, r#"{"jsonrpc":"2.0","id":3,"method":"public/test","params":{}}"#);
    }

    #[test]
    fn responses_yield_results_and_errors() {
        let ok = Response::peek(r#"{"jsonrpc":"2.0","id":"a","result":[1]}"#).unwrap();
        assert_eq!(ok.id, RequestId::from("a"));
        assert_eq!(ok.into_result().unwrap(), serde_json::json!([1]));

        let text = r#"{"id":9,"error":{"code":-32601,"message":"Method not found"}}"#;
        let err = Response::peek(text).unwrap().into_result().unwrap_err();
        assert!(matches!(err, Error::JsonRpc { code: -32601, .. }));
    }

    #[test]
    fn null_results_and_non_responses_are_told_apart() {
        let null = Response::peek(r#"{"result":null,"id":1}"#).unwrap();
        assert_eq!(null.into_result().unwrap(), Value::Null);
        assert!(Response::peek(r#"{"method":"subscription","params":{}}"#).is_none());
        assert!(Response::peek("[1,2,3]").is_none());
        assert!(Response::peek(r#"{"id": -4}"#).is_none());
        // Data that happens to carry an id, and a request from the server, are not answers.
        assert!(Response::peek(r#"{"id":3,"price":101.5}"#).is_none());
        assert!(Response::peek(r#"{"id":3,"method":"x","params":{},"result":1}"#).is_none());
    }
}
