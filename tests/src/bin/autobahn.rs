//! Drives the Autobahn|Testsuite client cases against zen-websocket's `Client`.
//!
//! Run with: `cargo xtask autobahn` (which installs kosoku into `target/peers/` first), or by
//! hand: `cargo run -p zen-websocket-e2e --bin autobahn -- --kosoku target/peers/venv/bin/kosoku
//! --outdir target/autobahn -x '12.*' -x '13.*'`.
//!
//! It starts kosoku's fuzzing server on 127.0.0.1 (a port the OS picks), asks it for the case
//! count, runs every case with a client built on the public API only (echo every text and
//! binary message back exactly; reconnection off), asks for the reports, waits for kosoku to
//! exit, then prints the verdict table read from the `index.json` it wrote. It fails when any
//! case is FAILED or UNIMPLEMENTED. How each case ended on the client's side (close code or
//! error, duration) goes to `driver.log` beside kosoku's reports.

use std::{
    fmt::Write as _,
    path::PathBuf,
    process::ExitCode,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, ChildStderr, Command},
};
use zen_websocket::{Client, Config, Event};
use zen_websocket_e2e::autobahn::{AGENT, Summary};

/// The longest any one case may take before the driver closes it (the 9.* cases move
/// 16 MiB messages; none takes near this).
const CASE_LIMIT: Duration = Duration::from_secs(120);
/// How long kosoku may take to start listening, and to write its reports and exit.
const KOSOKU_LIMIT: Duration = Duration::from_secs(120);
/// Message and frame limits: the 9.* cases send messages of up to 16 MiB in one frame.
const MAX_MESSAGE: usize = 64 << 20;

/// What the command line asked for.
#[derive(Debug)]
struct Options {
    /// The `kosoku` executable.
    kosoku: PathBuf,
    /// Where kosoku writes its reports.
    outdir: PathBuf,
    /// Case selections passed through to kosoku (`-i CASE`, `-x CASE`).
    selection: Vec<String>,
}

impl Options {
    fn parse(mut args: impl Iterator<Item = String>) -> anyhow::Result<Options> {
        let (mut kosoku, mut outdir, mut selection) = (None, None, Vec::new());
        while let Some(arg) = args.next() {
            let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
            match arg.as_str() {
                "--kosoku" => kosoku = Some(PathBuf::from(value()?)),
                "--outdir" => outdir = Some(PathBuf::from(value()?)),
                "-i" | "-x" => selection.extend([arg.clone(), value()?]),
                other => bail!(
                    "unknown argument {other:?}; usage: autobahn --kosoku PATH --outdir DIR \
                     [-i CASE]... [-x CASE]..."
                ),
            }
        }
        Ok(Options {
            kosoku: kosoku.context("--kosoku PATH is required")?,
            outdir: outdir.context("--outdir DIR is required")?,
            selection,
        })
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("autobahn: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<bool> {
    let options = Options::parse(std::env::args().skip(1))?;
    // A stale report must never be read as this run's.
    match std::fs::remove_file(options.outdir.join("index.json")) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => return Err(err.into()),
        _ => {}
    }
    std::fs::create_dir_all(&options.outdir)?;
    let log_path = options.outdir.join("driver.log");
    let mut kosoku = Kosoku::start(&options).await?;
    let base = format!("ws://127.0.0.1:{}", kosoku.port);
    let count = case_count(&base).await?;
    eprintln!("autobahn: {count} cases; how each ended goes to {}", log_path.display());
    let mut log = String::new();
    for case in 1..=count {
        let started = Instant::now();
        let ended = run_case(&base, case).await;
        let _ = writeln!(log, "case {case}: {ended} ({:?})", started.elapsed());
        if case % 50 == 0 || case == count {
            eprintln!("autobahn: {case}/{count} cases run");
        }
    }
    std::fs::write(&log_path, log)?;
    let url = format!("{base}/updateReports?agent={AGENT}");
    drain(&Client::connect(&url, config()).await?).await;
    let status = kosoku.finish().await?;

    let summary = Summary::read(&options.outdir, AGENT)
        .with_context(|| format!("reading {}", options.outdir.join("index.json").display()))?;
    println!("\nAutobahn client cases, agent {AGENT}\n\n{}", summary.table());
    for case in summary.notable() {
        println!(
            "  {:<8} {:<13} behavior {:<13} close {}",
            case.id,
            case.verdict.label(),
            case.behavior,
            case.behavior_close
        );
    }
    let passed = summary.passed();
    if passed != status.success() {
        eprintln!("autobahn: kosoku exited with {status}, the report says passed = {passed}");
    }
    println!(
        "\nautobahn: {}",
        if passed && status.success() { "every case passed" } else { "FAILED" }
    );
    Ok(passed && status.success())
}

/// The client every case uses: reconnection off, limits large enough for the 9.* cases.
fn config() -> Config {
    Config::default()
        .reconnect_on_error(false)
        .max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE)
        .timeout(Duration::from_secs(10))
}

