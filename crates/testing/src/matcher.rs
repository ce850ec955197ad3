//! Matchers that decide whether a received message is the one a test waits for.

use std::fmt;
use std::sync::Arc;

use regex::Regex;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::message::{ReceivedMessage, truncate};

/// Decides whether a [`ReceivedMessage`] is the one
/// [`MockServer::assert_message_sent`](crate::MockServer::assert_message_sent) waits for.
///
/// Build one with [`Matcher::exact`], [`Matcher::regex`], [`Matcher::json`] or
/// [`Matcher::predicate`], or convert: `&str` and `String` match exactly, a [`Regex`] searches,
/// a [`serde_json::Value`] matches as a JSON subset.
///
/// # Examples
///
/// ```
/// use std::time::Instant;
/// use serde_json::json;
/// use zen_websocket_testing::{ConnectionId, Matcher, MessageKind, ReceivedMessage};
///
/// let msg = ReceivedMessage {
///     connection: ConnectionId::new(1),
///     kind: MessageKind::Text(r#"{"id":1,"method":"public/test","params":{}}"#.into()),
///     at: Instant::now(),
/// };
/// assert!(Matcher::json(json!({"method": "public/test"})).matches(&msg));
/// assert!(Matcher::regex(r#""id":\d+"#)?.matches(&msg));
/// assert!(!Matcher::exact("public/test").matches(&msg));
/// assert!(Matcher::predicate(|m| m.bytes().len() > 10).matches(&msg));
/// # Ok::<(), zen_websocket_testing::Error>(())
/// ```
#[derive(Clone)]
pub struct Matcher(Kind);

#[derive(Clone)]
enum Kind {
    Exact(String),
    Bytes(Vec<u8>),
    Regex(Regex),
    Json(Value),
    Predicate(Arc<dyn Fn(&ReceivedMessage) -> bool + Send + Sync>),
}

impl Matcher {
    /// Matches a text frame equal to `text`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use zen_websocket_testing::Matcher;
    /// let matcher = Matcher::exact("hello");
    /// assert_eq!(matcher.to_string(), r#"exact "hello""#);
    /// ```
    pub fn exact(text: impl Into<String>) -> Self {
        Self(Kind::Exact(text.into()))
    }

    /// Matches a binary frame equal to `bytes`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use zen_websocket_testing::Matcher;
    /// let matcher = Matcher::bytes([1, 2, 3]);
    /// assert_eq!(matcher.to_string(), "binary [1, 2, 3]");
    /// ```
    pub fn bytes(bytes: impl Into<Vec<u8>>) -> Self {
        Self(Kind::Bytes(bytes.into()))
    }

    /// Matches a text frame in which `pattern` finds a match (anchor with `^…$` for a whole-frame
    /// match).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRegex`] when `pattern` does not compile.
    ///
    /// # Examples
    ///
    /// ```
    /// # use zen_websocket_testing::Matcher;
    /// assert!(Matcher::regex(r"^\d+$").is_ok());
    /// assert!(Matcher::regex(r"(").is_err());
    /// ```
    pub fn regex(pattern: &str) -> Result<Self> {
        Regex::new(pattern).map(Self::from).map_err(Error::InvalidRegex)
    }

    /// Matches a text frame holding JSON that contains `pattern`: every key of a pattern object
    /// must be present with a matching value (recursively, extra keys are fine); arrays must have
    /// the same length and match element by element, in order; scalars must be equal (numbers
    /// compare by value, so `1` matches `1.0`).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use zen_websocket_testing::{ConnectionId, Matcher, MessageKind, ReceivedMessage};
    /// use serde_json::json;
    ///
    /// let msg = ReceivedMessage {
    ///     connection: ConnectionId::new(1),
    ///     kind: MessageKind::Text(r#"{"params":{"channels":["a","b"],"x":1},"id":3}"#.into()),
    ///     at: Instant::now(),
    /// };
    /// assert!(Matcher::json(json!({"params": {"channels": ["a", "b"]}})).matches(&msg));
    /// assert!(!Matcher::json(json!({"params": {"channels": ["a"]}})).matches(&msg));
    /// ```
    pub fn json(pattern: Value) -> Self {
        Self(Kind::Json(pattern))
    }

