//! `RateLimiter`: the cheap, shareable handle every send goes through.

use std::{sync::Arc, time::Duration};

use crate::{
    bucket::{Bucket, BucketSpec},
    config::RateLimiterConfig,
    cost::{CostModel, Lane, Outgoing},
    deribit::DeribitTier,
    error::Result,
    status::Status,
};

/// The name of the bucket every limiter has, in [`status_of`](RateLimiter::status_of) and in
/// the `bucket` metric label.
const MAIN: &str = "main";
/// The name of Deribit's matching-engine bucket.
const MATCHING_ENGINE: &str = "matching_engine";

/// A token-bucket rate limiter with a FIFO wait queue.
///
/// `RateLimiter` is a cheap [`Clone`] handle around an `Arc`: clone it into every task and
/// every client that shares a venue limit (an account's limit covers all its connections),
/// and they all draw from the same bucket(s). Refill is computed from the clock on every
/// call; there is no background task.
///
/// Per message, call [`acquire_for`](Self::acquire_for) — the client does this for every
/// send, request and subscribe when the limiter is set with `Config::rate_limiter` — or
/// [`try_acquire_for`](Self::try_acquire_for) to never wait. [`acquire`](Self::acquire) and
/// [`try_acquire`](Self::try_acquire) take an explicit cost from the main bucket.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), zen_websocket_rate_limiter::Error> {
/// use zen_websocket_rate_limiter::{DeribitTier, RateLimiter};
///
/// let limiter = RateLimiter::deribit(DeribitTier::Tier4);
/// let shared = limiter.clone(); // same buckets
///
/// limiter.acquire_for(r#"{"jsonrpc":"2.0","id":1,"method":"public/get_time"}"#).await?;
/// shared.acquire_for(r#"{"jsonrpc":"2.0","id":2,"method":"private/buy"}"#).await?;
/// assert_eq!(limiter.status().tokens, 49_500.0);
/// assert_eq!(limiter.status_of("matching_engine").unwrap().tokens, 19.0);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct RateLimiter {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    name: String,
    cost_model: CostModel,
    main: Bucket,
    matching_engine: Option<Bucket>,
}

