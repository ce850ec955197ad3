//! The memory rows, from the parent: one `serve` child holds the server side and one `idle`
//! child per (client, scheme, count) row measures, so neither the server nor the other client
//! is in anyone's figures.

use std::{
    env,
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
};

use anyhow::{Context, bail, ensure};
use serde::Serialize;

use crate::{
    idle::{IN_FLIGHT, IdleSample, Kind},
    proc,
};

/// Connection counts of the memory rows (`--quick` keeps the first).
pub(crate) const COUNTS: [usize; 2] = [1_000, 10_000];
/// File descriptors a process needs beyond one per connection (runtime, stdio, slack).
const FD_MARGIN: u64 = 256;

/// One memory row.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct IdleResult {
    /// The client measured.
    pub(crate) kind: Kind,
    /// `wss` rather than `ws`.
    pub(crate) secure: bool,
    /// Connections measured.
    pub(crate) count: usize,
    /// The figures, unless the row was skipped.
    pub(crate) sample: Option<IdleSample>,
    /// Why the row did not run.
    pub(crate) skipped: Option<String>,
}

/// Runs the memory rows for each of `counts`; the CA goes to `out_dir/ca.pem`.
///
/// # Errors
///
/// When a child cannot start or fails.
pub(crate) fn run(out_dir: &Path, counts: &[usize]) -> anyhow::Result<Vec<IdleResult>> {
    let limit = proc::open_file_limit();
    let server = ServerChild::start(&out_dir.join("ca.pem"))?;
    let mut results = Vec::new();
    for &count in counts {
        for secure in [false, true] {
            for kind in [Kind::Zen, Kind::Raw] {
                let mut row = IdleResult {
                    kind,
                    secure,
                    count,
                    sample: None,
                    skipped: too_few_files(limit, count),
                };
                if row.skipped.is_none() {
                    row.sample = Some(server.measure(kind, secure, count)?);
                }
                results.push(row);
            }
        }
    }
    Ok(results)
}

/// Why `count` connections cannot be opened under the open-file `limit`, if they cannot.
fn too_few_files(limit: Option<u64>, count: usize) -> Option<String> {
    let needed = (count + IN_FLIGHT) as u64 + FD_MARGIN;
    match limit {
        Some(limit) if limit < needed => {
            Some(format!("the open-file limit is {limit}; {count} connections need {needed}"))
        }
        _ => None,
    }
}

/// The `serve` child; killed when dropped.
struct ServerChild {
    child: Child,
    ws_port: u16,
    wss_port: u16,
    ca: PathBuf,
}

impl ServerChild {
    fn start(ca: &Path) -> anyhow::Result<Self> {
        let mut child = Command::new(env::current_exe()?)
            .arg("serve")
            .arg("--ca")
            .arg(ca)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .context("starting the `serve` child")?;
        let mut line = String::new();
        if let Some(stdout) = child.stdout.take() {
            BufReader::new(stdout).read_line(&mut line)?;
        }
        let Some((ws_port, wss_port)) = parse_ports(&line) else {
            let _ = child.kill();
            bail!("the `serve` child printed {line:?}, not its ports");
        };
        Ok(Self { child, ws_port, wss_port, ca: ca.to_owned() })
    }

    /// Runs one `idle` child and reads its figures.
    fn measure(&self, kind: Kind, secure: bool, count: usize) -> anyhow::Result<IdleSample> {
        let (scheme, port) = if secure { ("wss", self.wss_port) } else { ("ws", self.ws_port) };
        eprintln!("  idle {scheme} × {count}: {}", kind.name());
        let output = Command::new(env::current_exe()?)
            .args(["idle", "--client", kind.name(), "--scheme", scheme])
            .args(["--count", &count.to_string(), "--port", &port.to_string()])
            .arg("--ca")
            .arg(&self.ca)
            .stderr(Stdio::inherit())
            .output()
            .context("running an `idle` child")?;
        ensure!(
            output.status.success(),
            "the `idle` child for {} {scheme} × {count} exited with {}",
            kind.name(),
            output.status
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        let line = stdout.lines().last().unwrap_or_default();
        serde_json::from_str(line).with_context(|| format!("reading the `idle` child's {line:?}"))
    }
}

impl Drop for ServerChild {
    fn drop(&mut self) {
        // Closing stdin ends the child; kill it too in case it is stuck.
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `ws=40001 wss=40002` → (40001, 40002).
fn parse_ports(line: &str) -> Option<(u16, u16)> {
    let mut words = line.split_whitespace();
    let ws = words.next()?.strip_prefix("ws=")?.parse().ok()?;
    let wss = words.next()?.strip_prefix("wss=")?.parse().ok()?;
    Some((ws, wss))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_serve_childs_ports() {
        assert_eq!(parse_ports("ws=40001 wss=40002\n"), Some((40001, 40002)));
        assert_eq!(parse_ports("listening\n"), None);
    }

    #[test]
    fn skips_rows_the_open_file_limit_cannot_hold() {
        assert!(too_few_files(Some(1024), 1_000).is_some());
        assert!(too_few_files(Some(20_000), 10_000).is_none());
        assert!(too_few_files(None, 10_000).is_none());
    }
}
