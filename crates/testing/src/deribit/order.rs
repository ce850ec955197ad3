//! The order model: the public view of an order (direction, type, state) and the full order
//! with its Deribit JSON.

use serde_json::{Value, json};

use crate::message::ConnectionId;

/// Buy or sell.
///
/// # Examples
///
/// ```
/// use zen_websocket_testing::OrderDirection;
///
/// assert_eq!(OrderDirection::Buy.as_str(), "buy");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderDirection {
    /// `private/buy`.
    Buy,
    /// `private/sell`.
    Sell,
}

impl OrderDirection {
    /// The name Deribit uses: `buy` or `sell`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use zen_websocket_testing::OrderDirection;
    /// assert_eq!(OrderDirection::Sell.as_str(), "sell");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Buy => "buy",
            Self::Sell => "sell",
        }
    }
}

/// The order types the simulator takes.
///
/// # Examples
///
/// ```
/// use zen_websocket_testing::OrderType;
///
/// assert_eq!(OrderType::Market.as_str(), "market");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderType {
    /// Rests in the book at its price until cancelled (nothing trades against it).
    Limit,
    /// Fills at once, in full, at the instrument's mark price.
    Market,
}

impl OrderType {
    /// The name Deribit uses: `limit` or `market`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use zen_websocket_testing::OrderType;
    /// assert_eq!(OrderType::Limit.as_str(), "limit");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Limit => "limit",
            Self::Market => "market",
        }
    }
}

/// Where an order stands.
///
/// # Examples
///
/// ```
/// use zen_websocket_testing::OrderState;
///
/// assert_eq!(OrderState::Cancelled.as_str(), "cancelled");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderState {
    /// Resting (`order_state: "open"`).
    Open,
    /// Filled in full.
    Filled,
    /// Cancelled: by a request, by cancel-on-disconnect, or at once (an unfilled
    /// `immediate_or_cancel` or `fill_or_kill` limit order).
    Cancelled,
}

impl OrderState {
    /// The name Deribit uses: `open`, `filled` or `cancelled`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use zen_websocket_testing::OrderState;
    /// assert_eq!(OrderState::Open.as_str(), "open");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Filled => "filled",
            Self::Cancelled => "cancelled",
        }
    }
}

/// An order as the simulator holds it, from [`DeribitSimulator::orders`] and
/// [`DeribitSimulator::open_orders`].
///
/// [`DeribitSimulator::orders`]: crate::DeribitSimulator::orders
/// [`DeribitSimulator::open_orders`]: crate::DeribitSimulator::open_orders
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// use zen_websocket_testing::{DeribitSimulator, OrderState};
///
/// let simulator = DeribitSimulator::start().await?;
/// // … a client places orders …
/// let open = simulator.orders().into_iter().filter(|order| order.state == OrderState::Open);
/// assert_eq!(open.count(), simulator.open_orders().len());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SimulatedOrder {
    /// The id the simulator gave it, for example `BTC-1`.
    pub order_id: String,
    /// The connection that created it (the one whose cancel-on-disconnect covers it).
    pub connection: ConnectionId,
    /// The instrument, for example `BTC-PERPETUAL`.
    pub instrument_name: String,
    /// Buy or sell.
    pub direction: OrderDirection,
    /// Limit or market.
    pub order_type: OrderType,
    /// The limit price; for a market order, the price it filled at.
    pub price: f64,
    /// The amount ordered.
    pub amount: f64,
    /// How much has filled.
    pub filled_amount: f64,
    /// Open, filled or cancelled.
    pub state: OrderState,
    /// The client's label (empty when none was given).
    pub label: String,
    /// Why it was cancelled: `user_request`, `cancel_on_disconnect` or
    /// `immediate_or_cancel`; `None` unless cancelled.
    pub cancel_reason: Option<String>,
}

/// An order with what only its JSON shows.
#[derive(Debug, Clone)]
pub(crate) struct Order {
    pub(crate) public: SimulatedOrder,
    pub(crate) time_in_force: String,
    pub(crate) post_only: bool,
    pub(crate) reduce_only: bool,
    pub(crate) replaced: bool,
    pub(crate) average_price: f64,
    pub(crate) created_ms: u64,
    pub(crate) updated_ms: u64,
}

impl Order {
    /// The order as Deribit sends it (`order_state`, `order_type`, timestamps, …).
    pub(crate) fn to_json(&self) -> Value {
        let order = &self.public;
        let mut json = json!({
            "order_id": order.order_id,
            "order_state": order.state.as_str(),
            "order_type": order.order_type.as_str(),
            "instrument_name": order.instrument_name,
            "direction": order.direction.as_str(),
            "price": order.price,
            "amount": order.amount,
            "filled_amount": order.filled_amount,
            "average_price": self.average_price,
            "label": order.label,
            "time_in_force": self.time_in_force,
            "post_only": self.post_only,
            "reduce_only": self.reduce_only,
            "replaced": self.replaced,
            "api": true,
            "web": false,
            "is_liquidation": false,
            "creation_timestamp": self.created_ms,
            "last_update_timestamp": self.updated_ms,
        });
        if let Some(reason) = &order.cancel_reason {
            json["cancel_reason"] = reason.as_str().into();
        }
        json
    }

    pub(crate) fn is_open(&self) -> bool {
        self.public.state == OrderState::Open
    }

    pub(crate) fn cancel(&mut self, reason: &str, now_ms: u64) {
        self.public.state = OrderState::Cancelled;
        self.public.cancel_reason = Some(reason.to_owned());
        self.updated_ms = now_ms;
    }
}
