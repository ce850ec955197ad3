//! `cargo xtask`: the zen-websocket project's automation, in plain Rust.
//!
//! Run `cargo xtask <task>` from anywhere in the workspace (the alias lives in
//! `.cargo/config.toml`). Tasks are rows of [`TASKS`]; each one runs cargo commands from the
//! workspace root through the [`runner`] module, which streams their output, times them and
//! prints a summary table.
//!
//! | task | what it does |
//! |------|--------------|
//! | `ci` | fmt, clippy, test, a 100-failure soak, doc, cargo-deny, then `autobahn` and `interop`: what `.ci/run` and GitHub Actions run |
//! | `bench [--quick]` | install the Python and Node peers, release build of `bench/`, then zen-websocket against raw tokio-tungstenite and the peers; `--quick` is the CI-sized run |
//! | `autobahn` | the Autobahn\|Testsuite client cases (kosoku's fuzzing server) against the client |
//! | `interop` | the client against Python `websockets` and `aiohttp`, Node `ws` and `websocat` |
//! | `soak` | release build, then 10 clients x 10 subscriptions through 1,000 forced failures, every recovery verified ([`soak`]) |
//!
//! `autobahn`, `interop` and `bench` install their peers under `target/peers/` first ([`peers`]).

mod autobahn;
mod bench;
mod ci;
mod interop;
mod peers;
mod runner;
mod soak;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// One subcommand of `cargo xtask`.
struct Task {
    /// The name typed after `cargo xtask`.
    name: &'static str,
    /// One line for the usage text.
    about: &'static str,
    /// The flags the task accepts after its name (most take none).
    flags: &'static [&'static str],
    /// Runs the task with the workspace root and the flags given.
    run: fn(&Path, &[String]) -> anyhow::Result<()>,
}

/// Every task `cargo xtask` knows, in the order the usage text lists them.
const TASKS: &[Task] = &[
    Task {
        name: "ci",
        about: "run every CI check: fmt, clippy, test, soak (100), doc, cargo-deny, autobahn, interop",
        flags: &[],
        run: |root, _| ci::run(root),
    },
    Task {
        name: "bench",
        about: "install the peers, build the bench (release), run it: zen vs raw tokio-tungstenite \
                and the peers (--quick: CI-sized)",
        flags: &["--quick"],
        run: bench::run,
    },
    Task {
        name: "autobahn",
        about: "install kosoku, run the Autobahn|Testsuite client cases, print the verdicts",
        flags: &[],
        run: |root, _| autobahn::run(root),
    },
    Task {
        name: "interop",
        about: "install the peer servers, run the interop tests against each of them",
        flags: &[],
        run: |root, _| interop::run(root),
    },
    Task {
        name: "soak",
        about: "build (release), force 1,000 failures on 10 clients, verify every recovery",
        flags: &[],
        run: |root, _| soak::run(root),
    },
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(task) = find_task(&args) else {
        eprint!("{}", usage());
        return ExitCode::from(2);
    };
    match (task.run)(&workspace_root(), &args[1..]) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask {}: {error:#}", task.name);
            ExitCode::FAILURE
        }
    }
}

/// The task the arguments name, or `None` (after saying what is wrong) for anything else.
fn find_task(args: &[String]) -> Option<&'static Task> {
    let (name, rest) = args.split_first()?;
    if is_help(name) {
        return None;
    }
    let Some(task) = TASKS.iter().find(|task| task.name == name.as_str()) else {
        eprintln!("xtask: unknown task `{name}`\n");
        return None;
    };
    if let Some(unknown) = rest.iter().find(|arg| !task.flags.contains(&arg.as_str())) {
        match task.flags {
            [] => eprintln!("xtask: `{name}` takes no arguments, got `{}`\n", rest.join(" ")),
            flags => eprintln!("xtask: `{name}` takes {}, not `{unknown}`\n", flags.join(" ")),
        }
        return None;
    }
    Some(task)
}

/// Whether `arg` asks for the usage text.
fn is_help(arg: &str) -> bool {
    matches!(arg, "help" | "-h" | "--help")
}

/// The usage text: one line per task.
fn usage() -> String {
    let mut text = String::from("usage: cargo xtask <task> [flags]\n\ntasks:\n");
    for task in TASKS {
        let flags = task.flags.iter().map(|flag| format!(" [{flag}]")).collect::<String>();
        text.push_str(&format!("  {:<18} {}\n", format!("{}{flags}", task.name), task.about));
    }
    text.push_str(&format!("  {:<18} print this text\n", "help"));
    text
}

/// The workspace root: the parent of this crate's manifest directory.
fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn tasks_take_only_their_flags() {
        assert_eq!(find_task(&args("bench")).map(|task| task.name), Some("bench"));
        assert_eq!(find_task(&args("bench --quick")).map(|task| task.name), Some("bench"));
        assert!(find_task(&args("bench --fast")).is_none());
        assert!(find_task(&args("ci --quick")).is_none());
        assert!(find_task(&args("nope")).is_none());
        assert!(find_task(&args("--help")).is_none());
        assert!(usage().contains("bench [--quick]"));
    }
}
