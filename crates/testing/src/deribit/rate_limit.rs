//! The credit bucket: one per simulator (like Deribit's per-sub-account pool), refilled
//! continuously; every request costs the same.

use std::time::Instant;

/// Bucket settings, from [`credits`](crate::DeribitSimulatorBuilder::credits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CreditSettings {
    pub(crate) capacity: u64,
    pub(crate) refill_per_second: u64,
    pub(crate) cost: u64,
}

impl Default for CreditSettings {
    /// Deribit's non-matching-engine defaults: 50,000 maximum, 10,000/s refill, 500 a request.
    fn default() -> Self {
        Self { capacity: 50_000, refill_per_second: 10_000, cost: 500 }
    }
}

/// A credit bucket that starts full.
#[derive(Debug)]
pub(crate) struct Credits {
    settings: CreditSettings,
    available: f64,
    updated: Instant,
}

impl Credits {
    pub(crate) fn new(settings: CreditSettings) -> Self {
        Self { settings, available: settings.capacity as f64, updated: Instant::now() }
    }

    pub(crate) fn settings(&self) -> CreditSettings {
        self.settings
    }

    /// Takes the cost of one request; `false` (and nothing taken) when too few credits are left.
    pub(crate) fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        let refill = elapsed * self.settings.refill_per_second as f64;
        self.available = (self.available + refill).min(self.settings.capacity as f64);
        self.updated = now.max(self.updated);
        let cost = self.settings.cost as f64;
        if self.available < cost {
            return false;
        }
        self.available -= cost;
        true
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn runs_out_and_refills() {
        let settings = CreditSettings { capacity: 1000, refill_per_second: 500, cost: 500 };
        let mut credits = Credits::new(settings);
        let start = credits.updated;
        assert!(credits.take(start));
        assert!(credits.take(start));
        assert!(!credits.take(start));
        assert!(!credits.take(start + Duration::from_millis(500)), "250 credits back, not 500");
        assert!(credits.take(start + Duration::from_millis(1000)));
    }

    #[test]
    fn never_refills_without_a_rate() {
        let settings = CreditSettings { capacity: 500, refill_per_second: 0, cost: 500 };
        let mut credits = Credits::new(settings);
        let start = credits.updated;
        assert!(credits.take(start));
        assert!(!credits.take(start + Duration::from_secs(3600)));
    }

    #[test]
    fn defaults_match_deribit() {
        let settings = CreditSettings::default();
        assert_eq!(
            (settings.capacity, settings.refill_per_second, settings.cost),
            (50_000, 10_000, 500)
        );
    }
}
