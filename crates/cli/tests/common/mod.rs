//! Driving the real `zenws` binary: spawn it with piped stdio, wait (always bounded) for lines
//! on stdout or stderr, and kill it if the test ends first.

#![allow(dead_code, unreachable_pub, missing_docs)]

use std::{
    io::{BufRead, BufReader, Read, Write},
    path::PathBuf,
    process::{Child, ChildStdin, Command, ExitStatus, Stdio},
    sync::mpsc::{self, Receiver, RecvTimeoutError},
    thread,
    time::{Duration, Instant},
};

/// The bound on any single wait.
pub const WAIT: Duration = Duration::from_secs(20);

/// The `zenws` binary Cargo built for these tests.
pub fn zenws() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_zenws"));
    command.env_remove("RUST_LOG");
    command
}

/// Runs `zenws ARGS` to the end with empty stdin; killed (and the test failed) after [`WAIT`].
pub fn run(args: &[&str]) -> Finished {
    let mut process = Zenws::spawn(args);
    process.close_stdin();
    process.wait()
}

/// A finished run: the exit code and everything printed.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    /// The exit code; fails the test when a signal ended the process.
    pub fn code(&self) -> i32 {
        self.status.code().unwrap_or_else(|| panic!("zenws was killed by a signal: {self:?}"))
    }
}

/// A running `zenws`, killed when dropped.
pub struct Zenws {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
    pub stdout_seen: Vec<String>,
    pub stderr_seen: Vec<String>,
}

impl Zenws {
    /// Starts `zenws ARGS` with piped stdin, stdout and stderr.
    pub fn spawn(args: &[&str]) -> Self {
        let mut child = zenws()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start zenws");
        let stdin = child.stdin.take();
        let stdout = forward(child.stdout.take().expect("stdout"));
        let stderr = forward(child.stderr.take().expect("stderr"));
        Self { child, stdin, stdout, stderr, stdout_seen: Vec::new(), stderr_seen: Vec::new() }
    }

    /// The process id (for signals).
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Writes one line to its stdin.
    pub fn send_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        writeln!(stdin, "{line}").and_then(|()| stdin.flush()).expect("write to zenws");
    }

    /// Closes its stdin (end of input).
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Waits for a stdout line that `accept`s; fails the test after [`WAIT`].
    pub fn expect_stdout(&mut self, what: &str, accept: impl Fn(&str) -> bool) -> String {
        let found = wait_line(&self.stdout, &mut self.stdout_seen, &accept);
        found.unwrap_or_else(|| self.fail(&format!("no stdout line {what}")))
    }

    /// Waits for a stderr line that `accept`s; fails the test after [`WAIT`].
    pub fn expect_stderr(&mut self, what: &str, accept: impl Fn(&str) -> bool) -> String {
        let found = wait_line(&self.stderr, &mut self.stderr_seen, &accept);
        found.unwrap_or_else(|| self.fail(&format!("no stderr line {what}")))
    }

    /// Waits for the process to exit (killing it after [`WAIT`] and failing) and collects
    /// the rest of its output.
    pub fn wait(mut self) -> Finished {
        let deadline = Instant::now() + WAIT;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait for zenws") {
                break status;
            }
            if Instant::now() > deadline {
                self.fail("zenws did not exit in time");
            }
            thread::sleep(Duration::from_millis(20));
        };
        let rest = |receiver: &Receiver<String>, seen: &mut Vec<String>| {
            // The pipes close when the process is gone; the reader threads then end.
            while let Ok(line) = receiver.recv_timeout(Duration::from_secs(2)) {
                seen.push(line);
            }
            seen.join("\n")
        };
        let stdout = rest(&self.stdout, &mut self.stdout_seen);
        let stderr = rest(&self.stderr, &mut self.stderr_seen);
        Finished { status, stdout, stderr }
    }

    /// Fails the test, showing everything zenws printed so far.
    fn fail(&mut self, why: &str) -> ! {
        let _ = self.child.kill();
        while let Ok(line) = self.stdout.try_recv() {
            self.stdout_seen.push(line);
        }
        while let Ok(line) = self.stderr.try_recv() {
            self.stderr_seen.push(line);
        }
        panic!(
            "{why}\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout_seen.join("\n"),
            self.stderr_seen.join("\n")
        );
    }
}

impl Drop for Zenws {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Sends SIGINT (Ctrl-C) to `pid` with the system's `kill`.
#[cfg(unix)]
pub fn interrupt(pid: u32) {
    let status = Command::new("kill").args(["-INT", &pid.to_string()]).status().expect("run kill");
    assert!(status.success(), "kill -INT {pid} failed");
}

/// The lines of `reader`, one at a time, from a thread of their own.
fn forward(reader: impl Read + Send + 'static) -> Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(reader).lines() {
            let Ok(line) = line else { return };
            if sender.send(line).is_err() {
                return;
            }
        }
    });
    receiver
}

/// The first line (already seen or new) that `accept`s, within [`WAIT`].
fn wait_line(
    receiver: &Receiver<String>,
    seen: &mut Vec<String>,
    accept: &dyn Fn(&str) -> bool,
) -> Option<String> {
    let deadline = Instant::now() + WAIT;
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        match receiver.recv_timeout(remaining) {
            Ok(line) => {
                seen.push(line.clone());
                if accept(&line) {
                    return Some(line);
                }
            }
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return None,
        }
    }
}

/// A fresh file path in this test run's scratch folder.
pub fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("zenws-tests");
    std::fs::create_dir_all(&dir).expect("create the scratch folder");
    let path = dir.join(format!("{}-{name}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

/// A multi-threaded runtime for the servers a test starts; their tasks keep running while
/// the test thread blocks on the child's output.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// Counts the in and out frames of a recording by reading its lines directly (gap markers
/// and malformed lines aside) — an independent check of `zenws inspect`.
pub fn count_directions(path: &std::path::Path) -> (u64, u64) {
    let text = std::fs::read_to_string(path).expect("read the recording");
    let mut counts = (0, 0);
    for line in text.lines() {
        let Ok(entry) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        if entry["type"] == "gap" {
            continue;
        }
        match entry["dir"].as_str() {
            Some("in") => counts.0 += 1,
            Some("out") => counts.1 += 1,
            _ => {}
        }
    }
    counts
}

/// The number after `label` in `zenws inspect` output (`inbound           3`).
pub fn field(report: &str, label: &str) -> u64 {
    report
        .lines()
        .find_map(|line| line.strip_prefix(label).filter(|rest| rest.starts_with(' ')))
        .and_then(|rest| rest.trim().parse().ok())
        .unwrap_or_else(|| panic!("no `{label}` in the report:\n{report}"))
}
