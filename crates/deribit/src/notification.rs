//! Deribit's notifications — `{"method":"subscription","params":{"channel","data"}}` — and the
//! order-book sequence check.

use std::collections::HashMap;

use serde::de::DeserializeOwned;
use serde_json::Value;
use zen_websocket_core::Message;

use crate::{
    error::{Error, Result},
    types::{BookUpdate, Ticker, Trade, UserOrder},
};

/// One notification of a subscribed channel.
///
/// # Examples
///
/// ```
/// use zen_websocket_core::Message;
/// use zen_websocket_deribit::Notification;
///
/// let frame = Message::from(r#"{"jsonrpc":"2.0","method":"subscription","params":{"channel":"ticker.BTC-PERPETUAL.100ms","data":{"instrument_name":"BTC-PERPETUAL","timestamp":1,"mark_price":65000.5}}}"#);
/// let notification = Notification::parse(&frame).unwrap();
/// assert_eq!(notification.channel, "ticker.BTC-PERPETUAL.100ms");
/// assert_eq!(notification.ticker().unwrap().mark_price, Some(65000.5));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Notification {
    /// The channel, e.g. `book.BTC-PERPETUAL.100ms`.
    pub channel: String,
    /// The payload as Deribit sent it.
    pub data: Value,
}

impl Notification {
    /// The notification in `message`, if it is one.
    ///
    /// # Examples
    ///
    /// See [`Notification`].
    #[must_use]
    pub fn parse(message: &Message) -> Option<Self> {
        let value: Value = serde_json::from_slice(message.as_bytes()).ok()?;
        if value["method"] != "subscription" {
            return None;
        }
        let channel = value["params"]["channel"].as_str()?.to_owned();
        let data = value["params"]["data"].clone();
        Some(Self { channel, data })
    }

    /// A `ticker.*` payload.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidResponse`] when the data does not fit.
    ///
    /// # Examples
    ///
    /// See [`Notification`].
    pub fn ticker(&self) -> Result<Ticker> {
        self.decode()
    }

    /// A `book.*` payload (snapshot or change).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidResponse`] when the data does not fit.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_core::Message;
    /// use zen_websocket_deribit::Notification;
    ///
    /// let frame = Message::from(r#"{"method":"subscription","params":{"channel":"book.BTC-PERPETUAL.100ms","data":{"type":"snapshot","instrument_name":"BTC-PERPETUAL","timestamp":1,"change_id":7,"bids":[["new",100.0,5.0]],"asks":[]}}}"#);
    /// let book = Notification::parse(&frame).unwrap().book().unwrap();
    /// assert_eq!((book.change_id, book.bids[0].1), (7, 100.0));
    /// ```
    pub fn book(&self) -> Result<BookUpdate> {
        self.decode()
    }

    /// A `trades.*` or `user.trades.*` payload (a list).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidResponse`] when the data does not fit.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_core::Message;
    /// use zen_websocket_deribit::Notification;
    ///
    /// let frame = Message::from(r#"{"method":"subscription","params":{"channel":"trades.BTC-PERPETUAL.raw","data":[{"trade_id":"9178","instrument_name":"BTC-PERPETUAL","timestamp":1,"price":3948.69,"amount":10,"direction":"sell"}]}}"#);
    /// assert_eq!(Notification::parse(&frame).unwrap().trades().unwrap()[0].price, 3948.69);
    /// ```
    pub fn trades(&self) -> Result<Vec<Trade>> {
        self.decode()
    }

    /// A `user.orders.*` payload: one order (`.raw`) or a list (aggregated intervals), as a
    /// list either way.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidResponse`] when the data does not fit.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_core::Message;
    /// use zen_websocket_deribit::Notification;
    ///
    /// let frame = Message::from(r#"{"method":"subscription","params":{"channel":"user.orders.BTC-PERPETUAL.raw","data":{"order_id":"5","order_state":"open","instrument_name":"BTC-PERPETUAL","direction":"buy","price":10502.52,"amount":200}}}"#);
    /// assert_eq!(Notification::parse(&frame).unwrap().user_orders().unwrap()[0].order_id, "5");
    /// ```
    pub fn user_orders(&self) -> Result<Vec<UserOrder>> {
        if self.data.is_array() { self.decode() } else { self.decode().map(|order| vec![order]) }
    }

    fn decode<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_value(self.data.clone()).map_err(|error| Error::InvalidResponse {
            method: format!("subscription {}", self.channel),
            detail: error.to_string(),
        })
    }
}

/// What the sequence check says about a book notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sequence {
    /// In order (or not a sequenced book): deliver it.
    InOrder,
    /// A change whose `prev_change_id` is not the last `change_id`: the book is stale.
    Gap,
    /// A change while waiting for the fresh snapshot after a gap: drop it.
    Resyncing,
}

/// The last `change_id` of each sequenced book channel.
#[derive(Debug, Default)]
pub(crate) struct Books {
    last: HashMap<String, Option<i64>>,
}

impl Books {
    /// Checks `notification` (only `book.*` channels with a `type` are sequenced).
    pub(crate) fn check(&mut self, notification: &Notification) -> Sequence {
        if !notification.channel.starts_with("book.") {
            return Sequence::InOrder;
        }
        let data = &notification.data;
        let change_id = data["change_id"].as_i64();
        match data["type"].as_str() {
            Some("snapshot") => {
                self.last.insert(notification.channel.clone(), change_id);
                Sequence::InOrder
            }
            Some("change") => match self.last.get_mut(&notification.channel) {
                Some(None) => Sequence::Resyncing,
                Some(last) if *last == data["prev_change_id"].as_i64() => {
                    *last = change_id;
                    Sequence::InOrder
                }
                Some(last) => {
                    *last = None;
                    Sequence::Gap
                }
                // A change before any snapshot: nothing to check it against yet.
                None => Sequence::InOrder,
            },
            _ => Sequence::InOrder,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn book(kind: &str, change_id: i64, prev: Option<i64>) -> Notification {
        let mut data = json!({"type": kind, "change_id": change_id, "instrument_name": "X", "timestamp": 1, "bids": [], "asks": []});
        if let Some(prev) = prev {
            data["prev_change_id"] = json!(prev);
        }
        Notification { channel: "book.X.100ms".into(), data }
    }

    #[test]
    fn changes_in_order_pass_and_a_skipped_id_is_a_gap_until_the_next_snapshot() {
        let mut books = Books::default();
        assert_eq!(books.check(&book("snapshot", 10, None)), Sequence::InOrder);
        assert_eq!(books.check(&book("change", 11, Some(10))), Sequence::InOrder);
        assert_eq!(books.check(&book("change", 13, Some(12))), Sequence::Gap);
        assert_eq!(books.check(&book("change", 14, Some(13))), Sequence::Resyncing);
        assert_eq!(books.check(&book("snapshot", 20, None)), Sequence::InOrder);
        assert_eq!(books.check(&book("change", 21, Some(20))), Sequence::InOrder);
    }

    #[test]
    fn other_channels_are_not_sequenced() {
        let mut books = Books::default();
        let ticker = Notification { channel: "ticker.X.100ms".into(), data: json!({}) };
        assert_eq!(books.check(&ticker), Sequence::InOrder);
    }
}
