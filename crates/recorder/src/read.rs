//! Reading recordings: the streaming `Entries` iterator and `Metadata`.

use std::{
    fs::File,
    io::{self, BufRead, BufReader},
    iter::FusedIterator,
    path::{Path, PathBuf},
};

use crate::{
    entry::{Direction, Entry},
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
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Entries {
    path: PathBuf,
    reader: BufReader<File>,
    line: Vec<u8>,
    skipped: u64,
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

    fn read_line(&mut self) -> Option<Result<Entry>> {
        self.line.clear();
        match self.reader.read_until(b'\n', &mut self.line) {
            Ok(0) => {
                self.done = true;
                None
            }
            Ok(_) => match serde_json::from_slice(&self.line) {
                Ok(entry) => Some(Ok(entry)),
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
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Metadata {
    /// Entries read.
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
}

impl Metadata {
    /// Counts `entry` in.
    pub(crate) fn add(&mut self, entry: &Entry) {
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
            done: false,
        })
    }

    /// Counts the entries of the recording at `path`, inbound and outbound, and the time it
    /// spans, reading it once from start to end.
    ///
    /// Blank and malformed lines are counted in [`Metadata::skipped_lines`], never fatal.
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
