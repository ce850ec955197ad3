//! Trading: `private/buy`, `sell`, `edit`, `cancel`, `cancel_all`, open orders, positions and
//! the account summary, over one account's orders; `user.orders`/`user.trades` notifications.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::channels::{currency_of, kind_of};
use super::dispatch::{Answer, Ctx};
use super::order::{Order, OrderDirection, OrderState, OrderType, SimulatedOrder};
use super::protocol::{
    RpcError, now_millis, optional_bool, optional_number, optional_str, required_number,
    required_str,
};
use super::state::Inner;
use super::subscriptions::publish_user;
use crate::message::ConnectionId;

/// The balance `private/get_account_summary` reports in every currency.
const BALANCE: f64 = 10.0;
/// Time-in-force values Deribit accepts.
const TIME_IN_FORCE: [&str; 4] =
    ["good_til_cancelled", "good_til_day", "fill_or_kill", "immediate_or_cancel"];

/// A position: signed size, average entry price.
#[derive(Debug, Clone, Copy, Default)]
struct Position {
    size: f64,
    average_price: f64,
    realized: f64,
}

/// The account's orders, trades and positions.
#[derive(Debug, Default)]
pub(crate) struct Orders {
    orders: Vec<Order>,
    positions: BTreeMap<String, Position>,
    orders_placed: u64,
    trades_made: u64,
}

impl Orders {
    /// Every order, oldest first.
    pub(crate) fn all(&self) -> Vec<SimulatedOrder> {
        self.orders.iter().map(|order| order.public.clone()).collect()
    }

    fn find_open(&mut self, order_id: &str) -> Result<&mut Order, RpcError> {
        let order = self.orders.iter_mut().find(|order| order.public.order_id == order_id);
        order.filter(|order| order.is_open()).ok_or_else(RpcError::order_not_found)
    }

    /// Applies a fill to the position in `instrument`.
    fn fill(&mut self, instrument: &str, direction: OrderDirection, amount: f64, price: f64) {
        let position = self.positions.entry(instrument.to_owned()).or_default();
        let signed = if direction == OrderDirection::Buy { amount } else { -amount };
        let same_way = position.size == 0.0 || position.size.signum() == signed.signum();
        if same_way {
            let size = position.size + signed;
            position.average_price =
                (position.average_price * position.size.abs() + price * amount) / size.abs();
            position.size = size;
        } else {
            let closed = amount.min(position.size.abs());
            position.realized += closed * (price - position.average_price) * position.size.signum();
            position.size += signed;
            if position.size == 0.0 {
                position.average_price = 0.0;
            } else if position.size.signum() == signed.signum() {
                position.average_price = price; // flipped: the rest opened at this price
            }
        }
    }

    fn position_json(&self, instrument: &str, mark: f64, index_price: f64) -> Option<Value> {
        let position = self.positions.get(instrument)?;
        let direction = match position.size {
            size if size > 0.0 => "buy",
            size if size < 0.0 => "sell",
            _ => "zero",
        };
        let floating =
            position.size * (mark - position.average_price) / mark.max(f64::MIN_POSITIVE);
        Some(json!({
            "instrument_name": instrument,
            "kind": kind_of(instrument),
            "size": position.size,
            "direction": direction,
            "average_price": position.average_price,
            "mark_price": mark,
            "index_price": index_price,
            "settlement_price": mark,
            "floating_profit_loss": floating,
            "realized_profit_loss": position.realized,
            "total_profit_loss": floating + position.realized,
            "initial_margin": 0.0,
            "maintenance_margin": 0.0,
            "leverage": 50,
            "size_currency": position.size / mark.max(f64::MIN_POSITIVE),
            "delta": position.size / mark.max(f64::MIN_POSITIVE),
        }))
    }
}

