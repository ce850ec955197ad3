//! # zen-websocket-recorder
//!
//! Record WebSocket sessions to a file, then read them back: a summary, a stream of entries,
//! or a replay at the original pace. The `zen-websocket` client records through this crate
//! when its configuration names a file; most applications reach it through the
//! [`zen-websocket`](https://docs.rs/zen-websocket) facade. Depend on this crate directly for
//! a minimal build — it depends on no other crate of the workspace.
//!
//! ## Overview
//!
//! | | |
//! |---|---|
//! | [`Recorder::create`] | open a recording file with a [`RecorderConfig`] |
//! | [`Recorder::record`] | stamp a frame with the current time and queue it — never waits for I/O |
//! | [`Recorder::flush`], [`Recorder::close`] | write what is queued (also on drop of the last handle) |
//! | [`Recorder::metadata`] | count entries in and out, the time spanned, skipped lines |
//! | [`Recorder::entries`] | stream the [`Entry`]s of a file of any size |
//! | [`Recorder::replay`] | hand each entry to a closure, optionally at the recorded pace ([`ReplayOptions`]) |
//!
//! [`Recorder`] is a cheap `Clone` handle: a dedicated writer thread redacts secrets
//! ([`Redaction`]), serializes and writes in batches (100 entries or 1 s by default), so the
//! connection that records pays for a timestamp, a copy and a queue push.
//!
//! ## Format
//!
//! JSON Lines: one [`Entry`] per line, `ts` in RFC 3339 UTC with microseconds ([`Timestamp`]),
//! `dir` ([`Direction`]) `in` or `out`, `type` and `data` from the [`Payload`]:
//!
//! ```text
//! {"ts":"2026-11-28T10:15:30.123456Z","dir":"out","type":"text","data":"{\"method\":\"public/auth\",\"params\":{\"client_secret\":\"[REDACTED]\"}}"}
//! {"ts":"2026-11-28T10:15:30.200000Z","dir":"in","type":"binary","data":"AAEC","binary":true}
//! {"ts":"2026-11-28T10:15:31.000000Z","dir":"out","type":"close","data":{"code":1000,"reason":"bye"}}
//! ```
//!
//! Text is stored as the JSON string of the frame's text, exactly as sent or received (it is
//! not parsed, except to blank secrets). Binary is standard base64 with `"binary": true`.
//!
//! ## Example
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use zen_websocket_recorder::{Direction, Payload, Recorder, RecorderConfig, ReplayOptions};
//!
//! # let dir = std::env::temp_dir().join(format!("zen-recorder-guide-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir)?;
//! let path = dir.join("session.jsonl");
//! let recorder = Recorder::create(&path, RecorderConfig::default())?;
//! recorder.record(Direction::Out, r#"{"method":"public/auth","params":{"client_secret":"s3cret"}}"#);
//! recorder.record(Direction::In, r#"{"result":{"access_token":"t0ken","expires_in":900}}"#);
//! recorder.record(Direction::Out, Payload::Close { code: Some(1000), reason: "bye".into() });
//! recorder.close()?;
//!
//! let metadata = Recorder::metadata(&path)?;
//! assert_eq!((metadata.count, metadata.inbound, metadata.outbound), (3, 1, 2));
//!
//! let mut inbound = Vec::new();
//! Recorder::replay(&path, ReplayOptions::default(), |entry| {
//!     if entry.dir == Direction::In {
//!         inbound.push(entry.payload);
//!     }
//! })
//! .await?;
//! assert_eq!(
//!     inbound,
//!     [Payload::Text(r#"{"result":{"access_token":"[REDACTED]","expires_in":900}}"#.into())]
//! );
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok(())
//! # }
//! ```
//!
//! ## Features
//!
//! None. [`Recorder::replay`] is `async` on tokio's timer (tokio's `time` feature only);
//! everything else is plain `std` and works with or without a runtime. The repository's
//! `docs/recording.md` covers the format, redaction and performance in more depth.

mod config;
mod entry;
mod error;
mod read;
mod recorder;
mod redact;
mod replay;
mod timestamp;
mod writer;

pub use crate::{
    config::RecorderConfig,
    entry::{Direction, Entry, Payload},
    error::{Error, Result},
    read::{Entries, Metadata},
    recorder::Recorder,
    redact::Redaction,
    replay::ReplayOptions,
    timestamp::Timestamp,
};
