//! Binance request weights: a small built-in table, a default, and your overrides.

use std::collections::HashMap;

/// The weight of a request on Binance's Spot WebSocket API (`wss://ws-api.binance.com`),
/// looked up by its `"method"`, counted against the `REQUEST_WEIGHT` limit (6,000 per minute
/// per IP by default).
///
/// The built-in table holds the weights Binance documents for the default parameters:
///
/// | method | weight |
/// |---|---|
/// | `ping`, `time` | 1 |
/// | `order.place`, `order.test`, `order.cancel`, `order.cancelReplace`, `openOrders.cancelAll`, `orderList.cancel` | 1 |
/// | `klines`, `uiKlines`, `avgPrice`, `ticker.price`, `ticker.book`, `ticker.24hr` (one symbol) | 2 |
/// | `session.logon`, `session.status`, `session.logout`, `userDataStream.start`, `userDataStream.ping`, `userDataStream.stop` | 2 |
/// | `trades.aggregate`, `ticker`, `ticker.tradingDay` (one symbol), `order.status`, `orderList.status` | 4 |
/// | `depth` (limit ≤ 100, the default) | 5 |
/// | `openOrders.status` (one symbol), `openOrderLists.status` | 6 |
/// | `exchangeInfo`, `account.status`, `allOrders`, `allOrderLists`, `myTrades`, `account.commission` | 20 |
/// | `trades.recent`, `trades.historical` | 25 |
/// | `account.rateLimits.orders` | 40 |
/// | anything else | the default weight, 1 |
///
/// Weights that grow with parameters (a deeper `depth`, `ticker.*` over many symbols,
/// `openOrders.status` without a symbol) are not read from the message: override them with
/// [`weight`](Self::weight) for the parameters you use, or use a
/// [`CostModel::custom`](crate::CostModel::custom) closure. Binance changes weights from time
/// to time; its `rateLimits` answers are the authority.
///
/// # Examples
///
/// ```
/// use zen_websocket_rate_limiter::BinanceWeights;
///
/// let weights = BinanceWeights::new().weight("depth", 25).default_weight(2);
/// assert_eq!(weights.weight_of(Some("depth")), 25);
/// assert_eq!(weights.weight_of(Some("exchangeInfo")), 20);
/// assert_eq!(weights.weight_of(Some("brand.new")), 2);
/// assert_eq!(weights.weight_of(None), 2);
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct BinanceWeights {
    default_weight: u32,
    overrides: HashMap<String, u32>,
}

/// Binance's documented weights at default parameters.
const TABLE: &[(&str, u32)] = &[
    ("ping", 1),
    ("time", 1),
    ("order.place", 1),
    ("order.test", 1),
    ("order.cancel", 1),
    ("order.cancelReplace", 1),
    ("openOrders.cancelAll", 1),
    ("orderList.cancel", 1),
    ("klines", 2),
    ("uiKlines", 2),
    ("avgPrice", 2),
    ("ticker.price", 2),
    ("ticker.book", 2),
    ("ticker.24hr", 2),
    ("session.logon", 2),
    ("session.status", 2),
    ("session.logout", 2),
    ("userDataStream.start", 2),
    ("userDataStream.ping", 2),
    ("userDataStream.stop", 2),
    ("trades.aggregate", 4),
    ("ticker", 4),
    ("ticker.tradingDay", 4),
    ("order.status", 4),
    ("orderList.status", 4),
    ("depth", 5),
    ("openOrders.status", 6),
    ("openOrderLists.status", 6),
    ("exchangeInfo", 20),
    ("account.status", 20),
    ("allOrders", 20),
    ("allOrderLists", 20),
    ("myTrades", 20),
    ("account.commission", 20),
    ("trades.recent", 25),
    ("trades.historical", 25),
    ("account.rateLimits.orders", 40),
];

impl BinanceWeights {
    /// The built-in table, with a default weight of 1.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_rate_limiter::BinanceWeights;
    ///
    /// assert_eq!(BinanceWeights::new().weight_of(Some("myTrades")), 20);
    /// ```
    pub fn new() -> Self {
        Self { default_weight: 1, overrides: HashMap::new() }
    }

    /// Sets the weight of `method`, replacing the table's.
    ///
    /// Default is the table above.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_rate_limiter::BinanceWeights;
    ///
    /// let weights = BinanceWeights::new().weight("ticker.24hr", 80); // all symbols
    /// assert_eq!(weights.weight_of(Some("ticker.24hr")), 80);
    /// ```
    pub fn weight(mut self, method: impl Into<String>, weight: u32) -> Self {
        self.overrides.insert(method.into(), weight);
        self
    }

    /// The weight of methods in neither the table nor the overrides, and of messages
    /// without a `"method"`.
    ///
    /// Default is 1.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_rate_limiter::BinanceWeights;
    ///
    /// assert_eq!(BinanceWeights::new().default_weight(3).weight_of(None), 3);
    /// ```
    pub fn default_weight(mut self, weight: u32) -> Self {
        self.default_weight = weight;
        self
    }

    /// The weight of a request with this `method`: your override, else the table, else the
    /// default weight.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_rate_limiter::BinanceWeights;
    ///
    /// assert_eq!(BinanceWeights::new().weight_of(Some("trades.recent")), 25);
    /// ```
    #[must_use]
    pub fn weight_of(&self, method: Option<&str>) -> u32 {
        let Some(method) = method else {
            return self.default_weight;
        };
        if let Some(weight) = self.overrides.get(method) {
            return *weight;
        }
        TABLE
            .iter()
            .find(|(name, _)| *name == method)
            .map_or(self.default_weight, |(_, weight)| *weight)
    }
}

impl Default for BinanceWeights {
    /// [`BinanceWeights::new`].
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_no_duplicates() {
        for (index, (name, _)) in TABLE.iter().enumerate() {
            assert!(
                TABLE[index + 1..].iter().all(|(other, _)| other != name),
                "{name} appears twice"
            );
        }
    }

    #[test]
    fn overrides_win_over_the_table() {
        let weights = BinanceWeights::new().weight("order.place", 2);
        assert_eq!(weights.weight_of(Some("order.place")), 2);
        assert_eq!(weights.weight_of(Some("order.cancel")), 1);
    }
}
