//! `cargo xtask bench [--quick]`: installs the Python and Node peers under `target/peers/`
//! (as `interop` does; a missing `python3` or `node` fails the task), builds the bench in release
//! mode and runs it with a raised open-file limit. The bench prints its table and writes
//! `target/bench/results.json` and `results.svg`; a missed target is reported there, never as a
//! failure of this task. `--quick` is the CI-sized run: a tenth of the messages, the idle rows
//! at 1,000 connections only.

use std::path::Path;

use anyhow::bail;

use crate::{
    peers,
    runner::{Runner, Step},
};

/// Raises the open-file limit (10,000 connections per process need more than the usual 1,024),
/// then runs the bench with the arguments after the script. When 65,536 is refused (no privilege
/// over the hard limit) it says so loudly and goes as high as the hard limit allows; the bench
/// then skips, and marks, every row that still does not fit.
const RUN: &str = "ulimit -n 65536 2>/dev/null || { \
    echo \"xtask bench: WARNING: cannot raise the open-file limit to 65536; using the hard limit, \
    $(ulimit -Hn): rows that need more are skipped\" >&2; ulimit -n \"$(ulimit -Hn)\"; } \
    && exec target/release/zen-websocket-bench \"$@\"";

/// Where the bench finds the peers `peers::PYTHON` and `peers::NODE` installed (relative to the
/// workspace root, the bench's working directory).
const PEER_ENV: &[(&str, &str)] = &[
    ("ZEN_BENCH_PYTHON", "target/peers/venv/bin/python"),
    ("ZEN_BENCH_NODE", "node"),
    ("ZEN_BENCH_NODE_MODULES", "target/peers/node/node_modules"),
    ("ZEN_BENCH_SCRIPTS", "tests/peers"),
];

/// The release build of the bench.
const BUILD: Step = Step {
    name: "build (release)",
    args: &["build", "--release", "-p", "zen-websocket-bench"],
    ..Step::DEFAULT
};

/// The full run: every row, the idle rows at 1,000 and 10,000 connections.
const STEPS: &[Step] = &[
    peers::PYTHON,
    peers::NODE,
    BUILD,
    Step {
        name: "run",
        program: Some("bash"),
        args: &["-c", RUN, "zen-websocket-bench"],
        env: PEER_ENV,
        ..Step::DEFAULT
    },
];

/// `--quick`: the same steps, the bench told `--quick`.
const QUICK_STEPS: &[Step] = &[
    peers::PYTHON,
    peers::NODE,
    BUILD,
    Step {
        name: "run --quick",
        program: Some("bash"),
        args: &["-c", RUN, "zen-websocket-bench", "--quick"],
        env: PEER_ENV,
        ..Step::DEFAULT
    },
];

/// The steps `flags` ask for: [`STEPS`], or [`QUICK_STEPS`] with `--quick`.
fn steps(flags: &[String]) -> anyhow::Result<&'static [Step]> {
    match flags {
        [] => Ok(STEPS),
        [flag] if flag == "--quick" => Ok(QUICK_STEPS),
        other => bail!("bench takes [--quick], not `{}`", other.join(" ")),
    }
}

/// Runs the bench's steps from the workspace root `root`.
///
/// # Errors
///
/// Names the step that failed (a peer's install, the build, or a bench that could not measure)
/// and how long it ran.
pub(crate) fn run(root: &Path, flags: &[String]) -> anyhow::Result<()> {
    Runner::new("bench", root).run(steps(flags)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_passes_the_flag_to_the_bench() {
        let run = |steps: &[Step]| steps.last().map(|step| step.args.to_vec()).unwrap_or_default();
        assert_eq!(run(steps(&[]).unwrap()), ["-c", RUN, "zen-websocket-bench"]);
        let quick = steps(&["--quick".to_owned()]).unwrap();
        assert_eq!(run(quick), ["-c", RUN, "zen-websocket-bench", "--quick"]);
        assert_eq!(quick[0].name, peers::PYTHON.name);
        assert!(steps(&["--slow".to_owned()]).is_err());
    }
}
