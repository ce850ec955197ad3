//! `public|private/subscribe`, `unsubscribe` and `unsubscribe_all`, per connection; and the
//! `user.*` notifications about the account's orders and trades.

use serde_json::{Value, json};

use super::auth;
use super::channels::{self, Channel};
use super::dispatch::{Answer, Ctx};
use super::protocol::{self, RpcError, now_millis};
use super::state::Inner;

/// The most channels one subscribe (or unsubscribe) request may name.
pub(crate) const MAX_CHANNELS: usize = 500;

/// The `channels` param: at most [`MAX_CHANNELS`] strings, duplicates dropped, order kept.
fn requested(params: &Value) -> Result<Vec<String>, RpcError> {
    let Some(channels) = params.get("channels").filter(|channels| !channels.is_null()) else {
        return Err(RpcError::missing("channels"));
    };
    let Some(channels) = channels.as_array() else {
        return Err(RpcError::invalid_params("must be an array of strings", "channels"));
    };
    if channels.len() > MAX_CHANNELS {
        let reason = format!("at most {MAX_CHANNELS} channels per request");
        return Err(RpcError::invalid_params(reason, "channels"));
    }
    let mut names: Vec<String> = Vec::with_capacity(channels.len());
    for channel in channels {
        let Some(name) = channel.as_str() else {
            return Err(RpcError::invalid_params("must be an array of strings", "channels"));
        };
        if !names.iter().any(|seen| seen == name) {
            names.push(name.to_owned());
        }
    }
    Ok(names)
}

/// `public/subscribe` and `private/subscribe` (the dispatcher already refused `private/` on a
/// connection that is not logged in). Channels that do not exist are left out of the result.
/// Without a login, a `user.*` channel refuses the whole request with `13009` and a `.raw` one
/// with `13778`. Every book channel in the request gets a fresh snapshot right after the result.
pub(crate) fn subscribe(ctx: &mut Ctx<'_>) -> Result<Answer, RpcError> {
    let names = requested(ctx.params)?;
    let market = &ctx.inner.market;
    let valid: Vec<(String, Channel)> = names
        .into_iter()
        .filter_map(|name| channels::parse(&name, market).map(|channel| (name, channel)))
        .collect();
    if !auth::is_authenticated(ctx.inner, ctx.id, ctx.now) {
        if valid.iter().any(|(name, _)| channels::is_user(name)) {
            return Err(RpcError::unauthorized());
        }
        if valid.iter().any(|(name, _)| channels::is_raw(name)) {
            return Err(RpcError::raw_unauthorized());
        }
    }
    let now_ms = now_millis();
    let snapshots: Vec<String> = valid
        .iter()
        .filter_map(|(name, channel)| match channel {
            Channel::Book { instrument } => market
                .book_snapshot(instrument, now_ms)
                .map(|snapshot| protocol::notification(name, &snapshot)),
            _ => None,
        })
        .collect();
    let conn = ctx.conn()?;
    conn.subscriptions.extend(valid.iter().map(|(name, _)| name.clone()));
    let result = valid.into_iter().map(|(name, _)| Value::String(name)).collect();
    Ok(Answer::Then(Value::Array(result), snapshots))
}

/// `public/unsubscribe` and `private/unsubscribe`: the result lists only the channels that were
/// subscribed and are now removed.
pub(crate) fn unsubscribe(ctx: &mut Ctx<'_>) -> Result<Answer, RpcError> {
    let names = requested(ctx.params)?;
    let conn = ctx.conn()?;
    let removed = names.into_iter().filter(|name| conn.subscriptions.remove(name));
    Ok(Answer::Result(Value::Array(removed.map(Value::String).collect())))
}

/// `public/unsubscribe_all` and `private/unsubscribe_all`: `"ok"`.
pub(crate) fn unsubscribe_all(ctx: &mut Ctx<'_>) -> Result<Answer, RpcError> {
    ctx.conn()?.subscriptions.clear();
    Ok(Answer::Result(json!("ok")))
}

/// Sends the `user.orders`, `user.trades` and `user.changes` notifications about `instrument`
/// to every connection subscribed to a channel that covers it. On `.raw` channels each order
/// is its own notification (`data` an object); on aggregated ones `data` is an array.
/// `user.trades` data is always an array.
pub(crate) fn publish_user(
    inner: &Inner,
    instrument: &str,
    orders: &[Value],
    trades: &[Value],
    position: Option<Value>,
) {
    for conn in inner.connections.values() {
        for name in &conn.subscriptions {
            let frames = match channels::parse(name, &inner.market) {
                Some(Channel::UserOrders(filter)) if filter.covers(instrument) => {
                    if orders.is_empty() {
                        continue;
                    }
                    if channels::is_raw(name) {
                        orders.iter().map(|order| protocol::notification(name, order)).collect()
                    } else {
                        vec![protocol::notification(name, &Value::from(orders.to_vec()))]
                    }
                }
                Some(Channel::UserTrades(filter)) if filter.covers(instrument) => {
                    if trades.is_empty() {
                        continue;
                    }
                    vec![protocol::notification(name, &Value::from(trades.to_vec()))]
                }
                Some(Channel::UserChanges(filter)) if filter.covers(instrument) => {
                    let positions: Vec<Value> = position.iter().cloned().collect();
                    let data = json!({
                        "instrument_name": instrument,
                        "orders": orders,
                        "trades": trades,
                        "positions": positions,
                    });
                    vec![protocol::notification(name, &data)]
                }
                _ => continue,
            };
            frames.into_iter().for_each(|frame| conn.send(frame));
        }
    }
}
