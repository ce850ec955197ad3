//! Cancel-on-disconnect: `private/enable_cancel_on_disconnect`, `disable_…`, `get_…`, and the
//! cancel itself when a connection with it on ends other than by `private/logout`.

use serde_json::json;

use super::dispatch::{Answer, Ctx};
use super::orders;
use super::protocol::{RpcError, optional_str};
use super::state::Inner;
use crate::message::ConnectionId;

/// The scope a cancel-on-disconnect request names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// This connection only (the default).
    Connection,
    /// Every connection opened from now on starts with it on.
    Account,
}

fn scope(ctx: &Ctx<'_>) -> Result<Scope, RpcError> {
    match optional_str(ctx.params, "scope")?.unwrap_or("connection") {
        "connection" => Ok(Scope::Connection),
        "account" => Ok(Scope::Account),
        _ => Err(RpcError::invalid_params("must be connection or account", "scope")),
    }
}

fn set(ctx: &mut Ctx<'_>, enabled: bool) -> Result<Answer, RpcError> {
    match scope(ctx)? {
        Scope::Connection => ctx.conn()?.cod = enabled,
        Scope::Account => ctx.inner.account_cod = enabled,
    }
    Ok(Answer::Result(json!("ok")))
}

/// `private/enable_cancel_on_disconnect {scope?}`: `"ok"`.
pub(crate) fn enable(ctx: &mut Ctx<'_>) -> Result<Answer, RpcError> {
    set(ctx, true)
}

/// `private/disable_cancel_on_disconnect {scope?}`: `"ok"`.
pub(crate) fn disable(ctx: &mut Ctx<'_>) -> Result<Answer, RpcError> {
    set(ctx, false)
}

/// `private/get_cancel_on_disconnect {scope?}`: `{"scope": …, "enabled": …}`.
pub(crate) fn get(ctx: &mut Ctx<'_>) -> Result<Answer, RpcError> {
    let (name, enabled) = match scope(ctx)? {
        Scope::Connection => ("connection", ctx.conn()?.cod),
        Scope::Account => ("account", ctx.inner.account_cod),
    };
    Ok(Answer::Result(json!({"scope": name, "enabled": enabled})))
}

/// The connection ended with cancel-on-disconnect on: cancel the open orders it created
/// (`cancel_reason: "cancel_on_disconnect"`), telling `user.orders` subscribers elsewhere.
pub(crate) fn on_disconnect(inner: &mut Inner, connection: ConnectionId) {
    let cancelled = orders::cancel_for_connection(inner, connection);
    tracing::debug!(%connection, cancelled, "deribit simulator: cancel-on-disconnect");
}
