//! `Redaction`: which secrets never reach a recording, and the scan that blanks them.
//!
//! The scan edits the text in place rather than parsing it into a `serde_json::Value` and
//! printing it again, so everything but the secret values stays byte for byte as sent: key
//! order, number spelling, whitespace and escapes.

use std::{borrow::Cow, ops::Range};

/// The field names whose values are redacted by default.
const DEFAULT_FIELDS: [&str; 4] = ["client_secret", "access_token", "refresh_token", "signature"];

/// The header names whose values are redacted by default (compared case-insensitively).
const DEFAULT_HEADERS: [&str; 4] = ["authorization", "proxy-authorization", "cookie", "set-cookie"];

/// Which secrets are blanked out before anything reaches a recording.
///
/// In a text frame that holds JSON, the value of every object member whose key is one of the
/// [`field`](Self::field) names — at any depth, whatever the value (string, number, object…)
/// — becomes the string `"[REDACTED]"`. By default those names are `client_secret`,
/// `access_token`, `refresh_token` and `signature`; key comparison is exact
/// (case-sensitive, as JSON is). For upgrade headers, [`redact_header`](Self::redact_header)
/// blanks `Authorization`, `Proxy-Authorization`, `Cookie` and `Set-Cookie` (any case).
///
/// Text that is not JSON is written as is, with one exception that errs on the side of
/// secrecy: a `"client_secret": value` pattern inside it (truncated or otherwise malformed
/// JSON) is still blanked. Binary frames and close reasons are never changed. Keys that spell
/// their letters with `\u` escapes are not looked for: the pre-check searches for the plain name.
///
/// Redaction costs a substring search per field name when no name occurs in the text; only
/// texts that mention one are scanned.
///
/// # Examples
///
/// ```
/// use zen_websocket_recorder::Redaction;
///
/// let redaction = Redaction::default().field("api_key");
/// let text = r#"{"params":{"client_secret":"s3cret","api_key":42,"n":1.50}}"#;
/// assert_eq!(
///     redaction.redact_text(text),
///     r#"{"params":{"client_secret":"[REDACTED]","api_key":"[REDACTED]","n":1.50}}"#
/// );
/// assert_eq!(Redaction::none().redact_text(text), text);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Redaction {
    fields: Vec<String>,
    headers: Vec<String>,
}

impl Default for Redaction {
    fn default() -> Self {
        Self {
            fields: DEFAULT_FIELDS.map(str::to_owned).to_vec(),
            headers: DEFAULT_HEADERS.map(str::to_owned).to_vec(),
        }
    }
}

impl Redaction {
    /// What replaces every redacted value.
    pub const PLACEHOLDER: &'static str = "[REDACTED]";

    /// No redaction at all: secrets are recorded as sent.
    ///
    /// Only for recordings that never leave a trusted machine. Names added afterwards with
    /// [`field`](Self::field) or [`header`](Self::header) are redacted again.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_recorder::{RecorderConfig, Redaction};
    ///
    /// let config = RecorderConfig::default().redaction(Redaction::none());
    /// ```
    pub fn none() -> Self {
        Self { fields: Vec::new(), headers: Vec::new() }
    }

    /// Also redacts the values of JSON members named `name` (exact, case-sensitive).
    ///
    /// Default is `client_secret`, `access_token`, `refresh_token` and `signature`. An empty
    /// name is ignored.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_recorder::Redaction;
    ///
    /// let redaction = Redaction::default().field("password");
    /// assert_eq!(redaction.redact_text(r#"{"password":"hunter2"}"#), r#"{"password":"[REDACTED]"}"#);
    /// ```
    pub fn field(mut self, name: impl Into<String>) -> Self {
        let name = name.into();
        if !name.is_empty() && !self.fields.contains(&name) {
            self.fields.push(name);
        }
        self
    }

    /// Also redacts the value of HTTP headers named `name` (any case).
    ///
    /// Default is `Authorization`, `Proxy-Authorization`, `Cookie` and `Set-Cookie`.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_recorder::Redaction;
    ///
    /// let redaction = Redaction::default().header("X-Api-Key");
    /// assert_eq!(redaction.redact_header("x-api-key", "k"), "[REDACTED]");
    /// ```
    pub fn header(mut self, name: impl Into<String>) -> Self {
        let name = name.into().to_ascii_lowercase();
        if !self.headers.contains(&name) {
            self.headers.push(name);
        }
        self
    }

