//! What clients sent: connection ids and recorded data frames.

use std::fmt;
use std::time::Instant;

use serde_json::Value;

/// Identifies one accepted WebSocket connection for the lifetime of a [`MockServer`].
///
/// Ids start at 1 and grow with every accepted upgrade, across [`MockServer::restart`], so a
/// reconnecting client gets a new id.
///
/// [`MockServer`]: crate::MockServer
/// [`MockServer::restart`]: crate::MockServer::restart
///
/// # Examples
///
/// ```
/// use zen_websocket_testing::ConnectionId;
///
/// let id = ConnectionId::new(7);
/// assert_eq!(id.get(), 7);
/// assert_eq!(id.to_string(), "#7");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnectionId(u64);

impl ConnectionId {
    /// Wraps a raw id; useful to build [`Incoming`](crate::Incoming) values in unit tests.
    ///
    /// # Examples
    ///
    /// ```
    /// # use zen_websocket_testing::ConnectionId;
    /// assert_eq!(ConnectionId::new(3), ConnectionId::new(3));
    /// ```
    pub const fn new(raw: u64) -> Self {
        Self(raw)
    }

    /// The raw number behind the id.
    ///
    /// # Examples
    ///
    /// ```
    /// # use zen_websocket_testing::ConnectionId;
    /// assert_eq!(ConnectionId::new(3).get(), 3);
    /// ```
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// The payload of a data frame: text or binary.
///
/// # Examples
///
/// ```
/// use zen_websocket_testing::MessageKind;
///
/// let kind = MessageKind::Text("hello".into());
/// assert!(matches!(kind, MessageKind::Text(ref t) if t == "hello"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageKind {
    /// A text frame (always valid UTF-8).
    Text(String),
    /// A binary frame.
    Binary(Vec<u8>),
}

/// One data frame a client sent to the server, as recorded by [`MockServer::received`].
///
/// [`MockServer::received`]: crate::MockServer::received
///
/// # Examples
///
/// ```
/// use std::time::Instant;
/// use zen_websocket_testing::{ConnectionId, MessageKind, ReceivedMessage};
///
/// let msg = ReceivedMessage {
///     connection: ConnectionId::new(1),
///     kind: MessageKind::Text(r#"{"a":1}"#.into()),
///     at: Instant::now(),
/// };
/// assert_eq!(msg.text(), Some(r#"{"a":1}"#));
/// assert_eq!(msg.json(), Some(serde_json::json!({"a": 1})));
/// assert_eq!(msg.bytes(), br#"{"a":1}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    /// The connection the frame arrived on.
    pub connection: ConnectionId,
    /// The frame's payload.
    pub kind: MessageKind,
    /// When the server read the frame.
    pub at: Instant,
}

impl ReceivedMessage {
    /// The text of a text frame; `None` for binary frames.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use zen_websocket_testing::{ConnectionId, MessageKind, ReceivedMessage};
    /// let msg = ReceivedMessage {
    ///     connection: ConnectionId::new(1),
    ///     kind: MessageKind::Binary(vec![1, 2]),
    ///     at: Instant::now(),
    /// };
    /// assert_eq!(msg.text(), None);
    /// ```
    pub fn text(&self) -> Option<&str> {
        match &self.kind {
            MessageKind::Text(text) => Some(text),
            MessageKind::Binary(_) => None,
        }
    }

    /// The raw payload: the UTF-8 bytes of a text frame or the bytes of a binary frame.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use zen_websocket_testing::{ConnectionId, MessageKind, ReceivedMessage};
    /// let msg = ReceivedMessage {
    ///     connection: ConnectionId::new(1),
    ///     kind: MessageKind::Binary(vec![1, 2]),
    ///     at: Instant::now(),
    /// };
    /// assert_eq!(msg.bytes(), &[1, 2]);
    /// ```
    pub fn bytes(&self) -> &[u8] {
        match &self.kind {
            MessageKind::Text(text) => text.as_bytes(),
            MessageKind::Binary(bytes) => bytes,
        }
    }

    /// The text frame parsed as JSON; `None` for binary frames or text that is not JSON.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use zen_websocket_testing::{ConnectionId, MessageKind, ReceivedMessage};
    /// let msg = ReceivedMessage {
    ///     connection: ConnectionId::new(1),
    ///     kind: MessageKind::Text("not json".into()),
    ///     at: Instant::now(),
    /// };
    /// assert_eq!(msg.json(), None);
    /// ```
    pub fn json(&self) -> Option<Value> {
        serde_json::from_str(self.text()?).ok()
    }

    /// A short human-readable rendering, used in assertion failures.
    pub(crate) fn summary(&self) -> String {
        const MAX: usize = 120;
        let body = match &self.kind {
            MessageKind::Text(text) => format!("text {}", truncate(text, MAX)),
            MessageKind::Binary(bytes) => format!("binary {} byte(s)", bytes.len()),
        };
        format!("{}: {body}", self.connection)
    }
}

/// Cuts `text` to at most `max` bytes on a character boundary, marking the cut with `…`.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return format!("{text:?}");
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{:?}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_respects_char_boundaries() {
        assert_eq!(truncate("héllo", 2), "\"h\"…");
        assert_eq!(truncate("abc", 10), "\"abc\"");
    }
}
