//! `Recorder`: the cheap handle that records frames into a JSON Lines file.

use std::{
    fmt,
    fs::OpenOptions,
    io::BufWriter,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, PoisonError},
    thread::{self, JoinHandle},
};

use crate::{
    config::RecorderConfig,
    entry::{Direction, Entry, Payload},
    error::{Error, Result},
    timestamp::Timestamp,
    writer::{Flushed, Shared, Writer},
};

/// Capacity of the writer's output buffer: a batch of typical frames in one `write` call.
const OUTPUT_BUFFER: usize = 64 << 10;

/// Records WebSocket frames into a JSON Lines file, off the caller's hot path.
///
/// [`record`](Self::record) stamps the frame with the current time and hands it to a dedicated
/// writer thread; it never touches the file and never waits for I/O. The writer redacts
/// secrets ([`Redaction`](crate::Redaction)), then writes and flushes in batches: when
/// [`flush_entries`](RecorderConfig::flush_entries) entries are waiting (100 by default), every
/// [`flush_interval`](RecorderConfig::flush_interval) (1 s) when fewer are, and on
/// [`flush`](Self::flush), [`close`](Self::close) and the drop of the last handle.
///
/// `Recorder` is a cheap [`Clone`] handle around an [`Arc`]: a client that reconnects keeps
/// recording into the same file, and handles on many threads share one writer.
///
/// # Examples
///
/// ```
/// use zen_websocket_recorder::{Direction, Payload, Recorder, RecorderConfig};
///
/// # let dir = std::env::temp_dir().join(format!("zen-recorder-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// let path = dir.join("session.jsonl");
/// let recorder = Recorder::create(&path, RecorderConfig::default())?;
/// recorder.record(Direction::Out, r#"{"method":"public/auth","params":{"client_secret":"s3cret"}}"#);
/// recorder.record(Direction::In, vec![0x01, 0x02]);
/// recorder.record(Direction::In, Payload::Close { code: Some(1000), reason: "bye".into() });
/// recorder.close()?;
///
/// let text = std::fs::read_to_string(&path)?;
/// assert_eq!(text.lines().count(), 3);
/// assert!(!text.contains("s3cret"));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Recorder {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    writer: Mutex<Option<JoinHandle<()>>>,
    path: PathBuf,
}

impl Recorder {
    /// Creates (or truncates, or with [`append`](RecorderConfig::append) appends to) the file
    /// at `path` and starts its writer thread.
    ///
    /// # Errors
    ///
    /// [`Error::Create`] naming the path when the file cannot be opened for writing (missing
    /// directory, no permission, a directory at that path); [`Error::InvalidOption`] for a
    /// zero [`flush_entries`](RecorderConfig::flush_entries) or
    /// [`flush_interval`](RecorderConfig::flush_interval); [`Error::Spawn`] when the thread
    /// cannot start.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_recorder::{Error, Recorder, RecorderConfig};
    ///
    /// let err = Recorder::create("/no/such/dir/s.jsonl", RecorderConfig::default()).unwrap_err();
    /// assert!(matches!(err, Error::Create { ref path, .. } if path.ends_with("s.jsonl")));
    /// ```
    pub fn create(path: impl AsRef<Path>, config: RecorderConfig) -> Result<Self> {
        config.validate()?;
        let path = path.as_ref().to_path_buf();
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .append(config.append)
            .truncate(!config.append)
            .open(&path)
            .map_err(|source| Error::Create { path: path.clone(), source })?;
        let shared = Arc::new(Shared::new(config.flush_entries));
        let writer = Writer {
            out: BufWriter::with_capacity(OUTPUT_BUFFER, file),
            path: path.clone(),
            redaction: config.redaction,
            interval: config.flush_interval,
        };
        let thread_shared = Arc::clone(&shared);
        let handle = thread::Builder::new()
            .name("zen-websocket-recorder".to_owned())
            .spawn(move || writer.run(&thread_shared))
            .map_err(Error::Spawn)?;
        Ok(Self { inner: Arc::new(Inner { shared, writer: Mutex::new(Some(handle)), path }) })
    }

    /// Records a frame travelling `dir`, stamped with the current time.
    ///
    /// Cheap and non-blocking on I/O: it takes the time, moves the payload into a queue and
    /// returns; the writer thread redacts and writes it later. Text is recorded as is, never
    /// parsed here. Frames recorded after [`close`](Self::close) are dropped. If the disk
    /// cannot keep up, entries wait in memory.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_recorder::{Direction, Payload, Recorder, RecorderConfig};
    ///
    /// # let path = std::env::temp_dir().join(format!("zen-recorder-record-{}.jsonl", std::process::id()));
    /// let recorder = Recorder::create(&path, RecorderConfig::default())?;
    /// recorder.record(Direction::Out, "ping");
    /// recorder.record(Direction::In, &b"\x00\x01"[..]);
    /// recorder.record(Direction::In, Payload::Close { code: None, reason: String::new() });
    /// # recorder.close()?;
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn record(&self, dir: Direction, payload: impl Into<Payload>) {
        self.record_entry(Entry::new(Timestamp::now(), dir, payload.into()));
    }

