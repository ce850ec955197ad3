//! `cargo xtask autobahn`: the Autobahn|Testsuite client cases against zen-websocket's
//! `Client`, served by kosoku's fuzzing server. The driver (`tests/src/bin/autobahn.rs`)
//! prints the verdict table and fails on any FAILED or UNIMPLEMENTED case; kosoku's reports
//! land in `target/autobahn/`.

use std::path::Path;

use crate::{
    peers,
    runner::{Runner, Step},
};

/// Runs every case but the permessage-deflate groups (12, 13): the transport offers no
/// compression, so those would only measure that.
pub(crate) const RUN: Step = Step {
    name: "autobahn",
    args: &[
        "run",
        "--quiet",
        "-p",
        "zen-websocket-e2e",
        "--bin",
        "autobahn",
        "--",
        "--kosoku",
        "target/peers/venv/bin/kosoku",
        "--outdir",
        "target/autobahn",
        "-x",
        "12.*",
        "-x",
        "13.*",
    ],
    ..Step::DEFAULT
};

/// The autobahn steps: install kosoku, then run the cases.
const STEPS: &[Step] = &[peers::PYTHON, RUN];

/// Runs [`STEPS`] from the workspace root `root`.
///
/// # Errors
///
/// Names the step that failed: the install, or a run with a failing case.
pub(crate) fn run(root: &Path) -> anyhow::Result<()> {
    Runner::new("autobahn", root).run(STEPS)
}
