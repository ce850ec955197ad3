//! Replaying recordings: `ReplayOptions` and `Recorder::replay`, paced on tokio's clock, fed
//! by a reader thread (`feed.rs`).

use std::{path::Path, time::Duration};

use tokio::time::Instant;

use crate::{
    entry::Entry,
    error::{Error, Result},
    feed::{self, Chunk},
    read::Metadata,
    recorder::Recorder,
    timestamp::Timestamp,
};

/// How [`Recorder::replay`] paces entries.
///
/// # Examples
///
/// ```
/// use zen_websocket_recorder::ReplayOptions;
///
/// // The original timing, twice as fast.
/// let options = ReplayOptions::default().realtime(true).speed(2.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[must_use]
pub struct ReplayOptions {
    realtime: bool,
    speed: f64,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        Self { realtime: false, speed: 1.0 }
    }
}

impl ReplayOptions {
    /// The same as [`ReplayOptions::default`]: every entry at once, in order.
    ///
    /// # Examples
    ///
    /// ```
    /// let options = zen_websocket_recorder::ReplayOptions::new();
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether to wait the original gaps between entries (divided by [`speed`](Self::speed)).
    ///
    /// Default is `false`: entries follow one another without waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// let options = zen_websocket_recorder::ReplayOptions::default().realtime(true);
    /// ```
    pub fn realtime(mut self, realtime: bool) -> Self {
        self.realtime = realtime;
        self
    }

    /// How much faster than recorded a realtime replay runs: 2.0 halves every gap, 0.5
    /// doubles it.
    ///
    /// Default is 1.0. Must be a finite number above zero.
    ///
    /// # Examples
    ///
    /// ```
    /// let options = zen_websocket_recorder::ReplayOptions::default().realtime(true).speed(10.0);
    /// ```
    pub fn speed(mut self, speed: f64) -> Self {
        self.speed = speed;
        self
    }

    fn validate(&self) -> Result<()> {
        if self.speed.is_finite() && self.speed > 0.0 {
            Ok(())
        } else {
            Err(Error::InvalidOption {
                name: "speed",
                reason: format!("must be a finite number above zero, got {}", self.speed),
            })
        }
    }
}

/// Schedules entries at their offset from the first one, scaled by the speed, on one clock
/// started at the first entry — so time spent in the callback does not add up as drift.
struct Pacer {
    speed: f64,
    origin: Option<(Instant, Timestamp)>,
}

impl Pacer {
    async fn wait_for(&mut self, ts: Timestamp) {
        let (start, first) = *self.origin.get_or_insert_with(|| (Instant::now(), ts));
        let offset = ts.saturating_duration_since(first);
        if offset.is_zero() {
            return;
        }
        let scaled =
            Duration::try_from_secs_f64(offset.as_secs_f64() / self.speed).unwrap_or(Duration::MAX);
        match start.checked_add(scaled) {
            Some(at) => tokio::time::sleep_until(at).await,
            // Beyond what `Instant` can hold: tokio clamps this to its far future.
            None => tokio::time::sleep(scaled).await,
        }
    }
}

impl Recorder {
    /// Calls `on_entry` with each entry of the recording at `path`, in file order, and returns
    /// the [`Metadata`] of what was replayed.
    ///
    /// This is an `async` function built on tokio's timer. With
    /// [`realtime`](ReplayOptions::realtime), each entry is handed over when its offset from
    /// the first entry, divided by [`speed`](ReplayOptions::speed), has elapsed (entries whose
    /// timestamp is not later than the first are handed over at once); without it, entries
    /// follow one another with no waiting. Blank and malformed lines are skipped and counted.
    /// Gap markers ([`Payload::Gap`](crate::Payload::Gap), where the recorder dropped frames)
    /// are handed over too, in place and paced like frames, so the closure can tell where
    /// frames are missing; skip them with a wildcard arm or [`Payload::is_gap`](crate::Payload::is_gap).
    /// They add up in [`Metadata::dropped_entries`], not in `count`.
    ///
    /// The file is opened and read on a thread of its own (a few chunks ahead, so memory
    /// stays bounded), never on the runtime's thread, and the replay yields to other tasks
    /// after every chunk of up to 256 entries — a large recording replayed without `realtime`
    /// does not starve the runtime. The closure runs on the task that awaits the replay.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidOption`] for a speed that is not a finite number above zero;
    /// [`Error::Open`] or [`Error::Read`] when the file cannot be read (entries before a read
    /// error have been handed over); [`Error::Spawn`] when the reader thread cannot start.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future stops the replay; the entries already handed to `on_entry` stay
    /// handed over and no other is. The reader thread stops at its next chunk.
    ///
    /// # Panics
    ///
    /// With `realtime`, when polled outside a tokio runtime with the time driver enabled (as
    /// `tokio::time::sleep` does).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use zen_websocket_recorder::{Recorder, ReplayOptions};
    ///
    /// # let path = std::env::temp_dir().join(format!("zen-recorder-replay-{}.jsonl", std::process::id()));
    /// std::fs::write(&path, concat!(
    ///     r#"{"ts":"2026-11-28T10:15:30.000000Z","dir":"out","type":"text","data":"ping"}"#, "\n",
    ///     r#"{"ts":"2026-11-28T10:15:30.100000Z","dir":"in","type":"text","data":"pong"}"#, "\n",
    /// ))?;
    /// let mut seen = Vec::new();
    /// let options = ReplayOptions::default().realtime(true).speed(10.0); // 10 ms instead of 100
    /// let metadata = Recorder::replay(&path, options, |entry| seen.push(entry)).await?;
    /// assert_eq!(metadata.count, 2);
    /// assert_eq!(seen.len(), 2);
    /// # std::fs::remove_file(&path)?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn replay<F>(
        path: impl AsRef<Path>,
        options: ReplayOptions,
        mut on_entry: F,
    ) -> Result<Metadata>
    where
        F: FnMut(Entry),
    {
        options.validate()?;
        let path = path.as_ref().to_path_buf();
        let mut chunks = feed::spawn(path.clone())?;
        let mut pacer = Pacer { speed: options.speed, origin: None };
        let mut metadata = Metadata::default();
        loop {
            let entries = match chunks.recv().await {
                Some(Chunk::Entries(entries)) => entries,
                Some(Chunk::End { skipped_lines }) => {
                    metadata.skipped_lines = skipped_lines;
                    return Ok(metadata);
                }
                Some(Chunk::Failed(err)) => return Err(err),
                None => return Err(feed::reader_lost(path)),
            };
            for entry in entries {
                if options.realtime {
                    pacer.wait_for(entry.ts).await;
                }
                metadata.add(&entry);
                on_entry(entry);
            }
            tokio::task::yield_now().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speed_must_be_finite_and_positive() {
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let err = ReplayOptions::default().speed(bad).validate().unwrap_err();
            assert!(matches!(err, Error::InvalidOption { name: "speed", .. }));
        }
        assert!(ReplayOptions::default().speed(1e-9).validate().is_ok());
    }

    #[test]
    fn the_replay_future_is_send_and_small() {
        fn assert_send<T: Send>(_: &T) {}
        let future = Recorder::replay("unused.jsonl", ReplayOptions::default(), |_| {});
        assert_send(&future);
        let size = std::mem::size_of_val(&future);
        assert!(size <= 1024, "{size} bytes");
    }
}
