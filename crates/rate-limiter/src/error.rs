//! The one error type of the rate limiter.

use std::time::Duration;

/// A `Result` whose error is the rate limiter's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a message may not be sent now, or why a limiter could not be built.
///
/// None of these errors spends tokens: a refused acquisition leaves the bucket as it was.
///
/// # Examples
///
/// ```
/// use zen_websocket_rate_limiter::{Error, RateLimiter, RateLimiterConfig};
///
/// let limiter = RateLimiter::new(RateLimiterConfig::default().capacity(2))?;
/// assert!(matches!(
///     limiter.try_acquire(3),
///     Err(Error::CostExceedsCapacity { cost: 3, capacity: 2 })
/// ));
/// # Ok::<(), Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// [`try_acquire`](crate::RateLimiter::try_acquire) found too few tokens, or waiters
    /// queued ahead of it.
    #[error("rate limited: retry after {retry_after:?}")]
    RateLimited {
        /// When the tokens would be there, if everyone queued now is served first and nobody
        /// else arrives: a hint for back-off, not a reservation.
        retry_after: Duration,
    },
    /// The wait queue already holds [`max_queue`](crate::RateLimiterConfig::max_queue)
    /// waiters; the caller was turned away at once.
    #[error("the rate limiter's wait queue is full")]
    QueueFull,
    /// One message costs more than the bucket can ever hold, so waiting would never end.
    #[error("a cost of {cost} exceeds the bucket's capacity of {capacity}")]
    CostExceedsCapacity {
        /// The cost asked for.
        cost: u32,
        /// The bucket's capacity.
        capacity: u32,
    },
    /// A [`RateLimiterConfig`](crate::RateLimiterConfig) value is out of range.
    #[error("invalid rate limiter configuration: `{field}` {reason}")]
    InvalidConfig {
        /// The name of the offending setter on [`RateLimiterConfig`](crate::RateLimiterConfig).
        field: &'static str,
        /// Why the value was rejected.
        reason: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_send_sync_static_and_small() {
        fn assert_traits<T: Send + Sync + 'static + std::error::Error>() {}
        assert_traits::<Error>();
        assert!(std::mem::size_of::<Error>() <= 48, "{}", std::mem::size_of::<Error>());
    }

    #[test]
    fn messages_name_the_numbers() {
        let err = Error::CostExceedsCapacity { cost: 600, capacity: 500 };
        assert_eq!(err.to_string(), "a cost of 600 exceeds the bucket's capacity of 500");
    }
}
