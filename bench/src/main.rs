//! `zen-websocket-bench`: zen-websocket's `Client` against raw tokio-tungstenite, side by side in
//! one run, against the same local servers (127.0.0.1 only).
//!
//! Run it with `cargo xtask bench`, which builds it in release mode and raises the open-file
//! limit first; `docs/performance.md` says what each row measures and how to read it.
//!
//! | command | what it does |
//! |---|---|
//! | (none) | every row: flood throughput, request round trips, idle memory; prints the table and writes `target/bench/results.json` |
//! | `serve --ca PATH` | the idle server for the memory rows (a child process) |
//! | `idle --client zen\|raw --scheme ws\|wss --count N --port P --ca PATH` | one memory row's measuring process (a child process) |

mod clients;
mod flood;
mod idle;
mod memory;
mod proc;
mod record;
mod report;
mod rtt;
mod serve;
mod servers;
mod tls;

use std::{
    env,
    path::{Path, PathBuf},
    process::ExitCode,
    time::Instant,
};

use anyhow::{Context, bail};

/// Samples per measurement; the table shows their median.
const REPEATS: usize = 3;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let outcome = match args.split_first() {
        None => bench(),
        Some((command, rest)) if command == "serve" => {
            option(rest, "--ca").and_then(|ca| serve::run(Path::new(ca)))
        }
        Some((command, rest)) if command == "idle" => {
            idle::IdleArgs::parse(rest).and_then(|args| idle::run(&args))
        }
        Some((command, _)) => {
            eprintln!("usage: zen-websocket-bench [serve --ca PATH | idle --client ... ]");
            eprintln!("unknown command `{command}`; run it through `cargo xtask bench`");
            return ExitCode::from(2);
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("zen-websocket-bench: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Every row, the table and `results.json`.
fn bench() -> anyhow::Result<()> {
    let started = Instant::now();
    let setup = record::Setup {
        nproc: std::thread::available_parallelism().map_or(1, usize::from),
        open_file_limit: proc::open_file_limit(),
        runtime: "tokio multi-thread, one worker per core, clients and servers on one runtime"
            .into(),
        repeats: REPEATS,
    };
    // One multi-thread runtime (a worker per core) for the clients and the in-process servers:
    // its ratios were the steadier from run to run (see docs/performance.md).
    let runtime = runtime()?;
    let server = runtime.handle().clone();
    let flood = runtime.block_on(async {
        let mut rows = Vec::new();
        for spec in flood::SPECS {
            eprintln!("  flood {} × {}", spec.label, spec.count);
            rows.push(Box::pin(flood::run(spec, REPEATS, &server)).await?);
        }
        anyhow::Ok(rows)
    })?;
    eprintln!("  rtt: {} requests after {} warm-up", rtt::REQUESTS, rtt::WARMUP);
    let rtt = runtime.block_on(Box::pin(rtt::run(REPEATS, &server)))?;
    let out_dir = out_dir();
    let spec = flood::RECORDING;
    eprintln!("  recording on / off: flood {} × {}", spec.label, spec.count);
    std::fs::create_dir_all(&out_dir)?;
    let file = out_dir.join("recording.jsonl");
    let recording =
        runtime.block_on(Box::pin(flood::run_recording(spec, REPEATS, &server, &file)))?;
    drop(runtime);
    let idle = memory::run(&out_dir)?;

    let results = report::Results { flood, rtt, idle, recording };
    let rows = report::rows(&results);
    let heading = format!(
        "zen-websocket bench: {} cores, {}, median of {} samples",
        setup.nproc, setup.runtime, setup.repeats
    );
    report::print(&rows, &heading);
    let path = out_dir.join("results.json");
    record::write(&path, &setup, &rows, &results, started.elapsed())?;
    println!("\nwrote {} in {:.1}s", path.display(), started.elapsed().as_secs_f64());
    Ok(())
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
