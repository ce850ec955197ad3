//! `cargo xtask bench`: builds the bench in release mode and runs it with a raised open-file
//! limit. The bench prints its table and writes `target/bench/results.json`; a missed target
//! is reported there, never as a failure of this task.

use std::path::Path;

use crate::runner::{Runner, Step};

/// Raises the open-file limit (10,000 connections per process need more than the usual 1,024),
/// then runs the bench. When 65,536 is refused (no privilege over the hard limit) it says so
/// loudly and goes as high as the hard limit allows; the bench then skips, and marks, every row
/// that still does not fit.
const RUN: &str = "ulimit -n 65536 2>/dev/null || { \
    echo \"xtask bench: WARNING: cannot raise the open-file limit to 65536; using the hard limit, \
    $(ulimit -Hn): rows that need more are skipped\" >&2; ulimit -n \"$(ulimit -Hn)\"; } \
    && exec target/release/zen-websocket-bench \"$@\"";

/// The bench steps, run in order; the first failure stops the run.
const STEPS: &[Step] = &[
    Step {
        name: "build (release)",
        args: &["build", "--release", "-p", "zen-websocket-bench"],
        ..Step::DEFAULT
    },
    Step {
        name: "run",
        program: Some("bash"),
        args: &["-c", RUN, "zen-websocket-bench"],
        ..Step::DEFAULT
    },
];

/// Runs [`STEPS`] from the workspace root `root`.
///
/// # Errors
///
/// Names the step that failed (the build, or a bench that could not measure) and how long it ran.
pub(crate) fn run(root: &Path) -> anyhow::Result<()> {
    Runner::new("bench", root).run(STEPS)
}
