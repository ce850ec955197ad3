//! The Python and Node peers: `tests/peers/bench_client.py` (`websockets`) and
//! `tests/peers/bench_client.js` (`ws`), each run as a child process against the bench's
//! in-process server over loopback. They time themselves with the bench's definitions and print
//! one JSON line, which is read here.
//!
//! `cargo xtask bench` installs them under `target/peers/` first (`tests/peers/install.sh`) and
//! runs the bench from the workspace root; these variables override where they are found:
//!
//! | variable | default |
//! |---|---|
//! | `ZEN_BENCH_PYTHON` | `target/peers/venv/bin/python` (the venv holding `websockets`) |
//! | `ZEN_BENCH_NODE` | `node` |
//! | `ZEN_BENCH_NODE_MODULES` | `target/peers/node/node_modules` (holding `ws`) |
//! | `ZEN_BENCH_SCRIPTS` | `tests/peers` |

use std::{env, path::PathBuf, process::Stdio, time::Duration};

use anyhow::{Context, bail, ensure};
use serde::Deserialize;
use tokio::process::Command;

use crate::{
    clients,
    flood::Spec,
    rtt::{self, Percentiles},
};

/// A peer that runs as a script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Script {
    /// Python `websockets`.
    Python,
    /// Node `ws`.
    Node,
}

/// Where the interpreters and scripts are.
#[derive(Debug, Clone)]
pub(crate) struct Peers {
    python: PathBuf,
    node: PathBuf,
    node_modules: PathBuf,
    scripts: PathBuf,
    /// What each interpreter printed: its version and the WebSocket library's.
    pub(crate) versions: Vec<String>,
}

/// What a flood script prints.
#[derive(Debug, Deserialize)]
struct FloodReport {
    secs: f64,
    messages: usize,
    bytes: usize,
}

/// What a round-trip script prints.
#[derive(Debug, Deserialize)]
struct RttReport {
    rtt_ns: Vec<u64>,
}

impl Peers {
    /// Finds the interpreters and scripts, and runs each interpreter once, so that a missing
    /// one fails the bench before anything is measured.
    ///
    /// # Errors
    ///
    /// When a script, the venv's Python, `node` or `ws` is missing.
    pub(crate) async fn locate() -> anyhow::Result<Self> {
        let var = |name: &str, default: &str| {
            env::var_os(name).map_or_else(|| PathBuf::from(default), PathBuf::from)
        };
        let mut peers = Self {
            python: var("ZEN_BENCH_PYTHON", "target/peers/venv/bin/python"),
            node: var("ZEN_BENCH_NODE", "node"),
            node_modules: var("ZEN_BENCH_NODE_MODULES", "target/peers/node/node_modules"),
            scripts: var("ZEN_BENCH_SCRIPTS", "tests/peers"),
            versions: Vec::new(),
        };
        for script in [Script::Python, Script::Node] {
            let path = peers.script(script);
            ensure!(path.is_file(), "the {script:?} bench client {} is missing", path.display());
        }
        let script = "import sys, websockets; \
                      print('python', sys.version.split()[0], 'websockets', websockets.version.version)";
        let python = probe(Command::new(&peers.python).args(["-c", script]), "python").await?;
        let script =
            "console.log('node', process.version, 'ws', require('ws/package.json').version)";
        let node = probe(peers.node_command().args(["-e", script]), "node").await?;
        peers.versions = vec![python, node];
        Ok(peers)
    }

    /// Runs one flood sample of `script` against the flood server on `port`; returns seconds.
    ///
    /// # Errors
    ///
    /// When the script fails or reports other than `spec.count` messages of `spec.size` bytes.
    pub(crate) async fn flood(&self, script: Script, port: u16, spec: Spec) -> anyhow::Result<f64> {
        let args = [spec.count.to_string(), spec.size.to_string()];
        let report: FloodReport = self.run(script, "flood", port, args).await?;
        ensure!(
            report.messages == spec.count && report.bytes == spec.count * spec.size,
            "{script:?}: {} messages, {} bytes",
            report.messages,
            report.bytes
        );
        Ok(report.secs)
    }

    /// Runs one round-trip sample of `script` against the echo server on `port`.
    ///
    /// # Errors
    ///
    /// When the script fails or reports a different number of round trips.
    pub(crate) async fn rtt(
        &self,
        script: Script,
        port: u16,
        warmup: usize,
        requests: usize,
    ) -> anyhow::Result<Percentiles> {
        let args = [warmup.to_string(), requests.to_string()];
        let report: RttReport = self.run(script, "rtt", port, args).await?;
        ensure!(report.rtt_ns.len() == requests, "{script:?}: {} round trips", report.rtt_ns.len());
        let mut histogram = rtt::histogram()?;
        for nanos in report.rtt_ns {
            histogram.record(nanos.max(1))?;
        }
        Ok(rtt::percentiles(&histogram))
    }

    /// Runs `script task URL a b` and reads the JSON line it prints last.
    async fn run<T: for<'de> Deserialize<'de>>(
        &self,
        script: Script,
        task: &str,
        port: u16,
        [first, second]: [String; 2],
    ) -> anyhow::Result<T> {
        let mut command = match script {
            Script::Python => Command::new(&self.python),
            Script::Node => self.node_command(),
        };
        command.arg(self.script(script)).args([task, &clients::url(false, port), &first, &second]);
        let output =
            tokio::time::timeout(Duration::from_secs(600), output(&mut command))
                .await
                .with_context(|| format!("{script:?} {task}: no result within 10 minutes"))??;
        let stdout = String::from_utf8_lossy(&output);
        let line = stdout.lines().last().unwrap_or_default();
        serde_json::from_str(line).with_context(|| format!("{script:?} {task} printed {line:?}"))
    }

    fn script(&self, script: Script) -> PathBuf {
        let name = match script {
            Script::Python => "bench_client.py",
            Script::Node => "bench_client.js",
        };
        self.scripts.join(name)
    }

    fn node_command(&self) -> Command {
        let mut command = Command::new(&self.node);
        command.env("NODE_PATH", &self.node_modules);
        command
    }
}

/// Runs `command` (an interpreter printing its version) and returns what it printed; fails
/// naming the install step of `what`.
async fn probe(command: &mut Command, what: &str) -> anyhow::Result<String> {
    let found = output(command).await.with_context(|| {
        format!("the {what} peer is not installed: run `bash tests/peers/install.sh {what}`")
    })?;
    let found = String::from_utf8_lossy(&found).trim().to_owned();
    eprintln!("  peer: {found}");
    Ok(found)
}

/// Runs `command` with stderr shown and stdout captured; fails unless it exits with 0.
async fn output(command: &mut Command) -> anyhow::Result<Vec<u8>> {
    let shown = format!("{:?}", command.as_std());
    let output = command
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .output()
        .await
        .with_context(|| format!("cannot run {shown}"))?;
    if !output.status.success() {
        bail!("{shown} exited with {}", output.status);
    }
    Ok(output.stdout)
}
