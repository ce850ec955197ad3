//! # zen-websocket
//!
//! A production WebSocket client for Rust: connect, stay connected, and prove it.
//!
//! Built for long-lived connections to exchanges and real-time APIs (Deribit first): it never
//! silently loses a connection, a subscription or a message; it tells you how healthy and
//! fast each connection is; and it lets you test against a real local server instead of a
//! live venue.
//!
//! ## The five functions
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let server = zen_websocket_testing::MockServer::start().await?;
//! # let url = server.url();
//! use serde_json::json;
//! use zen_websocket::{Client, Config, ConnectionState, SubscriptionId};
//!
//! // 1. connect (validates the config, dials, upgrades)
//! let client = Client::connect(&url, Config::default()).await?;
//! // 2. send (text, binary or JSON)
//! client.send_message(json!({"jsonrpc": "2.0", "method": "public/test"})).await?;
//! // 3. subscribe (confirmed by the server, restored after a reconnect)
//! let sub: SubscriptionId = client.subscribe(["trades.BTC-PERPETUAL.100ms"]).await?;
//! // 4. state (never blocks)
//! assert_eq!(client.get_state(), ConnectionState::Connected);
//! // 5. close (close code 1000, bounded wait)
//! client.close().await?;
//! # Ok(())
//! # }
//! ```
//!
//! Beside them: [`Client::recv`] for inbound [`Event`]s, [`Client::request`] for JSON-RPC
//! calls, [`Client::unsubscribe`], and the monitors [`Client::get_latency_stats`],
//! [`Client::get_heartbeat_health`] and [`Client::get_state_metrics`]. Lost connections are
//! re-dialled with back-off and their subscriptions restored (a refusal is reported as
//! [`Event::SubscriptionLost`]); the default heartbeat (a WebSocket ping every 30 s) catches
//! half-open sockets; a peer that stops reading never freezes the client; metrics and traces
//! flow through the `metrics` and `tracing` crates.
//! Errors keep their raw cause; [`ErrorHandler::explain`] says in plain words what happened
//! and what to do.
//!
//! ## Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `testing` | no | the `testing` module: `MockServer`, a real ws/wss server with matchers, injected messages, disconnects and restarts; `DeribitSimulator`, the subset of Deribit's API the adapter uses (logins, heartbeats, subscriptions with market data, orders with cancel-on-disconnect, credits and 10028); `FaultProxy`, latency, stalls, half-open blackholes, resets and truncated frames between any client and server |
//! | `deribit` | no | the `deribit` module: `DeribitClient` — on every socket the Deribit heartbeat, the login and cancel-on-disconnect before restores and before your requests; 10028 and other busy answers retried; credit pacing; token refresh; book gap detection; typed calls and notifications; logout on close |
//! | `supervisor` | no | the `supervisor` module: `ClientSupervisor`, many clients as one pool — fixed and dynamic clients restarted within limits, balanced sends and requests that never send twice, channels sharded over connections, one merged event stream, lifecycle hooks |
//!
//! ## More
//!
//! The guides live in the repository's `docs/` folder (getting started, configuration,
//! errors, reliability, supervision, telemetry, testing, performance, architecture);
//! `examples/quickstart.rs` runs the five functions against an embedded server or a URL you
//! give it, and `examples/telemetry.rs` wires Prometheus and a tracing subscriber.

#[doc(inline)]
pub use zen_websocket_core::{
    BinanceSubscriptions, Client, Config, ConnectStage, ConnectionState, DisconnectReason, Ending,
    Error, ErrorHandler, Event, Events, Explanation, HeartbeatConfig, HeartbeatHealth,
    HeartbeatKind, JsonRpcSubscriptions, LatencyStats, Message, RequestId, Result, Session,
    StateMetrics, SubscriptionId, SubscriptionProtocol, TlsConfig,
};

/// The tokio-tungstenite version the client is built on, so your code can name its types.
pub use zen_websocket_core::tokio_tungstenite;

/// The rustls version the client is built on, for custom TLS configurations.
pub use zen_websocket_core::rustls;

/// Session recording: options for [`Config::recording`], `Recorder::metadata` and
/// `Recorder::replay`.
pub use zen_websocket_core::recorder;

/// Rate limiting: the limiter for [`Config::rate_limiter`], its configuration and cost models.
pub use zen_websocket_core::rate_limiter;

#[doc(no_inline)]
pub use zen_websocket_core::RateLimiter;

/// The testing kit: a real WebSocket server for your tests (feature `testing`).
#[cfg(feature = "testing")]
#[doc(inline)]
pub use zen_websocket_testing as testing;

/// The client pool: many clients restarted within limits, balanced sends, sharded
/// subscriptions, one merged event stream, lifecycle hooks (feature `supervisor`).
#[cfg(feature = "supervisor")]
#[doc(inline)]
pub use zen_websocket_supervisor as supervisor;

/// Deribit: login, heartbeat, cancel-on-disconnect and subscriptions in order on every socket,
/// busy answers retried, typed calls and notifications (feature `deribit`).
#[cfg(feature = "deribit")]
#[doc(inline)]
pub use zen_websocket_deribit as deribit;

/// The repository README's examples, compiled as doc tests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeExamples;