/// The mark and index price of a listed instrument.
fn prices(inner: &Inner, instrument: &str) -> (f64, f64) {
    let mark = inner.market.mark_price(instrument).unwrap_or(0.0);
    let index = format!("{}_usd", currency_of(instrument).to_lowercase());
    (mark, inner.market.index_price(&index).unwrap_or(mark))
}

/// Sends `user.*` notifications about `orders` (and `trades`) to their subscribers.
fn notify(inner: &Inner, orders: &[&Order], trades: &[Value]) {
    let mut by_instrument: BTreeMap<&str, (Vec<Value>, Vec<Value>)> = BTreeMap::new();
    for order in orders {
        let entry = by_instrument.entry(order.public.instrument_name.as_str()).or_default();
        entry.0.push(order.to_json());
    }
    for trade in trades {
        let instrument = trade["instrument_name"].as_str().unwrap_or_default();
        by_instrument.entry(instrument).or_default().1.push(trade.clone());
    }
    for (instrument, (orders, trades)) in by_instrument {
        let (mark, index) = prices(inner, instrument);
        let position = inner.orders.position_json(instrument, mark, index);
        publish_user(inner, instrument, &orders, &trades, position);
    }
}

/// `private/buy` and `private/sell`.
pub(crate) fn place(ctx: &mut Ctx<'_>, direction: OrderDirection) -> Result<Answer, RpcError> {
    let params = ctx.params;
    let instrument = required_str(params, "instrument_name")?;
    let Some(mark) = ctx.inner.market.mark_price(instrument) else {
        return Err(RpcError::invalid_params("instrument not found", "instrument_name"));
    };
    let amount = match optional_number(params, "amount")? {
        Some(amount) => amount,
        None => optional_number(params, "contracts")?.ok_or_else(|| RpcError::missing("amount"))?,
    };
    if amount <= 0.0 {
        return Err(RpcError::invalid_params("must be positive", "amount"));
    }
    let order_type = match optional_str(params, "type")?.unwrap_or("limit") {
        "limit" => OrderType::Limit,
        "market" => OrderType::Market,
        _ => return Err(RpcError::invalid_params("not supported by the simulator", "type")),
    };
    let price = match order_type {
        OrderType::Limit => required_number(params, "price")?,
        OrderType::Market => mark,
    };
    if price <= 0.0 {
        return Err(RpcError::invalid_params("must be positive", "price"));
    }
    let time_in_force = optional_str(params, "time_in_force")?.unwrap_or("good_til_cancelled");
    if !TIME_IN_FORCE.contains(&time_in_force) {
        return Err(RpcError::invalid_params("unknown time in force", "time_in_force"));
    }
    let label = optional_str(params, "label")?.unwrap_or_default();
    if label.len() > 64 {
        return Err(RpcError::invalid_params("at most 64 characters", "label"));
    }
    let now_ms = now_millis();
    let orders = &mut ctx.inner.orders;
    orders.orders_placed += 1;
    let order_id = format!("{}-{}", currency_of(instrument), orders.orders_placed);
    let mut order = Order {
        public: SimulatedOrder {
            order_id,
            connection: ctx.id,
            instrument_name: instrument.to_owned(),
            direction,
            order_type,
            price,
            amount,
            filled_amount: 0.0,
            state: OrderState::Open,
            label: label.to_owned(),
            cancel_reason: None,
        },
        time_in_force: time_in_force.to_owned(),
        post_only: optional_bool(params, "post_only")?,
        reduce_only: optional_bool(params, "reduce_only")?,
        replaced: false,
        average_price: 0.0,
        created_ms: now_ms,
        updated_ms: now_ms,
    };
    let mut trades = Vec::new();
    match order_type {
        OrderType::Market => {
            orders.trades_made += 1;
            order.public.state = OrderState::Filled;
            order.public.filled_amount = amount;
            order.average_price = mark;
            orders.fill(instrument, direction, amount, mark);
            trades.push(trade_json(&order, orders.trades_made, mark, now_ms));
        }
        OrderType::Limit if matches!(time_in_force, "fill_or_kill" | "immediate_or_cancel") => {
            // Nothing in the simulator ever trades against a limit order.
            order.cancel("immediate_or_cancel", now_ms);
        }
        OrderType::Limit => {}
    }
    orders.orders.push(order.clone());
    notify(ctx.inner, &[&order], &trades);
    Ok(Answer::Result(json!({"order": order.to_json(), "trades": trades})))
}