    /// Records an entry with its own timestamp (to re-record or build a recording).
    ///
    /// The same as [`record`](Self::record) otherwise: queued, redacted and written later.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_recorder::{Direction, Entry, Recorder, RecorderConfig};
    ///
    /// # let path = std::env::temp_dir().join(format!("zen-recorder-entry-{}.jsonl", std::process::id()));
    /// let recorder = Recorder::create(&path, RecorderConfig::default())?;
    /// let ts = "2026-11-28T10:15:30.123456Z".parse()?;
    /// recorder.record_entry(Entry::new(ts, Direction::In, "hello".into()));
    /// recorder.close()?;
    /// assert_eq!(Recorder::metadata(&path)?.first_ts, Some(ts));
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn record_entry(&self, entry: Entry) {
        self.inner.shared.push(entry);
    }

    /// Writes and flushes everything recorded so far, waiting for the writer to finish.
    ///
    /// Blocks the calling thread for as long as the writer needs for one batch; from async
    /// code, call it where a short block is acceptable (or in `spawn_blocking`). Flushing
    /// hands the data to the operating system; it does not `fsync`.
    ///
    /// # Errors
    ///
    /// [`Error::Write`] with the first write error since the last flush or close;
    /// [`Error::Closed`] after [`close`](Self::close).
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_recorder::{Direction, Recorder, RecorderConfig};
    ///
    /// # let path = std::env::temp_dir().join(format!("zen-recorder-flush-{}.jsonl", std::process::id()));
    /// let recorder = Recorder::create(&path, RecorderConfig::default())?;
    /// recorder.record(Direction::Out, "ping");
    /// recorder.flush()?;
    /// assert_eq!(std::fs::read_to_string(&path)?.lines().count(), 1);
    /// # drop(recorder);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn flush(&self) -> Result<()> {
        match self.inner.shared.flush() {
            Flushed::Done(None) => Ok(()),
            Flushed::Done(Some(source)) => Err(self.write_error(source)),
            Flushed::Closed => Err(Error::Closed { path: self.inner.path.clone() }),
        }
    }

    /// Writes everything recorded so far, flushes, and stops the writer thread — for every
    /// handle: entries recorded afterwards are dropped.
    ///
    /// Closing twice is fine. Dropping the last handle closes too. Blocks like
    /// [`flush`](Self::flush). Write errors are also logged through `tracing` (WARN) when
    /// they happen, so one that nobody collects is not lost.
    ///
    /// # Errors
    ///
    /// [`Error::Write`] with the first write error since the last flush.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_recorder::{Direction, Recorder, RecorderConfig};
    ///
    /// # let path = std::env::temp_dir().join(format!("zen-recorder-close-{}.jsonl", std::process::id()));
    /// let recorder = Recorder::create(&path, RecorderConfig::default())?;
    /// recorder.record(Direction::Out, "bye");
    /// recorder.close()?;
    /// recorder.record(Direction::Out, "dropped");
    /// assert_eq!(Recorder::metadata(&path)?.count, 1);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn close(&self) -> Result<()> {
        self.inner.close().map_err(|source| self.write_error(source))
    }

    /// The recording file's path, as given to [`create`](Self::create).
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_recorder::{Recorder, RecorderConfig};
    ///
    /// # let path = std::env::temp_dir().join(format!("zen-recorder-path-{}.jsonl", std::process::id()));
    /// let recorder = Recorder::create(&path, RecorderConfig::default())?;
    /// assert_eq!(recorder.path(), path);
    /// # drop(recorder);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    fn write_error(&self, source: std::io::Error) -> Error {
        Error::Write { path: self.inner.path.clone(), source }
    }
}

impl Inner {
    fn close(&self) -> std::result::Result<(), std::io::Error> {
        self.shared.begin_close();
        let handle = self.writer.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(handle) = handle {
            // The writer marks itself finished even if it panicked; nothing to report here.
            let _ = handle.join();
        }
        self.shared.wait_finished().map_or(Ok(()), Err)
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The writer logged any write error through `tracing` when it happened.
        let _ = self.close();
    }
}

impl fmt::Debug for Recorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recorder").field("path", &self.inner.path).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_and_readers_move_between_threads() {
        fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
        fn assert_send<T: Send + 'static>() {}
        assert_send_sync::<Recorder>();
        assert_send::<crate::Entries>();
        assert_send::<Entry>();
    }
}
