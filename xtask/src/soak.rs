//! `cargo xtask soak`: the reliability soak (`tests/src/bin/soak.rs`) — ten clients with ten
//! subscriptions each behind a fault proxy, 1,000 forced failures of mixed kinds, every
//! recovery verified — in a release build. It prints the summary table, writes
//! `target/soak/report.json`, and fails naming any check that failed. CI runs a shorter
//! profile ([`CI`]) right after the tests.

use std::path::Path;

use crate::runner::{Runner, Step};

/// The full soak: 1,000 failures, in release mode (a few minutes on two cores).
const RUN: Step = Step {
    name: "soak",
    args: &[
        "run",
        "--release",
        "--quiet",
        "-p",
        "zen-websocket-e2e",
        "--bin",
        "soak",
        "--",
        "--clients",
        "10",
        "--subscriptions",
        "10",
        "--failures",
        "1000",
        "--seed",
        "1",
        "--json",
        "target/soak/report.json",
    ],
    ..Step::DEFAULT
};

/// CI's profile: 100 failures in a debug build, which reuses what `cargo test --workspace`
/// just built (about twenty seconds of soak).
pub(crate) const CI: Step = Step {
    name: "soak (100 failures)",
    args: &[
        "run",
        "--quiet",
        "-p",
        "zen-websocket-e2e",
        "--bin",
        "soak",
        "--",
        "--failures",
        "100",
        "--json",
        "target/soak/ci-report.json",
    ],
    ..Step::DEFAULT
};

/// Runs [`RUN`] from the workspace root `root`.
///
/// # Errors
///
/// Names the step that failed: the build, or a soak with a failing check.
pub(crate) fn run(root: &Path) -> anyhow::Result<()> {
    Runner::new("soak", root).run(&[RUN])
}
