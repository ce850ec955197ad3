//! Serde types for the calls and notifications used most. Fields Deribit may leave out are
//! `Option`s; numbers that sometimes arrive as strings are read either way. For anything else,
//! [`DeribitClient::request`](crate::DeribitClient::request) returns the raw JSON.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// A number that may arrive as a JSON number or a string (`"market_price"` reads as `None`).
fn lenient_f64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.parse().ok(),
        _ => None,
    })
}

/// `public/ticker` and `ticker.*` notifications.
///
/// # Examples
///
/// ```
/// let ticker: zen_websocket_deribit::Ticker = serde_json::from_str(
///     r#"{"instrument_name":"BTC-PERPETUAL","timestamp":1,"best_bid_price":64999.5,"best_ask_price":65000.0}"#,
/// )?;
/// assert_eq!(ticker.best_ask_price, Some(65000.0));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Ticker {
    /// The instrument.
    pub instrument_name: String,
    /// Milliseconds since the epoch.
    pub timestamp: u64,
    /// The last trade's price.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub last_price: Option<f64>,
    /// The mark price.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub mark_price: Option<f64>,
    /// The index price.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub index_price: Option<f64>,
    /// The best bid.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub best_bid_price: Option<f64>,
    /// The best ask.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub best_ask_price: Option<f64>,
}

/// A price level `(action, price, amount)`: action `new`, `change` or `delete`.
pub type BookLevel = (String, f64, f64);

/// A `book.*` notification (snapshot or change), or the book of `public/get_order_book`
/// (whose levels are `[price, amount]`: read them with [`OrderBook`]).
///
/// # Examples
///
/// See [`Notification::book`](crate::Notification::book).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BookUpdate {
    /// `snapshot` or `change`.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// The instrument.
    pub instrument_name: String,
    /// Milliseconds since the epoch.
    pub timestamp: u64,
    /// This update's id.
    pub change_id: i64,
    /// The id of the update before (changes only).
    #[serde(default)]
    pub prev_change_id: Option<i64>,
    /// Bid levels.
    #[serde(default)]
    pub bids: Vec<BookLevel>,
    /// Ask levels.
    #[serde(default)]
    pub asks: Vec<BookLevel>,
}

/// `public/get_order_book`.
///
/// # Examples
///
/// ```
/// let book: zen_websocket_deribit::OrderBook = serde_json::from_str(
///     r#"{"instrument_name":"BTC-PERPETUAL","timestamp":1,"bids":[[64999.5,1000.0]],"asks":[[65000.0,20.0]]}"#,
/// )?;
/// assert_eq!(book.asks[0], (65000.0, 20.0));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OrderBook {
    /// The instrument.
    pub instrument_name: String,
    /// Milliseconds since the epoch.
    pub timestamp: u64,
    /// `(price, amount)`, best first.
    #[serde(default)]
    pub bids: Vec<(f64, f64)>,
    /// `(price, amount)`, best first.
    #[serde(default)]
    pub asks: Vec<(f64, f64)>,
}

/// A trade (`trades.*`, `user.trades.*`, order results, last trades).
///
/// # Examples
///
/// See [`Notification::trades`](crate::Notification::trades).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Trade {
    /// The trade's id.
    pub trade_id: String,
    /// The instrument.
    pub instrument_name: String,
    /// Milliseconds since the epoch.
    pub timestamp: u64,
    /// The price.
    pub price: f64,
    /// The amount.
    pub amount: f64,
    /// `buy` or `sell`.
    pub direction: String,
    /// The order it filled (own trades).
    #[serde(default)]
    pub order_id: Option<String>,
}

/// An order (`user.orders.*`, order results, open orders).
///
/// # Examples
///
/// See [`Notification::user_orders`](crate::Notification::user_orders).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UserOrder {
    /// The order's id.
    pub order_id: String,
    /// `open`, `filled`, `rejected`, `cancelled`, `untriggered`.
    pub order_state: String,
    /// The instrument.
    pub instrument_name: String,
    /// `buy` or `sell`.
    pub direction: String,
    /// The limit price (`None` for market orders).
    #[serde(default, deserialize_with = "lenient_f64")]
    pub price: Option<f64>,
    /// The amount.
    pub amount: f64,
    /// The amount filled.
    #[serde(default)]
    pub filled_amount: f64,
    /// `limit`, `market`, …
    #[serde(default)]
    pub order_type: Option<String>,
    /// Your label.
    #[serde(default)]
    pub label: Option<String>,
}

