//! What a message costs, and which bucket pays: the cost models and the message they see.

use std::{fmt, sync::Arc};

use crate::{binance::BinanceWeights, deribit::DeribitTier};

/// An outgoing message as a cost model sees it: the text or bytes about to be sent.
///
/// Build one with `From`: `&str` and `&String` are text, `&[u8]` and `&Vec<u8>` are binary.
/// [`method`](Self::method) peeks at a JSON-RPC `"method"` without parsing the message.
///
/// # Examples
///
/// ```
/// use zen_websocket_rate_limiter::Outgoing;
///
/// let text = Outgoing::from(r#"{"jsonrpc":"2.0","id":7,"method":"private/buy","params":{}}"#);
/// assert_eq!(text.method(), Some("private/buy"));
/// let bytes = Outgoing::from(&b"\x00\x01"[..]);
/// assert_eq!(bytes.as_bytes().len(), 2);
/// assert_eq!(bytes.method(), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outgoing<'a> {
    /// A text frame.
    Text(&'a str),
    /// A binary frame.
    Binary(&'a [u8]),
}

impl<'a> Outgoing<'a> {
    /// The message's bytes (text as UTF-8).
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_rate_limiter::Outgoing;
    ///
    /// assert_eq!(Outgoing::from("hi").as_bytes(), b"hi");
    /// ```
    #[must_use]
    pub fn as_bytes(&self) -> &'a [u8] {
        match *self {
            Self::Text(text) => text.as_bytes(),
            Self::Binary(bytes) => bytes,
        }
    }

    /// The `"method"` member of a JSON object, found by a quick scan rather than a parse.
    ///
    /// Only the top-level object's member counts (a `"method"` inside `params` does not);
    /// `None` for anything else: not JSON, no `"method"`, a method that is not a string, or one
    /// containing escapes. Binary frames holding JSON text work too.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_rate_limiter::Outgoing;
    ///
    /// let nested = r#"{"params":{"method":"inner"},"method" : "order.place"}"#;
    /// assert_eq!(Outgoing::from(nested).method(), Some("order.place"));
    /// assert_eq!(Outgoing::from("ping").method(), None);
    /// ```
    #[must_use]
    pub fn method(&self) -> Option<&'a str> {
        peek_method(self.as_bytes())
    }
}

impl<'a> From<&'a str> for Outgoing<'a> {
    fn from(text: &'a str) -> Self {
        Self::Text(text)
    }
}

impl<'a> From<&'a String> for Outgoing<'a> {
    fn from(text: &'a String) -> Self {
        Self::Text(text)
    }
}

impl<'a> From<&'a [u8]> for Outgoing<'a> {
    fn from(bytes: &'a [u8]) -> Self {
        Self::Binary(bytes)
    }
}

impl<'a> From<&'a Vec<u8>> for Outgoing<'a> {
    fn from(bytes: &'a Vec<u8>) -> Self {
        Self::Binary(bytes)
    }
}

/// The signature of a user cost function.
type CostFn = dyn Fn(Outgoing<'_>) -> u32 + Send + Sync + 'static;

/// What each outgoing message costs, and for Deribit which bucket pays.
///
/// | model | cost | buckets |
/// |---|---|---|
/// | [`simple`](Self::simple) (default) | 1 per message | one |
/// | [`deribit`](Self::deribit) | 500 credits; matching-engine methods 1 from their own bucket | two: `main` and `matching_engine` |
/// | [`binance`](Self::binance) | the method's request weight, 1 if unknown | one |
/// | [`custom`](Self::custom) | whatever your closure returns | one |
///
/// # Examples
///
/// ```
/// use zen_websocket_rate_limiter::{CostModel, DeribitTier};
///
/// let deribit = CostModel::deribit(DeribitTier::Tier4);
/// assert_eq!(deribit.cost_of(r#"{"method":"public/get_time"}"#), 500);
/// assert_eq!(deribit.cost_of(r#"{"method":"private/buy"}"#), 1); // matching-engine bucket
///
/// let by_size = CostModel::custom(|message| message.as_bytes().len().div_ceil(1024) as u32);
/// assert_eq!(by_size.cost_of(&vec![0u8; 3000]), 3);
/// ```
#[derive(Clone)]
pub struct CostModel(Kind);

#[derive(Clone)]
enum Kind {
    Simple,
    Deribit { rate: u32, burst: u32 },
    Binance(Arc<BinanceWeights>),
    Custom(Arc<CostFn>),
}

/// The bucket a message is charged to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lane {
    /// The limiter's configured bucket.
    Main,
    /// Deribit's matching-engine bucket.
    MatchingEngine,
}

impl CostModel {
    /// Every message costs 1 token.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_rate_limiter::CostModel;
    ///
    /// assert_eq!(CostModel::simple().cost_of("anything"), 1);
    /// ```
    pub fn simple() -> Self {
        Self(Kind::Simple)
    }

