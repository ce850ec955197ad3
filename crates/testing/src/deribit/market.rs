//! Market data: a deterministic order book, ticker, trades and price index per instrument, and
//! the task that publishes them to subscribed connections every `market_data_interval`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::{Value, json};
use tokio::time::MissedTickBehavior;

use super::channels::{self, Channel};
use super::protocol::{self, now_millis};
use super::state::{Inner, Sim};

/// Levels on each side of a book.
const LEVELS: i64 = 10;

/// One instrument's market.
#[derive(Debug)]
struct Instrument {
    mark: f64,
    tick_size: f64,
    /// The mid price in ticks; the book's levels sit 1..=LEVELS ticks either side.
    mid: i64,
    book: Book,
    trade_seq: u64,
}

/// An order book that changes one bid level and one ask level per step.
#[derive(Debug)]
struct Book {
    /// Price in ticks → amount.
    bids: BTreeMap<i64, f64>,
    asks: BTreeMap<i64, f64>,
    change_id: u64,
    step: u64,
    /// Apply the next change without publishing it: a gap in `change_id`s.
    skip_next: bool,
}

/// One published book change.
#[derive(Debug, Clone)]
struct Change {
    prev_change_id: u64,
    change_id: u64,
    bids: Vec<Value>,
    asks: Vec<Value>,
}

/// Every instrument's market and the price indexes.
#[derive(Debug)]
pub(crate) struct Market {
    instruments: BTreeMap<String, Instrument>,
    /// `btc_usd` → the price of the first instrument in that currency.
    indexes: BTreeMap<String, f64>,
    /// Ticks published so far.
    ticks: u64,
}

impl Market {
    pub(crate) fn new(instruments: &[(String, f64)]) -> Self {
        let mut indexes = BTreeMap::new();
        let instruments = instruments
            .iter()
            .map(|(name, mark)| {
                let index = format!("{}_usd", channels::currency_of(name).to_lowercase());
                indexes.entry(index).or_insert(*mark);
                (name.clone(), Instrument::new(*mark))
            })
            .collect();
        Self { instruments, indexes, ticks: 0 }
    }

    pub(crate) fn has_instrument(&self, name: &str) -> bool {
        self.instruments.contains_key(name)
    }

    /// Whether some instrument is in `currency` (any case).
    pub(crate) fn has_currency(&self, currency: &str) -> bool {
        self.instruments
            .keys()
            .any(|name| channels::currency_of(name).eq_ignore_ascii_case(currency))
    }

    /// The fixed mark price of an instrument: where market orders fill.
    pub(crate) fn mark_price(&self, instrument: &str) -> Option<f64> {
        self.instruments.get(instrument).map(|instrument| instrument.mark)
    }

    /// The base price of an index (`btc_usd`).
    pub(crate) fn index_price(&self, index: &str) -> Option<f64> {
        self.indexes.get(index).copied()
    }

    /// The index price that goes with an instrument.
    fn index_for(&self, instrument: &str) -> f64 {
        let index = format!("{}_usd", channels::currency_of(instrument).to_lowercase());
        self.index_price(&index).unwrap_or(0.0)
    }

    /// Makes the next book change of `instrument` skip a `change_id`; `false` for an unknown
    /// instrument.
    pub(crate) fn skip_book_change(&mut self, instrument: &str) -> bool {
        let book = self.instruments.get_mut(instrument).map(|instrument| &mut instrument.book);
        book.map(|book| book.skip_next = true).is_some()
    }

    /// A `book.{instr}.{interval}` snapshot of the current book (`type: "snapshot"`).
    pub(crate) fn book_snapshot(&self, instrument: &str, now_ms: u64) -> Option<Value> {
        let state = self.instruments.get(instrument)?;
        let level = |(price, amount): (&i64, &f64)| json!(["new", state.price(*price), amount]);
        Some(json!({
            "type": "snapshot",
            "timestamp": now_ms,
            "instrument_name": instrument,
            "change_id": state.book.change_id,
            "bids": state.book.bids.iter().rev().map(level).collect::<Vec<_>>(),
            "asks": state.book.asks.iter().map(level).collect::<Vec<_>>(),
        }))
    }
}

