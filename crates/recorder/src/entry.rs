//! `Entry`, `Direction` and `Payload`: one line of a recording (a frame or a gap marker) and its
//! JSON Lines form.

use base64::{Engine as _, display::Base64Display, engine::general_purpose::STANDARD};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de, ser::SerializeStruct};

use crate::timestamp::Timestamp;

/// Which way a frame travelled.
///
/// Written as `"in"` (received from the server) or `"out"` (sent by the client).
///
/// # Examples
///
/// ```
/// use zen_websocket_recorder::Direction;
///
/// assert_eq!(serde_json::to_string(&Direction::In)?, r#""in""#);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Received from the server.
    In,
    /// Sent to the server.
    Out,
}

/// What a frame carried — or, for [`Payload::Gap`], how many frames are missing at that point.
///
/// Match with a wildcard arm (`_ => …`): the enum is `#[non_exhaustive]`, and code that only
/// wants frames can skip gaps that way.
///
/// # Examples
///
/// ```
/// use zen_websocket_recorder::Payload;
///
/// assert_eq!(Payload::from("hello"), Payload::Text("hello".to_owned()));
/// assert_eq!(Payload::from(vec![1, 2]), Payload::Binary(vec![1, 2]));
/// let close = Payload::Close { code: Some(1000), reason: "bye".to_owned() };
/// let gap = Payload::Gap { skipped: 3 };
/// assert!(gap.is_gap() && !close.is_gap());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Payload {
    /// A text frame, as sent or received (never parsed). Written as `"type": "text"` with the
    /// text as a JSON string in `data`.
    Text(String),
    /// A binary frame. Written as `"type": "binary"`, `"binary": true`, with standard padded
    /// base64 in `data`.
    Binary(Vec<u8>),
    /// A close frame. Written as `"type": "close"` with `"data": {"code": 1000, "reason": "bye"}`
    /// (`"code": null` when the frame carried no code).
    Close {
        /// The close code, if the frame had one.
        code: Option<u16>,
        /// The close reason; empty when there was none.
        reason: String,
    },
    /// Not a frame: a marker written where the recorder dropped `skipped` frames travelling
    /// this entry's direction because the disk could not keep up (its queue was full, see
    /// [`RecorderConfig::max_queue_entries`](crate::RecorderConfig::max_queue_entries)).
    ///
    /// Written as `"type": "gap"` with `"data": {"skipped": 3}`; its timestamp is that of the
    /// first dropped frame. The recorder writes these itself (there is no reason to
    /// [`record`](crate::Recorder::record) one); readers count them in
    /// [`Metadata::dropped_entries`](crate::Metadata::dropped_entries), not as frames.
    Gap {
        /// How many frames are missing here.
        skipped: u64,
    },
}

impl Payload {
    /// Whether this is a [`Payload::Gap`] marker rather than a frame.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_recorder::Payload;
    ///
    /// assert!(Payload::Gap { skipped: 1 }.is_gap());
    /// assert!(!Payload::from("frame").is_gap());
    /// ```
    #[must_use]
    pub fn is_gap(&self) -> bool {
        matches!(self, Self::Gap { .. })
    }
}

impl From<String> for Payload {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<&str> for Payload {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl From<Vec<u8>> for Payload {
    fn from(bytes: Vec<u8>) -> Self {
        Self::Binary(bytes)
    }
}

impl From<&[u8]> for Payload {
    fn from(bytes: &[u8]) -> Self {
        Self::Binary(bytes.to_vec())
    }
}

/// One line of a recording: a recorded frame (when, which way, and what), or a gap marker where
/// frames were dropped ([`Payload::Gap`]).
///
/// Its serde form is exactly the line format, so `serde_json` reads and writes lines:
///
/// ```text
/// {"ts":"2026-11-28T10:15:30.123456Z","dir":"in","type":"text","data":"{\"id\":1}"}
/// {"ts":"2026-11-28T10:15:30.200000Z","dir":"out","type":"binary","data":"AAEC","binary":true}
/// {"ts":"2026-11-28T10:15:30.300000Z","dir":"in","type":"gap","data":{"skipped":3}}
/// {"ts":"2026-11-28T10:15:31.000000Z","dir":"out","type":"close","data":{"code":1000,"reason":"bye"}}
/// ```
///
/// Reading ignores unknown fields and the `binary` flag (`type` decides).
///
/// # Examples
///
/// ```
/// use zen_websocket_recorder::{Direction, Entry, Payload, Timestamp};
///
/// let entry = Entry::new(
///     "2026-11-28T10:15:30.123456Z".parse()?,
///     Direction::Out,
///     Payload::Binary(vec![0, 1, 2]),
/// );
/// let line = serde_json::to_string(&entry)?;
/// assert_eq!(
///     line,
///     r#"{"ts":"2026-11-28T10:15:30.123456Z","dir":"out","type":"binary","data":"AAEC","binary":true}"#
/// );
/// assert_eq!(serde_json::from_str::<Entry>(&line)?, entry);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Entry {
    /// When the frame was recorded (the caller's clock at [`Recorder::record`](crate::Recorder::record)).
    pub ts: Timestamp,
    /// Which way it travelled.
    pub dir: Direction,
    /// What it carried.
    pub payload: Payload,
}

impl Entry {
    /// An entry from its parts.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_recorder::{Direction, Entry, Timestamp};
    ///
    /// let entry = Entry::new(Timestamp::now(), Direction::In, "hello".into());
    /// assert_eq!(entry.dir, Direction::In);
    /// ```
    #[must_use]
    pub fn new(ts: Timestamp, dir: Direction, payload: Payload) -> Self {
        Self { ts, dir, payload }
    }

