//! `results.json`: every figure of a run with where and when it was measured.

use std::{
    fs,
    path::Path,
    process::Command,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use anyhow::Context;
use serde_json::json;

use crate::report::{Results, Row};

/// How the run was set up, for the heading and the record.
#[derive(Debug, Clone)]
pub(crate) struct Setup {
    /// Logical CPUs.
    pub(crate) nproc: usize,
    /// The soft open-file limit, when known.
    pub(crate) open_file_limit: Option<u64>,
    /// The tokio runtime the clients and servers run on, in words.
    pub(crate) runtime: String,
    /// Samples per measurement.
    pub(crate) repeats: usize,
    /// `--quick`: a tenth of the messages, idle rows at 1,000 connections only.
    pub(crate) quick: bool,
    /// `--only`: the rows whose names hold this text, when given.
    pub(crate) only: Option<String>,
    /// The script peers' versions, as their interpreters printed them.
    pub(crate) peers: Vec<String>,
}

/// Writes `results.json` to `path`.
///
/// # Errors
///
/// When the file cannot be written.
pub(crate) fn write(
    path: &Path,
    setup: &Setup,
    rows: &[Row],
    results: &Results,
    elapsed: Duration,
) -> anyhow::Result<()> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let record = json!({
        "timestamp": rfc3339(now),
        "unix_time": now,
        "git_commit": git(&["rev-parse", "HEAD"]),
        "git_dirty": git(&["status", "--porcelain", "--untracked-files=no"]).map(|s| !s.is_empty()),
        "machine": {
            "nproc": setup.nproc,
            "open_file_limit": setup.open_file_limit,
        },
        "runtime": setup.runtime,
        "repeats": setup.repeats,
        "peer_repeats": crate::clients::PEER_ROUNDS.min(setup.repeats),
        "quick": setup.quick,
        "only": setup.only,
        "peers": setup.peers,
        "elapsed_secs": elapsed.as_secs_f64(),
        "rows": rows,
        "samples": results,
    });
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    fs::write(path, serde_json::to_string_pretty(&record)? + "\n")
        .with_context(|| format!("writing {}", path.display()))
}

/// `git <args>`'s trimmed output, or `None` when git is missing or fails.
fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Now as `YYYY-MM-DDThh:mm:ssZ`.
pub(crate) fn now() -> String {
    rfc3339(SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs())
}

/// Seconds since 1970 as `YYYY-MM-DDThh:mm:ssZ` (UTC; the civil-from-days algorithm).
fn rfc3339(unix: u64) -> String {
    let (days, rest) = ((unix / 86_400) as i64, unix % 86_400);
    let (hour, minute, second) = (rest / 3_600, rest % 3_600 / 60, rest % 60);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 { shifted_month + 3 } else { shifted_month - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_timestamps() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    }
}
