//! Steps that install the third-party peers `cargo xtask autobahn` and `cargo xtask interop`
//! test against, all under `target/peers/` (nothing system-wide), through
//! `tests/peers/install.sh`. A peer that cannot be installed (registry unreachable, build
//! failing, no `python3` or `node`) fails the task loudly: nothing is ever skipped.

use crate::runner::Step;

/// Python: a virtualenv with kosoku (the Autobahn fuzzing server), `websockets` and `aiohttp`,
/// pinned in `tests/peers/requirements.txt`.
pub(crate) const PYTHON: Step = Step {
    name: "peers: python",
    program: Some("bash"),
    args: &["tests/peers/install.sh", "python"],
    ..Step::DEFAULT
};

/// Node: `ws` 8.23.0, installed with the machine's npm.
pub(crate) const NODE: Step = Step {
    name: "peers: node",
    program: Some("bash"),
    args: &["tests/peers/install.sh", "node"],
    ..Step::DEFAULT
};

/// websocat 1.14.1, built with `cargo install` into `target/peers/cargo` unless it is already there
/// (only the features the tests use: no TLS, no compression).
pub(crate) const WEBSOCAT: Step = Step {
    name: "peers: websocat",
    program: Some("bash"),
    args: &["tests/peers/install.sh", "websocat"],
    ..Step::DEFAULT
};
