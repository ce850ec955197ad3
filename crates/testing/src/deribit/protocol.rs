//! Deribit's JSON-RPC framing: parsing requests, and the responses, errors, notifications and
//! heartbeats the simulator writes.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

/// The API version `public/test` and `public/hello` report.
pub(crate) const API_VERSION: &str = "1.2.26";
/// The largest request frame Deribit accepts; larger ones get `-32600`.
pub(crate) const MAX_REQUEST_BYTES: usize = 32 * 1024;

/// A JSON-RPC error, with Deribit's codes and messages (the facts' complete error table).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RpcError {
    pub(crate) code: i64,
    pub(crate) message: &'static str,
    pub(crate) data: Option<Value>,
}

impl RpcError {
    const fn new(code: i64, message: &'static str) -> Self {
        Self { code, message, data: None }
    }

    /// `-32602 Invalid params` with `data: {reason, param}`, as real servers send it.
    pub(crate) fn invalid_params(reason: impl Into<String>, param: &str) -> Self {
        let data = json!({"reason": reason.into(), "param": param});
        Self { data: Some(data), ..Self::new(-32602, "Invalid params") }
    }

    /// `-32000 Missing params` for a required param the request left out.
    pub(crate) fn missing(param: &str) -> Self {
        let data = json!({"reason": "must be present", "param": param});
        Self { data: Some(data), ..Self::new(-32000, "Missing params") }
    }

    pub(crate) const fn parse_error() -> Self {
        Self::new(-32700, "Parse error")
    }

    pub(crate) const fn method_not_found() -> Self {
        Self::new(-32601, "Method not found")
    }

    pub(crate) const fn too_large() -> Self {
        Self::new(-32600, "request entity too large")
    }

    pub(crate) fn bad_request(reason: &str) -> Self {
        Self { data: Some(json!({"reason": reason})), ..Self::new(11050, "bad_request") }
    }

    pub(crate) const fn order_not_found() -> Self {
        Self::new(10004, "order_not_found")
    }

    pub(crate) const fn too_many_requests() -> Self {
        Self::new(10028, "too_many_requests")
    }

    pub(crate) const fn internal_server_error() -> Self {
        Self::new(11094, "internal_server_error")
    }

    pub(crate) const fn invalid_credentials() -> Self {
        Self::new(13004, "invalid_credentials")
    }

    pub(crate) const fn unauthorized() -> Self {
        Self::new(13009, "unauthorized")
    }

    pub(crate) const fn raw_unauthorized() -> Self {
        Self::new(13778, "raw_subscriptions_not_available_for_unauthorized")
    }

    fn to_json(&self) -> Value {
        let mut error = Map::new();
        error.insert("code".into(), self.code.into());
        error.insert("message".into(), self.message.into());
        if let Some(data) = &self.data {
            error.insert("data".into(), data.clone());
        }
        Value::Object(error)
    }
}

/// A well-formed request: an object with a string `method`. `id` is [`Value::Null`] when the
/// client left it out (the request is then refused, but still recorded).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Request {
    pub(crate) id: Value,
    pub(crate) method: String,
    /// The `params` object; `{}` when absent or `null`.
    pub(crate) params: Value,
}

/// Why a frame is not a usable request; `id` is echoed when it could be read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Refusal {
    pub(crate) id: Value,
    pub(crate) error: RpcError,
    /// The request, when the frame had a method (so it is recorded).
    pub(crate) request: Option<Request>,
}

/// Parses one text frame. Batches, positional params, missing ids and oversized frames are
/// refused, as Deribit refuses them.
pub(crate) fn parse(text: &str) -> Result<Request, Box<Refusal>> {
    let refuse = |id: Value, error, request| Err(Box::new(Refusal { id, error, request }));
    let Ok(value) = serde_json::from_str::<Value>(text) else {
        return refuse(Value::Null, RpcError::parse_error(), None);
    };
    let Some(object) = value.as_object() else {
        let error = if value.is_array() {
            RpcError::bad_request("batch requests are not supported")
        } else {
            RpcError::bad_request("a request is a JSON object")
        };
        return refuse(Value::Null, error, None);
    };
    let id = object.get("id").filter(|id| id.is_number() || id.is_string()).cloned();
    let echo = id.clone().unwrap_or(Value::Null);
    let Some(method) = object.get("method").and_then(Value::as_str) else {
        return refuse(echo, RpcError::method_not_found(), None);
    };
    let params = match object.get("params") {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(params) => params.clone(),
    };
    let request = Request { id: echo.clone(), method: method.to_owned(), params };
    if text.len() > MAX_REQUEST_BYTES {
        return refuse(echo, RpcError::too_large(), Some(request));
    }
    if id.is_none() {
        return refuse(echo, RpcError::bad_request("a request needs an id"), Some(request));
    }
    if !request.params.is_object() {
        let error = RpcError::invalid_params("params must be an object", "params");
        return refuse(echo, error, Some(request));
    }
    Ok(request)
}