/// Asks the fuzzing server how many cases it serves.
async fn case_count(base: &str) -> anyhow::Result<u32> {
    let client = Client::connect(&format!("{base}/getCaseCount"), config()).await?;
    let mut count = None;
    while let Some(event) = client.recv().await {
        if let Event::Message(message) = event {
            let text = message.as_text().unwrap_or_default().trim().to_owned();
            count = Some(text.parse().with_context(|| format!("case count {text:?}"))?);
        }
    }
    count.context("the fuzzing server sent no case count")
}

/// Runs case `case`: echoes every data message back exactly until the connection ends;
/// returns how it ended.
async fn run_case(base: &str, case: u32) -> String {
    let url = format!("{base}/runCase?case={case}&agent={AGENT}");
    let client = match Client::connect(&url, config()).await {
        Ok(client) => client,
        // kosoku records the failed case; the run goes on.
        Err(err) => return format!("connect failed: {err}"),
    };
    let echo = async {
        while let Some(event) = client.recv().await {
            match event {
                Event::Message(message) => {
                    // A send fails only once the connection is ending; its event follows.
                    let _ = client.send_message(message).await;
                }
                Event::Disconnected { reason, .. } => return reason.to_string(),
                _ => {}
            }
        }
        "ended".to_owned()
    };
    match tokio::time::timeout(CASE_LIMIT, echo).await {
        Ok(ended) => ended,
        Err(_) => {
            let _ = client.close().await;
            format!("still open after {CASE_LIMIT:?}; closed by the driver")
        }
    }
}

/// Reads events until the connection ends.
async fn drain(client: &Client) {
    while client.recv().await.is_some() {}
}

/// The kosoku fuzzing server process.
struct Kosoku {
    child: Child,
    port: u16,
}

impl Kosoku {
    /// Starts `kosoku -m fuzzingserver 127.0.0.1:0` and reads the port it bound.
    async fn start(options: &Options) -> anyhow::Result<Kosoku> {
        let mut command = Command::new(&options.kosoku);
        command
            .args(["-m", "fuzzingserver", "127.0.0.1:0", "-o"])
            .arg(&options.outdir)
            .args(&options.selection)
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        eprintln!("autobahn: starting {command:?}");
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot start {}", options.kosoku.display()))?;
        let stderr = child.stderr.take().context("kosoku's stderr")?;
        let mut lines = BufReader::new(stderr).lines();
        let port = tokio::time::timeout(KOSOKU_LIMIT, listening_port(&mut lines))
            .await
            .context("kosoku did not start listening in time")??;
        // Keep showing what kosoku says (it names failing cases at the end).
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                eprintln!("kosoku: {line}");
            }
        });
        Ok(Kosoku { child, port })
    }

    /// Waits for kosoku to write its reports and exit.
    async fn finish(&mut self) -> anyhow::Result<std::process::ExitStatus> {
        tokio::time::timeout(KOSOKU_LIMIT, self.child.wait())
            .await
            .context("kosoku did not exit after the reports were asked for")?
            .context("waiting for kosoku")
    }
}

/// Reads kosoku's stderr until `fuzzingserver listening on ws://HOST:PORT`.
async fn listening_port(
    lines: &mut tokio::io::Lines<BufReader<ChildStderr>>,
) -> anyhow::Result<u16> {
    while let Some(line) = lines.next_line().await? {
        eprintln!("kosoku: {line}");
        if let Some(address) = line.strip_prefix("fuzzingserver listening on ws://") {
            let port = address.rsplit(':').next().unwrap_or_default();
            return port.trim().parse().with_context(|| format!("kosoku's port in {line:?}"));
        }
    }
    bail!("kosoku exited before it listened")
}
