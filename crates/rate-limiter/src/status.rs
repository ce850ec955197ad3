//! What a bucket looks like right now: tokens, queue, pressure and a suggested delay.

use std::fmt;

/// A snapshot of one bucket, from [`RateLimiter::status`](crate::RateLimiter::status).
///
/// # Examples
///
/// ```
/// use zen_websocket_rate_limiter::{PressureLevel, RateLimiter, RateLimiterConfig};
///
/// let limiter = RateLimiter::new(RateLimiterConfig::default().capacity(100))?;
/// limiter.try_acquire(15)?;
/// let status = limiter.status();
/// assert_eq!(status.capacity, 100);
/// assert_eq!(status.queue_size, 0);
/// assert_eq!(status.pressure_level, PressureLevel::Low);
/// assert_eq!(status.suggested_delay_ms, 0);
/// # Ok::<(), zen_websocket_rate_limiter::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Status {
    /// The tokens in the bucket now; fractional while it refills.
    pub tokens: f64,
    /// The most tokens the bucket holds.
    pub capacity: u32,
    /// Acquisitions waiting their turn.
    pub queue_size: usize,
    /// How much of the capacity is in use (see [`PressureLevel`]).
    pub pressure_level: PressureLevel,
    /// Milliseconds (rounded up) until the head of the queue can pass or, with an empty
    /// queue, until a request costing as much as the last one can; 0 when it can pass now.
    pub suggested_delay_ms: u64,
}

/// How much of a bucket's capacity is in use: `used = 1 − tokens / capacity`, and any
/// queued waiter counts as full use (`used = 100 %`).
///
/// The boundaries, exactly:
///
/// | level | share of capacity in use |
/// |---|---|
/// | `Low` | `used < 25 %` |
/// | `Medium` | `25 % ≤ used < 50 %` |
/// | `High` | `50 % ≤ used ≤ 75 %` |
/// | `Critical` | `used > 75 %` (and whenever someone is queued) |
///
/// Levels are ordered, `Low < Medium < High < Critical`, and [`as_gauge`](Self::as_gauge)
/// gives the value of the `zen_websocket.rate_limiter.pressure` gauge.
///
/// # Examples
///
/// ```
/// use zen_websocket_rate_limiter::{PressureLevel, RateLimiter, RateLimiterConfig};
///
/// let limiter = RateLimiter::new(RateLimiterConfig::default().capacity(100))?;
/// limiter.try_acquire(60)?; // 60 % in use (a hair less as it refills)
/// assert_eq!(limiter.status().pressure_level, PressureLevel::High);
/// assert!(PressureLevel::High > PressureLevel::Medium);
/// # Ok::<(), zen_websocket_rate_limiter::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PressureLevel {
    /// Less than a quarter of the capacity in use.
    Low,
    /// From a quarter to just under half in use.
    Medium,
    /// From half to three quarters in use.
    High,
    /// More than three quarters in use, or waiters queued.
    Critical,
}

impl PressureLevel {
    /// Classifies `used` units out of `max` (exact integer comparisons, no rounding).
    pub(crate) fn from_used(used: u128, max: u128) -> Self {
        // `max` is at most u32::MAX tokens × one year in nanoseconds (< 2^87): no overflow.
        if used * 4 < max {
            Self::Low
        } else if used * 2 < max {
            Self::Medium
        } else if used * 4 <= max * 3 {
            Self::High
        } else {
            Self::Critical
        }
    }

    /// The level as the value of the `zen_websocket.rate_limiter.pressure` gauge: 0 (`Low`)
    /// to 3 (`Critical`).
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_rate_limiter::PressureLevel;
    ///
    /// assert_eq!(PressureLevel::Low.as_gauge(), 0.0);
    /// assert_eq!(PressureLevel::Critical.as_gauge(), 3.0);
    /// ```
    #[must_use]
    pub fn as_gauge(self) -> f64 {
        f64::from(self as u8)
    }

    /// The level's name in lower case, as in logs: `low`, `medium`, `high`, `critical`.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_rate_limiter::PressureLevel;
    ///
    /// assert_eq!(PressureLevel::Medium.as_str(), "medium");
    /// ```
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }
}

impl fmt::Display for PressureLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::PressureLevel::{self, *};

    #[test]
    fn boundaries_are_exact() {
        let level = |used| PressureLevel::from_used(used, 100);
        let cases = [
            (0, Low),
            (24, Low),
            (25, Medium),
            (49, Medium),
            (50, High),
            (75, High),
            (76, Critical),
            (100, Critical),
        ];
        for (used, expected) in cases {
            assert_eq!(level(used), expected, "{used} % used");
        }
    }

    #[test]
    fn boundaries_hold_between_whole_tokens() {
        // 3 of 4 tokens is 75 % (High); a hair more is Critical.
        assert_eq!(PressureLevel::from_used(3000, 4000), High);
        assert_eq!(PressureLevel::from_used(3001, 4000), Critical);
        assert_eq!(PressureLevel::from_used(999, 4000), Low);
        assert_eq!(PressureLevel::from_used(1000, 4000), Medium);
    }
}
