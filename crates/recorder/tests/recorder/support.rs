//! Helpers shared by the topics: a temporary directory and recording files with known lines.

use std::{
    fs,
    path::{Path, PathBuf},
    sync::atomic::{AtomicU32, Ordering},
    time::{Duration, Instant},
};

use zen_websocket_recorder::{Direction, Entry, Payload, Timestamp};

/// The bound on every wait in these tests.
pub(crate) const WAIT: Duration = Duration::from_secs(5);

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