    /// Deribit's credit system: every request costs 500 credits from the main bucket, except
    /// matching-engine methods (`private/buy`, `private/sell`, `private/edit*`,
    /// `private/cancel*` order cancels, `private/close_position`, `private/mass_quote`), which
    /// cost 1 from a second bucket sized for `tier`.
    ///
    /// Pair it with a main bucket of 50,000 credits refilled at 10,000 per second, as
    /// [`RateLimiterConfig::deribit`](crate::RateLimiterConfig::deribit) does.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_rate_limiter::{CostModel, DeribitTier};
    ///
    /// let model = CostModel::deribit(DeribitTier::Tier1);
    /// assert_eq!(model.cost_of(r#"{"method":"private/cancel_all"}"#), 1);
    /// assert_eq!(model.cost_of(r#"{"method":"private/get_positions"}"#), 500);
    /// ```
    pub fn deribit(tier: DeribitTier) -> Self {
        Self::deribit_custom(tier.rate(), tier.burst())
    }

    /// Like [`deribit`](Self::deribit), with matching-engine limits of your own, such as the
    /// `matching_engine` figures `private/get_account_summary` reports for your account.
    ///
    /// Both numbers must be positive ([`RateLimiter::new`](crate::RateLimiter::new) checks).
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_rate_limiter::{CostModel, RateLimiter, RateLimiterConfig};
    ///
    /// let config = RateLimiterConfig::default()
    ///     .capacity(50_000)
    ///     .refill_rate(10_000)
    ///     .cost_model(CostModel::deribit_custom(8, 40));
    /// let limiter = RateLimiter::new(config)?;
    /// assert_eq!(limiter.status_of("matching_engine").unwrap().capacity, 40);
    /// # Ok::<(), zen_websocket_rate_limiter::Error>(())
    /// ```
    pub fn deribit_custom(rate_per_second: u32, burst: u32) -> Self {
        Self(Kind::Deribit { rate: rate_per_second, burst })
    }

    /// Binance request weights from the built-in table ([`BinanceWeights::new`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_rate_limiter::CostModel;
    ///
    /// let model = CostModel::binance();
    /// assert_eq!(model.cost_of(r#"{"id":1,"method":"exchangeInfo"}"#), 20);
    /// assert_eq!(model.cost_of(r#"{"id":2,"method":"order.place"}"#), 1);
    /// ```
    pub fn binance() -> Self {
        Self::binance_with(BinanceWeights::new())
    }

    /// Binance request weights from your own table.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_rate_limiter::{BinanceWeights, CostModel};
    ///
    /// let model = CostModel::binance_with(BinanceWeights::new().weight("depth", 50));
    /// assert_eq!(model.cost_of(r#"{"method":"depth","params":{"limit":1000}}"#), 50);
    /// ```
    pub fn binance_with(weights: BinanceWeights) -> Self {
        Self(Kind::Binance(Arc::new(weights)))
    }

    /// Your own function of the outgoing message; charged to the main bucket.
    ///
    /// Keep it cheap: it runs on every send. A cost above the bucket's capacity makes the
    /// send fail with [`Error::CostExceedsCapacity`](crate::Error::CostExceedsCapacity).
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_rate_limiter::CostModel;
    ///
    /// // Orders cost 5, everything else 1.
    /// let model = CostModel::custom(|message| match message.method() {
    ///     Some(method) if method.starts_with("order.") => 5,
    ///     _ => 1,
    /// });
    /// assert_eq!(model.cost_of(r#"{"method":"order.cancel"}"#), 5);
    /// ```
    pub fn custom(cost: impl Fn(Outgoing<'_>) -> u32 + Send + Sync + 'static) -> Self {
        Self(Kind::Custom(Arc::new(cost)))
    }

    /// What `message` costs under this model (in whichever bucket pays for it).
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_rate_limiter::CostModel;
    ///
    /// assert_eq!(CostModel::simple().cost_of(&b"bytes"[..]), 1);
    /// ```
    #[must_use]
    pub fn cost_of<'a>(&self, message: impl Into<Outgoing<'a>>) -> u32 {
        self.charge(message.into()).1
    }

    /// The bucket that pays for `message`, and how much.
    pub(crate) fn charge(&self, message: Outgoing<'_>) -> (Lane, u32) {
        match &self.0 {
            Kind::Simple => (Lane::Main, 1),
            Kind::Deribit { .. } => match message.method() {
                Some(method) if crate::deribit::is_matching_engine(method) => {
                    (Lane::MatchingEngine, 1)
                }
                _ => (Lane::Main, crate::deribit::REQUEST_CREDITS),
            },
            Kind::Binance(weights) => (Lane::Main, weights.weight_of(message.method())),
            Kind::Custom(cost) => (Lane::Main, cost(message)),
        }
    }

