//! The arithmetic of one token bucket: exact refill from elapsed time, in integer units.

use std::time::Duration;

use tokio::time::Instant;

use crate::status::PressureLevel;

/// The fill level of a bucket, refilled from the clock on every look.
///
/// One token is `per_token` units (the refill interval in nanoseconds) and every elapsed
/// nanosecond adds `rate` units (the refill rate), so `rate` tokens arrive per interval with
/// no rounding at all: the level never drifts, however long the bucket lives.
#[derive(Debug)]
pub(crate) struct Tokens {
    level: u128,
    max: u128,
    per_token: u128,
    rate: u128,
    capacity: u32,
    last: Instant,
}

impl Tokens {
    /// A full bucket of `capacity` tokens gaining `refill_rate` tokens per `refill_interval`.
    ///
    /// The caller guarantees `capacity`, `refill_rate` and `refill_interval` are non-zero.
    pub(crate) fn full(capacity: u32, refill_rate: u32, refill_interval: Duration) -> Self {
        let per_token = refill_interval.as_nanos().max(1);
        let max = u128::from(capacity) * per_token;
        Self {
            level: max,
            max,
            per_token,
            rate: u128::from(refill_rate).max(1),
            capacity,
            last: Instant::now(),
        }
    }

    /// Adds what arrived since the last look, up to the capacity.
    pub(crate) fn refill(&mut self, now: Instant) {
        if now <= self.last {
            return;
        }
        let elapsed = now.duration_since(self.last).as_nanos();
        let gained = elapsed.saturating_mul(self.rate);
        self.level = self.level.saturating_add(gained).min(self.max);
        self.last = now;
    }

    /// Whether `cost` tokens are there now.
    pub(crate) fn covers(&self, cost: u64) -> bool {
        self.level >= self.units(cost)
    }

    /// Takes `cost` tokens; the caller checked [`covers`](Self::covers).
    pub(crate) fn take(&mut self, cost: u64) {
        debug_assert!(self.covers(cost), "taking more tokens than the bucket holds");
        self.level = self.level.saturating_sub(self.units(cost));
    }

    /// How long until `cost` tokens are there, counted from the last refill.
    pub(crate) fn time_until(&self, cost: u64) -> Duration {
        let missing = self.units(cost).saturating_sub(self.level);
        let nanos = missing.div_ceil(self.rate);
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }

    /// The instant `cost` tokens will be there.
    pub(crate) fn ready_at(&self, cost: u64) -> Instant {
        self.last + self.time_until(cost)
    }

    /// The tokens there now, fractional while refilling.
    pub(crate) fn available(&self) -> f64 {
        self.level as f64 / self.per_token as f64
    }

    /// The bucket's capacity in tokens.
    pub(crate) fn capacity(&self) -> u32 {
        self.capacity
    }

    /// The pressure level for this fill; any queued waiter counts as full use.
    pub(crate) fn pressure(&self, queued: bool) -> PressureLevel {
        let used = if queued { self.max } else { self.max - self.level };
        PressureLevel::from_used(used, self.max)
    }

    fn units(&self, cost: u64) -> u128 {
        u128::from(cost) * self.per_token
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn bucket(capacity: u32, rate: u32, interval_ms: u64) -> Tokens {
        Tokens::full(capacity, rate, Duration::from_millis(interval_ms))
    }

    #[test]
    fn refill_is_exact_over_many_small_steps() {
        let mut tokens = bucket(10, 3, 1000);
        let start = tokens.last;
        tokens.take(10);
        for step in 1..=1000 {
            tokens.refill(start + Duration::from_millis(step));
        }
        assert_eq!(tokens.available(), 3.0);
    }

    #[test]
    fn time_until_rounds_up_to_the_nanosecond() {
        let mut tokens = bucket(5, 3, 1000);
        tokens.take(5);
        // One token takes a third of a second: 333_333_333.3 ns, rounded up.
        assert_eq!(tokens.time_until(1), Duration::from_nanos(333_333_334));
        let at = tokens.ready_at(1);
        tokens.refill(at);
        assert!(tokens.covers(1));
    }

    #[test]
    fn the_clock_going_backwards_changes_nothing() {
        let mut tokens = bucket(5, 5, 1000);
        let start = tokens.last;
        tokens.take(5);
        tokens.refill(start + Duration::from_millis(400));
        tokens.refill(start + Duration::from_millis(100));
        assert_eq!(tokens.available(), 2.0);
    }

    proptest! {
        /// Whatever the sequence of takes and clock steps, the level stays in
        /// `0..=capacity` and what is taken never exceeds capacity + refill over the run.
        #[test]
        fn level_stays_in_bounds(
            capacity in 1u32..1000,
            rate in 1u32..1000,
            interval_ms in 1u64..5000,
            steps in proptest::collection::vec((0u64..2000, 0u32..1000), 1..200),
        ) {
            let mut tokens = bucket(capacity, rate, interval_ms);
            let start = tokens.last;
            let mut now = start;
            let mut taken = 0u128;
            for (advance_ms, cost) in steps {
                now += Duration::from_millis(advance_ms);
                tokens.refill(now);
                let cost = u64::from(cost % (capacity + 1));
                if tokens.covers(cost) {
                    tokens.take(cost);
                    taken += u128::from(cost);
                }
                prop_assert!(tokens.available() >= 0.0);
                prop_assert!(tokens.available() <= f64::from(capacity));
            }
            let elapsed_ms = now.duration_since(start).as_millis();
            let allowance = u128::from(capacity)
                + (elapsed_ms * u128::from(rate)).div_ceil(u128::from(interval_ms));
            prop_assert!(taken <= allowance, "taken {taken} > allowance {allowance}");
        }
    }
}
