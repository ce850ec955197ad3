//! `cargo xtask ci`: the checks every change must pass, as a table of cargo commands (a
//! 100-failure soak among them), then the Autobahn and interop conformance runs.

use std::path::Path;

use crate::{
    autobahn, interop, peers,
    runner::{Runner, Step, Tool},
    soak,
};

/// cargo-deny, pinned to a release that builds with the project's toolchain.
const CARGO_DENY: Tool = Tool {
    name: "cargo-deny",
    probe: &["deny", "--version"],
    install: &["install", "--locked", "cargo-deny", "--version", "0.20.2"],
};

/// The CI steps, run in order; the first failure stops the run.
const STEPS: &[Step] = &[
    Step { name: "fmt", args: &["fmt", "--all", "--", "--check"], ..Step::DEFAULT },
    Step {
        name: "clippy",
        // Every feature: the facade's optional re-exports (testing, supervisor) are checked too.
        args: &["clippy", "--workspace", "--all-targets", "--all-features", "--", "-D", "warnings"],
        ..Step::DEFAULT
    },
    Step { name: "test", args: &["test", "--workspace"], counts_tests: true, ..Step::DEFAULT },
    // The reliability soak's short profile, on the debug build the tests just made.
    soak::CI,
    Step {
        name: "doc",
        args: &["doc", "--workspace", "--no-deps", "--all-features"],
        env: &[("RUSTDOCFLAGS", "-D warnings")],
        ..Step::DEFAULT
    },
    // Only the checks that work offline from GitHub: `advisories` needs the RustSec advisory
    // database, which is cloned from GitHub, and CI machines reach package registries only.
    Step {
        name: "deny",
        args: &["deny", "check", "licenses", "bans", "sources"],
        needs: Some(&CARGO_DENY),
        ..Step::DEFAULT
    },
];

/// After the checks: the Autobahn client cases, then the interop tests, each after installing
/// its peers (a peer that cannot be installed fails CI; nothing is skipped).
const CONFORMANCE: &[Step] =
    &[peers::PYTHON, autobahn::RUN, peers::NODE, peers::WEBSOCAT, interop::RUN];

/// Runs [`STEPS`], then [`CONFORMANCE`], from the workspace root `root`.
///
/// # Errors
///
/// Names the first step that failed (or whose tool could not be installed) and how long it ran.
pub(crate) fn run(root: &Path) -> anyhow::Result<()> {
    Runner::new("ci", root).run(&[STEPS, CONFORMANCE].concat())
}
