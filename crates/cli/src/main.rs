//! `zenws`: zen-websocket on the command line.
//!
//! | command | what it does |
//! |---|---|
//! | `zenws demo` | the embedded Deribit simulator (or `--url`), live prices and health, injected faults, visible recovery, a summary |
//! | `zenws connect URL` | a resilient websocat: stdin lines out, messages in; reconnects, heartbeats, subscriptions, JSON-RPC, recordings |
//! | `zenws serve` | an echo server, a recording replayed, or the Deribit simulator, ws or wss |
//! | `zenws replay FILE` | prints a recording as it happened |
//! | `zenws inspect FILE` | a recording's metadata, message rate, sizes, channels and gaps |
//!
//! Every failure is printed in plain words with a fix; the exit codes are in `docs/cli.md`.

mod connect;
mod demo;
mod exit;
mod inspect;
mod replay;
mod serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::exit::{Exit, Failure};

/// zen-websocket on the command line.
#[derive(Debug, Parser)]
#[command(name = "zenws", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per run: its size costs nothing
enum Command {
    /// Live prices and health from the embedded Deribit simulator (or --url), with faults
    /// injected every few seconds and the recovery shown.
    Demo(demo::Args),
    /// Connect to a WebSocket URL: stdin lines are sent, messages printed; reconnects,
    /// heartbeats, subscriptions, JSON-RPC, recordings.
    Connect(connect::Args),
    /// Serve an echo server, a recording, or the Deribit simulator for manual testing.
    Serve(serve::Args),
    /// Print a recording as it happened.
    Replay(replay::Args),
    /// Summarise a recording: metadata, message rate, sizes, channels, gaps.
    Inspect(inspect::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            Failure::new(Exit::Failed, format!("could not start the runtime: {error}"), "")
                .report();
            return Exit::Failed.into();
        }
    };
    let outcome = runtime.block_on(async move {
        match cli.command {
            Command::Demo(args) => demo::run(args).await,
            Command::Connect(args) => connect::run(args).await,
            Command::Serve(args) => serve::run(args).await,
            Command::Replay(args) => replay::run(args).await,
            Command::Inspect(args) => inspect::run(args).await,
        }
    });
    match outcome {
        Ok(exit) => exit.into(),
        Err(failure) => {
            failure.report();
            failure.exit.into()
        }
    }
}