impl RateLimiter {
    /// A limiter shaped by `config`, its bucket(s) full.
    ///
    /// Metric handles are registered here: install your `metrics` recorder first.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) when
    /// [`RateLimiterConfig::validate`] rejects a value.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_rate_limiter::{RateLimiter, RateLimiterConfig};
    ///
    /// let limiter = RateLimiter::new(RateLimiterConfig::default().capacity(5).refill_rate(5))?;
    /// assert_eq!(limiter.status().tokens, 5.0);
    /// assert!(RateLimiter::new(RateLimiterConfig::default().capacity(0)).is_err());
    /// # Ok::<(), zen_websocket_rate_limiter::Error>(())
    /// ```
    pub fn new(config: RateLimiterConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self::build(config))
    }

    /// Deribit's limits for an account in `tier`:
    /// [`RateLimiterConfig::deribit`] with the other defaults.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_rate_limiter::{DeribitTier, RateLimiter};
    ///
    /// let limiter = RateLimiter::deribit(DeribitTier::Tier1);
    /// assert_eq!(limiter.name(), "deribit");
    /// ```
    #[must_use]
    pub fn deribit(tier: DeribitTier) -> Self {
        Self::build(RateLimiterConfig::deribit(tier))
    }

    /// Binance's Spot WebSocket API limits: [`RateLimiterConfig::binance`].
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_rate_limiter::RateLimiter;
    ///
    /// let limiter = RateLimiter::binance();
    /// assert!(limiter.try_acquire_for(r#"{"id":1,"method":"exchangeInfo"}"#).is_ok());
    /// assert_eq!(limiter.status().tokens.floor(), 980.0); // and refilling
    /// ```
    #[must_use]
    pub fn binance() -> Self {
        Self::build(RateLimiterConfig::binance())
    }

    /// Builds a limiter from a configuration known to be valid.
    fn build(config: RateLimiterConfig) -> Self {
        let spec = |name, capacity, refill_rate| BucketSpec {
            name,
            capacity,
            refill_rate,
            refill_interval: config.refill_interval,
            max_queue: config.max_queue,
        };
        let main = Bucket::new(spec(MAIN, config.capacity, config.refill_rate), &config.name);
        let matching_engine = config.cost_model.matching_engine().map(|(rate, burst)| {
            let spec = BucketSpec {
                refill_interval: Duration::from_secs(1),
                ..spec(MATCHING_ENGINE, burst, rate)
            };
            Bucket::new(spec, &config.name)
        });
        Self {
            inner: Arc::new(Inner {
                name: config.name,
                cost_model: config.cost_model,
                main,
                matching_engine,
            }),
        }
    }

    /// The configured name, used as the `limiter` label of the metrics.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_rate_limiter::{RateLimiter, RateLimiterConfig};
    ///
    /// let limiter = RateLimiter::new(RateLimiterConfig::default())?;
    /// assert_eq!(limiter.name(), "default");
    /// # Ok::<(), zen_websocket_rate_limiter::Error>(())
    /// ```
    #[must_use]
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Waits until `message` may be sent, paying what the [`CostModel`] says from the
    /// bucket it names. **This is the integration point:** a client calls it once for every
    /// outgoing message, just before writing it to the socket.
    ///
    /// Acquisitions are served in the order they arrive (per bucket); a message that costs
    /// nothing passes at once. See [`acquire`](Self::acquire) for the details.
    ///
    /// # Errors
    ///
    /// [`Error::QueueFull`](crate::Error::QueueFull) at once when the queue is full;
    /// [`Error::CostExceedsCapacity`](crate::Error::CostExceedsCapacity) at once when the
    /// message costs more than its bucket holds.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe. Dropping the future gives up its place in the queue, spends no tokens,
    /// and lets the waiter behind it move up.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), zen_websocket_rate_limiter::Error> {
    /// use zen_websocket_rate_limiter::RateLimiter;
    ///
    /// let limiter = RateLimiter::binance();
    /// let request = String::from(r#"{"id":1,"method":"myTrades","params":{"symbol":"BTCUSDT"}}"#);
    /// limiter.acquire_for(&request).await?; // weight 20
    /// let frame: Vec<u8> = vec![1, 2, 3];
    /// limiter.acquire_for(&frame).await?; // binary, default weight 1
    /// assert_eq!(limiter.status().tokens, 979.0);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn acquire_for<'a>(&self, message: impl Into<Outgoing<'a>>) -> Result<()> {
        let (lane, cost) = self.inner.cost_model.charge(message.into());
        self.bucket(lane).acquire(cost).await
    }

    /// Takes what `message` costs now, without waiting and without passing anyone queued.
    ///
    /// # Errors
    ///
    /// [`Error::RateLimited`](crate::Error::RateLimited) with a `retry_after` hint when the
    /// tokens are not there or others are queued;
    /// [`Error::CostExceedsCapacity`](crate::Error::CostExceedsCapacity) when the message
    /// costs more than its bucket holds.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_rate_limiter::{DeribitTier, Error, RateLimiter};
    ///
    /// let limiter = RateLimiter::deribit(DeribitTier::Tier4);
    /// for _ in 0..20 {
    ///     limiter.try_acquire_for(r#"{"method":"private/sell"}"#)?;
    /// }
    /// let err = limiter.try_acquire_for(r#"{"method":"private/sell"}"#).unwrap_err();
    /// assert!(matches!(err, Error::RateLimited { .. }));
    /// // Other requests draw on the credit bucket, which is still nearly full.
    /// limiter.try_acquire_for(r#"{"method":"public/ticker"}"#)?;
    /// # Ok::<(), Error>(())
    /// ```
    pub fn try_acquire_for<'a>(&self, message: impl Into<Outgoing<'a>>) -> Result<()> {
        let (lane, cost) = self.inner.cost_model.charge(message.into());
        self.bucket(lane).try_acquire(cost)
    }

    /// Waits in FIFO order until `cost` tokens can be taken from the main bucket, then takes
    /// them.
    ///
    /// When nobody is queued and the tokens are there, it returns at once. Otherwise it joins
    /// the back of the queue; the head of the queue sleeps until its tokens have refilled,
    /// and each waiter's turn begins when the one ahead is served or gives up. A cost of 0
    /// passes at once.
    ///
    /// # Errors
    ///
    /// [`Error::QueueFull`](crate::Error::QueueFull) at once when
    /// [`max_queue`](RateLimiterConfig::max_queue) waiters are already queued;
    /// [`Error::CostExceedsCapacity`](crate::Error::CostExceedsCapacity) at once when `cost`
    /// is above the capacity (it could never be paid).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe. Dropping the future (a `select!` branch losing, a timeout) gives up its
    /// place in the queue and spends no tokens; the waiter behind it moves up at once.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), zen_websocket_rate_limiter::Error> {
    /// use std::time::Duration;
    /// use tokio::time::Instant;
    /// use zen_websocket_rate_limiter::{RateLimiter, RateLimiterConfig};
    ///
    /// let limiter = RateLimiter::new(RateLimiterConfig::default().capacity(2).refill_rate(4))?;
    /// let start = Instant::now();
    /// limiter.acquire(2).await?; // at once
    /// limiter.acquire(1).await?; // waits a quarter of a second for the refill
    /// assert!(start.elapsed() >= Duration::from_millis(250));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn acquire(&self, cost: u32) -> Result<()> {
        self.inner.main.acquire(cost).await
    }

    /// Takes `cost` tokens from the main bucket now, or fails at once.
    ///
    /// It never passes waiters already queued: while anyone waits, it fails.
    ///
    /// # Errors
    ///
    /// [`Error::RateLimited`](crate::Error::RateLimited) when the tokens are not there or
    /// others are queued — `retry_after` is how long until they would be, if the queue is
    /// served first; [`Error::CostExceedsCapacity`](crate::Error::CostExceedsCapacity) when
    /// `cost` is above the capacity.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use zen_websocket_rate_limiter::{Error, RateLimiter, RateLimiterConfig};
    ///
    /// let limiter = RateLimiter::new(RateLimiterConfig::default().capacity(10).refill_rate(10))?;
    /// limiter.try_acquire(10)?;
    /// match limiter.try_acquire(5) {
    ///     Err(Error::RateLimited { retry_after }) => assert!(retry_after <= Duration::from_millis(500)),
    ///     other => panic!("{other:?}"),
    /// }
    /// # Ok::<(), Error>(())
    /// ```
    pub fn try_acquire(&self, cost: u32) -> Result<()> {
        self.inner.main.try_acquire(cost)
    }

    /// What `message` would cost (in whichever bucket pays for it).
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_rate_limiter::{DeribitTier, RateLimiter};
    ///
    /// let limiter = RateLimiter::deribit(DeribitTier::Tier4);
    /// assert_eq!(limiter.cost_of(r#"{"method":"public/test"}"#), 500);
    /// ```
    #[must_use]
    pub fn cost_of<'a>(&self, message: impl Into<Outgoing<'a>>) -> u32 {
        self.inner.cost_model.cost_of(message)
    }

    /// The main bucket now: tokens, queue, pressure level and suggested delay.
    ///
    /// Looking also refreshes the pressure gauge (levels fall as the bucket refills, which
    /// is noticed on the next call of any method).
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_rate_limiter::{PressureLevel, RateLimiter, RateLimiterConfig};
    ///
    /// let limiter = RateLimiter::new(RateLimiterConfig::default().capacity(4).refill_rate(1))?;
    /// limiter.try_acquire(4)?;
    /// let status = limiter.status();
    /// assert_eq!(status.pressure_level, PressureLevel::Critical);
    /// assert!(status.suggested_delay_ms > 3_900); // another 4-token request: ~4 s away
    /// # Ok::<(), zen_websocket_rate_limiter::Error>(())
    /// ```
    #[must_use]
    pub fn status(&self) -> Status {
        self.inner.main.status()
    }

    /// The status of a bucket by name: `"main"` on every limiter, `"matching_engine"` on a
    /// Deribit one; `None` for any other name.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_rate_limiter::{DeribitTier, RateLimiter};
    ///
    /// let limiter = RateLimiter::deribit(DeribitTier::Tier3);
    /// assert_eq!(limiter.status_of("matching_engine").unwrap().capacity, 30);
    /// assert_eq!(limiter.status_of("main").unwrap().capacity, 50_000);
    /// assert!(RateLimiter::binance().status_of("matching_engine").is_none());
    /// ```
    #[must_use]
    pub fn status_of(&self, bucket: &str) -> Option<Status> {
        match bucket {
            MAIN => Some(self.inner.main.status()),
            MATCHING_ENGINE => self.inner.matching_engine.as_ref().map(Bucket::status),
            _ => None,
        }
    }

    fn bucket(&self, lane: Lane) -> &Bucket {
        match (lane, &self.inner.matching_engine) {
            (Lane::MatchingEngine, Some(bucket)) => bucket,
            _ => &self.inner.main,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn handle_and_futures_are_send_sync_and_small() {
        fn assert_traits<T: Send + Sync + Clone + 'static>() {}
        assert_traits::<RateLimiter>();
        let limiter = RateLimiter::deribit(DeribitTier::Tier4);
        let acquire = limiter.acquire(1);
        let acquire_for = limiter.acquire_for("x");
        assert_send(&acquire);
        assert_send(&acquire_for);
        assert!(
            std::mem::size_of_val(&acquire_for) <= 512,
            "{}",
            std::mem::size_of_val(&acquire_for)
        );
    }
}
