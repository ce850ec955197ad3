//! The shape of a limiter: bucket size, refill, queue bound, cost model, name; and presets.

use std::time::Duration;

use crate::{
    cost::CostModel,
    deribit::{self, DeribitTier},
    error::{Error, Result},
};

/// The longest refill interval accepted (Binance counts some limits per day; a year is room
/// enough and keeps the bucket's integer arithmetic far from overflow).
const MAX_REFILL_INTERVAL: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// How a [`RateLimiter`](crate::RateLimiter) is built; every field has a default.
///
/// A bucket holds up to [`capacity`](Self::capacity) tokens, starts full, and gains
/// [`refill_rate`](Self::refill_rate) tokens every [`refill_interval`](Self::refill_interval)
/// (continuously: a tenth of the interval brings a tenth of the tokens). Up to
/// [`max_queue`](Self::max_queue) acquisitions may wait their turn. Values are checked by
/// [`validate`](Self::validate), which [`RateLimiter::new`](crate::RateLimiter::new) calls.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use zen_websocket_rate_limiter::{CostModel, RateLimiter, RateLimiterConfig};
///
/// // 10 messages a second, bursts of 20, at most 50 waiting.
/// let config = RateLimiterConfig::default()
///     .name("orders")
///     .capacity(20)
///     .refill_rate(10)
///     .refill_interval(Duration::from_secs(1))
///     .max_queue(50)
///     .cost_model(CostModel::simple());
/// let limiter = RateLimiter::new(config)?;
/// assert_eq!(limiter.name(), "orders");
/// # Ok::<(), zen_websocket_rate_limiter::Error>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct RateLimiterConfig {
    pub(crate) name: String,
    pub(crate) capacity: u32,
    pub(crate) refill_rate: u32,
    pub(crate) refill_interval: Duration,
    pub(crate) max_queue: usize,
    pub(crate) cost_model: CostModel,
}

impl Default for RateLimiterConfig {
    fn default() -> Self {
        Self {
            name: "default".to_owned(),
            capacity: 100,
            refill_rate: 10,
            refill_interval: Duration::from_secs(1),
            max_queue: 100,
            cost_model: CostModel::simple(),
        }
    }
}

impl RateLimiterConfig {
    /// The same as [`RateLimiterConfig::default`].
    ///
    /// # Examples
    ///
    /// ```
    /// let config = zen_websocket_rate_limiter::RateLimiterConfig::new();
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Deribit's limits: 50,000 credits refilled at 10,000 per second, 500 per request, and
    /// the matching-engine bucket of `tier` ([`CostModel::deribit`]). Named `deribit`.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_rate_limiter::{DeribitTier, RateLimiter, RateLimiterConfig};
    ///
    /// let limiter = RateLimiter::new(RateLimiterConfig::deribit(DeribitTier::Tier2).max_queue(500))?;
    /// assert_eq!(limiter.status().capacity, 50_000);
    /// assert_eq!(limiter.status_of("matching_engine").unwrap().capacity, 50);
    /// # Ok::<(), zen_websocket_rate_limiter::Error>(())
    /// ```
    pub fn deribit(tier: DeribitTier) -> Self {
        Self::default()
            .name("deribit")
            .capacity(deribit::CREDIT_CAPACITY)
            .refill_rate(deribit::CREDIT_REFILL_PER_SECOND)
            .refill_interval(Duration::from_secs(1))
            .cost_model(CostModel::deribit(tier))
    }

    /// Binance's Spot WebSocket API default of 6,000 request weight per minute, weights from
    /// [`CostModel::binance`]. Named `binance`.
    ///
    /// Binance counts per minute; a bucket grants at most its capacity plus one interval's
    /// refill in any interval, so this one holds 1,000 and refills 5,000 per minute: never
    /// more than 6,000 in any 60 seconds, about 83 weight a second sustained.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_rate_limiter::{RateLimiter, RateLimiterConfig};
    ///
    /// let limiter = RateLimiter::new(RateLimiterConfig::binance())?;
    /// assert_eq!(limiter.status().capacity, 1_000);
    /// # Ok::<(), zen_websocket_rate_limiter::Error>(())
    /// ```
    pub fn binance() -> Self {
        Self::default()
            .name("binance")
            .capacity(1_000)
            .refill_rate(5_000)
            .refill_interval(Duration::from_secs(60))
            .cost_model(CostModel::binance())
    }

