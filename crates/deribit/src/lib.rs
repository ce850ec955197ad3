//! # zen-websocket-deribit
//!
//! Deribit over the zen-websocket client. On every socket — the first and each one after a
//! reconnect — the adapter runs Deribit's session in order, before anything of yours goes out:
//!
//! 1. `public/set_heartbeat` (the server then sends `test_request`s; the client answers each),
//! 2. `public/auth` (`client_signature` by default: the secret never leaves the process),
//! 3. `private/enable_cancel_on_disconnect` when asked,
//! 4. the subscriptions restored (`private/subscribe` for `user.*` channels),
//!
//! and only then is the connection reported open and your requests written. Busy answers
//! (10028 `too_many_requests` and the other codes Deribit answers without executing) are
//! retried with back-off; requests are paced by Deribit's credit model; the login is refreshed
//! at 80 % of its life; book changes are checked for gaps (a gap subscribes the book again for
//! a fresh snapshot); [`DeribitClient::close`] logs out first, so cancel-on-disconnect does not
//! fire. Credentials come from code or `DERIBIT_CLIENT_ID` / `DERIBIT_CLIENT_SECRET` and never
//! appear in logs, `Debug` output or recordings.
//!
//! ## Example
//!
//! ```no_run
//! # #[tokio::main]
//! # async fn main() -> Result<(), zen_websocket_deribit::Error> {
//! use zen_websocket_deribit::{DeribitClient, DeribitConfig, DeribitEvent};
//!
//! let deribit = DeribitClient::connect(DeribitConfig::default()).await?; // testnet, public data
//! deribit.subscribe(["ticker.BTC-PERPETUAL.100ms"]).await?;
//! while let Some(DeribitEvent::Notification(notification)) = deribit.recv().await {
//!     let ticker = notification.ticker()?;
//!     println!("{} mark {:?}", ticker.instrument_name, ticker.mark_price);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! The repository's `docs/deribit.md` covers authentication, channels, cancel-on-disconnect,
//! the reconnect order and the limits.

mod client;
pub mod codes;
mod config;
mod credentials;
mod environment;
mod error;
mod notification;
mod setup;
mod token;
mod types;

pub use crate::{
    client::{DeribitClient, DeribitEvent},
    config::DeribitConfig,
    credentials::{CLIENT_ID_VAR, CLIENT_SECRET_VAR, Credentials, Grant},
    environment::Environment,
    error::{Error, Result},
    notification::Notification,
    types::{
        AccountSummary, BookLevel, BookUpdate, Instrument, OrderBook, OrderRequest, OrderResponse,
        Position, Ticker, Trade, UserOrder,
    },
};

/// The rate-limit tiers of [`DeribitConfig::tier`].
pub use zen_websocket_core::rate_limiter::DeribitTier;