    pub(crate) fn view(&self) -> EntryView<'_> {
        let payload = match &self.payload {
            Payload::Text(text) => PayloadView::Text(text),
            Payload::Binary(bytes) => PayloadView::Binary(bytes),
            Payload::Close { code, reason } => PayloadView::Close { code: *code, reason },
            Payload::Gap { skipped } => PayloadView::Gap { skipped: *skipped },
        };
        EntryView { ts: self.ts, dir: self.dir, payload }
    }
}

/// A borrowed entry, serialized as one line; the writer swaps in redacted text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EntryView<'a> {
    pub(crate) ts: Timestamp,
    pub(crate) dir: Direction,
    pub(crate) payload: PayloadView<'a>,
}

impl EntryView<'_> {
    /// The same entry with another payload (the writer's redacted one).
    pub(crate) fn with<'b>(self, payload: PayloadView<'b>) -> EntryView<'b> {
        EntryView { ts: self.ts, dir: self.dir, payload }
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum PayloadView<'a> {
    Text(&'a str),
    Binary(&'a [u8]),
    Close { code: Option<u16>, reason: &'a str },
    Gap { skipped: u64 },
}

#[derive(Serialize)]
struct CloseData<'a> {
    code: Option<u16>,
    reason: &'a str,
}

#[derive(Serialize, Deserialize)]
struct GapData {
    skipped: u64,
}

struct Base64<'a>(&'a [u8]);

impl Serialize for Base64<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&Base64Display::new(self.0, &STANDARD))
    }
}

impl Serialize for EntryView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let binary = matches!(self.payload, PayloadView::Binary(_));
        let mut line = serializer.serialize_struct("Entry", 4 + usize::from(binary))?;
        line.serialize_field("ts", &self.ts)?;
        line.serialize_field("dir", &self.dir)?;
        match self.payload {
            PayloadView::Text(text) => {
                line.serialize_field("type", "text")?;
                line.serialize_field("data", text)?;
            }
            PayloadView::Binary(bytes) => {
                line.serialize_field("type", "binary")?;
                line.serialize_field("data", &Base64(bytes))?;
                line.serialize_field("binary", &true)?;
            }
            PayloadView::Close { code, reason } => {
                line.serialize_field("type", "close")?;
                line.serialize_field("data", &CloseData { code, reason })?;
            }
            PayloadView::Gap { skipped } => {
                line.serialize_field("type", "gap")?;
                line.serialize_field("data", &GapData { skipped })?;
            }
        }
        line.end()
    }
}

impl Serialize for Entry {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.view().serialize(serializer)
    }
}

/// A line as read: `data` is a string (text, base64) or an object (close, gap); `type`
/// decides which.
#[derive(Deserialize)]
struct Line {
    ts: Timestamp,
    dir: Direction,
    #[serde(rename = "type")]
    kind: Kind,
    data: serde_json::Value,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Text,
    Binary,
    Close,
    Gap,
}

#[derive(Deserialize)]
struct CloseLine {
    #[serde(default)]
    code: Option<u16>,
    #[serde(default)]
    reason: String,
}

