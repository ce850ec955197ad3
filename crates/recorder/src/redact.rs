//! `Redaction`: which secrets never reach a recording, an error or a log, and the scan that
//! blanks them in JSON text and bytes (URLs are in `redact_url.rs`).
//!
//! The scan edits the text in place rather than parsing it into a `serde_json::Value` and
//! printing it again, so everything but the secret values stays byte for byte as sent: key
//! order, number spelling, whitespace and escapes.

use std::{
    borrow::Cow,
    ops::Range,
    sync::{Arc, OnceLock},
};

/// The field names whose values are redacted by default.
const DEFAULT_FIELDS: [&str; 4] = ["client_secret", "access_token", "refresh_token", "signature"];

/// The header names whose values are redacted by default (compared case-insensitively).
const DEFAULT_HEADERS: [&str; 4] = ["authorization", "proxy-authorization", "cookie", "set-cookie"];

/// Which secrets are blanked out before anything reaches a recording, an error message or a
/// log: the project's one redaction policy.
///
/// - **JSON text** ([`redact_text`](Self::redact_text)): the value of every object member whose
///   key is one of the [`field`](Self::field) names — at any depth, whatever the value
///   (string, number, object…) — becomes the string `"[REDACTED]"`. By default those names are
///   `client_secret`, `access_token`, `refresh_token` and `signature`; key comparison is exact
///   (case-sensitive, as JSON is). Text that is not JSON is kept as is, with one exception
///   that errs on the side of secrecy: a `"client_secret": value` pattern inside it (truncated
///   or otherwise malformed JSON) is still blanked. Keys that spell their letters with `\u`
///   escapes are not looked for: the pre-check searches for the plain name. The recorder
///   applies this to text frames and close reasons.
/// - **Bytes** ([`redact_bytes`](Self::redact_bytes)), for binary frames: bytes that are
///   UTF-8 are redacted exactly like text; bytes that are not UTF-8 but contain a field name
///   are replaced whole by the bytes of `[REDACTED]`.
/// - **URLs** ([`redact_url`](Self::redact_url)): user info, query values and the fragment.
/// - **Headers** ([`redact_header`](Self::redact_header)): `Authorization`,
///   `Proxy-Authorization`, `Cookie` and `Set-Cookie` (any case) by default.
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
    /// Shared between clones (a policy is cloned into every connection's configuration).
    fields: Arc<[String]>,
    headers: Arc<[String]>,
    urls: bool,
}

impl Default for Redaction {
    fn default() -> Self {
        // Built once; every default policy shares its lists.
        static DEFAULT: OnceLock<Redaction> = OnceLock::new();
        DEFAULT
            .get_or_init(|| Self {
                fields: DEFAULT_FIELDS.map(str::to_owned).into(),
                headers: DEFAULT_HEADERS.map(str::to_owned).into(),
                urls: true,
            })
            .clone()
    }
}

impl Redaction {
    /// What replaces every redacted value.
    pub const PLACEHOLDER: &'static str = "[REDACTED]";