impl Instrument {
    fn new(mark: f64) -> Self {
        // Like Deribit's: 0.5 for BTC, 0.05 for ETH.
        let tick_size = if mark >= 10_000.0 {
            0.5
        } else if mark >= 100.0 {
            0.05
        } else if mark >= 1.0 {
            0.001
        } else {
            0.0001
        };
        let mid = (mark / tick_size).round() as i64;
        let bids = (1..=LEVELS).map(|j| (mid - j, 10.0 * j as f64)).collect();
        let asks = (1..=LEVELS).map(|j| (mid + j, 10.0 * j as f64)).collect();
        let book = Book { bids, asks, change_id: 1, step: 0, skip_next: false };
        Self { mark, tick_size, mid, book, trade_seq: 0 }
    }

    /// A price in ticks as a decimal price.
    fn price(&self, ticks: i64) -> f64 {
        round(ticks as f64 * self.tick_size)
    }

    fn best_bid(&self) -> (f64, f64) {
        let best = self.book.bids.iter().next_back();
        best.map_or((0.0, 0.0), |(price, amount)| (self.price(*price), *amount))
    }

    fn best_ask(&self) -> (f64, f64) {
        let best = self.book.asks.iter().next();
        best.map_or((0.0, 0.0), |(price, amount)| (self.price(*price), *amount))
    }

    /// The next published change, after an unpublished one when a skip was asked for.
    fn advance(&mut self) -> Change {
        if std::mem::take(&mut self.book.skip_next) {
            self.step();
            self.book.change_id += 1;
        }
        let prev_change_id = self.book.change_id;
        let (bids, asks) = self.step();
        self.book.change_id += 1;
        Change { prev_change_id, change_id: self.book.change_id, bids, asks }
    }

    /// Changes one bid and one ask level: a level that is there changes its amount (or, every
    /// fourth step, goes); a level that is not there comes back.
    fn step(&mut self) -> (Vec<Value>, Vec<Value>) {
        self.book.step += 1;
        let n = self.book.step as i64;
        let bid = self.mid - ((n * 3) % LEVELS + 1);
        let ask = self.mid + ((n * 7) % LEVELS + 1);
        let amount = 10.0 * ((n * 13) % 20 + 1) as f64;
        let bid_change = change_level(&mut self.book.bids, bid, amount, n);
        let ask_change = change_level(&mut self.book.asks, ask, amount + 5.0, n);
        let render =
            |(action, ticks, amount): (&str, i64, f64)| json!([action, self.price(ticks), amount]);
        (vec![render(bid_change)], vec![render(ask_change)])
    }

    /// The next trade: alternately a buy at the best ask and a sell at the best bid.
    fn trade(&mut self, index_price: f64, now_ms: u64, instrument: &str) -> Value {
        self.trade_seq += 1;
        let seq = self.trade_seq;
        let (direction, price) =
            if seq % 2 == 1 { ("buy", self.best_ask().0) } else { ("sell", self.best_bid().0) };
        json!([{
            "trade_seq": seq,
            "trade_id": format!("{}-{seq}", channels::currency_of(instrument)),
            "timestamp": now_ms,
            "tick_direction": if seq % 2 == 1 { 0 } else { 2 },
            "price": price,
            "mark_price": self.mark,
            "index_price": index_price,
            "instrument_name": instrument,
            "direction": direction,
            "amount": 10.0 * (seq % 5 + 1) as f64,
        }])
    }

    fn ticker(&self, index_price: f64, now_ms: u64, instrument: &str) -> Value {
        let (bid, bid_amount) = self.best_bid();
        let (ask, ask_amount) = self.best_ask();
        json!({
            "timestamp": now_ms,
            "instrument_name": instrument,
            "state": "open",
            "best_bid_price": bid,
            "best_bid_amount": bid_amount,
            "best_ask_price": ask,
            "best_ask_amount": ask_amount,
            "last_price": self.mark,
            "mark_price": self.mark,
            "index_price": index_price,
            "settlement_price": self.mark,
            "estimated_delivery_price": index_price,
            "open_interest": 1_000_000.0,
            "min_price": round(self.mark * 0.95),
            "max_price": round(self.mark * 1.05),
            "current_funding": 0.0,
            "funding_8h": 0.0,
            "stats": {
                "high": round(self.mark * 1.01),
                "low": round(self.mark * 0.99),
                "price_change": 0.0,
                "volume": 1_000.0,
                "volume_usd": round(1_000.0 * self.mark),
            },
        })
    }