    /// The matching-engine bucket's `(rate per second, burst)`, for the Deribit model.
    pub(crate) fn matching_engine(&self) -> Option<(u32, u32)> {
        match self.0 {
            Kind::Deribit { rate, burst } => Some((rate, burst)),
            _ => None,
        }
    }
}

impl Default for CostModel {
    /// [`CostModel::simple`].
    fn default() -> Self {
        Self::simple()
    }
}

impl fmt::Debug for CostModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Kind::Simple => f.write_str("CostModel::Simple"),
            Kind::Deribit { rate, burst } => f
                .debug_struct("CostModel::Deribit")
                .field("matching_engine_rate", rate)
                .field("matching_engine_burst", burst)
                .finish(),
            Kind::Binance(weights) => f.debug_tuple("CostModel::Binance").field(weights).finish(),
            Kind::Custom(_) => f.write_str("CostModel::Custom(..)"),
        }
    }
}

/// Finds the top-level `"method"` string of a JSON object in one pass, tracking nesting and
/// skipping over strings (so a `"method"` inside a string or a nested object is ignored).
fn peek_method(bytes: &[u8]) -> Option<&str> {
    let mut depth = 0usize;
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.checked_sub(1)?,
            b'"' => {
                let end = string_end(bytes, at + 1)?;
                if depth == 1
                    && &bytes[at + 1..end] == b"method"
                    && let Some(value) = member_value(bytes, end + 1)
                {
                    return value;
                }
                at = end;
            }
            _ => {}
        }
        at += 1;
    }
    None
}

/// After a `"method"` string: `Some(value)` when it was a key (`None` inside if its value
/// is not a plain string), `None` when it was not a key at all.
fn member_value(bytes: &[u8], after: usize) -> Option<Option<&str>> {
    let colon = skip_whitespace(bytes, after);
    if bytes.get(colon) != Some(&b':') {
        return None;
    }
    let open = skip_whitespace(bytes, colon + 1);
    if bytes.get(open) != Some(&b'"') {
        return Some(None);
    }
    let value = string_end(bytes, open + 1).map(|end| &bytes[open + 1..end]);
    Some(
        value
            .filter(|value| !value.contains(&b'\\'))
            .and_then(|value| std::str::from_utf8(value).ok()),
    )
}

/// The index of the quote closing a string whose contents start at `from`.
fn string_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' => at += 2,
            b'"' => return Some(at),
            _ => at += 1,
        }
    }
    None
}

fn skip_whitespace(bytes: &[u8], from: usize) -> usize {
    let mut at = from;
    while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    fn method(json: &str) -> Option<&str> {
        peek_method(json.as_bytes())
    }

    #[test]
    fn finds_the_top_level_method() {
        assert_eq!(
            method(r#"{"jsonrpc":"2.0","id":1,"method":"public/test","params":{}}"#),
            Some("public/test")
        );
        assert_eq!(method("{\n  \"method\" :\t\"private/buy\"\n}"), Some("private/buy"));
        assert_eq!(
            method(r#"{"params":{"method":"x","a":[{"method":"y"}]},"method":"z"}"#),
            Some("z")
        );
    }

    #[test]
    fn ignores_method_inside_strings_and_values() {
        assert_eq!(method(r#"{"note":"\"method\":\"x\"","method":"y"}"#), Some("y"));
        assert_eq!(method(r#"{"type":"method","id":1}"#), None);
        assert_eq!(method(r#"["method", "x"]"#), None);
    }

    #[test]
    fn gives_up_on_odd_input() {
        assert_eq!(method(""), None);
        assert_eq!(method("not json"), None);
        assert_eq!(method(r#"{"method":42}"#), None);
        assert_eq!(method(r#"{"method":"a\"b"}"#), None);
        assert_eq!(method(r#"{"method":"unterminated"#), None);
        assert_eq!(method(r#"}{"method":"x"}"#), None);
        assert_eq!(peek_method(b"{\"method\":\"\xff\"}"), None);
    }

    #[test]
    fn deribit_routes_matching_engine_methods() {
        let model = CostModel::deribit(DeribitTier::Tier2);
        let charge = |method: &str| {
            let json = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"{method}"}}"#);
            model.charge(Outgoing::from(json.as_str()))
        };
        assert_eq!(charge("private/buy"), (Lane::MatchingEngine, 1));
        assert_eq!(charge("private/cancel_all_by_instrument"), (Lane::MatchingEngine, 1));
        assert_eq!(charge("private/cancel_withdrawal"), (Lane::Main, 500));
        assert_eq!(charge("public/subscribe"), (Lane::Main, 500));
        assert_eq!(model.charge(Outgoing::from("raw")), (Lane::Main, 500));
        assert_eq!(model.matching_engine(), Some((20, 50)));
    }

    #[test]
    fn debug_names_the_model() {
        assert_eq!(format!("{:?}", CostModel::default()), "CostModel::Simple");
        assert_eq!(format!("{:?}", CostModel::custom(|_| 3)), "CostModel::Custom(..)");
    }
}