    /// No redaction at all: secrets are recorded as sent.
    ///
    /// Only for recordings that never leave a trusted machine. Names added afterwards with
    /// [`field`](Self::field) or [`header`](Self::header) are redacted again, and
    /// [`urls(true)`](Self::urls) turns URL redaction back on.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_recorder::{RecorderConfig, Redaction};
    ///
    /// let config = RecorderConfig::default().redaction(Redaction::none());
    /// assert_eq!(Redaction::none().redact_url("wss://u:p@host/?k=v"), "wss://u:p@host/?k=v");
    /// ```
    pub fn none() -> Self {
        Self { fields: Arc::from([]), headers: Arc::from([]), urls: false }
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
            self.fields = with(&self.fields, name);
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
            self.headers = with(&self.headers, name);
        }
        self
    }

    /// Whether [`redact_url`](Self::redact_url) blanks user info, query values and fragments.
    ///
    /// Default is `true` (`false` for [`Redaction::none`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_recorder::Redaction;
    ///
    /// let redaction = Redaction::default().urls(false);
    /// assert_eq!(redaction.redact_url("wss://host/ws?key=abc"), "wss://host/ws?key=abc");
    /// ```
    pub fn urls(mut self, redact: bool) -> Self {
        self.urls = redact;
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

    /// The bytes of a binary frame with its secrets removed.
    ///
    /// Bytes that are valid UTF-8 are redacted exactly like text
    /// ([`redact_text`](Self::redact_text)): secret JSON members blanked, everything else kept.
    /// Bytes that are not UTF-8 but contain a [`field`](Self::field) name are replaced whole
    /// by the bytes of `[REDACTED]` ([`Redaction::PLACEHOLDER`]): there is no telling where a
    /// secret ends in an unknown binary encoding (CBOR, MessagePack…), so the whole frame goes.
    /// Borrows the bytes unchanged when there is nothing to redact.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::borrow::Cow;
    /// use zen_websocket_recorder::Redaction;
    ///
    /// let redaction = Redaction::default();
    /// assert_eq!(
    ///     redaction.redact_bytes(br#"{"access_token":"abc","n":1}"#),
    ///     &br#"{"access_token":"[REDACTED]","n":1}"#[..]
    /// );
    /// // MessagePack-like bytes naming a secret field.
    /// assert_eq!(redaction.redact_bytes(b"\x82\xadclient_secret\xa3abc"), &b"[REDACTED]"[..]);
    /// assert!(matches!(redaction.redact_bytes(&[0, 159, 146, 150]), Cow::Borrowed(_)));
    /// ```
    #[must_use]
    pub fn redact_bytes<'a>(&self, bytes: &'a [u8]) -> Cow<'a, [u8]> {
        match std::str::from_utf8(bytes) {
            Ok(text) => match self.redact_text(text) {
                Cow::Borrowed(_) => Cow::Borrowed(bytes),
                Cow::Owned(redacted) => Cow::Owned(redacted.into_bytes()),
            },
            Err(_) if self.fields.iter().any(|name| contains(bytes, name.as_bytes())) => {
                Cow::Owned(Self::PLACEHOLDER.as_bytes().to_vec())
            }
            Err(_) => Cow::Borrowed(bytes),
        }
    }

    /// The URL with its secrets removed, for error messages and logs: user info (`user:pass@`)
    /// becomes `[REDACTED]@`, the value of every query parameter becomes `[REDACTED]` (names
    /// are kept; a parameter without `=` may be a bare token and becomes `[REDACTED]`), and
    /// the fragment is dropped.
    ///
    /// Works on any string, a valid URL or not — it is meant for the URLs that fail to parse
    /// — with a textual scan that never panics and, where the text is ambiguous, blanks more
    /// rather than less: the authority runs from `//` (or `scheme:/`; from the start when
    /// there is neither) to the next `/` or `\`, and the user info to the last `@` before
    /// that, even past a `?` or `#`. A password with an unescaped `/` is not recognised.
    /// Returns `url` unchanged when [`urls`](Self::urls) is off.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_recorder::Redaction;
    ///
    /// let redaction = Redaction::default();
    /// assert_eq!(
    ///     redaction.redact_url("wss://alice:pw@example.com/ws?key=abc&sig=def#frag"),
    ///     "wss://[REDACTED]@example.com/ws?key=[REDACTED]&sig=[REDACTED]"
    /// );
    /// // Not a valid URL (no scheme, a space), still cleaned.
    /// assert_eq!(redaction.redact_url("alice:pw@exa mple.com/ws"), "[REDACTED]@exa mple.com/ws");
    /// ```
    #[must_use]
    pub fn redact_url(&self, url: &str) -> String {
        if self.urls { crate::redact_url::redact_url(url) } else { url.to_owned() }
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

/// Whether `needle` (never empty) occurs in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

/// `names` plus `name`, as a new shared list.
fn with(names: &[String], name: String) -> Arc<[String]> {
    names.iter().cloned().chain([name]).collect()
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

    #[test]
    fn bytes_are_redacted_like_text_or_replaced_whole() {
        let redaction = Redaction::default().field("pin");
        let json = br#"{"pin":1234,"signature":"s","keep":"k"}"#;
        assert_eq!(
            redaction.redact_bytes(json).as_ref(),
            br#"{"pin":"[REDACTED]","signature":"[REDACTED]","keep":"k"}"#
        );
        assert!(matches!(redaction.redact_bytes(b"pin=1234"), Cow::Borrowed(_)), "text, no JSON");
        let binary = b"\xff\x00pin\x00\x01\x02";
        assert_eq!(redaction.redact_bytes(binary).as_ref(), b"[REDACTED]");
        assert!(matches!(redaction.redact_bytes(b"\xff\x00pi\x00n"), Cow::Borrowed(_)));
        assert!(matches!(Redaction::none().redact_bytes(binary), Cow::Borrowed(_)));
    }

    #[test]
    fn urls_follow_the_policy() {
        let url = "wss://u:p@h/ws?k=v";
        assert_eq!(Redaction::default().redact_url(url), "wss://[REDACTED]@h/ws?k=[REDACTED]");
        assert_eq!(Redaction::none().redact_url(url), url);
        assert_eq!(
            Redaction::none().urls(true).redact_url(url),
            Redaction::default().redact_url(url)
        );
        assert_ne!(Redaction::default(), Redaction::default().urls(false));
    }

    proptest! {
        #[test]
        fn never_panics_on_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = Redaction::default().redact_bytes(&bytes);
        }

        #[test]
        fn non_utf8_bytes_naming_a_field_never_keep_the_secret(
            before in proptest::collection::vec(any::<u8>(), 0..16),
            after in proptest::collection::vec(any::<u8>(), 0..16),
        ) {
            let mut bytes = before;
            bytes.extend_from_slice(b"\xc0access_token\xa6S3CR3T");
            bytes.extend_from_slice(&after);
            let redacted = Redaction::default().redact_bytes(&bytes);
            prop_assert!(!contains(&redacted, b"S3CR3T"));
        }

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
