//! `zen-websocket-bench`: zen-websocket's `Client` against raw tokio-tungstenite and the peer
//! clients (ezsockets, Python `websockets`, Node `ws`), side by side in one run, against the same
//! local servers (127.0.0.1 only).
//!
//! Run it with `cargo xtask bench [--quick]`, which installs the Python and Node peers, builds
//! this in release mode and raises the open-file limit first; `docs/performance.md` says what
//! each row measures and how to read it.
//!
//! | command | what it does |
//! |---|---|
//! | (none) | every row: flood throughput (each consumer path), request round trips, idle memory, recording, balanced sends over a pool; prints the table, writes `target/bench/results.json` and `results.svg` |
//! | `--quick` | the same rows with a tenth of the messages (and sends), idle rows at 1,000 connections only |
//! | `--only TEXT` | only the rows whose names contain `TEXT` (`flood`, `rtt`, `idle`, `recording`, `handler`, `balanced`, …) |
//! | `serve --ca PATH` | the idle server for the memory rows (a child process) |
//! | `idle --client zen\|raw --scheme ws\|wss --count N --port P --ca PATH` | one memory row's measuring process (a child process) |
//! | `profile zen\|zen-handler\|zen-recv-many\|raw [--count N] [--size BYTES] [--multi-thread]` | one client's flood against the flood server, alone in the process (on one thread unless `--multi-thread`): for comparing costs per message and for `perf` |
//! | `profile-rtt zen\|raw [--count N]` | one client's round trips (5,000 after 500 warm-up by default) against the echo server on the bench's runtime, alone in the process: prints p50 and p99 |

mod balanced;
mod clients;
mod events;
mod ez;
mod flood;
mod idle;
mod memory;
mod proc;
mod record;
mod report;
mod rtt;
mod scripts;
mod serve;
mod servers;
mod svg;
mod tls;

use std::{
    env,
    path::{Path, PathBuf},
    process::ExitCode,
    time::Instant,
};

use anyhow::{Context, bail};

/// Samples per measurement (the peers take [`clients::PEER_ROUNDS`]); the table shows their
/// median.
const REPEATS: usize = 9;
/// `--quick` divides every message, request and send count by this.
const QUICK_DIVISOR: usize = 10;

/// What the measuring run was asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Options {
    /// A CI-sized run.
    quick: bool,
    /// Only the rows whose names contain this.
    only: Option<String>,
}

