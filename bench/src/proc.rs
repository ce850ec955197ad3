//! The process's own figures from `/proc`: resident memory and the open-file limit.

use std::fs;

use anyhow::{Context, bail};

/// This process's resident set size (`VmRSS` in `/proc/self/status`), in KiB.
///
/// # Errors
///
/// When `/proc/self/status` cannot be read or has no `VmRSS` line.
pub(crate) fn rss_kib() -> anyhow::Result<u64> {
    let status = fs::read_to_string("/proc/self/status").context("reading /proc/self/status")?;
    match parse_vm_rss(&status) {
        Some(kib) => Ok(kib),
        None => bail!("/proc/self/status has no VmRSS line"),
    }
}

/// The soft limit on open files (`Max open files` in `/proc/self/limits`); `None` when unknown,
/// `u64::MAX` when unlimited.
pub(crate) fn open_file_limit() -> Option<u64> {
    parse_open_files(&fs::read_to_string("/proc/self/limits").ok()?)
}

/// `VmRSS:     1234 kB` → 1234.
fn parse_vm_rss(status: &str) -> Option<u64> {
    let rest = status.lines().find_map(|line| line.strip_prefix("VmRSS:"))?;
    rest.split_whitespace().next()?.parse().ok()
}

/// `Max open files            20000                20000                files` → 20000.
fn parse_open_files(limits: &str) -> Option<u64> {
    let rest = limits.lines().find_map(|line| line.strip_prefix("Max open files"))?;
    match rest.split_whitespace().next()? {
        "unlimited" => Some(u64::MAX),
        soft => soft.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_vm_rss() {
        let status = "Name:\tbench\nVmPeak:\t  9000 kB\nVmRSS:\t    4321 kB\nThreads:\t3\n";
        assert_eq!(parse_vm_rss(status), Some(4321));
        assert_eq!(parse_vm_rss("Name:\tbench\n"), None);
    }

    #[test]
    fn reads_the_soft_open_file_limit() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max open files            1024                 20000                files\n";
        assert_eq!(parse_open_files(limits), Some(1024));
        let unlimited =
            "Max open files            unlimited            unlimited            files\n";
        assert_eq!(parse_open_files(unlimited), Some(u64::MAX));
    }

    #[test]
    fn reads_this_process() {
        assert!(rss_kib().unwrap() > 0);
        assert!(open_file_limit().is_some());
    }
}
