//! Data messages in both directions: text or binary, with JSON decoded on demand.

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio_tungstenite::tungstenite::{self, Utf8Bytes};

use crate::error::Result;

/// A WebSocket data message: what [`Client::send_message`](crate::Client::send_message) sends and
/// what [`Event::Message`](crate::Event::Message) delivers.
///
/// Inbound text is handed over exactly as received (no copy, no parse);
/// [`Message::json`] decodes it when you ask. Anything that converts into a `Message` can be
/// sent: `&str` and `String` become text frames, `Vec<u8>` and [`Bytes`] binary frames, and a
/// [`serde_json::Value`] a JSON text frame.
///
/// # Examples
///
/// ```
/// use serde_json::json;
/// use zen_websocket_core::Message;
///
/// let text = Message::from(r#"{"jsonrpc":"2.0","result":7}"#);
/// assert_eq!(text.json().unwrap()["result"], 7);
/// assert!(Message::from(vec![1u8, 2, 3]).is_binary());
/// assert_eq!(Message::from(json!({"a": 1})).as_text(), Some(r#"{"a":1}"#));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text frame (always valid UTF-8).
    Text(Utf8Bytes),
    /// A binary frame.
    Binary(Bytes),
}

impl Message {
    /// The text of a text message, `None` for binary.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_core::Message;
    ///
    /// assert_eq!(Message::from("hi").as_text(), Some("hi"));
    /// ```
    #[must_use]
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(text) => Some(text.as_str()),
            Self::Binary(_) => None,
        }
    }

    /// The payload bytes, for either kind.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_core::Message;
    ///
    /// assert_eq!(Message::from("hi").as_bytes(), b"hi");
    /// ```
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Text(text) => text.as_bytes(),
            Self::Binary(bytes) => bytes,
        }
    }

    /// `true` for a binary message.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_core::Message;
    ///
    /// assert!(!Message::from("hi").is_binary());
    /// ```
    #[must_use]
    pub fn is_binary(&self) -> bool {
        matches!(self, Self::Binary(_))
    }

    /// The payload length in bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_core::Message;
    ///
    /// assert_eq!(Message::from("héllo").len(), 6);
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// `true` when the payload is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_core::Message;
    ///
    /// assert!(Message::from("").is_empty());
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Decodes the payload (text or binary) as JSON.
    ///
    /// # Errors
    ///
    /// [`Error::Json`](crate::Error::Json) when the payload is not valid JSON.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_core::Message;
    ///
    /// assert_eq!(Message::from("[1,2]").json().unwrap()[1], 2);
    /// assert!(Message::from("not json").json().is_err());
    /// ```
    pub fn json(&self) -> Result<Value> {
        self.json_as()
    }

    /// Decodes the payload as JSON into any deserializable type.
    ///
    /// # Errors
    ///
    /// [`Error::Json`](crate::Error::Json) when the payload does not decode into `T`.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_core::Message;
    ///
    /// let numbers: Vec<u32> = Message::from("[1,2]").json_as().unwrap();
    /// assert_eq!(numbers, [1, 2]);
    /// ```
    pub fn json_as<T: DeserializeOwned>(&self) -> Result<T> {
        Ok(serde_json::from_slice(self.as_bytes())?)
    }

    pub(crate) fn into_frame(self) -> tungstenite::Message {
        match self {
            Self::Text(text) => tungstenite::Message::Text(text),
            Self::Binary(bytes) => tungstenite::Message::Binary(bytes),
        }
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Self {
        Self::Text(text.into())
    }
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Self::Text(text.into())
    }
}

impl From<Vec<u8>> for Message {
    fn from(bytes: Vec<u8>) -> Self {
        Self::Binary(bytes.into())
    }
}

impl From<&[u8]> for Message {
    fn from(bytes: &[u8]) -> Self {
        Self::Binary(Bytes::copy_from_slice(bytes))
    }
}

impl From<Bytes> for Message {
    fn from(bytes: Bytes) -> Self {
        Self::Binary(bytes)
    }
}

impl From<Value> for Message {
    fn from(value: Value) -> Self {
        Self::from(&value)
    }
}

impl From<&Value> for Message {
    fn from(value: &Value) -> Self {
        Self::Text(value.to_string().into())
    }
}
