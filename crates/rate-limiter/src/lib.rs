//! # zen-websocket-rate-limiter
//!
//! Stay inside a venue's rate limits: a token bucket with a bounded FIFO wait queue, pressure
//! levels you can watch, and cost models for Deribit's credits and Binance's request weights.
//! The `zen-websocket` client routes every send, request and subscribe through a
//! [`RateLimiter`] when you give it one (`Config::rate_limiter`); most applications reach
//! this crate through the [`zen-websocket`](https://docs.rs/zen-websocket) facade. It depends
//! on no other zen-websocket crate, so it also works on its own.
//!
//! ## Overview
//!
//! | | |
//! |---|---|
//! | [`RateLimiter`] | the cheap `Clone` handle; share one between tasks and clients |
//! | [`RateLimiter::acquire_for`] | **per outgoing message**: wait for the tokens its cost model asks |
//! | [`RateLimiter::acquire`] / [`try_acquire`](RateLimiter::try_acquire) | an explicit cost: wait in line, or fail at once |
//! | [`RateLimiter::status`] | a [`Status`]: tokens, queue, [`PressureLevel`], suggested delay |
//! | [`RateLimiterConfig`] | capacity, refill rate and interval, queue bound, name, [`CostModel`] |
//! | [`CostModel`] | `simple` (1 per message), `deribit` ([`DeribitTier`]), `binance` ([`BinanceWeights`]), `custom` |
//! | [`Error`] | [`RateLimited`](Error::RateLimited), [`QueueFull`](Error::QueueFull), [`CostExceedsCapacity`](Error::CostExceedsCapacity), [`InvalidConfig`](Error::InvalidConfig) |
//!
//! ## Example
//!
//! ```
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), zen_websocket_rate_limiter::Error> {
//! use std::time::Duration;
//! use zen_websocket_rate_limiter::{Error, PressureLevel, RateLimiter, RateLimiterConfig};
//!
//! // 5 messages a second, bursts of 5, up to 100 waiting.
//! let limiter = RateLimiter::new(RateLimiterConfig::default().capacity(5).refill_rate(5))?;
//!
//! for n in 0..5 {
//!     limiter.acquire_for(format!(r#"{{"id":{n},"method":"ping"}}"#).as_str()).await?;
//! }
//! assert_eq!(limiter.status().pressure_level, PressureLevel::Critical);
//! assert!(matches!(limiter.try_acquire(1), Err(Error::RateLimited { .. })));
//!
//! limiter.acquire(1).await?; // waits 200 ms for one token to refill
//! tokio::time::sleep(Duration::from_secs(1)).await;
//! assert_eq!(limiter.status().pressure_level, PressureLevel::Low);
//! # Ok(())
//! # }
//! ```
//!
//! Deribit keeps matching-engine requests (`private/buy`, `private/sell`, `private/edit`,
//! `private/cancel*`, …) in a bucket of their own; [`RateLimiter::deribit`] builds both and
//! [`acquire_for`](RateLimiter::acquire_for) charges each message to the right one:
//!
//! ```
//! use zen_websocket_rate_limiter::{DeribitTier, RateLimiter};
//!
//! let limiter = RateLimiter::deribit(DeribitTier::Tier4);
//! limiter.try_acquire_for(r#"{"jsonrpc":"2.0","id":1,"method":"private/buy","params":{}}"#)?;
//! assert!(limiter.status_of("matching_engine").unwrap().tokens < 20.0);
//! assert!(limiter.status().tokens > 49_999.0); // the credit bucket was not charged
//! # Ok::<(), zen_websocket_rate_limiter::Error>(())
//! ```
//!
//! ## Behaviour
//!
//! - **Refill** is computed from elapsed time on every call, in exact integer arithmetic.
//! - **FIFO**: acquisitions are served in arrival order; [`try_acquire`](RateLimiter::try_acquire)
//!   never passes anyone queued. A cost of 0 passes at once; a cost above the capacity is an
//!   error, never a hang; a full queue is an error at once.
//! - **Cancel safe**: dropping a waiting acquisition gives up its place, spends nothing, and
//!   lets the next waiter move up.
//! - **Pressure**: `used = 1 − tokens / capacity`, with anyone queued counting as 100 %:
//!   `Low` < 25 % ≤ `Medium` < 50 % ≤ `High` ≤ 75 % < `Critical` (see [`PressureLevel`]).
//!
//! ## Telemetry
//!
//! Through the `metrics` facade, labelled `limiter` (the configured name) and `bucket`
//! (`main`, or `matching_engine`): gauges `zen_websocket.rate_limiter.pressure` (0–3, set
//! when the level changes) and `zen_websocket.rate_limiter.queue_size`, and the histogram
//! `zen_websocket.rate_limiter.wait` (ms, acquisitions that had to wait). A level change is
//! also a `tracing` event at INFO. Handles are registered when the limiter is built: install
//! your recorder first. The repository's `docs/rate-limiting.md` covers it all in depth.
//!
//! ## Features
//!
//! None. The crate needs tokio's `sync` and `time` features and runs on any tokio runtime.

mod binance;
mod bucket;
mod config;
mod cost;
mod deribit;
mod error;
mod limiter;
mod status;
mod telemetry;
mod tokens;

pub use crate::{
    binance::BinanceWeights,
    config::RateLimiterConfig,
    cost::{CostModel, Outgoing},
    deribit::DeribitTier,
    error::{Error, Result},
    limiter::RateLimiter,
    status::{PressureLevel, Status},
};
