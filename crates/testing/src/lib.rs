//! A real WebSocket server for testing WebSocket clients.
//!
//! `zen-websocket-testing` starts a [`MockServer`] on `127.0.0.1` — plain `ws://` or TLS
//! `wss://` with a generated CA your client can trust — and lets a test script the server's
//! side of the conversation: what it answers, what it pushes, when it hangs up and how. There
//! is no mocked transport: the client under test opens a real socket and runs its real
//! handshake, framing, heartbeat and reconnect code. The crate never depends on the client it
//! tests; add it as a dev-dependency.
//!
//! # Overview
//!
//! - [`MockServer`] is the handle: [`start`](MockServer::start) it (or configure it with
//!   [`MockServer::builder`] and [`MockServerBuilder`]), hand [`url`](MockServer::url) to the
//!   client, then drive and observe the server from the test.
//! - **Answers.** By default a text frame holding a JSON-RPC request (an object with a string
//!   `"method"` and an `"id"`) gets a JSON-RPC answer from the rpc handler, and anything else is
//!   echoed back. A handler returns a [`Reply`] for each frame ([`Incoming`]); an rpc handler
//!   returns an [`RpcReply`] for each [`RpcRequest`] — a result, an error, no answer at all, or
//!   a delayed answer so replies arrive out of order.
//! - **Pushes.** [`inject_message`](MockServer::inject_message),
//!   [`inject_json`](MockServer::inject_json) and friends send to every open connection;
//!   [`inject_to`](MockServer::inject_to) to one.
//! - **Observation.** [`received`](MockServer::received) lists every [`ReceivedMessage`];
//!   [`assert_message_sent`](MockServer::assert_message_sent) waits for one that a [`Matcher`]
//!   accepts (exact text, regex, JSON subset or closure). [`events`](MockServer::events) and
//!   [`wait_for_event`](MockServer::wait_for_event) cover [`ServerEvent`]s such as the close
//!   code a client sent; [`handshakes`](MockServer::handshakes) the upgrade requests. A
//!   [`Mark`] from [`mark`](MockServer::mark) limits waits and lists to what came later
//!   ([`assert_message_sent_since`](MockServer::assert_message_sent_since): "the client re-sent
//!   it after the reconnect"); [`received_by`](MockServer::received_by) and
//!   [`open_connection_ids`](MockServer::open_connection_ids) look at one connection.
//! - **Faults.** [`simulate_disconnect`](MockServer::simulate_disconnect) with a
//!   [`DisconnectKind`] (close codes or a TCP reset), [`reject_handshake`](MockServer::reject_handshake)
//!   (HTTP 403, 429, 500…), [`stall_handshakes`](MockServer::stall_handshakes),
//!   [`set_auto_pong`](MockServer::set_auto_pong)`(false)` for silent peers, and
//!   [`stop`](MockServer::stop) / [`restart`](MockServer::restart) on the same port.
//! - **Network faults.** A [`FaultProxy`] sits between any client and any server (a
//!   `MockServer` or a third-party peer) and, per connection or for new ones, adds latency and
//!   jitter, caps bandwidth, stalls or blackholes a [`Direction`], resets, closes after some
//!   bytes, truncates a frame, or refuses connections ([`Fault`], [`Faults`], [`Admission`]).
//!   It works on bytes, so `ws://` and `wss://` alike.
//! - **A local Deribit.** [`DeribitSimulator`] plays Deribit's API v2 by itself: `public/auth`
//!   with all three grants and connection-scoped tokens, `test_request` heartbeats that close
//!   the socket when unanswered, subscriptions (`.raw` and `user.*` only after login, at most
//!   500 channels a request) with generated books, tickers, trades and indexes, orders and
//!   cancel-on-disconnect, a credit bucket, and `usIn`/`usOut`/`usDiff`/`testnet` on every
//!   response. Tests read [`requests`](DeribitSimulator::requests),
//!   [`open_orders`](DeribitSimulator::open_orders) and per-connection state, and script
//!   faults: [`drop_connections`](DeribitSimulator::drop_connections),
//!   [`refuse_auth`](DeribitSimulator::refuse_auth),
//!   [`pause_heartbeats`](DeribitSimulator::pause_heartbeats),
//!   [`skip_book_change`](DeribitSimulator::skip_book_change), `stop` and `restart`.
//! - Waits time out with an [`AssertionError`] that says what was expected and what was seen.
//!
//! # Example
//!
//! A client (here a bare `tokio-tungstenite` one; in your tests, your own) sends a JSON-RPC
//! request; the test checks what the server received and what the client got back, then
//! pushes a notification and ends the connection with a reset.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use futures_util::{SinkExt, StreamExt};
//! use serde_json::json;
//! use tokio_tungstenite::tungstenite::Message;
//! use zen_websocket_testing::{DisconnectKind, MockServer, RpcReply};
//!
//! let server = MockServer::builder()
//!     .rpc_handler(|request| match request.method.as_str() {
//!         "public/get_time" => RpcReply::Result(json!(1_700_000_000_000_u64)),
//!         _ => RpcReply::Default,
//!     })
//!     .start()
//!     .await?;
//!
//! let tcp = tokio::net::TcpStream::connect(server.addr()).await?;
//! let (mut ws, _) = tokio_tungstenite::client_async(server.url(), tcp).await?;
//! ws.send(Message::text(r#"{"jsonrpc":"2.0","id":1,"method":"public/get_time"}"#)).await?;
//!
//! let wait = Duration::from_secs(5);
//! server.assert_message_sent(json!({"method": "public/get_time"}), wait).await?;
//! let answer = ws.next().await.expect("an answer")?;
//! let answer: serde_json::Value = serde_json::from_str(answer.to_text()?)?;
//! assert_eq!(answer["result"], 1_700_000_000_000_u64);
//!
//! assert_eq!(server.inject_json(&json!({"method": "heartbeat"})).await, 1);
//! assert!(ws.next().await.expect("a push")?.to_text()?.contains("heartbeat"));
//!
//! server.simulate_disconnect(DisconnectKind::Abrupt).await;
//! assert!(matches!(ws.next().await, Some(Err(_)))); // connection reset, no close frame
//! # Ok(())
//! # }
//! ```
//!
//! # Network faults
//!
//! The client dials the proxy instead of the server; the test then breaks the network under it
//! while it runs. Here the proxy stops forwarding the client's bytes (a stall: the client's
//! writes pile up in socket buffers) and the server's reset reaches the client as a reset.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use futures_util::{SinkExt, StreamExt};
//! use tokio_tungstenite::tungstenite::Message;
//! use zen_websocket_testing::{Direction, Fault, FaultProxy, MockServer};
//!
//! let server = MockServer::start().await?;
//! let proxy = FaultProxy::start(server.addr()).await?;
//! let tcp = tokio::net::TcpStream::connect(proxy.addr()).await?;
//! let (mut ws, _) = tokio_tungstenite::client_async(proxy.url_for(&server.url()), tcp).await?;
//!
//! proxy.apply_all(Fault::stall(Direction::ClientToServer));
//! ws.send(Message::text("held back")).await?;
//! let mark = server.mark();
//! assert!(server.assert_message_sent_since(mark, "held back", Duration::from_millis(100)).await.is_err());
//! proxy.heal_all();
//! server.assert_message_sent_since(mark, "held back", Duration::from_secs(5)).await?;
//!
//! proxy.reset_all().await;
//! assert!(matches!(ws.next().await, Some(Err(_)))); // connection reset
//! # Ok(())
//! # }
//! ```
//!
//! # TLS
//!
//! `MockServer::builder().tls(true)` generates a CA and a server certificate for `127.0.0.1`,
//! `localhost` and `::1`. Give the client [`MockServer::ca_certificate`] (DER) or
//! [`MockServer::ca_certificate_pem`], or use the ready-made rustls
//! [`MockServer::client_tls_config`]. The certificate survives restarts. All rustls
//! configurations are built with the `ring` provider explicitly; no process-wide default
//! provider is installed or needed.
//!
//! # Features
//!
//! This crate has no optional features.
//!
//! # Limits
//!
//! Pings are taken out of the byte stream before the WebSocket library sees them (so the
//! server can stay silent when auto-pong is off); a ping sent in the same packet as the HTTP
//! upgrade request, before the `101` answer, is answered by the library regardless.

mod accept;
mod builder;
mod connection;
mod controls;
mod deribit;
mod error;
mod event;
mod mark;
mod matcher;
mod message;
mod observe;
mod ping_tap;
mod proxy;
mod replay;
mod reply;
mod rpc;
mod server;
mod state;
mod tasks;
mod tls;
mod transport;
mod wait;

pub use crate::{
    builder::MockServerBuilder,
    deribit::{
        CloseReason, DeribitRequest, DeribitSimulator, DeribitSimulatorBuilder, OrderDirection,
        OrderState, OrderType, SimulatedOrder,
    },
    error::{AssertionError, Error, Result},
    event::{DisconnectKind, HandshakeRequest, ServerEvent},
    mark::Mark,
    matcher::Matcher,
    message::{ConnectionId, MessageKind, ReceivedMessage},
    proxy::{
        Admission, Direction, Fault, FaultProxy, FaultProxyBuilder, Faults, ProxyConnection,
        ProxyConnectionId, Traffic,
    },
    replay::Replay,
    reply::{Incoming, Reply},
    rpc::{RpcReply, RpcRequest},
    server::MockServer,
    tls::TestCertificates,
};
