//! # zen-websocket-core
//!
//! A WebSocket client for long-lived connections to exchanges and real-time APIs: it
//! connects, stays connected, and tells you how it is doing. Most applications depend on the
//! [`zen-websocket`](https://docs.rs/zen-websocket) facade, which re-exports this crate; depend
//! on this one directly for a minimal build.
//!
//! ## Five functions
//!
//! | | |
//! |---|---|
//! | [`Client::connect`] | validate the [`Config`], dial `ws://` or `wss://`, upgrade |
//! | [`Client::send_message`] | text, binary or [`serde_json::Value`] frames |
//! | [`Client::subscribe`] | subscribe to channels; returns once the server confirms |
//! | [`Client::get_state`] | [`ConnectionState`], never blocks |
//! | [`Client::close`] | close code 1000, bounded wait for the server's close |
//!
//! Beside them: [`Client::recv`] yields [`Event`]s (messages and lifecycle changes; or set
//! [`Config::message_handler`]), [`Client::request`] is JSON-RPC 2.0 with id correlation and a
//! timeout, [`Client::unsubscribe`] ends a subscription, and the monitors
//! [`Client::get_latency_stats`], [`Client::get_heartbeat_health`] and
//! [`Client::get_state_metrics`] say how the connection is doing. Every failure is an
//! [`Error`] that keeps the raw cause, and [`ErrorHandler::explain`] puts it in plain words
//! with a suggested fix.
//!
//! ## Example
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let server = zen_websocket_testing::MockServer::start().await?;
//! # let url = server.url();
//! use serde_json::json;
//! use zen_websocket_core::{Client, Config, ConnectionState, Event};
//!
//! let client = Client::connect(&url, Config::default()).await?;
//! client.send_message(json!({"jsonrpc": "2.0", "method": "public/test"})).await?;
//! let subscription = client.subscribe(["trades.BTC-PERPETUAL.100ms"]).await?;
//! assert_eq!(client.get_state(), ConnectionState::Connected);
//!
//! let version = client.request("public/test", json!({})).await?;
//! println!("server version {}", version["version"]);
//!
//! client.close().await?;
//! # Ok(())
//! # }
//! ```
//!
//! ## Reliability
//!
//! One task owns each socket; [`Client`] is a cheap handle that talks to it over channels. The
//! task never waits on a write: a peer that stops reading cannot freeze requests, the
//! heartbeat or [`Client::close`], and a write that makes no progress for
//! [`Config::write_timeout`] fails the connection. A connection lost without
//! [`Client::close`] is re-dialled with exponential back-off ([`Config::retry_count`],
//! [`Config::retry_delay`], [`Config::max_backoff`], [`Config::backoff_reset_after`]) and its
//! confirmed subscriptions are restored — any the server refuses is reported as
//! [`Event::SubscriptionLost`] before [`Event::Connected`]. Requests waiting when the socket
//! drops fail at once with [`Error::Disconnected`] (they may have reached the server); frames
//! that never left, and sends while disconnected, fail with [`Error::NotConnected`] — nothing is
//! queued behind your back, and nothing is sent twice by retrying a `NotConnected`. A full inbox pauses reading
//! from the socket instead of dropping messages, yet replies and heartbeat answers are read
//! past unread data (up to [`Config::inbox_max_bytes`]). By default a WebSocket ping every
//! 30 s and TCP keepalive notice a dead or half-open connection and replace it. The
//! repository's `docs/reliability.md` lists every guarantee and every bad input's error.
//!
//! ## Telemetry
//!
//! Counters and histograms through the `metrics` facade (`zen_websocket.client.message_received`,
//! `zen_websocket.connection.upgrade`, `zen_websocket.heartbeat.pong`, reconnects, requests,
//! subscriptions — every name in the repository's `docs/telemetry.md`), spans and events
//! through `tracing`. Install your recorder before connecting.
//!
//! ## Transport
//!
//! tokio + tokio-tungstenite, `TCP_NODELAY` on, a 2 KiB read buffer per connection and 64 KiB
//! read-ahead chunks while a burst lasts (see
//! [`Config::read_buffer_size`]), rustls with the `ring` provider chosen explicitly and the
//! Mozilla roots by default ([`TlsConfig`]).

mod client;
mod config;
mod connection;
mod error;
mod event;
mod events;
mod explain;
mod heartbeat;
mod inbox;
mod message;
mod monitor;
mod rpc;
mod session;
mod state;
mod subscription;
mod telemetry;
mod transport;
#[cfg(test)]
mod wake_count;

pub use crate::{
    client::Client,
    config::Config,
    error::{ConnectStage, Error, Result},
    event::{DisconnectReason, Ending, Event},
    events::Events,
    explain::{ErrorHandler, Explanation},
    heartbeat::{HeartbeatConfig, HeartbeatHealth, HeartbeatKind},
    message::Message,
    monitor::{LatencyStats, StateMetrics},
    rpc::RequestId,
    session::Session,
    state::ConnectionState,
    subscription::{
        BinanceSubscriptions, JsonRpcSubscriptions, SubscriptionId, SubscriptionProtocol,
    },
    transport::tls::TlsConfig,
};

/// The tokio-tungstenite version this crate is built on, for its types
/// ([`tungstenite::Error`](tokio_tungstenite::tungstenite::Error) inside [`Error::WebSocket`]).
pub use tokio_tungstenite;

/// The recorder crate, for recording options, `Recorder::metadata` and `Recorder::replay`.
pub use zen_websocket_recorder as recorder;

/// The rate limiter crate, for its configuration and cost models.
pub use zen_websocket_rate_limiter as rate_limiter;
#[doc(no_inline)]
pub use zen_websocket_rate_limiter::RateLimiter;

/// The rustls version this crate is built on, for its types
/// ([`rustls::Error`] inside [`Error::Tls`], [`rustls::ClientConfig`] for [`TlsConfig`]).
pub use rustls;