/// The answer to `private/buy` and `private/sell`: the order and its fills.
///
/// # Examples
///
/// ```
/// let placed: zen_websocket_deribit::OrderResponse = serde_json::from_str(
///     r#"{"order":{"order_id":"7","order_state":"open","instrument_name":"BTC-PERPETUAL","direction":"buy","price":60000,"amount":10},"trades":[]}"#,
/// )?;
/// assert_eq!(placed.order.order_id, "7");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OrderResponse {
    /// The order.
    pub order: UserOrder,
    /// Its fills.
    #[serde(default)]
    pub trades: Vec<Trade>,
}

/// A position (`private/get_positions`).
///
/// # Examples
///
/// ```
/// let position: zen_websocket_deribit::Position = serde_json::from_str(
///     r#"{"instrument_name":"BTC-PERPETUAL","size":100,"direction":"buy","average_price":60000}"#,
/// )?;
/// assert_eq!(position.size, 100.0);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Position {
    /// The instrument.
    pub instrument_name: String,
    /// Signed size.
    pub size: f64,
    /// `buy`, `sell` or `zero`.
    pub direction: String,
    /// The average entry price.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub average_price: Option<f64>,
}

/// `private/get_account_summary`.
///
/// # Examples
///
/// ```
/// let summary: zen_websocket_deribit::AccountSummary = serde_json::from_str(
///     r#"{"currency":"BTC","equity":1.5,"balance":1.5,"available_funds":1.2}"#,
/// )?;
/// assert_eq!(summary.available_funds, Some(1.2));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AccountSummary {
    /// The currency.
    pub currency: String,
    /// Equity.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub equity: Option<f64>,
    /// Balance.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub balance: Option<f64>,
    /// Funds available for trading.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub available_funds: Option<f64>,
}

/// An instrument (`public/get_instruments`).
///
/// # Examples
///
/// ```
/// let instrument: zen_websocket_deribit::Instrument = serde_json::from_str(
///     r#"{"instrument_name":"BTC-PERPETUAL","kind":"future","tick_size":0.5,"min_trade_amount":10,"is_active":true}"#,
/// )?;
/// assert_eq!(instrument.tick_size, 0.5);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Instrument {
    /// The instrument.
    pub instrument_name: String,
    /// `future`, `option`, `spot`, …
    pub kind: String,
    /// The price increment.
    pub tick_size: f64,
    /// The smallest amount.
    pub min_trade_amount: f64,
    /// Whether it trades.
    #[serde(default)]
    pub is_active: bool,
}

/// A new order for [`DeribitClient::buy`](crate::DeribitClient::buy) and
/// [`sell`](crate::DeribitClient::sell).
///
/// # Examples
///
/// ```
/// use zen_websocket_deribit::OrderRequest;
///
/// let order = OrderRequest::limit("BTC-PERPETUAL", 10.0, 60_000.0).label("grid-1").post_only();
/// let market = OrderRequest::market("ETH-PERPETUAL", 1.0);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[must_use]
pub struct OrderRequest {
    instrument_name: String,
    amount: f64,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    price: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    post_only: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    reduce_only: bool,
}

impl OrderRequest {
    /// A limit order.
    ///
    /// # Examples
    ///
    /// See [`OrderRequest`].
    pub fn limit(instrument: impl Into<String>, amount: f64, price: f64) -> Self {
        Self::new(instrument, amount, "limit", Some(price))
    }

    /// A market order.
    ///
    /// # Examples
    ///
    /// See [`OrderRequest`].
    pub fn market(instrument: impl Into<String>, amount: f64) -> Self {
        Self::new(instrument, amount, "market", None)
    }

    fn new(
        instrument: impl Into<String>,
        amount: f64,
        kind: &'static str,
        price: Option<f64>,
    ) -> Self {
        let instrument_name = instrument.into();
        Self {
            instrument_name,
            amount,
            kind,
            price,
            label: None,
            post_only: false,
            reduce_only: false,
        }
    }

    /// Your label (shown on the order and its notifications).
    ///
    /// # Examples
    ///
    /// See [`OrderRequest`].
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Rest only; never take liquidity.
    ///
    /// # Examples
    ///
    /// See [`OrderRequest`].
    pub fn post_only(mut self) -> Self {
        self.post_only = true;
        self
    }

    /// Only reduce a position.
    ///
    /// # Examples
    ///
    /// ```
    /// let order = zen_websocket_deribit::OrderRequest::market("BTC-PERPETUAL", 10.0).reduce_only();
    /// ```
    pub fn reduce_only(mut self) -> Self {
        self.reduce_only = true;
        self
    }
}
