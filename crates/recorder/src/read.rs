//! Reading recordings: the streaming `Entries` iterator and `Metadata`.

use std::{
    fs::File,
    io::{self, BufRead, BufReader},
    iter::FusedIterator,
    path::{Path, PathBuf},
};

use crate::{
    entry::{Direction, Entry, Payload},
    error::{Error, Result},
    recorder::Recorder,
    timestamp::Timestamp,
};

/// The entries of a recording, read one line at a time.
///
/// Holds one line in memory, so recordings of any size can be read. Blank and malformed lines
/// (not JSON, not an entry, invalid UTF-8, a partial last line) are skipped and counted in
/// [`skipped_lines`](Self::skipped_lines); they are never an error. An I/O error ends the
/// iteration after it is yielded.
///
/// Gap markers — where the recorder dropped frames because the disk could not keep up — are
/// yielded in place as entries whose payload is [`Payload::Gap`]; their counts add up in
/// [`dropped_entries`](Self::dropped_entries). Code that wants frames only can skip them with
/// [`Payload::is_gap`].
///
/// # Examples
///
/// ```
/// use zen_websocket_recorder::{Direction, Recorder};
///
/// # let path = std::env::temp_dir().join(format!("zen-recorder-entries-{}.jsonl", std::process::id()));
/// std::fs::write(&path, concat!(
///     r#"{"ts":"2026-11-28T10:15:30.000000Z","dir":"out","type":"text","data":"ping"}"#, "\n",
///     "not json\n",
///     r#"{"ts":"2026-11-28T10:15:30.250000Z","dir":"in","type":"text","data":"pong"}"#, "\n",
/// ))?;
/// let mut entries = Recorder::entries(&path)?;
/// let inbound = entries.by_ref().filter_map(Result::ok).filter(|e| e.dir == Direction::In).count();
/// assert_eq!(inbound, 1);
/// assert_eq!(entries.skipped_lines(), 1);
/// assert_eq!(entries.dropped_entries(), 0);
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Entries {
    path: PathBuf,
    reader: BufReader<File>,
    line: Vec<u8>,
    skipped: u64,
    dropped: u64,
    done: bool,
}

impl Entries {
    /// How many blank or malformed lines were skipped so far.
    ///
    /// # Examples
    ///
    /// See [`Entries`].
    #[must_use]
    pub fn skipped_lines(&self) -> u64 {
        self.skipped
    }

    /// How many frames the gap markers read so far say are missing (the sum of their
    /// `skipped`).
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_recorder::{Payload, Recorder};
    ///
    /// # let path = std::env::temp_dir().join(format!("zen-recorder-gaps-{}.jsonl", std::process::id()));
    /// std::fs::write(&path, concat!(
    ///     r#"{"ts":"2026-11-28T10:15:30.000000Z","dir":"in","type":"text","data":"1"}"#, "\n",
    ///     r#"{"ts":"2026-11-28T10:15:30.001000Z","dir":"in","type":"gap","data":{"skipped":2}}"#, "\n",
    ///     r#"{"ts":"2026-11-28T10:15:30.004000Z","dir":"in","type":"text","data":"4"}"#, "\n",
    /// ))?;
    /// let mut entries = Recorder::entries(&path)?;
    /// let frames = entries.by_ref().filter_map(Result::ok).filter(|e| !e.payload.is_gap()).count();
    /// assert_eq!((frames, entries.dropped_entries()), (2, 2));
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn dropped_entries(&self) -> u64 {
        self.dropped
    }

    fn read_line(&mut self) -> Option<Result<Entry>> {
        self.line.clear();
        match self.reader.read_until(b'\n', &mut self.line) {
            Ok(0) => {
                self.done = true;
                None
            }
            Ok(_) => match serde_json::from_slice::<Entry>(&self.line) {
                Ok(entry) => {
                    if let Payload::Gap { skipped } = entry.payload {
                        self.dropped = self.dropped.saturating_add(skipped);
                    }
                    Some(Ok(entry))
                }
                Err(_) => {
                    self.skipped += 1;
                    None
                }
            },
            Err(err) if err.kind() == io::ErrorKind::Interrupted => None,
            Err(source) => {
                self.done = true;
                Some(Err(Error::Read { path: self.path.clone(), source }))
            }
        }
    }
}

impl Iterator for Entries {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            if let Some(item) = self.read_line() {
                return Some(item);
            }
        }
        None
    }
}