/// A trade of `order` at `price`, shaped like Deribit's.
fn trade_json(order: &Order, seq: u64, price: f64, now_ms: u64) -> Value {
    let public = &order.public;
    let currency = currency_of(&public.instrument_name);
    json!({
        "trade_seq": seq,
        "trade_id": format!("{currency}-T{seq}"),
        "timestamp": now_ms,
        "state": "filled",
        "price": price,
        "mark_price": price,
        "index_price": price,
        "order_type": public.order_type.as_str(),
        "order_id": public.order_id,
        "liquidity": "T",
        "instrument_name": public.instrument_name,
        "fee_currency": currency,
        "fee": public.amount * 0.0005 / price,
        "direction": public.direction.as_str(),
        "amount": public.amount,
        "label": public.label,
        "tick_direction": 0,
        "self_trade": false,
        "api": true,
    })
}

/// `private/edit {order_id, amount?, price?}`: changes an open order.
pub(crate) fn edit(ctx: &mut Ctx<'_>) -> Result<Answer, RpcError> {
    let order_id = required_str(ctx.params, "order_id")?;
    let amount = optional_number(ctx.params, "amount")?;
    let price = optional_number(ctx.params, "price")?;
    if amount.is_some_and(|amount| amount <= 0.0) {
        return Err(RpcError::invalid_params("must be positive", "amount"));
    }
    if price.is_some_and(|price| price <= 0.0) {
        return Err(RpcError::invalid_params("must be positive", "price"));
    }
    let order = ctx.inner.orders.find_open(order_id)?;
    order.public.amount = amount.unwrap_or(order.public.amount);
    order.public.price = price.unwrap_or(order.public.price);
    order.replaced = true;
    order.updated_ms = now_millis();
    let order = order.clone();
    notify(ctx.inner, &[&order], &[]);
    Ok(Answer::Result(json!({"order": order.to_json(), "trades": []})))
}

/// `private/cancel {order_id}`: the cancelled order.
pub(crate) fn cancel(ctx: &mut Ctx<'_>) -> Result<Answer, RpcError> {
    let order_id = required_str(ctx.params, "order_id")?;
    let order = ctx.inner.orders.find_open(order_id)?;
    order.cancel("user_request", now_millis());
    let order = order.clone();
    notify(ctx.inner, &[&order], &[]);
    Ok(Answer::Result(order.to_json()))
}

/// `private/cancel_all`: every open order of the account; the result is how many.
pub(crate) fn cancel_all(ctx: &mut Ctx<'_>) -> Result<Answer, RpcError> {
    let cancelled = cancel_where(ctx.inner, "user_request", |_| true);
    Ok(Answer::Result(json!(cancelled)))
}

/// Cancel-on-disconnect: the open orders `connection` created.
pub(crate) fn cancel_for_connection(inner: &mut Inner, connection: ConnectionId) -> usize {
    cancel_where(inner, "cancel_on_disconnect", |order| order.public.connection == connection)
}

fn cancel_where(inner: &mut Inner, reason: &str, wanted: impl Fn(&Order) -> bool) -> usize {
    let now_ms = now_millis();
    let mut cancelled = Vec::new();
    for order in inner.orders.orders.iter_mut().filter(|order| order.is_open() && wanted(order)) {
        order.cancel(reason, now_ms);
        cancelled.push(order.clone());
    }
    notify(inner, &cancelled.iter().collect::<Vec<_>>(), &[]);
    cancelled.len()
}

