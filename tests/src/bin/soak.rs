//! The reliability soak: clients behind a fault proxy, a thousand forced failures, every
//! recovery verified.
//!
//! Run with: `cargo xtask soak` (release build, the full 1,000 failures), or by hand:
//! `cargo run --release -p zen-websocket-e2e --bin soak -- --clients 10 --subscriptions 10
//! --failures 1000 --seed 1 --json target/soak/report.json`.
//!
//! It prints a summary table (failures by kind, recoveries and time to recover, lost
//! subscriptions, unresolved requests, message order, leaked tasks, RSS growth), writes the
//! same report as JSON, and exits non-zero naming every check that failed. What each check
//! means: the `zen_websocket_e2e::soak` module docs. Everything listens on 127.0.0.1.

use std::{fs, process::ExitCode};

use anyhow::Context;
use clap::Parser;
use zen_websocket_e2e::soak::{self, Options, Report};

#[tokio::main]
async fn main() -> ExitCode {
    let options = Options::parse();
    if options.serve {
        return match soak::serve().await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("soak server process: {error:#}");
                ExitCode::FAILURE
            }
        };
    }
    match soak::run(&options).await {
        Ok(report) => conclude(&options, &report),
        Err(error) => {
            eprintln!("soak: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Prints the table, writes the JSON, and turns the checks into the exit code.
fn conclude(options: &Options, report: &Report) -> ExitCode {
    println!("{report}");
    match write_json(options, report) {
        Ok(()) => println!("  report written to {}", options.json.display()),
        Err(error) => eprintln!("soak: {error:#}"),
    }
    let failed: Vec<&str> =
        report.checks().into_iter().filter(|check| !check.passed).map(|check| check.name).collect();
    if failed.is_empty() {
        println!("\nsoak: every check passed");
        ExitCode::SUCCESS
    } else {
        eprintln!("\nsoak: FAILED: {}", failed.join(", "));
        ExitCode::FAILURE
    }
}

fn write_json(options: &Options, report: &Report) -> anyhow::Result<()> {
    if let Some(folder) = options.json.parent().filter(|folder| !folder.as_os_str().is_empty()) {
        fs::create_dir_all(folder).with_context(|| format!("creating {}", folder.display()))?;
    }
    let text = serde_json::to_string_pretty(&report.to_json())?;
    fs::write(&options.json, text + "\n")
        .with_context(|| format!("writing {}", options.json.display()))
}