    /// The `limiter` label on this limiter's metrics and log events.
    ///
    /// Default is `"default"`.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = zen_websocket_rate_limiter::RateLimiterConfig::default().name("deribit-main");
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The most tokens the bucket holds: the largest burst, and the largest single cost.
    ///
    /// Default is 100. Must be positive.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = zen_websocket_rate_limiter::RateLimiterConfig::default().capacity(50_000);
    /// ```
    pub fn capacity(mut self, tokens: u32) -> Self {
        self.capacity = tokens;
        self
    }

    /// Tokens added every [`refill_interval`](Self::refill_interval).
    ///
    /// Default is 10. Must be positive.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = zen_websocket_rate_limiter::RateLimiterConfig::default().refill_rate(10_000);
    /// ```
    pub fn refill_rate(mut self, tokens: u32) -> Self {
        self.refill_rate = tokens;
        self
    }

    /// The period over which [`refill_rate`](Self::refill_rate) tokens arrive.
    ///
    /// Default is 1 s. Must be positive and at most a year.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// // 1,200 per minute.
    /// let config = zen_websocket_rate_limiter::RateLimiterConfig::default()
    ///     .refill_rate(1_200)
    ///     .refill_interval(Duration::from_secs(60));
    /// ```
    pub fn refill_interval(mut self, interval: Duration) -> Self {
        self.refill_interval = interval;
        self
    }

    /// How many acquisitions may wait their turn; one more fails at once with
    /// [`Error::QueueFull`]. With 0, an acquisition that would wait fails instead.
    ///
    /// Default is 100.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = zen_websocket_rate_limiter::RateLimiterConfig::default().max_queue(1_000);
    /// ```
    pub fn max_queue(mut self, waiters: usize) -> Self {
        self.max_queue = waiters;
        self
    }

    /// What each message costs ([`RateLimiter::acquire_for`](crate::RateLimiter::acquire_for)).
    ///
    /// Default is [`CostModel::simple`] (1 per message).
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_rate_limiter::{CostModel, RateLimiterConfig};
    ///
    /// let config = RateLimiterConfig::default().cost_model(CostModel::binance());
    /// ```
    pub fn cost_model(mut self, model: CostModel) -> Self {
        self.cost_model = model;
        self
    }

    /// Checks every value.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] naming the first bad field: a zero `capacity` or
    /// `refill_rate`, a zero or over-a-year `refill_interval`, or a Deribit `cost_model`
    /// with a zero matching-engine rate or burst.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_rate_limiter::{Error, RateLimiterConfig};
    ///
    /// let err = RateLimiterConfig::default().refill_rate(0).validate().unwrap_err();
    /// assert!(matches!(err, Error::InvalidConfig { field: "refill_rate", .. }));
    /// ```
    pub fn validate(&self) -> Result<()> {
        let invalid =
            |field, reason: &str| Err(Error::InvalidConfig { field, reason: reason.to_owned() });
        if self.capacity == 0 {
            return invalid("capacity", "must be at least 1 token");
        }
        if self.refill_rate == 0 {
            return invalid("refill_rate", "must be at least 1 token, or waiters never pass");
        }
        if self.refill_interval.is_zero() || self.refill_interval > MAX_REFILL_INTERVAL {
            return invalid("refill_interval", "must be longer than zero and at most a year");
        }
        if let Some((rate, burst)) = self.cost_model.matching_engine()
            && (rate == 0 || burst == 0)
        {
            return invalid(
                "cost_model",
                "needs a positive Deribit matching-engine rate and burst",
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected_field(config: RateLimiterConfig) -> &'static str {
        match config.validate() {
            Err(Error::InvalidConfig { field, .. }) => field,
            other => panic!("expected InvalidConfig, got {other:?}"),
        }
    }

    #[test]
    fn defaults_and_presets_are_valid() {
        for config in [
            RateLimiterConfig::default(),
            RateLimiterConfig::deribit(DeribitTier::Tier1),
            RateLimiterConfig::binance(),
        ] {
            assert_eq!(config.validate(), Ok(()));
        }
    }

    #[test]
    fn each_bad_value_names_its_field() {
        let base = RateLimiterConfig::default;
        assert_eq!(rejected_field(base().capacity(0)), "capacity");
        assert_eq!(rejected_field(base().refill_rate(0)), "refill_rate");
        assert_eq!(rejected_field(base().refill_interval(Duration::ZERO)), "refill_interval");
        let too_long = MAX_REFILL_INTERVAL + Duration::from_secs(1);
        assert_eq!(rejected_field(base().refill_interval(too_long)), "refill_interval");
        let deribit = base().cost_model(CostModel::deribit_custom(0, 10));
        assert_eq!(rejected_field(deribit), "cost_model");
    }
}