    fn quote(&self, now_ms: u64, instrument: &str) -> Value {
        let (bid, bid_amount) = self.best_bid();
        let (ask, ask_amount) = self.best_ask();
        json!({
            "timestamp": now_ms,
            "instrument_name": instrument,
            "best_bid_price": bid,
            "best_bid_amount": bid_amount,
            "best_ask_price": ask,
            "best_ask_amount": ask_amount,
        })
    }

    /// A grouped book: the top `depth` levels, `[price, amount]`, no `type`.
    fn grouped(&self, depth: usize, now_ms: u64, instrument: &str) -> Value {
        let level = |(price, amount): (&i64, &f64)| json!([self.price(*price), amount]);
        json!({
            "timestamp": now_ms,
            "instrument_name": instrument,
            "change_id": self.book.change_id,
            "bids": self.book.bids.iter().rev().take(depth).map(level).collect::<Vec<_>>(),
            "asks": self.book.asks.iter().take(depth).map(level).collect::<Vec<_>>(),
        })
    }
}

/// Changes the level at `ticks` on one side; returns the action, price and new amount.
fn change_level(
    side: &mut BTreeMap<i64, f64>,
    ticks: i64,
    amount: f64,
    n: i64,
) -> (&'static str, i64, f64) {
    match side.get(&ticks).copied() {
        Some(_) if n % 4 == 0 => {
            side.remove(&ticks);
            ("delete", ticks, 0.0)
        }
        Some(current) => {
            let amount = if current == amount { amount + 1.0 } else { amount };
            side.insert(ticks, amount);
            ("change", ticks, amount)
        }
        None => {
            side.insert(ticks, amount);
            ("new", ticks, amount)
        }
    }
}

/// Rounds away binary noise (`2999.9500000000003` → `2999.95`).
fn round(price: f64) -> f64 {
    (price * 1e8).round() / 1e8
}

/// Publishes market data every `market_data_interval` until aborted.
pub(crate) async fn run(sim: Arc<Sim>) {
    let mut ticks = tokio::time::interval(sim.config.market_data_interval);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    ticks.tick().await; // The first tick is immediate; publish one interval after start.
    loop {
        ticks.tick().await;
        sim.with(|inner| publish(inner, now_millis()));
    }
}

