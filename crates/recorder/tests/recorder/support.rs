//! Helpers shared by the topics: a temporary directory, recording files with known lines, a
//! named pipe nobody reads (a disk that cannot keep up), and bounded waits.

use std::{
    fs,
    io::Read,
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicU32, Ordering},
        mpsc,
    },
    thread,
    time::{Duration, Instant},
};

use zen_websocket_recorder::{Direction, Entry, Payload, Timestamp};

/// The bound on every wait in these tests: generous, as it only bounds a failure on a loaded
/// machine.
pub(crate) const WAIT: Duration = Duration::from_secs(30);

/// A fresh directory under the system's temporary directory, removed on drop.
#[derive(Debug)]
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new() -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "zen-websocket-recorder-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(name);
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).expect("create a temporary directory");
        Self(path)
    }

    pub(crate) fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// The lines of the file at `path` (none when it does not exist yet).
pub(crate) fn lines(path: &Path) -> Vec<String> {
    fs::read_to_string(path).unwrap_or_default().lines().map(str::to_owned).collect()
}

/// Polls until the file at `path` has at least `count` lines, failing after [`WAIT`].
pub(crate) fn wait_for_lines(path: &Path, count: usize) -> Vec<String> {
    let started = Instant::now();
    loop {
        let lines = lines(path);
        if lines.len() >= count {
            return lines;
        }
        assert!(started.elapsed() < WAIT, "waited for {count} lines, have {}", lines.len());
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A timestamp `millis` milliseconds after 2026-11-28T10:15:30Z.
pub(crate) fn at(millis: i64) -> Timestamp {
    let base: Timestamp = "2026-11-28T10:15:30Z".parse().expect("valid timestamp");
    Timestamp::from_unix_micros(base.as_unix_micros() + millis * 1000).expect("in range")
}

/// An entry at `at(millis)`.
pub(crate) fn entry(millis: i64, dir: Direction, payload: impl Into<Payload>) -> Entry {
    Entry::new(at(millis), dir, payload.into())
}

/// One JSON line per entry, as the recorder writes them.
pub(crate) fn write_entries(path: &Path, entries: &[Entry]) {
    let mut text = String::new();
    for entry in entries {
        text.push_str(&serde_json::to_string(entry).expect("serializes"));
        text.push('\n');
    }
    fs::write(path, text).expect("write the recording");
}

/// Runs `work` on a thread of its own and returns its result, failing if it takes longer than
/// [`WAIT`] — for calls that must not block (the failure is the test's, not a hang).
pub(crate) fn within<T: Send + 'static>(
    what: &str,
    work: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (done, result) = mpsc::channel();
    thread::spawn(move || {
        let _ = done.send(work());
    });
    match result.recv_timeout(WAIT) {
        Ok(value) => value,
        Err(_) => panic!("{what} did not return within {WAIT:?}"),
    }
}

/// Makes a named pipe at `path`; `false` (the caller skips its test) where `mkfifo` is not
/// available.
pub(crate) fn mkfifo(path: &Path) -> bool {
    let made = std::process::Command::new("mkfifo").arg(path).status();
    let made = made.is_ok_and(|status| status.success());
    if !made {
        eprintln!("skipped: no mkfifo on this system");
    }
    made
}

/// A named pipe whose reader holds it open without reading until [`drain`](Self::drain): a
/// disk that cannot keep up, for as long as a test likes. Once the pipe's buffer (64 KiB on
/// Linux) is full, every write to it blocks.
#[derive(Debug)]
pub(crate) struct StuckPipe {
    path: PathBuf,
    go: mpsc::Sender<()>,
    bytes: mpsc::Receiver<Vec<u8>>,
}

impl StuckPipe {
    /// A pipe in `dir`; `None` (the caller skips its test) where `mkfifo` is not available.
    pub(crate) fn new(dir: &TempDir) -> Option<Self> {
        let path = dir.join("pipe.jsonl");
        if !mkfifo(&path) {
            return None;
        }
        let (go, wait_for_go) = mpsc::channel();
        let (send_bytes, bytes) = mpsc::channel();
        let reader_path = path.clone();
        thread::spawn(move || {
            // Opening blocks until the recorder opens the pipe for writing.
            let mut pipe = fs::File::open(reader_path).expect("open the pipe for reading");
            if wait_for_go.recv().is_err() {
                return;
            }
            let mut all = Vec::new();
            pipe.read_to_end(&mut all).expect("read the pipe");
            let _ = send_bytes.send(all);
        });
        Some(Self { path, go, bytes })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Starts reading and returns everything written to the pipe once the writer has closed
    /// it, failing after [`WAIT`].
    pub(crate) fn drain(self) -> Vec<u8> {
        self.go.send(()).expect("the reader is waiting");
        self.bytes.recv_timeout(WAIT).expect("the writer closed the pipe within the wait")
    }
}

/// The entries of a recording held in memory (from a pipe), one per line.
pub(crate) fn parse(bytes: &[u8]) -> Vec<Entry> {
    let text = std::str::from_utf8(bytes).expect("a recording is UTF-8");
    text.lines().map(|line| serde_json::from_str(line).expect("every line is an entry")).collect()
}
