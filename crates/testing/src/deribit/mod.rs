//! `DeribitSimulator`: a local Deribit API v2 over WebSocket, for testing Deribit clients
//! without the network. It reuses the crate's listener, TLS and WebSocket settings
//! (`accept.rs`, `tls.rs`) and never depends on a client crate.
//!
//! One file per job:
//! - `server`: the handle, the accept loop, stop and restart; `builder`: the settings.
//! - `session`: one connection's task (read, ordered writes, heartbeat timer, how it ends).
//! - `state`: what sessions, the market task and the handle share.
//! - `protocol`: framing, error codes, params; `dispatch`: one request, routed to its method.
//! - `auth`, `heartbeat`, `subscriptions` + `channels`, `market`, `order` + `orders`, `cod`,
//!   `rate_limit`: the methods and behaviour of each area.
//! - `controls`, `observe`: what a test does to and reads from the simulator.

mod auth;
mod builder;
mod channels;
mod cod;
mod controls;
mod dispatch;
mod heartbeat;
mod market;
mod observe;
mod order;
mod orders;
mod protocol;
mod rate_limit;
mod server;
mod session;
mod state;
mod subscriptions;

pub use self::{
    builder::DeribitSimulatorBuilder,
    observe::DeribitRequest,
    order::{OrderDirection, OrderState, OrderType, SimulatedOrder},
    server::DeribitSimulator,
    session::CloseReason,
};