impl Options {
    /// Reads `[--quick] [--only TEXT]`.
    fn parse(args: &[String]) -> anyhow::Result<Self> {
        let mut options = Self::default();
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--quick" => options.quick = true,
                "--only" => {
                    options.only = Some(args.next().context("--only needs a value")?.clone())
                }
                other => {
                    bail!("unknown option `{other}`; run it through `cargo xtask bench [--quick]`")
                }
            }
        }
        Ok(options)
    }

    /// Whether the row called `name` runs.
    fn runs(&self, name: &str) -> bool {
        self.only.as_deref().is_none_or(|only| name.contains(only))
    }

    fn divisor(&self) -> usize {
        if self.quick { QUICK_DIVISOR } else { 1 }
    }

    fn idle_counts(&self) -> &'static [usize] {
        if self.quick { &memory::COUNTS[..1] } else { &memory::COUNTS }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let outcome = match args.split_first() {
        Some((command, rest)) if command == "serve" => {
            option(rest, "--ca").and_then(|ca| serve::run(Path::new(ca)))
        }
        Some((command, rest)) if command == "profile" => flood::profile(rest),
        Some((command, rest)) if command == "profile-rtt" => rtt::profile(rest),
        Some((command, rest)) if command == "idle" => {
            idle::IdleArgs::parse(rest).and_then(|args| idle::run(&args))
        }
        _ => Options::parse(&args).and_then(|options| bench(&options)),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("zen-websocket-bench: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The selected rows, the table, `results.json` and `results.svg`.
fn bench(options: &Options) -> anyhow::Result<()> {
    let started = Instant::now();
    // One multi-thread runtime (a worker per core) for the clients and the in-process servers:
    // its ratios were the steadier from run to run (see docs/performance.md).
    let runtime = runtime()?;
    let peers = runtime.block_on(scripts::Peers::locate())?;
    let setup = record::Setup {
        nproc: std::thread::available_parallelism().map_or(1, usize::from),
        open_file_limit: proc::open_file_limit(),
        runtime: "tokio multi-thread, one worker per core, clients and servers on one runtime \
                  (the current_thread row: its own runtime)"
            .into(),
        repeats: REPEATS,
        quick: options.quick,
        only: options.only.clone(),
        peers: peers.versions.clone(),
    };
    let out_dir = out_dir();
    std::fs::create_dir_all(&out_dir)?;
    let results = measure(options, &runtime, &peers, &out_dir)?;
    drop(runtime);
    let idle =
        if options.runs("idle") { memory::run(&out_dir, options.idle_counts())? } else { vec![] };
    let results = report::Results { idle, ..results };

    let rows = report::rows(&results);
    let heading = format!(
        "zen-websocket bench{}, {}: {} cores, median of {} samples ({} for the peers)",
        if options.quick { " --quick" } else { "" },
        record::now(),
        setup.nproc,
        setup.repeats,
        clients::PEER_ROUNDS.min(setup.repeats)
    );
    report::print(&rows, &heading, &notes(&setup));
    let path = out_dir.join("results.json");
    record::write(&path, &setup, &rows, &results, started.elapsed())?;
    let chart = out_dir.join("results.svg");
    std::fs::write(&chart, svg::chart(&rows, &heading))
        .with_context(|| format!("writing {}", chart.display()))?;
    println!(
        "\nwrote {} and {} in {:.1}s",
        path.display(),
        chart.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The speed rows (flood on both runtimes, round trips, recording, balanced sends); the memory
/// rows are left empty for [`memory::run`], after this runtime is gone.
fn measure(
    options: &Options,
    runtime: &tokio::runtime::Runtime,
    peers: &scripts::Peers,
    out_dir: &Path,
) -> anyhow::Result<report::Results> {
    let divisor = options.divisor();
    let server = runtime.handle().clone();
    let mut flood = Vec::new();
    for spec in flood::SPECS.map(|spec| spec.scaled(divisor)) {
        if options.runs(&format!("flood {}", spec.label)) {
            eprintln!("  flood {} × {}", spec.label, spec.count);
            flood.push(runtime.block_on(Box::pin(flood::run(spec, REPEATS, &server, peers)))?);
        }
    }
    let spec = flood::CURRENT_THREAD.scaled(divisor);
    if options.runs(&format!("flood {}", spec.label)) {
        eprintln!("  flood {} × {}", spec.label, spec.count);
        let single = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let handle = single.handle().clone();
        flood.push(single.block_on(Box::pin(flood::run(spec, REPEATS, &handle, peers)))?);
    }
    let mut rtt = None;
    if options.runs("rtt p50") || options.runs("rtt p99") {
        let counts = [rtt::WARMUP / divisor, rtt::REQUESTS / divisor];
        eprintln!("  rtt: {} requests after {} warm-up", counts[1], counts[0]);
        rtt = Some(runtime.block_on(Box::pin(rtt::run(REPEATS, counts, &server, peers)))?);
    }
    let spec = flood::RECORDING.scaled(divisor);
    let mut recording = None;
    if options.runs("recording on ÷ off") {
        eprintln!("  recording on / off: flood {} × {}", spec.label, spec.count);
        let file = out_dir.join("recording.jsonl");
        let run = flood::run_recording(spec, REPEATS, &server, &file);
        recording = Some(runtime.block_on(Box::pin(run))?);
    }
    let mut balanced_sends = None;
    if options.runs(&balanced::name(balanced::CLIENTS)) {
        let counts = [balanced::WARMUP / divisor, balanced::SENDS / divisor];
        eprintln!(
            "  send_balanced over {} clients / send_message: {} sends each after {} warm-up",
            balanced::CLIENTS,
            counts[1],
            counts[0]
        );
        balanced_sends = Some(runtime.block_on(Box::pin(balanced::run(REPEATS, counts, &server)))?);
    }
    Ok(report::Results { flood, rtt, idle: Vec::new(), recording, balanced: balanced_sends })
}

/// The lines printed under the tables.
fn notes(setup: &record::Setup) -> Vec<String> {
    vec![format!("peers: ezsockets (Cargo.lock), {}", setup.peers.join(", "))]
}

/// The runtime every process of the bench uses.
///
/// # Errors
///
/// When tokio cannot start it.
pub(crate) fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build()
}

/// `target/bench` beside the `target/release` this binary runs from (or under the working
/// directory when run from elsewhere).
fn out_dir() -> PathBuf {
    env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("bench")))
        .unwrap_or_else(|| PathBuf::from("target/bench"))
}

/// The value after `name` in `args`.
///
/// # Errors
///
/// When `name` is missing or has no value.
pub(crate) fn option<'a>(args: &'a [String], name: &str) -> anyhow::Result<&'a str> {
    let Some(at) = args.iter().position(|arg| arg == name) else {
        bail!("missing {name}");
    };
    args.get(at + 1).map(String::as_str).with_context(|| format!("{name} needs a value"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn reads_the_options() {
        assert_eq!(Options::parse(&[]).unwrap(), Options::default());
        let quick = Options::parse(&args("--quick")).unwrap();
        assert!(quick.quick && quick.only.is_none());
        assert_eq!((quick.divisor(), quick.idle_counts()), (10, &[1_000][..]));
        let only = Options::parse(&args("--only rtt --quick")).unwrap();
        assert_eq!((only.quick, only.only.as_deref()), (true, Some("rtt")));
        assert!(only.runs("rtt p50") && !only.runs("flood 64 B"));
        assert!(Options::default().runs("anything"));
        assert!(Options::parse(&args("--only")).is_err());
        assert!(Options::parse(&args("--fast")).is_err());
    }
}