    /// The text with the value of every secret JSON member replaced by `"[REDACTED]"`.
    ///
    /// Borrows the text unchanged when there is nothing to redact.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::borrow::Cow;
    /// use zen_websocket_recorder::Redaction;
    ///
    /// let redaction = Redaction::default();
    /// let deep = r#"[{"result":{"access_token":"abc","expires_in":900}}]"#;
    /// assert_eq!(
    ///     redaction.redact_text(deep),
    ///     r#"[{"result":{"access_token":"[REDACTED]","expires_in":900}}]"#
    /// );
    /// assert!(matches!(redaction.redact_text("plain text"), Cow::Borrowed(_)));
    /// ```
    #[must_use]
    pub fn redact_text<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if !self.fields.iter().any(|name| text.contains(name.as_str())) {
            return Cow::Borrowed(text);
        }
        let spans = secret_value_spans(text, |key| self.fields.iter().any(|name| name == key));
        if spans.is_empty() {
            return Cow::Borrowed(text);
        }
        let mut redacted = String::with_capacity(text.len());
        let mut copied = 0;
        for span in spans {
            redacted.push_str(&text[copied..span.start]);
            redacted.push('"');
            redacted.push_str(Self::PLACEHOLDER);
            redacted.push('"');
            copied = span.end;
        }
        redacted.push_str(&text[copied..]);
        Cow::Owned(redacted)
    }

    /// The header value to record: `"[REDACTED]"` for a secret header, `value` otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_recorder::Redaction;
    ///
    /// let redaction = Redaction::default();
    /// assert_eq!(redaction.redact_header("Authorization", "Bearer abc"), "[REDACTED]");
    /// assert_eq!(redaction.redact_header("User-Agent", "bot/1.0"), "bot/1.0");
    /// assert_eq!(Redaction::none().redact_header("Cookie", "id=1"), "id=1");
    /// ```
    #[must_use]
    pub fn redact_header<'a>(&self, name: &str, value: &'a str) -> &'a str {
        if self.headers.iter().any(|secret| secret.eq_ignore_ascii_case(name)) {
            Self::PLACEHOLDER
        } else {
            value
        }
    }
}

/// The byte ranges of the values of object members whose key satisfies `is_secret`.
///
/// A string followed (after whitespace) by `:` is a key. Tolerates any input — valid JSON or
/// not — without panicking: every step moves forward and every index is bounds-checked.
fn secret_value_spans(text: &str, is_secret: impl Fn(&str) -> bool) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] != b'"' {
            at += 1;
            continue;
        }
        let key_end = string_end(bytes, at);
        let colon = skip_whitespace(bytes, key_end);
        if bytes.get(colon) == Some(&b':') && is_secret(&unescape(&text[at..key_end])) {
            let start = skip_whitespace(bytes, colon + 1);
            let end = value_end(bytes, start);
            if end > start {
                spans.push(start..end);
            }
            at = end.max(colon + 1);
        } else {
            at = key_end;
        }
    }
    spans
}

/// The key's text: the quoted string without quotes, escapes decoded when there are any.
fn unescape(quoted: &str) -> Cow<'_, str> {
    let inner = quoted.strip_prefix('"').and_then(|rest| rest.strip_suffix('"')).unwrap_or(quoted);
    if inner.contains('\\') {
        serde_json::from_str::<String>(quoted).map_or(Cow::Borrowed(inner), Cow::Owned)
    } else {
        Cow::Borrowed(inner)
    }
}

/// The index just past the string that opens at `start` (or the end of the text).
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut at = start + 1;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' => at += 2,
            b'"' => return at + 1,
            _ => at += 1,
        }
    }
    bytes.len()
}

fn skip_whitespace(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() && matches!(bytes[at], b' ' | b'\t' | b'\n' | b'\r') {
        at += 1;
    }
    at
}

