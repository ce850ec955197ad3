//! The numbers behind `zenws inspect`: frames per time bucket, sizes and their percentiles,
//! and the sparkline that draws a series.

use std::time::Duration;

/// The blocks a sparkline is drawn with, lowest first; an empty bucket is a space.
const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// Frames counted in equal buckets of the recording's time span.
#[derive(Debug)]
pub(super) struct Rate {
    width: Duration,
    counts: Vec<u64>,
}

impl Rate {
    /// Buckets covering `span` in at most `columns` columns (one column for an instant).
    pub(super) fn new(span: Duration, columns: usize) -> Self {
        let columns = columns.max(1);
        let width = span.div_f64(columns as f64).max(Duration::from_millis(1));
        // Enough buckets that the last frame (at `span`) has one.
        let needed = (span.as_nanos() / width.as_nanos()) as usize + 1;
        Self { width, counts: vec![0; needed.min(columns).max(1)] }
    }

    /// Counts a frame at `offset` from the first.
    pub(super) fn add(&mut self, offset: Duration) {
        let index = (offset.as_nanos() / self.width.as_nanos()) as usize;
        let last = self.counts.len() - 1;
        self.counts[index.min(last)] += 1;
    }

    /// The time each bucket covers.
    pub(super) fn bucket_width(&self) -> Duration {
        self.width
    }

    /// The frames in each bucket.
    pub(super) fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// The busiest bucket, in frames per second.
    pub(super) fn peak_per_second(&self) -> f64 {
        let peak = self.counts.iter().copied().max().unwrap_or(0);
        peak as f64 / self.width.as_secs_f64()
    }
}

/// `values` drawn with [`BLOCKS`], scaled to the largest (always `█`); zero is a space.
pub(super) fn sparkline(values: &[u64]) -> String {
    let peak = values.iter().copied().max().unwrap_or(0);
    values
        .iter()
        .map(|&value| {
            if value == 0 || peak == 0 {
                return ' ';
            }
            // 1..=peak onto 0..=7: the peak is always a full block, and the smallest
            // non-zero value still shows.
            let top = BLOCKS.len() as u64 - 1;
            let level = if peak == 1 { top } else { ((value - 1) * top).div_ceil(peak - 1) };
            BLOCKS[(level as usize).min(BLOCKS.len() - 1)]
        })
        .collect()
}

/// The size of every data frame, for percentiles.
#[derive(Debug, Default)]
pub(super) struct Sizes {
    sizes: Vec<usize>,
}

/// The size distribution: smallest, median, 99th percentile, largest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct SizeSummary {
    pub(super) min: usize,
    pub(super) p50: usize,
    pub(super) p99: usize,
    pub(super) max: usize,
}

impl Sizes {
    /// Counts a frame of `size` bytes.
    pub(super) fn add(&mut self, size: usize) {
        self.sizes.push(size);
    }

    /// The distribution (nearest-rank percentiles); `None` without frames.
    pub(super) fn summary(&self) -> Option<SizeSummary> {
        let mut sorted = self.sizes.clone();
        sorted.sort_unstable();
        let rank = |p: f64| {
            let rank = (p * sorted.len() as f64).ceil() as usize;
            sorted[rank.clamp(1, sorted.len()) - 1]
        };
        Some(SizeSummary {
            min: *sorted.first()?,
            p50: rank(0.50),
            p99: rank(0.99),
            max: *sorted.last()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparkline_scales_to_the_peak() {
        assert_eq!(sparkline(&[0, 1, 8]), " ▁█");
        assert_eq!(sparkline(&[5, 5]), "██");
        assert_eq!(sparkline(&[0, 1, 1]), " ██");
        assert_eq!(sparkline(&[1, 2, 3, 4, 5, 6, 7, 8]), "▁▂▃▄▅▆▇█");
        assert_eq!(sparkline(&[]), "");
    }

    #[test]
    fn rate_buckets_cover_the_span() {
        let mut rate = Rate::new(Duration::from_secs(10), 10);
        rate.add(Duration::ZERO);
        rate.add(Duration::from_secs(10));
        rate.add(Duration::from_millis(5500));
        assert_eq!(rate.counts().iter().sum::<u64>(), 3);
        assert_eq!(rate.counts()[0], 1);
        assert_eq!(rate.counts()[5], 1);
        let instant = Rate::new(Duration::ZERO, 60);
        assert_eq!(instant.counts().len(), 1);
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut sizes = Sizes::default();
        assert!(sizes.summary().is_none());
        for size in 1..=100 {
            sizes.add(size);
        }
        let summary = sizes.summary().unwrap();
        assert_eq!((summary.min, summary.p50, summary.p99, summary.max), (1, 50, 99, 100));
    }
}
