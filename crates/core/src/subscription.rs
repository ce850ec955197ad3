//! Subscription dialects: how a venue is asked to subscribe, and how it confirms.

use std::{fmt, sync::Arc};

use serde_json::{Value, json};

use crate::rpc::RequestId;

/// Identifies one confirmed [`Client::subscribe`](crate::Client::subscribe) call.
///
/// # Examples
///
/// ```
/// use zen_websocket_core::SubscriptionId;
///
/// assert_eq!(SubscriptionId::new(4).get(), 4);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubscriptionId(u64);

impl SubscriptionId {
    /// Wraps a raw id (ids handed out by a client count up from 1).
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_core::SubscriptionId;
    ///
    /// assert_eq!(SubscriptionId::new(1), SubscriptionId::new(1));
    /// ```
    #[must_use]
    pub const fn new(raw: u64) -> Self {
        Self(raw)
    }

    /// The raw number.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_core::SubscriptionId;
    ///
    /// assert_eq!(SubscriptionId::new(9).get(), 9);
    /// ```
    #[must_use]
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for SubscriptionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// A venue's way of subscribing to channels, set with
/// [`Config::subscription_protocol`](crate::Config::subscription_protocol).
///
/// The client sends [`subscribe_message`](Self::subscribe_message) with a fresh request id,
/// waits for the response carrying that id, and asks [`confirm`](Self::confirm) whether every
/// channel was accepted. A response with a JSON-RPC `error` member is a rejection before
/// `confirm` is asked. Implement the trait for venues whose dialect is not built in.
///
/// # Examples
///
/// ```
/// use serde_json::{Value, json};
/// use zen_websocket_core::{RequestId, SubscriptionProtocol};
///
/// /// `{"op":"subscribe","args":[…],"id":…}`, answered with `{"id":…,"success":true}`.
/// #[derive(Debug)]
/// struct OpArgs;
///
/// impl SubscriptionProtocol for OpArgs {
///     fn subscribe_message(&self, id: &RequestId, channels: &[String]) -> Value {
///         json!({"op": "subscribe", "args": channels, "id": id})
///     }
///     fn unsubscribe_message(&self, id: &RequestId, channels: &[String]) -> Value {
///         json!({"op": "unsubscribe", "args": channels, "id": id})
///     }
///     fn confirm(&self, channels: &[String], response: &Value) -> Result<(), Vec<String>> {
///         if response["success"] == true { Ok(()) } else { Err(channels.to_vec()) }
///     }
/// }
/// ```
pub trait SubscriptionProtocol: fmt::Debug + Send + Sync + 'static {
    /// The frame that subscribes to `channels`; it must carry `id` so the answer can be matched.
    fn subscribe_message(&self, id: &RequestId, channels: &[String]) -> Value;

    /// The frame that unsubscribes from `channels`, carrying `id`.
    fn unsubscribe_message(&self, id: &RequestId, channels: &[String]) -> Value;

    /// Checks the server's whole response object (the frame whose id matched).
    ///
    /// # Errors
    ///
    /// The channels the server did not confirm.
    fn confirm(&self, channels: &[String], response: &Value) -> Result<(), Vec<String>>;
}

/// The JSON-RPC dialect used by Deribit: `public/subscribe {channels}`, answered with the list
/// of subscribed channels. Channels that need authentication (`user.*`) go through
/// `private/subscribe`. This is the default protocol.
///
/// # Examples
///
/// ```
/// use serde_json::json;
/// use zen_websocket_core::{JsonRpcSubscriptions, RequestId, SubscriptionProtocol};
///
/// let channels = vec!["trades.BTC-PERPETUAL.100ms".to_owned()];
/// let frame = JsonRpcSubscriptions.subscribe_message(&RequestId::from(1), &channels);
/// assert_eq!(frame["method"], "public/subscribe");
/// let response = json!({"jsonrpc": "2.0", "id": 1, "result": channels});
/// assert!(JsonRpcSubscriptions.confirm(&channels, &response).is_ok());
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonRpcSubscriptions;

impl JsonRpcSubscriptions {
    fn method(channels: &[String], verb: &str) -> String {
        let private = channels.iter().any(|channel| channel.starts_with("user."));
        format!("{}/{verb}", if private { "private" } else { "public" })
    }
}

impl SubscriptionProtocol for JsonRpcSubscriptions {
    fn subscribe_message(&self, id: &RequestId, channels: &[String]) -> Value {
        let method = Self::method(channels, "subscribe");
        json!({"jsonrpc": "2.0", "id": id, "method": method, "params": {"channels": channels}})
    }

    fn unsubscribe_message(&self, id: &RequestId, channels: &[String]) -> Value {
        let method = Self::method(channels, "unsubscribe");
        json!({"jsonrpc": "2.0", "id": id, "method": method, "params": {"channels": channels}})
    }

    fn confirm(&self, channels: &[String], response: &Value) -> Result<(), Vec<String>> {
        let confirmed = response["result"].as_array().map(Vec::as_slice).unwrap_or_default();
        let missing: Vec<String> = channels
            .iter()
            .filter(|channel| !confirmed.iter().any(|c| c.as_str() == Some(channel.as_str())))
            .cloned()
            .collect();
        if missing.is_empty() { Ok(()) } else { Err(missing) }
    }
}

/// Binance's dialect: `{"method":"SUBSCRIBE","params":[…],"id":n}`, confirmed by a response
/// with the same id and `"result": null`; refused with an `error` object.
///
/// # Examples
///
/// ```
/// use serde_json::json;
/// use zen_websocket_core::{BinanceSubscriptions, RequestId, SubscriptionProtocol};
///
/// let channels = vec!["btcusdt@aggTrade".to_owned()];
/// let frame = BinanceSubscriptions.subscribe_message(&RequestId::from(1), &channels);
/// assert_eq!(frame, json!({"method": "SUBSCRIBE", "params": ["btcusdt@aggTrade"], "id": 1}));
/// assert!(BinanceSubscriptions.confirm(&channels, &json!({"result": null, "id": 1})).is_ok());
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct BinanceSubscriptions;

impl SubscriptionProtocol for BinanceSubscriptions {
    fn subscribe_message(&self, id: &RequestId, channels: &[String]) -> Value {
        json!({"method": "SUBSCRIBE", "params": channels, "id": id})
    }

    fn unsubscribe_message(&self, id: &RequestId, channels: &[String]) -> Value {
        json!({"method": "UNSUBSCRIBE", "params": channels, "id": id})
    }

    fn confirm(&self, channels: &[String], response: &Value) -> Result<(), Vec<String>> {
        match response.get("result") {
            Some(Value::Null) => Ok(()),
            _ => Err(channels.to_vec()),
        }
    }
}

/// The shared form in which a [`Config`](crate::Config) holds its protocol.
pub(crate) type SharedProtocol = Arc<dyn SubscriptionProtocol>;

#[cfg(test)]
mod tests {
    use super::*;

    fn channels(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    #[test]
    fn private_channels_use_private_methods() {
        let frame = JsonRpcSubscriptions
            .subscribe_message(&RequestId::from(2), &channels(&["user.orders.any.raw"]));
        assert_eq!(frame["method"], "private/subscribe");
        assert_eq!(frame["id"], 2);
    }

    #[test]
    fn partial_confirmations_name_the_missing_channels() {
        let asked = channels(&["a", "b"]);
        let missing = JsonRpcSubscriptions.confirm(&asked, &json!({"result": ["a"]})).unwrap_err();
        assert_eq!(missing, ["b"]);
        assert!(JsonRpcSubscriptions.confirm(&asked, &json!({"result": "ok"})).is_err());
    }
}