impl FusedIterator for Entries {}

/// A summary of a recording, from [`Recorder::metadata`] (or of a replay, from
/// [`Recorder::replay`]).
///
/// `count`, `inbound`, `outbound`, the timestamps and `duration_ms` describe the recorded
/// frames; gap markers are not frames and only add to `dropped_entries`.
///
/// # Examples
///
/// ```
/// use zen_websocket_recorder::Recorder;
///
/// # let path = std::env::temp_dir().join(format!("zen-recorder-meta-{}.jsonl", std::process::id()));
/// std::fs::write(&path, concat!(
///     r#"{"ts":"2026-11-28T10:15:30.000000Z","dir":"out","type":"text","data":"ping"}"#, "\n",
///     "\n",
///     r#"{"ts":"2026-11-28T10:15:31.500000Z","dir":"in","type":"text","data":"pong"}"#, "\n",
/// ))?;
/// let metadata = Recorder::metadata(&path)?;
/// assert_eq!((metadata.count, metadata.inbound, metadata.outbound), (2, 1, 1));
/// assert_eq!(metadata.duration_ms, 1500);
/// assert_eq!(metadata.skipped_lines, 1);
/// assert_eq!(metadata.dropped_entries, 0);
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Metadata {
    /// Frames read (gap markers aside).
    pub count: u64,
    /// Entries received from the server ([`Direction::In`]).
    pub inbound: u64,
    /// Entries sent by the client ([`Direction::Out`]).
    pub outbound: u64,
    /// From the first entry's timestamp to the last one's, in milliseconds (zero when the
    /// last is not later).
    pub duration_ms: u64,
    /// The first entry's timestamp; `None` when there are no entries.
    pub first_ts: Option<Timestamp>,
    /// The last entry's timestamp; `None` when there are no entries.
    pub last_ts: Option<Timestamp>,
    /// Blank and malformed lines, skipped.
    pub skipped_lines: u64,
    /// Frames the recorder dropped because the disk could not keep up: the sum of the gap
    /// markers ([`Payload::Gap`]). Not counted in `count`.
    pub dropped_entries: u64,
}

impl Metadata {
    /// Counts `entry` in: a frame, or the frames missing at a gap marker.
    pub(crate) fn add(&mut self, entry: &Entry) {
        if let Payload::Gap { skipped } = entry.payload {
            self.dropped_entries = self.dropped_entries.saturating_add(skipped);
            return;
        }
        self.count += 1;
        match entry.dir {
            Direction::In => self.inbound += 1,
            Direction::Out => self.outbound += 1,
        }
        let first = *self.first_ts.get_or_insert(entry.ts);
        self.last_ts = Some(entry.ts);
        let span = entry.ts.saturating_duration_since(first).as_millis();
        self.duration_ms = u64::try_from(span).unwrap_or(u64::MAX);
    }
}

impl Recorder {
    /// Reads the recording at `path` one line at a time.
    ///
    /// # Errors
    ///
    /// [`Error::Open`] when the file cannot be opened; the iterator yields [`Error::Read`] if
    /// reading fails part way.
    ///
    /// # Examples
    ///
    /// See [`Entries`].
    pub fn entries(path: impl AsRef<Path>) -> Result<Entries> {
        let path = path.as_ref().to_path_buf();
        let file =
            File::open(&path).map_err(|source| Error::Open { path: path.clone(), source })?;
        Ok(Entries {
            path,
            reader: BufReader::new(file),
            line: Vec::new(),
            skipped: 0,
            dropped: 0,
            done: false,
        })
    }

    /// Counts the entries of the recording at `path`, inbound and outbound, and the time it
    /// spans, reading it once from start to end.
    ///
    /// Blank and malformed lines are counted in [`Metadata::skipped_lines`], never fatal; gap
    /// markers add up in [`Metadata::dropped_entries`].
    ///
    /// # Errors
    ///
    /// [`Error::Open`] or [`Error::Read`] when the file cannot be read.
    ///
    /// # Examples
    ///
    /// See [`Metadata`].
    pub fn metadata(path: impl AsRef<Path>) -> Result<Metadata> {
        let mut entries = Self::entries(path)?;
        let mut metadata = Metadata::default();
        for entry in entries.by_ref() {
            metadata.add(&entry?);
        }
        metadata.skipped_lines = entries.skipped_lines();
        Ok(metadata)
    }
}