/// One tick: every subscribed market channel's next notification, to every subscriber. Each
/// instrument's book, trades and prices move once per tick, whatever the number of channels
/// and subscribers.
pub(crate) fn publish(inner: &mut Inner, now_ms: u64) {
    let subscribed: BTreeSet<&String> =
        inner.connections.values().flat_map(|conn| conn.subscriptions.iter()).collect();
    if subscribed.is_empty() {
        return;
    }
    let market = &mut inner.market;
    market.ticks += 1;
    let parsed: Vec<(String, Channel)> = subscribed
        .into_iter()
        .filter_map(|name| channels::parse(name, market).map(|channel| (name.clone(), channel)))
        .collect();
    let mut changes: BTreeMap<String, Change> = BTreeMap::new();
    let mut trades: BTreeMap<String, Value> = BTreeMap::new();
    let mut frames: BTreeMap<String, String> = BTreeMap::new();
    for (name, channel) in parsed {
        let data = match channel {
            Channel::Book { instrument } => {
                let change = match changes.get(&instrument) {
                    Some(change) => change.clone(),
                    None => {
                        let Some(state) = market.instruments.get_mut(&instrument) else { continue };
                        let change = state.advance();
                        changes.insert(instrument.clone(), change.clone());
                        change
                    }
                };
                json!({
                    "type": "change",
                    "timestamp": now_ms,
                    "prev_change_id": change.prev_change_id,
                    "instrument_name": instrument,
                    "change_id": change.change_id,
                    "bids": change.bids,
                    "asks": change.asks,
                })
            }
            Channel::Trades { instrument } => match trades.get(&instrument) {
                Some(trade) => trade.clone(),
                None => {
                    let index_price = market.index_for(&instrument);
                    let Some(state) = market.instruments.get_mut(&instrument) else { continue };
                    let trade = state.trade(index_price, now_ms, &instrument);
                    trades.insert(instrument, trade.clone());
                    trade
                }
            },
            Channel::GroupedBook { instrument, depth } => {
                let Some(state) = market.instruments.get(&instrument) else { continue };
                state.grouped(depth, now_ms, &instrument)
            }
            Channel::Ticker { instrument } => {
                let index_price = market.index_for(&instrument);
                let Some(state) = market.instruments.get(&instrument) else { continue };
                state.ticker(index_price, now_ms, &instrument)
            }
            Channel::Quote { instrument } => {
                let Some(state) = market.instruments.get(&instrument) else { continue };
                state.quote(now_ms, &instrument)
            }
            Channel::PriceIndex { index } => {
                let base = market.index_price(&index).unwrap_or(0.0);
                let wobble = (market.ticks % 11) as f64 - 5.0;
                json!({"timestamp": now_ms, "price": round(base * (1.0 + wobble * 1e-4)), "index_name": index})
            }
            Channel::UserOrders(_)
            | Channel::UserTrades(_)
            | Channel::UserChanges(_)
            | Channel::Silent => {
                continue;
            }
        };
        let frame = protocol::notification(&name, &data);
        frames.insert(name, frame);
    }
    for conn in inner.connections.values() {
        for name in &conn.subscriptions {
            if let Some(frame) = frames.get(name) {
                conn.send(frame.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn btc() -> Instrument {
        Instrument::new(60_000.0)
    }

    /// Applies a change's levels to a side kept as price → amount.
    fn apply(side: &mut BTreeMap<String, f64>, levels: &[Value]) {
        for level in levels {
            let price = level[1].to_string();
            match level[0].as_str() {
                Some("new") => assert!(side.insert(price, level[2].as_f64().unwrap()).is_none()),
                Some("change") => assert!(side.insert(price, level[2].as_f64().unwrap()).is_some()),
                Some("delete") => assert!(side.remove(&price).is_some()),
                other => panic!("unknown action {other:?}"),
            }
        }
    }

    #[test]
    fn changes_chain_and_stay_consistent() {
        let mut instrument = btc();
        let mut market = Market::new(&[("BTC-PERPETUAL".into(), 60_000.0)]);
        let snapshot = market.book_snapshot("BTC-PERPETUAL", 0).expect("a snapshot");
        let side = |levels: &Value| -> BTreeMap<String, f64> {
            levels
                .as_array()
                .unwrap()
                .iter()
                .map(|l| (l[1].to_string(), l[2].as_f64().unwrap()))
                .collect()
        };
        let (mut bids, mut asks) = (side(&snapshot["bids"]), side(&snapshot["asks"]));
        let mut last = snapshot["change_id"].as_u64().unwrap();
        for _ in 0..50 {
            let change = instrument.advance();
            assert_eq!(change.prev_change_id, last);
            last = change.change_id;
            apply(&mut bids, &change.bids);
            apply(&mut asks, &change.asks);
        }
        assert!(!bids.is_empty() && !asks.is_empty());
        assert!(market.skip_book_change("BTC-PERPETUAL"));
        assert!(!market.skip_book_change("SOL-PERPETUAL"));
    }

    #[test]
    fn a_skip_leaves_a_gap() {
        let mut instrument = btc();
        let first = instrument.advance();
        instrument.book.skip_next = true;
        let second = instrument.advance();
        assert_eq!(second.prev_change_id, first.change_id + 1);
        assert_eq!(second.change_id, first.change_id + 2);
        assert_eq!(instrument.advance().prev_change_id, second.change_id);
    }

    #[test]
    fn prices_are_clean_decimals() {
        let eth = Instrument::new(3_000.0);
        assert_eq!(eth.tick_size, 0.05);
        assert_eq!(eth.best_bid().0, 2_999.95);
        assert_eq!(eth.best_ask().0, 3_000.05);
    }
}
