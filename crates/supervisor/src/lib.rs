//! # zen-websocket-supervisor
//!
//! Many [`zen_websocket_core::Client`]s as one pool. Venues cap streams per connection,
//! connections per IP and connection opens per window; applications want order traffic on the
//! healthiest socket and market data spread over several. A [`ClientSupervisor`] gives you:
//!
//! - **Dynamic clients** — [`start_client`](ClientSupervisor::start_client),
//!   [`stop_client`](ClientSupervisor::stop_client), [`client`](ClientSupervisor::client),
//!   [`list_clients`](ClientSupervisor::list_clients) (status, health score, restarts,
//!   subscriptions, pending requests).
//! - **Fixed supervised clients** from [`SupervisorConfig::client`], each with a [`Restart`]
//!   type (OTP's `Permanent` / `Transient` / `Temporary`) and a [`RestartIntensity`] (default 5
//!   restarts in 60 s): past it a client is [`Failed`](ClientStatus::Failed) and the others
//!   carry on. Ordinary drops stay the core's job (re-dial, subscriptions restored); a restart
//!   replaces a client the core gave up on.
//! - **Balanced sends** — [`send_balanced`](ClientSupervisor::send_balanced) and
//!   [`request_balanced`](ClientSupervisor::request_balanced) pick the healthiest eligible
//!   client and fail over only while the frame provably was not written; a frame that may
//!   have been written is [`Error::OutcomeUnknown`], never sent twice.
//! - **Sharded subscriptions** — [`subscribe_sharded`](ClientSupervisor::subscribe_sharded)
//!   spreads channels under [`SupervisorConfig::max_subscriptions_per_client`], opens clients
//!   from a template up to [`SupervisorConfig::max_clients`], moves channels off a client that
//!   is gone, and says [`Error::PoolExhausted`] rather than dropping any.
//! - **One merged event stream** ([`ClientSupervisor::events`]) tagged with [`ClientId`]s,
//!   a pool-wide **opening limiter**, **discovery** of clients found elsewhere
//!   ([`ClientSupervisor::discover`]) and **lifecycle hooks** run off the connection tasks.
//!
//! ## Example
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let server = zen_websocket_testing::MockServer::start().await?;
//! # let url = server.url();
//! use serde_json::json;
//! use zen_websocket_supervisor::{
//!     BalanceOptions, ClientSpec, ClientSupervisor, PoolEvent, ShardOptions, SupervisorConfig,
//! };
//!
//! let config = SupervisorConfig::default()
//!     .client(ClientSpec::new("orders", &url).tag("orders"))
//!     .template(ClientSpec::new("data", &url).tag("data"))
//!     .max_subscriptions_per_client(500);
//! let pool = ClientSupervisor::start(config).await?;
//!
//! let answer = pool.request_balanced("public/test", json!({}), &BalanceOptions::default().tag("orders")).await?;
//! let channels: Vec<String> = (0..1_200).map(|i| format!("trades.{i}")).collect();
//! let report = pool.subscribe_sharded(channels, &ShardOptions::default().tag("data")).await?;
//! assert_eq!(report.opened.len(), 3); // 500 + 500 + 200
//!
//! // One stream for the whole pool: the clients' messages tagged with their ids, and the
//! // pool's notices (here: each client's start).
//! let events = pool.events();
//! assert!(matches!(events.recv().await, Some(PoolEvent::Started { .. })));
//! pool.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! The repository's `docs/supervision.md` walks through the three ways to run clients
//! (direct, dynamic, fixed) and every rule above.

mod balance;
mod config;
mod discovery;
mod error;
mod events;
mod hooks;
mod id;
mod info;
mod intensity;
mod member;
mod pool;
mod routing;
mod shard;
mod sharding;
mod spec;
mod supervisor;
mod telemetry;

pub use crate::{
    balance::BalanceOptions,
    config::SupervisorConfig,
    discovery::Change,
    error::{Error, Result},
    events::{Cause, PoolEvent, PoolEvents},
    hooks::{Connect, Disconnect, Failure},
    id::ClientId,
    info::{ClientInfo, ClientStatus},
    intensity::RestartIntensity,
    routing::Balanced,
    shard::{ShardOptions, ShardStrategy},
    sharding::ShardReport,
    spec::{ClientSpec, Restart},
    supervisor::ClientSupervisor,
};