/// `private/get_open_orders_by_currency {currency, kind?, type?}`.
pub(crate) fn open_by_currency(ctx: &mut Ctx<'_>) -> Result<Answer, RpcError> {
    let currency = required_str(ctx.params, "currency")?;
    let kind = optional_str(ctx.params, "kind")?.unwrap_or("any");
    let order_type = optional_str(ctx.params, "type")?.unwrap_or("all");
    let open = ctx.inner.orders.orders.iter().filter(|order| {
        let instrument = order.public.instrument_name.as_str();
        order.is_open()
            && (currency == "any" || currency.eq_ignore_ascii_case(currency_of(instrument)))
            && (kind == "any" || kind == kind_of(instrument))
            && (order_type == "all" || order_type == order.public.order_type.as_str())
    });
    Ok(Answer::Result(Value::Array(open.map(Order::to_json).collect())))
}

/// `private/get_positions {currency?, kind?}`: every instrument the account has traded.
pub(crate) fn positions(ctx: &mut Ctx<'_>) -> Result<Answer, RpcError> {
    let currency = optional_str(ctx.params, "currency")?.unwrap_or("any");
    let kind = optional_str(ctx.params, "kind")?.unwrap_or("any");
    let inner = &*ctx.inner;
    let positions = inner.orders.positions.keys().filter(|instrument| {
        (currency == "any" || currency.eq_ignore_ascii_case(currency_of(instrument)))
            && (kind == "any" || kind == kind_of(instrument))
    });
    let positions = positions.filter_map(|instrument| {
        let (mark, index) = prices(inner, instrument);
        inner.orders.position_json(instrument, mark, index)
    });
    Ok(Answer::Result(Value::Array(positions.collect())))
}

/// `private/get_account_summary {currency}`: a fixed balance, the realised profit and loss,
/// and the credit limits in force.
pub(crate) fn account_summary(ctx: &mut Ctx<'_>) -> Result<Answer, RpcError> {
    let currency = required_str(ctx.params, "currency")?;
    if !ctx.inner.market.has_currency(currency) {
        return Err(RpcError::invalid_params("unknown currency", "currency"));
    }
    let realized: f64 = ctx
        .inner
        .orders
        .positions
        .iter()
        .filter(|(instrument, _)| currency.eq_ignore_ascii_case(currency_of(instrument)))
        .map(|(instrument, position)| position.realized / prices(ctx.inner, instrument).0)
        .sum();
    let credits = ctx.inner.credits.settings();
    let cost = credits.cost.max(1);
    let equity = BALANCE + realized;
    Ok(Answer::Result(json!({
        "currency": currency.to_uppercase(),
        "balance": equity,
        "equity": equity,
        "available_funds": equity,
        "available_withdrawal_funds": equity,
        "margin_balance": equity,
        "initial_margin": 0.0,
        "maintenance_margin": 0.0,
        "total_pl": realized,
        "session_rpl": realized,
        "session_upl": 0.0,
        "limits": {
            "non_matching_engine": {"burst": credits.capacity / cost, "rate": credits.refill_per_second / cost},
            "matching_engine": {"trading": {"total": {"burst": 20, "rate": 5}}},
        },
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_average_and_realise() {
        let mut orders = Orders::default();
        orders.fill("BTC-PERPETUAL", OrderDirection::Buy, 10.0, 100.0);
        orders.fill("BTC-PERPETUAL", OrderDirection::Buy, 10.0, 200.0);
        let position = orders.positions["BTC-PERPETUAL"];
        assert_eq!((position.size, position.average_price), (20.0, 150.0));
        orders.fill("BTC-PERPETUAL", OrderDirection::Sell, 30.0, 250.0);
        let position = orders.positions["BTC-PERPETUAL"];
        assert_eq!(
            (position.size, position.average_price, position.realized),
            (-10.0, 250.0, 2000.0)
        );
    }
}
