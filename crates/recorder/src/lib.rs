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
//! | [`Recorder::record`] | stamp a frame with the current time and queue it — never waits, never blocks on I/O |
//! | [`Recorder::flush`], [`Recorder::close`] | write what is queued and wait for it (blocking) |
//! | [`Recorder::close_in_background`] | begin the close; await the [`Closing`] future without blocking |
//! | [`Recorder::dropped`], [`Recorder::queued`] | frames dropped because the disk could not keep up; what is held in memory ([`Queued`]) |
//! | [`Recorder::metadata`] | count frames in and out, the time spanned, skipped lines, dropped frames ([`Metadata`]) |
//! | [`Recorder::entries`] | stream the [`Entry`]s of a file of any size |
//! | [`Recorder::replay`] | hand each entry to a closure, optionally at the recorded pace ([`ReplayOptions`]) |
//! | [`Redaction`] | the one redaction policy: JSON text, binary frames, URLs, headers |
//!
//! [`Recorder`] is a cheap `Clone` handle: a dedicated writer thread redacts secrets
//! ([`Redaction`]), serializes and writes in batches (100 entries or 1 s by default), so the
//! connection that records pays for a timestamp, a copy and a queue push.
//!
//! ## Bounded, and never blocking a runtime
//!
//! What is recorded and not yet written stays within
//! [`max_queue_entries`](RecorderConfig::max_queue_entries) (65,536) and
//! [`max_queue_bytes`](RecorderConfig::max_queue_bytes) (16 MiB: payload bytes plus 64 per
//! entry). When the disk cannot keep up and a frame would go past the bound, `record` drops it
//! at once, counts it ([`Recorder::dropped`]), and the file gets a gap marker where frames are
//! missing ([`Payload::Gap`], one per direction). Readers see gaps in place and count them in
//! [`Metadata::dropped_entries`].
//!
//! `record` and dropping the last handle never wait: the drop begins the close and the writer
//! thread writes what is queued, flushes and exits on its own (so `close` before a process
//! exits). [`Recorder::flush`] and [`Recorder::close`] wait for the disk: from async code, run
//! them in `tokio::task::spawn_blocking` on a clone, or await
//! [`Recorder::close_in_background`]. [`Recorder::replay`] reads the file on a thread of its
//! own and yields to other tasks as it goes.
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
//! not parsed, except to blank secrets). Binary is standard base64 with `"binary": true`. A gap
//! marker is `{"ts":…,"dir":"in","type":"gap","data":{"skipped":3}}`.
//!
//! ## Redaction
//!
//! [`Redaction`] is applied on the writer thread before anything reaches the file: secret JSON
//! members (`client_secret`, `access_token`, `refresh_token`, `signature` by default) are
//! blanked in text frames, close reasons, and binary frames that are UTF-8; a binary frame
//! that is not UTF-8 but contains a secret field's name is replaced whole by the bytes of
//! `[REDACTED]`. The same policy cleans URLs ([`Redaction::redact_url`]) and headers
//! ([`Redaction::redact_header`]) for errors and logs.
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
//! None. [`Recorder::replay`] is `async` on tokio (its `time`, `sync` and `rt` features: the
//! timer, a channel from the reader thread, and `yield_now`); [`Closing`] works on any
//! executor; everything else is plain `std` and works with or without a runtime. The
//! repository's `docs/recording.md` covers the format, redaction and performance in more
//! depth.

mod closing;
mod config;
mod entry;
mod error;
mod feed;
mod queue;
mod read;
mod recorder;
mod redact;
mod redact_url;
mod replay;
mod timestamp;
mod writer;

pub use crate::{
    closing::Closing,
    config::RecorderConfig,
    entry::{Direction, Entry, Payload},
    error::{Error, Result},
    queue::Queued,
    read::{Entries, Metadata},
    recorder::Recorder,
    redact::Redaction,
    replay::ReplayOptions,
    timestamp::Timestamp,
};
