//! Resident memory of this process, from `/proc/self/statm`, sampled after each tenth of the
//! failures.

use std::fs;

use anyhow::{Context, bail};

/// `AT_PAGESZ` in the ELF auxiliary vector.
const AT_PAGESZ: u64 = 6;

/// The page size the kernel reports in `/proc/self/auxv`; 4 KiB when it cannot be read.
pub(crate) fn page_size() -> u64 {
    fs::read("/proc/self/auxv").ok().and_then(|auxv| auxv_value(&auxv, AT_PAGESZ)).unwrap_or(4096)
}

/// The value of `key` in an auxiliary vector of native-endian `(u64 key, u64 value)` pairs.
fn auxv_value(auxv: &[u8], key: u64) -> Option<u64> {
    let word = |bytes: &[u8]| u64::from_ne_bytes(bytes.try_into().unwrap_or([0; 8]));
    auxv.chunks_exact(16)
        .map(|pair| (word(&pair[..8]), word(&pair[8..])))
        .find_map(|(k, v)| (k == key).then_some(v))
}

/// Resident pages now: the second field of `/proc/self/statm`.
///
/// # Errors
///
/// When `/proc/self/statm` cannot be read or parsed.
pub(crate) fn resident_pages() -> anyhow::Result<u64> {
    let statm = fs::read_to_string("/proc/self/statm").context("reading /proc/self/statm")?;
    match parse_resident(&statm) {
        Some(pages) => Ok(pages),
        None => bail!("/proc/self/statm has no resident field: {statm:?}"),
    }
}

/// `size resident shared text lib data dt` → `resident`.
fn parse_resident(statm: &str) -> Option<u64> {
    statm.split_whitespace().nth(1)?.parse().ok()
}

/// One sample: after how many failures, and how many bytes were resident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sample {
    /// Failures forced so far (after the warm-up).
    pub(crate) failures: usize,
    /// Resident set size in bytes.
    pub(crate) rss_bytes: u64,
    /// What the clients themselves estimate they hold (`StateMetrics::memory_bytes`, summed).
    pub(crate) client_bytes: u64,
}

/// Growth from the first sample to the last, in percent; `None` with fewer than two samples.
pub(crate) fn growth_percent(samples: &[Sample]) -> Option<f64> {
    let (first, last) = (samples.first()?, samples.last()?);
    if samples.len() < 2 || first.rss_bytes == 0 {
        return None;
    }
    Some((last.rss_bytes as f64 - first.rss_bytes as f64) * 100.0 / first.rss_bytes as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_statm_and_auxv() {
        assert_eq!(parse_resident("2000 350 200 10 0 400 0\n"), Some(350));
        assert_eq!(parse_resident("2000"), None);
        let mut auxv = Vec::new();
        for (k, v) in [(3_u64, 64_u64), (AT_PAGESZ, 16384), (0, 0)] {
            auxv.extend_from_slice(&k.to_ne_bytes());
            auxv.extend_from_slice(&v.to_ne_bytes());
        }
        assert_eq!(auxv_value(&auxv, AT_PAGESZ), Some(16384));
        assert_eq!(auxv_value(&auxv, 99), None);
        assert!(resident_pages().unwrap() > 0);
        assert!(page_size() >= 4096);
    }

    #[test]
    fn growth_is_first_to_last() {
        let sample = |rss_bytes| Sample { failures: 0, rss_bytes, client_bytes: 0 };
        assert_eq!(growth_percent(&[sample(100)]), None);
        assert_eq!(growth_percent(&[sample(100), sample(90), sample(105)]), Some(5.0));
    }
}
