//! `zenws demo` as a user runs it: the real binary, its stdout piped (plain lines), the
//! embedded simulator on loopback, faults injected, and the summary checked.

use std::{
    io::Read,
    process::{Child, Command, ExitStatus, Stdio},
    thread,
    time::{Duration, Instant},
};

/// The longest any run may take before the test kills it and fails.
const BOUND: Duration = Duration::from_secs(60);

/// What a finished run left behind.
struct Run {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

/// Runs `zenws` with `args`, both outputs piped; kills it and fails after [`BOUND`].
fn zenws(args: &[&str]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_zenws"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("zenws starts");
    // Read both pipes while waiting, so a full pipe can never stall the child.
    let stdout = drain(child.stdout.take().expect("piped stdout"));
    let stderr = drain(child.stderr.take().expect("piped stderr"));
    let status = wait_bounded(&mut child, args);
    let stdout = stdout.join().expect("stdout reader");
    let stderr = stderr.join().expect("stderr reader");
    Run { status, stdout, stderr }
}

/// Reads a pipe to its end on a thread.
fn drain(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut text = String::new();
        pipe.read_to_string(&mut text).expect("utf-8 output");
        text
    })
}

/// Waits for the child's exit, at most [`BOUND`]; kills it and panics past that.
fn wait_bounded(child: &mut Child, args: &[&str]) -> ExitStatus {
    let deadline = Instant::now() + BOUND;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`zenws {}` still running after {BOUND:?}; killed", args.join(" "));
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// The value of a summary row (`  label   value`), after the `summary` heading.
fn summary_row<'a>(stdout: &'a str, label: &str) -> &'a str {
    let (_, summary) = stdout.split_once("\nsummary\n").expect("a summary");
    summary
        .lines()
        .find_map(|line| line.trim_start().strip_prefix(label).map(str::trim))
        .unwrap_or_else(|| panic!("no `{label}` row in the summary:\n{summary}"))
}

/// A summary row read as a number.
fn number(stdout: &str, label: &str) -> f64 {
    let value = summary_row(stdout, label);
    value.parse().unwrap_or_else(|_| panic!("`{label}` is not a number: {value}"))
}

#[test]
fn the_demo_survives_its_faults_and_restores_every_subscription() {
    let run = zenws(&["demo", "--duration", "12"]);
    let output = format!("stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    assert!(run.status.success(), "exit {:?}\n{output}", run.status.code());
    // Plain lines, not the terminal view: stdout is a pipe.
    assert!(!run.stdout.contains('\x1b'), "escape codes in piped output\n{output}");

    assert!(number(&run.stdout, "reconnects") >= 2.0, "{output}");
    assert!(number(&run.stdout, "faults injected") >= 2.0, "{output}");
    assert_eq!(number(&run.stdout, "errors"), 0.0, "{output}");
    assert!(number(&run.stdout, "messages") > 0.0, "{output}");
    assert!(number(&run.stdout, "msgs/s") > 0.0, "{output}");

    let restored = summary_row(&run.stdout, "subscriptions restored");
    let (found, owed) = restored.split_once('/').expect("N/N");
    let (found, owed): (u32, u32) = (found.parse().expect("N"), owed.parse().expect("N"));
    // Six channels (ticker, book, trades of two instruments) after each of two reconnects at least.
    assert!(owed >= 12 && found == owed, "restored {restored}\n{output}");

    // The recovery is visible as it happens.
    for seen in
        ["fault 1/2: dropping", "event: disconnected", "event: reconnecting", "restored 6/6"]
    {
        assert!(run.stdout.contains(seen), "no `{seen}`\n{output}");
    }
    assert_eq!(summary_row(&run.stdout, "ended"), "closed cleanly", "{output}");
}

#[test]
fn an_unknown_instrument_is_a_usage_error() {
    let run = zenws(&["demo", "--instruments", "DOGE-PERPETUAL", "--duration", "3"]);
    assert_eq!(run.status.code(), Some(2), "stderr:\n{}", run.stderr);
    assert!(run.stderr.contains("DOGE-PERPETUAL"), "stderr:\n{}", run.stderr);
}

#[test]
fn a_url_nobody_listens_on_is_a_connect_error() {
    // Bind a loopback port, then free it: connecting to it is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a port")
        .port();
    let url = format!("ws://127.0.0.1:{port}");
    let run = zenws(&["demo", "--url", &url, "--duration", "3"]);
    assert_eq!(run.status.code(), Some(3), "stderr:\n{}", run.stderr);
    assert!(run.stderr.starts_with("zenws: "), "stderr:\n{}", run.stderr);
}