/// A required string param.
pub(crate) fn required_str<'a>(params: &'a Value, name: &str) -> Result<&'a str, RpcError> {
    optional_str(params, name)?.ok_or_else(|| RpcError::missing(name))
}

/// An optional string param (`null` counts as absent).
pub(crate) fn optional_str<'a>(params: &'a Value, name: &str) -> Result<Option<&'a str>, RpcError> {
    match params.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(RpcError::invalid_params("must be a string", name)),
    }
}

/// A required number param; a numeric string is taken too (some clients send them).
pub(crate) fn required_number(params: &Value, name: &str) -> Result<f64, RpcError> {
    optional_number(params, name)?.ok_or_else(|| RpcError::missing(name))
}

/// An optional number param (finite; a numeric string is taken too).
pub(crate) fn optional_number(params: &Value, name: &str) -> Result<Option<f64>, RpcError> {
    let number = match params.get(name) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(number)) => number.as_f64(),
        Some(Value::String(text)) => text.parse::<f64>().ok(),
        Some(_) => None,
    };
    match number.filter(|number| number.is_finite()) {
        Some(number) => Ok(Some(number)),
        None => Err(RpcError::invalid_params("must be a number", name)),
    }
}

/// An optional boolean param; `false` when absent.
pub(crate) fn optional_bool(params: &Value, name: &str) -> Result<bool, RpcError> {
    match params.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(flag)) => Ok(*flag),
        Some(_) => Err(RpcError::invalid_params("must be a boolean", name)),
    }
}

/// Microseconds since the Unix epoch.
pub(crate) fn now_micros() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64)
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_millis() -> u64 {
    now_micros() / 1000
}

/// A response frame: `result` or `error`, plus `usIn`, `usOut`, `usDiff` and `testnet`.
pub(crate) fn response(id: &Value, outcome: &Result<Value, RpcError>, us_in: u64) -> String {
    let us_out = now_micros().max(us_in);
    let mut frame = Map::new();
    frame.insert("jsonrpc".into(), "2.0".into());
    frame.insert("id".into(), id.clone());
    match outcome {
        Ok(result) => frame.insert("result".into(), result.clone()),
        Err(error) => frame.insert("error".into(), error.to_json()),
    };
    frame.insert("usIn".into(), us_in.into());
    frame.insert("usOut".into(), us_out.into());
    frame.insert("usDiff".into(), (us_out - us_in).into());
    frame.insert("testnet".into(), true.into());
    Value::Object(frame).to_string()
}

/// A subscription notification: `method: "subscription"`, `params: {channel, data}`.
pub(crate) fn notification(channel: &str, data: &Value) -> String {
    let params = json!({"channel": channel, "data": data});
    json!({"jsonrpc": "2.0", "method": "subscription", "params": params}).to_string()
}

/// A heartbeat notice: `method: "heartbeat"`, `params: {type}` (`heartbeat` or `test_request`).
pub(crate) fn heartbeat(kind: &str) -> String {
    json!({"jsonrpc": "2.0", "method": "heartbeat", "params": {"type": kind}}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> Refusal {
        *parse(text).expect_err("refused")
    }

    #[test]
    fn parses_requests_without_jsonrpc() {
        let request = parse(r#"{"id":"a-1","method":"public/test"}"#).expect("a request");
        assert_eq!(request.id, json!("a-1"));
        assert_eq!(request.params, json!({}));
    }

    #[test]
    fn refuses_what_deribit_refuses() {
        assert_eq!(refused("{").error.code, -32700);
        assert_eq!(refused("[]").error.code, 11050);
        let no_id = refused(r#"{"method":"public/test"}"#);
        assert_eq!((no_id.error.code, no_id.request.is_some()), (11050, true));
        let positional = refused(r#"{"id":1,"method":"x","params":[1]}"#);
        assert_eq!((positional.id, positional.error.code), (json!(1), -32602));
        let big = format!(r#"{{"id":2,"method":"x","params":{{"p":"{}"}}}}"#, "a".repeat(40_000));
        assert_eq!(refused(&big).error.code, -32600);
    }

    #[test]
    fn responses_carry_timing_and_testnet() {
        let us_in = now_micros();
        let frame: Value =
            serde_json::from_str(&response(&json!(7), &Ok(json!("ok")), us_in)).expect("JSON");
        assert_eq!(frame["id"], 7);
        assert_eq!(frame["testnet"], true);
        let diff = frame["usOut"].as_u64().unwrap() - frame["usIn"].as_u64().unwrap();
        assert_eq!(frame["usDiff"].as_u64(), Some(diff));
        let error = response(&json!("x"), &Err(RpcError::unauthorized()), us_in);
        let error: Value = serde_json::from_str(&error).expect("JSON");
        assert_eq!(error["error"], json!({"code": 13009, "message": "unauthorized"}));
        assert!(error.get("result").is_none());
    }
}
