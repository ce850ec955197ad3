//! The soak's command line.

use std::path::PathBuf;

use clap::Parser;

/// The reliability soak: clients behind a fault proxy, forced failures, every recovery verified.
///
/// Many clients, each with its subscriptions and a steady request loop, connect through one
/// fault proxy in front of one mock server (both on 127.0.0.1, in a child process); failures
/// of mixed kinds are forced until the count is reached; after every recovery each client's
/// subscriptions are checked against the server's. Prints a summary table, writes a JSON
/// report, and exits non-zero naming any check that failed.
#[derive(Debug, Clone, PartialEq, Eq, Parser)]
#[command(name = "soak", version)]
pub struct Options {
    /// How many clients connect through the proxy.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub clients: u16,
    /// How many subscriptions (one channel each) every client holds.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub subscriptions: u16,
    /// How many forced connection drops to reach (a fault on every client counts once per
    /// client; the last round may overshoot).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    pub failures: u32,
    /// Seed of the fault mix: the same seed draws the same faults in the same order.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Where to write the report as JSON (its folder is created).
    #[arg(long, default_value = "target/soak/report.json")]
    pub json: PathBuf,
    /// Stop injecting after this many seconds (and fail the run) whatever the count.
    #[arg(long, default_value_t = 540)]
    pub time_limit: u64,
    /// Run as the soak's server process (the mock server and the fault proxy, driven through
    /// standard input); the soak starts it itself.
    #[arg(long, hide = true)]
    pub serve: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_full_soak() {
        let options = Options::parse_from(["soak"]);
        assert_eq!((options.clients, options.subscriptions, options.failures), (10, 10, 1000));
        assert_eq!(options.json, PathBuf::from("target/soak/report.json"));
        let ci = Options::parse_from(["soak", "--failures", "100", "--seed", "7"]);
        assert_eq!((ci.failures, ci.seed), (100, 7));
        assert!(Options::try_parse_from(["soak", "--clients", "0"]).is_err());
    }
}
