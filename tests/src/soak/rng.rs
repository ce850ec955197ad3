//! SplitMix64: a tiny seeded generator for the fault mix, so a seed replays the same run.

use std::time::Duration;

/// Sebastiano Vigna's SplitMix64: one `u64` of state, good enough to pick faults.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64 {
    /// The state, advanced by the golden-ratio increment on every draw.
    state: u64,
}

impl SplitMix64 {
    /// A generator whose draws depend only on `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (`bound` > 0); the modulo bias is irrelevant at these sizes.
    pub(crate) fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound.max(1)
    }

    /// `true` with probability `numerator / denominator`.
    pub(crate) fn chance(&mut self, numerator: u64, denominator: u64) -> bool {
        self.below(denominator) < numerator
    }

    /// A duration between `low` and `high` milliseconds, both included.
    pub(crate) fn millis(&mut self, low: u64, high: u64) -> Duration {
        Duration::from_millis(low + self.below(high.saturating_sub(low) + 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_sequence() {
        // The first outputs of the reference implementation for seed 0.
        let mut rng = SplitMix64::new(0);
        assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(rng.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn the_same_seed_draws_the_same_numbers() {
        let (mut a, mut b) = (SplitMix64::new(7), SplitMix64::new(7));
        let draws: Vec<u64> = (0..8).map(|_| a.below(10)).collect();
        assert_eq!(draws, (0..8).map(|_| b.below(10)).collect::<Vec<_>>());
        assert!(draws.iter().all(|n| *n < 10));
    }

    #[test]
    fn millis_stay_in_range() {
        let mut rng = SplitMix64::new(3);
        for _ in 0..100 {
            let d = rng.millis(150, 400);
            assert!((150..=400).contains(&d.as_millis()), "{d:?}");
        }
    }
}
