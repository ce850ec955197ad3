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
    closing::Closing,
    config::RecorderConfig,
    entry::{Direction, Entry, Payload},
    error::{Error, Result},
    queue::Queued,
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
/// Memory is bounded: entries not yet written stay within
/// [`max_queue_entries`](RecorderConfig::max_queue_entries) and
/// [`max_queue_bytes`](RecorderConfig::max_queue_bytes) ([`queued`](Self::queued)). When the
/// disk cannot keep up, `record` drops the frame instead of waiting, counts it
/// ([`dropped`](Self::dropped)) and the file gets a gap marker
/// ([`Payload::Gap`](crate::Payload::Gap)) where frames are missing.
///
/// Nothing here blocks an async runtime except what says so: `record` and dropping the last
/// handle return at once; [`flush`](Self::flush) and [`close`](Self::close) wait for the
/// disk, so call them from blocking code (`tokio::task::spawn_blocking`) or use
/// [`close_in_background`](Self::close_in_background).
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
    /// directory, no permission, a directory at that path); [`Error::InvalidOption`] naming
    /// the option for a zero [`flush_entries`](RecorderConfig::flush_entries) or
    /// [`flush_interval`](RecorderConfig::flush_interval), a
    /// [`max_queue_entries`](RecorderConfig::max_queue_entries) below `flush_entries`, or a
    /// [`max_queue_bytes`](RecorderConfig::max_queue_bytes) below 1 KiB; [`Error::Spawn`]
    /// when the thread cannot start.
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
        let shared = Arc::new(Shared::new(config.flush_entries, config.queue_limit()));
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
    /// parsed here.
    ///
    /// When the queue is full (the disk cannot keep up, see
    /// [`max_queue_entries`](RecorderConfig::max_queue_entries)) the frame is dropped at once,
    /// counted in [`dropped`](Self::dropped), and a gap marker takes its place in the file.
    /// Frames recorded after [`close`](Self::close) (or the drop of the last handle) are
    /// ignored: there is no file left to mark, and they are not counted.
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

    /// Writes and flushes everything recorded so far (and the gap marker of frames dropped
    /// since the last entry queued), waiting for the writer to finish.
    ///
    /// Blocks the calling thread for as long as the writer needs — as long as the disk takes.
    /// From async code, call it on a blocking thread:
    /// `tokio::task::spawn_blocking(move || recorder.flush())`. Flushing hands the data to the
    /// operating system; it does not `fsync`.
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
    /// handle: entries recorded afterwards are ignored. Waits until the writer has exited.
    ///
    /// Closing twice is fine. Blocks like [`flush`](Self::flush): from async code, call it on
    /// a clone moved to a blocking thread (`tokio::task::spawn_blocking(move ||
    /// recorder.close())`, which lets you bound the wait with a timeout), or await
    /// [`close_in_background`](Self::close_in_background). Dropping the last handle closes
    /// too, without waiting: the writer finishes on its own, so a process about to exit
    /// should `close` first. Write errors are also logged through `tracing` (WARN) when they
    /// happen, so one that nobody collects is not lost.
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
    /// recorder.record(Direction::Out, "ignored");
    /// assert_eq!(Recorder::metadata(&path)?.count, 1);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn close(&self) -> Result<()> {
        self.inner.close().map_err(|source| self.write_error(source))
    }

    /// Begins closing, like [`close`](Self::close), without blocking: the writer thread
    /// writes what is queued, flushes and exits on its own. The returned future completes
    /// when it has, with what `close` would return.
    ///
    /// Closing has begun when this returns, whether or not the future is awaited; entries
    /// recorded afterwards are ignored. The future needs no particular runtime.
    ///
    /// # Errors
    ///
    /// The future yields [`Error::Write`] with the first write error since the last flush
    /// (to the first caller that collects it, as with `close`).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future does not stop the close; it only stops waiting for it.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// use zen_websocket_recorder::{Direction, Recorder, RecorderConfig};
    ///
    /// # let path = std::env::temp_dir().join(format!("zen-recorder-bg-{}.jsonl", std::process::id()));
    /// let recorder = Recorder::create(&path, RecorderConfig::default())?;
    /// recorder.record(Direction::Out, "bye");
    /// tokio::time::timeout(Duration::from_secs(10), recorder.close_in_background()).await??;
    /// assert_eq!(Recorder::metadata(&path)?.count, 1);
    /// # std::fs::remove_file(&path)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn close_in_background(&self) -> Closing {
        self.inner.shared.begin_close();
        Closing::new(Arc::clone(&self.inner.shared), self.inner.path.clone())
    }

    /// How many frames this recorder dropped so far because its queue was full (the disk
    /// could not keep up) — the sum of the gap markers it has written or will write.
    ///
    /// Cheap (an atomic load): fit for publishing as a metric. Frames recorded after close
    /// are not counted.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_recorder::{Direction, Recorder, RecorderConfig};
    ///
    /// # let path = std::env::temp_dir().join(format!("zen-recorder-dropped-{}.jsonl", std::process::id()));
    /// let config = RecorderConfig::default().max_queue_bytes(1024);
    /// let recorder = Recorder::create(&path, config)?;
    /// recorder.record(Direction::In, "x".repeat(2000)); // larger than the whole bound
    /// assert_eq!(recorder.dropped(), 1);
    /// recorder.close()?;
    /// assert_eq!(Recorder::metadata(&path)?.dropped_entries, 1);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn dropped(&self) -> u64 {
        self.inner.shared.dropped()
    }

    /// How much this recorder holds in memory: entries recorded and not yet written, and their
    /// estimated bytes; always within the configured bound.
    ///
    /// # Examples
    ///
    /// See [`Queued`].
    #[must_use]
    pub fn queued(&self) -> Queued {
        self.inner.shared.queued()
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
    /// Begins the close and lets the writer finish on its own: a drop on an async runtime's
    /// thread must not wait for the disk. The writer logged any write error through
    /// `tracing` when it happened; dropping the `JoinHandle` detaches the thread.
    fn drop(&mut self) {
        self.shared.begin_close();
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
        assert_send::<Closing>();
        assert_send::<crate::Entries>();
        assert_send::<Entry>();
    }
}