/// The index just past the JSON value that starts at `start`.
fn value_end(bytes: &[u8], start: usize) -> usize {
    match bytes.get(start) {
        None => start,
        Some(b'"') => string_end(bytes, start),
        Some(b'{' | b'[') => container_end(bytes, start),
        Some(_) => {
            let mut at = start;
            while at < bytes.len()
                && !matches!(bytes[at], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
            {
                at += 1;
            }
            at
        }
    }
}

/// The index just past the object or array that opens at `start`, skipping strings.
fn container_end(bytes: &[u8], start: usize) -> usize {
    let mut depth = 0usize;
    let mut at = start;
    while at < bytes.len() {
        match bytes[at] {
            b'"' => {
                at = string_end(bytes, at);
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return at + 1;
                }
            }
            _ => {}
        }
        at += 1;
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn redact(text: &str) -> String {
        Redaction::default().redact_text(text).into_owned()
    }

    #[test]
    fn blanks_every_kind_of_value_at_any_depth() {
        let text = r#"{"a":{"b":[{"signature":{"nested":["x"]}}]},"access_token" : 12.5e3 ,"refresh_token":null,"client_secret":"s\"e}c"}"#;
        assert_eq!(
            redact(text),
            r#"{"a":{"b":[{"signature":"[REDACTED]"}]},"access_token" : "[REDACTED]" ,"refresh_token":"[REDACTED]","client_secret":"[REDACTED]"}"#
        );
    }

    #[test]
    fn leaves_values_that_merely_mention_a_name() {
        let text = r#"{"method":"public/auth","params":{"grant_type":"client_secret"},"list":["signature"]}"#;
        assert!(matches!(Redaction::default().redact_text(text), Cow::Borrowed(_)));
    }

    #[test]
    fn recognises_keys_with_escapes_and_keeps_everything_else() {
        let text = "{\"client\\u005fsecret\":\"x\",\"client_secret\": \"y\",\n \"k\":\"\\u00e9\"}";
        assert_eq!(
            redact(text),
            "{\"client\\u005fsecret\":\"[REDACTED]\",\"client_secret\": \"[REDACTED]\",\n \"k\":\"\\u00e9\"}"
        );
    }

    #[test]
    fn malformed_json_still_loses_its_secrets() {
        assert_eq!(
            redact(r#"{"client_secret":"abc","id":"#),
            r#"{"client_secret":"[REDACTED]","id":"#
        );
        assert_eq!(redact(r#"{"client_secret":"unterminated"#), r#"{"client_secret":"[REDACTED]""#);
        assert_eq!(redact(r#"{"signature":"#), r#"{"signature":"#);
        assert_eq!(redact("client_secret=abc"), "client_secret=abc");
    }

    #[test]
    fn none_redacts_nothing_until_a_field_is_added() {
        let text = r#"{"client_secret":"x","pin":1}"#;
        assert_eq!(Redaction::none().redact_text(text), text);
        assert_eq!(
            Redaction::none().field("pin").redact_text(text),
            r#"{"client_secret":"x","pin":"[REDACTED]"}"#
        );
        assert_eq!(Redaction::none().field("").header("X-Key").redact_text(text), text);
    }

    proptest! {
        #[test]
        fn never_panics_on_any_text(text in ".*(client_secret|\"signature\"\\s*:)?.*") {
            let _ = Redaction::default().redact_text(&text);
        }

        #[test]
        fn valid_json_stays_valid_and_loses_the_secret(
            key in "[a-z_]{0,12}",
            secret in "[^\u{0}]{0,20}",
            depth in 0usize..6,
        ) {
            let secret = format!("S3CR3T-{secret}");
            let mut value = serde_json::json!({ "client_secret": secret, key: "keep" });
            for _ in 0..depth {
                value = serde_json::json!({ "wrap": [value, {"n": 1}] });
            }
            let text = serde_json::to_string_pretty(&value).expect("serializes");
            let redacted = redact(&text);
            prop_assert!(!redacted.contains("S3CR3T-"), "{}", redacted);
            let reparsed: serde_json::Value = serde_json::from_str(&redacted).expect("still JSON");
            let mut inner = &reparsed;
            for _ in 0..depth {
                inner = &inner["wrap"][0];
            }
            prop_assert_eq!(&inner["client_secret"], "[REDACTED]");
        }
    }
}