    /// Matches any message for which `predicate` returns `true`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use zen_websocket_testing::Matcher;
    /// let matcher = Matcher::predicate(|m| m.text().is_some_and(|t| t.starts_with("hi")));
    /// assert_eq!(matcher.to_string(), "predicate");
    /// ```
    pub fn predicate<F>(predicate: F) -> Self
    where
        F: Fn(&ReceivedMessage) -> bool + Send + Sync + 'static,
    {
        Self(Kind::Predicate(Arc::new(predicate)))
    }

    /// Whether `message` matches.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use zen_websocket_testing::{ConnectionId, Matcher, MessageKind, ReceivedMessage};
    /// let msg = ReceivedMessage {
    ///     connection: ConnectionId::new(1),
    ///     kind: MessageKind::Binary(vec![1]),
    ///     at: Instant::now(),
    /// };
    /// assert!(Matcher::bytes([1]).matches(&msg));
    /// assert!(!Matcher::exact("\u{1}").matches(&msg));
    /// ```
    pub fn matches(&self, message: &ReceivedMessage) -> bool {
        match &self.0 {
            Kind::Exact(text) => message.text() == Some(text.as_str()),
            Kind::Bytes(bytes) => message.text().is_none() && message.bytes() == bytes.as_slice(),
            Kind::Regex(regex) => message.text().is_some_and(|text| regex.is_match(text)),
            Kind::Json(pattern) => {
                message.json().is_some_and(|value| json_contains(&value, pattern))
            }
            Kind::Predicate(predicate) => predicate(message),
        }
    }
}

/// Whether `actual` contains `pattern` in the sense of [`Matcher::json`].
fn json_contains(actual: &Value, pattern: &Value) -> bool {
    match (actual, pattern) {
        (Value::Object(actual), Value::Object(pattern)) => pattern
            .iter()
            .all(|(key, want)| actual.get(key).is_some_and(|have| json_contains(have, want))),
        (Value::Array(actual), Value::Array(pattern)) => {
            actual.len() == pattern.len()
                && actual.iter().zip(pattern).all(|(have, want)| json_contains(have, want))
        }
        (Value::Number(have), Value::Number(want)) if have.is_f64() || want.is_f64() => {
            have.as_f64().is_some() && have.as_f64() == want.as_f64()
        }
        (have, want) => have == want,
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Kind::Exact(text) => write!(f, "exact {}", truncate(text, 200)),
            Kind::Bytes(bytes) => write!(f, "binary {bytes:?}"),
            Kind::Regex(regex) => write!(f, "regex /{}/", regex.as_str()),
            Kind::Json(pattern) => write!(f, "JSON subset {}", truncate(&pattern.to_string(), 200)),
            Kind::Predicate(_) => f.write_str("predicate"),
        }
    }
}

impl fmt::Debug for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Matcher({self})")
    }
}

impl From<&str> for Matcher {
    fn from(text: &str) -> Self {
        Self::exact(text)
    }
}

impl From<String> for Matcher {
    fn from(text: String) -> Self {
        Self::exact(text)
    }
}

impl From<Regex> for Matcher {
    fn from(regex: Regex) -> Self {
        Self(Kind::Regex(regex))
    }
}

impl From<Value> for Matcher {
    fn from(pattern: Value) -> Self {
        Self::json(pattern)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn json_subset_rules() {
        let actual = json!({"a": 1, "b": {"c": [1, {"d": 2, "e": 3}]}, "f": "x"});
        assert!(json_contains(&actual, &json!({})));
        assert!(json_contains(&actual, &json!({"a": 1.0})));
        assert!(json_contains(&actual, &json!({"b": {"c": [1, {"d": 2}]}})));
        assert!(!json_contains(&actual, &json!({"b": {"c": [1]}})));
        assert!(!json_contains(&actual, &json!({"a": 2})));
        assert!(!json_contains(&actual, &json!({"missing": null})));
        assert!(!json_contains(&actual, &json!({"f": "y"})));
        assert!(!json_contains(&json!([1, 2]), &json!([2, 1])));
    }
}
