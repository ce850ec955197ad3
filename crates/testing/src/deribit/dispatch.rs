//! One request frame: parse, record, charge credits, check the login, route to its method, and
//! queue the answer on the connection (answers and notifications share one ordered queue).

use std::time::Instant;

use serde_json::{Value, json};

use super::auth;
use super::builder::Config;
use super::cod;
use super::heartbeat;
use super::observe::DeribitRequest;
use super::order::OrderDirection;
use super::orders;
use super::protocol::{self, API_VERSION, Request, RpcError, now_millis, optional_str};
use super::session::CloseReason;
use super::state::{Conn, Inner, Sim};
use super::subscriptions;
use crate::message::ConnectionId;

/// What a method answers.
#[derive(Debug)]
pub(crate) enum Answer {
    /// A `result`.
    Result(Value),
    /// A `result`, then these frames (book snapshots after a subscribe).
    Then(Value, Vec<String>),
    /// No answer; close the connection (`private/logout`).
    Logout,
}

/// What a method gets to work with: the state, under its lock.
pub(crate) struct Ctx<'a> {
    pub(crate) config: &'a Config,
    pub(crate) inner: &'a mut Inner,
    pub(crate) id: ConnectionId,
    pub(crate) params: &'a Value,
    pub(crate) now: Instant,
}

impl Ctx<'_> {
    /// The requesting connection's state.
    pub(crate) fn conn(&mut self) -> Result<&mut Conn, RpcError> {
        self.inner.connections.get_mut(&self.id).ok_or_else(RpcError::internal_server_error)
    }
}

type Method = fn(&mut Ctx<'_>) -> Result<Answer, RpcError>;

/// The methods the simulator serves. Every `private/` one needs a logged-in connection.
fn method(name: &str) -> Option<Method> {
    let method: Method = match name {
        "public/auth" => auth::authenticate,
        "public/set_heartbeat" => heartbeat::set,
        "public/disable_heartbeat" => heartbeat::disable,
        "public/test" => test,
        "public/get_time" => |_| Ok(Answer::Result(json!(now_millis()))),
        "public/hello" => |_| Ok(Answer::Result(json!({"version": API_VERSION}))),
        "public/subscribe" | "private/subscribe" => subscriptions::subscribe,
        "public/unsubscribe" | "private/unsubscribe" => subscriptions::unsubscribe,
        "public/unsubscribe_all" | "private/unsubscribe_all" => subscriptions::unsubscribe_all,
        "private/buy" => |ctx| orders::place(ctx, OrderDirection::Buy),
        "private/sell" => |ctx| orders::place(ctx, OrderDirection::Sell),
        "private/edit" => orders::edit,
        "private/cancel" => orders::cancel,
        "private/cancel_all" => orders::cancel_all,
        "private/get_open_orders_by_currency" => orders::open_by_currency,
        "private/get_positions" => orders::positions,
        "private/get_account_summary" => orders::account_summary,
        "private/enable_cancel_on_disconnect" => cod::enable,
        "private/disable_cancel_on_disconnect" => cod::disable,
        "private/get_cancel_on_disconnect" => cod::get,
        "private/logout" => |_| Ok(Answer::Logout),
        _ => return None,
    };
    Some(method)
}

/// `public/test {expected_result?}`: answers a pending `test_request`; `"exception"` asks for
/// `11094 internal_server_error`.
fn test(ctx: &mut Ctx<'_>) -> Result<Answer, RpcError> {
    heartbeat::answered(ctx.conn()?);
    match optional_str(ctx.params, "expected_result")? {
        Some("exception") => Err(RpcError::internal_server_error()),
        _ => Ok(Answer::Result(json!({"version": API_VERSION}))),
    }
}

/// Handles one text frame from `id`, received at `us_in` (µs since the epoch); everything it
/// sends goes through the connection's queue.
pub(crate) fn handle(sim: &Sim, id: ConnectionId, text: &str, us_in: u64) {
    let now = Instant::now();
    sim.with(|inner| {
        let Some(outbox) = inner.connections.get(&id).map(Conn::clone_sender) else {
            return; // The session already ended.
        };
        let request = match protocol::parse(text) {
            Ok(request) => request,
            Err(refusal) => {
                if let Some(request) = &refusal.request {
                    record(inner, id, request);
                }
                outbox.send(protocol::response(&refusal.id, &Err(refusal.error), us_in));
                return;
            }
        };
        record(inner, id, &request);
        if !inner.credits.take(now) {
            let refused = Err(RpcError::too_many_requests());
            outbox.send(protocol::response(&request.id, &refused, us_in));
            if sim.config.close_on_rate_limit {
                outbox.close(CloseReason::RateLimited);
            }
            return;
        }
        let mut ctx = Ctx { config: &sim.config, inner, id, params: &request.params, now };
        let outcome = route(&mut ctx, &request.method);
        match outcome {
            Ok(Answer::Result(result)) => {
                outbox.send(protocol::response(&request.id, &Ok(result), us_in));
            }
            Ok(Answer::Then(result, frames)) => {
                outbox.send(protocol::response(&request.id, &Ok(result), us_in));
                frames.into_iter().for_each(|frame| outbox.send(frame));
            }
            Ok(Answer::Logout) => outbox.close(CloseReason::Logout),
            Err(error) => outbox.send(protocol::response(&request.id, &Err(error), us_in)),
        }
    });
}

fn route(ctx: &mut Ctx<'_>, name: &str) -> Result<Answer, RpcError> {
    let method = method(name).ok_or_else(RpcError::method_not_found)?;
    if name.starts_with("private/") {
        auth::check_access(ctx)?;
    }
    method(ctx)
}

fn record(inner: &mut Inner, connection: ConnectionId, request: &Request) {
    inner.requests.push(DeribitRequest {
        connection,
        id: request.id.clone(),
        method: request.method.clone(),
        params: request.params.clone(),
    });
}