impl Kind {
    fn payload(self, data: serde_json::Value) -> Result<Payload, String> {
        use serde_json::Value;
        match (self, data) {
            (Kind::Text, Value::String(text)) => Ok(Payload::Text(text)),
            (Kind::Binary, Value::String(encoded)) => {
                STANDARD.decode(encoded).map(Payload::Binary).map_err(|err| err.to_string())
            }
            (Kind::Text | Kind::Binary, _) => Err("text and binary data must be strings".into()),
            (Kind::Close, data @ Value::Object(_)) => serde_json::from_value::<CloseLine>(data)
                .map(|close| Payload::Close { code: close.code, reason: close.reason })
                .map_err(|err| err.to_string()),
            (Kind::Gap, data @ Value::Object(_)) => serde_json::from_value::<GapData>(data)
                .map(|gap| Payload::Gap { skipped: gap.skipped })
                .map_err(|err| err.to_string()),
            (Kind::Close | Kind::Gap, _) => Err("close and gap data must be objects".into()),
        }
    }
}

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let line = Line::deserialize(deserializer)?;
        let payload = line.kind.payload(line.data).map_err(de::Error::custom)?;
        Ok(Entry::new(line.ts, line.dir, payload))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(payload: Payload) -> Entry {
        let ts = "2026-11-28T10:15:30.123456Z".parse().expect("valid");
        Entry::new(ts, Direction::In, payload)
    }

    #[test]
    fn text_is_a_json_string_not_parsed_json() {
        let line = serde_json::to_string(&entry(r#"{"a":1}"#.into())).expect("serializes");
        assert_eq!(
            line,
            r#"{"ts":"2026-11-28T10:15:30.123456Z","dir":"in","type":"text","data":"{\"a\":1}"}"#
        );
    }

    #[test]
    fn close_data_carries_code_and_reason() {
        let close = entry(Payload::Close { code: Some(1000), reason: "bye".into() });
        let line = serde_json::to_string(&close).expect("serializes");
        assert!(line.ends_with(r#""type":"close","data":{"code":1000,"reason":"bye"}}"#), "{line}");
        assert_eq!(serde_json::from_str::<Entry>(&line).expect("reads"), close);

        let bare = entry(Payload::Close { code: None, reason: String::new() });
        let line = serde_json::to_string(&bare).expect("serializes");
        assert!(line.contains(r#""data":{"code":null,"reason":""}"#), "{line}");
        assert_eq!(serde_json::from_str::<Entry>(&line).expect("reads"), bare);
    }

    #[test]
    fn a_gap_is_a_line_of_its_own_type() {
        let gap = entry(Payload::Gap { skipped: 42 });
        let line = serde_json::to_string(&gap).expect("serializes");
        assert_eq!(
            line,
            r#"{"ts":"2026-11-28T10:15:30.123456Z","dir":"in","type":"gap","data":{"skipped":42}}"#
        );
        assert_eq!(serde_json::from_str::<Entry>(&line).expect("reads"), gap);
    }

    #[test]
    fn reading_ignores_field_order_unknown_fields_and_the_binary_flag() {
        let line = r#"{"data":"AAEC","extra":[1],"type":"binary","dir":"out","ts":"2026-11-28T10:15:30.123456Z"}"#;
        let read: Entry = serde_json::from_str(line).expect("reads");
        assert_eq!(read.payload, Payload::Binary(vec![0, 1, 2]));
        assert_eq!(read.dir, Direction::Out);
    }

    #[test]
    fn mismatched_type_and_data_are_rejected() {
        let ts = r#""ts":"2026-11-28T10:15:30Z","dir":"in""#;
        for bad in [
            format!(r#"{{{ts},"type":"close","data":"x"}}"#),
            format!(r#"{{{ts},"type":"text","data":{{"code":1}}}}"#),
            format!(r#"{{{ts},"type":"binary","data":"not base64!"}}"#),
            format!(r#"{{{ts},"type":"ping","data":""}}"#),
            format!(r#"{{{ts},"type":"text"}}"#),
            format!(r#"{{{ts},"type":"gap","data":{{"code":1000,"reason":""}}}}"#),
            format!(r#"{{{ts},"type":"gap","data":{{"skipped":-1}}}}"#),
            format!(r#"{{{ts},"type":"gap","data":"3"}}"#),
            format!(r#"{{{ts},"type":"close","data":{{"code":70000}}}}"#),
            r#"{"ts":"noon","dir":"in","type":"text","data":""}"#.to_owned(),
        ] {
            assert!(serde_json::from_str::<Entry>(&bad).is_err(), "{bad}");
        }
    }
}
