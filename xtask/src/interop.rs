//! `cargo xtask interop`: zen-websocket's `Client` against third-party servers (Python
//! `websockets` and `aiohttp`, Node `ws`, `websocat`), each installed under `target/peers/`
//! and started by the tests on 127.0.0.1. The tests (`tests/tests/interop.rs`) are ignored by
//! plain `cargo test`; this task runs them with the peers named in the environment.

use std::path::Path;

use crate::{
    peers,
    runner::{Runner, Step},
};

/// The interop tests, one at a time (each starts and kills its own server processes).
pub(crate) const RUN: Step = Step {
    name: "interop",
    args: &[
        "test",
        "-p",
        "zen-websocket-e2e",
        "--test",
        "interop",
        "--",
        "--ignored",
        "--test-threads=1",
    ],
    // Relative paths are read from the workspace root (see `zen_websocket_e2e::peer`).
    env: &[
        ("ZEN_E2E_PYTHON", "target/peers/venv/bin/python"),
        ("ZEN_E2E_NODE", "node"),
        ("ZEN_E2E_NODE_MODULES", "target/peers/node/node_modules"),
        ("ZEN_E2E_WEBSOCAT", "target/peers/cargo/bin/websocat"),
    ],
    counts_tests: true,
    ..Step::DEFAULT
};

/// The interop steps: install every peer, then run the tests.
const STEPS: &[Step] = &[peers::PYTHON, peers::NODE, peers::WEBSOCAT, RUN];

/// Runs [`STEPS`] from the workspace root `root`.
///
/// # Errors
///
/// Names the step that failed: a peer's install, or a failing test.
pub(crate) fn run(root: &Path) -> anyhow::Result<()> {
    Runner::new("interop", root).run(STEPS)
}
