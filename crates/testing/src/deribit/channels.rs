//! Channel names: which ones exist (the facts' channel table), what each publishes, and which
//! need a logged-in connection.

use super::market::Market;

/// Intervals a channel may name.
const INTERVALS: [&str; 3] = ["raw", "100ms", "agg2"];
/// Instrument kinds in `{kind}.{currency}` channels.
const KINDS: [&str; 7] =
    ["any", "future", "option", "spot", "future_combo", "option_combo", "combo"];
/// Price groupings of the grouped book channel.
const GROUPS: [&str; 8] = ["none", "1", "2", "5", "10", "25", "100", "250"];
/// Depths of the grouped book channel.
const DEPTHS: [&str; 3] = ["1", "10", "20"];
/// Resolutions of `chart.trades`.
const RESOLUTIONS: [&str; 12] =
    ["1", "3", "5", "10", "15", "30", "60", "120", "180", "360", "720", "1D"];

/// A channel the simulator knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Channel {
    /// `book.{instr}.{interval}`: a snapshot, then changes.
    Book { instrument: String },
    /// `book.{instr}.{group}.{depth}.{interval}`: full snapshots, no `type`.
    GroupedBook { instrument: String, depth: usize },
    /// `trades.{instr}.{interval}`.
    Trades { instrument: String },
    /// `ticker.{instr}.{interval}`.
    Ticker { instrument: String },
    /// `quote.{instr}`.
    Quote { instrument: String },
    /// `deribit_price_index.{index}`.
    PriceIndex { index: String },
    /// `user.orders.…`.
    UserOrders(Filter),
    /// `user.trades.…`.
    UserTrades(Filter),
    /// `user.changes.…`.
    UserChanges(Filter),
    /// A valid channel the simulator publishes nothing on (`chart.trades.…`, `perpetual.…`,
    /// `platform_state…`, `trades.{kind}.{currency}.…`, `user.portfolio.…`).
    Silent,
}

/// Which instruments a `user.*` channel covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Filter {
    /// One instrument (`any` as the instrument covers all).
    Instrument(String),
    /// `{kind}.{currency}`, either of which may be `any`.
    KindCurrency { kind: String, currency: String },
}

impl Filter {
    pub(crate) fn covers(&self, instrument: &str) -> bool {
        match self {
            Self::Instrument(name) => name == "any" || name == instrument,
            Self::KindCurrency { kind, currency } => {
                (kind == "any" || kind == kind_of(instrument))
                    && (currency == "any" || currency.eq_ignore_ascii_case(currency_of(instrument)))
            }
        }
    }
}

/// Whether the channel names the `raw` interval (and so needs a logged-in connection).
pub(crate) fn is_raw(name: &str) -> bool {
    name.ends_with(".raw")
}

/// Whether the channel is about the account (`user.*`, needs a logged-in connection).
pub(crate) fn is_user(name: &str) -> bool {
    name.starts_with("user.")
}

/// The currency of an instrument: `BTC` for `BTC-PERPETUAL` and `BTC_USDC-PERPETUAL`.
pub(crate) fn currency_of(instrument: &str) -> &str {
    let base = instrument.split('-').next().unwrap_or(instrument);
    base.split('_').next().unwrap_or(base)
}

/// The kind of an instrument, from the shape of its name: `BTC-PERPETUAL` and `BTC-27DEC24`
/// are futures, `BTC-27DEC24-60000-C` an option, `BTC_USDC` spot.
pub(crate) fn kind_of(instrument: &str) -> &'static str {
    match instrument.split('-').count() {
        1 => "spot",
        4 => "option",
        _ => "future",
    }
}

/// Parses `name`; `None` for a channel that does not exist (or names an unknown instrument,
/// currency or index).
pub(crate) fn parse(name: &str, market: &Market) -> Option<Channel> {
    let parts: Vec<&str> = name.split('.').collect();
    let instrument = |part: &str| market.has_instrument(part).then(|| part.to_owned());
    let interval = |part: &str| INTERVALS.contains(&part);
    match parts.as_slice() {
        ["book", instr, int] if interval(int) => {
            instrument(instr).map(|instrument| Channel::Book { instrument })
        }
        ["book", instr, group, depth, int]
            if GROUPS.contains(group) && DEPTHS.contains(depth) && interval(int) =>
        {
            let depth = depth.parse().ok()?;
            instrument(instr).map(|instrument| Channel::GroupedBook { instrument, depth })
        }
        ["trades", instr, int] if interval(int) => {
            instrument(instr).map(|instrument| Channel::Trades { instrument })
        }
        ["trades", kind, currency, int] if interval(int) => {
            kind_currency(market, kind, currency).map(|_| Channel::Silent)
        }
        ["ticker", instr, int] if interval(int) => {
            instrument(instr).map(|instrument| Channel::Ticker { instrument })
        }
        ["quote", instr] => instrument(instr).map(|instrument| Channel::Quote { instrument }),
        ["deribit_price_index", index] => {
            market.index_price(index).map(|_| Channel::PriceIndex { index: (*index).to_owned() })
        }
        ["chart", "trades", instr, resolution] if RESOLUTIONS.contains(resolution) => {
            instrument(instr).map(|_| Channel::Silent)
        }
        ["perpetual", instr, int] if interval(int) => instrument(instr).map(|_| Channel::Silent),
        ["platform_state"] | ["platform_state", "public_methods_state"] => Some(Channel::Silent),
        ["user", "portfolio", currency] => (market.has_currency(currency)
            || currency.eq_ignore_ascii_case("any"))
        .then_some(Channel::Silent),
        ["user", topic, rest @ ..] => {
            let filter = user_filter(market, rest)?;
            match *topic {
                "orders" => Some(Channel::UserOrders(filter)),
                "trades" => Some(Channel::UserTrades(filter)),
                "changes" => Some(Channel::UserChanges(filter)),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The filter of `user.{topic}.{instr|any}.{interval}` or
/// `user.{topic}.{kind}.{currency}.{interval}`.
fn user_filter(market: &Market, rest: &[&str]) -> Option<Filter> {
    match rest {
        [instr, int] if INTERVALS.contains(int) => (*instr == "any"
            || market.has_instrument(instr))
        .then(|| Filter::Instrument((*instr).to_owned())),
        [kind, currency, int] if INTERVALS.contains(int) => kind_currency(market, kind, currency),
        _ => None,
    }
}

fn kind_currency(market: &Market, kind: &str, currency: &str) -> Option<Filter> {
    let currency_ok = currency == "any" || market.has_currency(currency);
    (KINDS.contains(&kind) && currency_ok)
        .then(|| Filter::KindCurrency { kind: kind.to_owned(), currency: currency.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn market() -> Market {
        Market::new(&[("BTC-PERPETUAL".to_owned(), 60_000.0), ("ETH-27DEC24".to_owned(), 3_000.0)])
    }

    #[test]
    fn parses_the_channel_table() {
        let market = market();
        let parse = |name| parse(name, &market);
        let btc = || "BTC-PERPETUAL".to_owned();
        assert_eq!(parse("book.BTC-PERPETUAL.100ms"), Some(Channel::Book { instrument: btc() }));
        assert_eq!(
            parse("book.BTC-PERPETUAL.none.10.100ms"),
            Some(Channel::GroupedBook { instrument: btc(), depth: 10 })
        );
        assert_eq!(parse("trades.BTC-PERPETUAL.raw"), Some(Channel::Trades { instrument: btc() }));
        assert_eq!(parse("ticker.BTC-PERPETUAL.agg2"), Some(Channel::Ticker { instrument: btc() }));
        assert_eq!(parse("quote.BTC-PERPETUAL"), Some(Channel::Quote { instrument: btc() }));
        assert_eq!(
            parse("deribit_price_index.eth_usd"),
            Some(Channel::PriceIndex { index: "eth_usd".into() })
        );
        assert_eq!(parse("trades.future.BTC.100ms"), Some(Channel::Silent));
        assert_eq!(parse("chart.trades.BTC-PERPETUAL.1D"), Some(Channel::Silent));
        assert_eq!(parse("platform_state"), Some(Channel::Silent));
        assert_eq!(parse("user.portfolio.btc"), Some(Channel::Silent));
        assert!(matches!(parse("user.orders.BTC-PERPETUAL.raw"), Some(Channel::UserOrders(_))));
        assert!(matches!(parse("user.orders.any.raw"), Some(Channel::UserOrders(_))));
        assert!(matches!(parse("user.trades.future.any.100ms"), Some(Channel::UserTrades(_))));
        assert!(matches!(parse("user.changes.any.ETH.raw"), Some(Channel::UserChanges(_))));
    }

    #[test]
    fn refuses_unknown_names() {
        let market = market();
        for name in [
            "book.BTC-PERPETUAL.1s",
            "book.SOL-PERPETUAL.100ms",
            "book.BTC-PERPETUAL.3.10.100ms",
            "deribit_price_index.sol_usd",
            "ticker.BTC-PERPETUAL",
            "user.orders.future.SOL.raw",
            "user.unknown.any.raw",
            "nonsense",
        ] {
            assert_eq!(parse(name, &market), None, "{name}");
        }
    }

    #[test]
    fn filters_cover_instruments() {
        let kind = |kind: &str, currency: &str| Filter::KindCurrency {
            kind: kind.into(),
            currency: currency.into(),
        };
        assert!(kind("future", "BTC").covers("BTC-PERPETUAL"));
        assert!(kind("any", "btc").covers("BTC-27DEC24-60000-C"));
        assert!(!kind("option", "any").covers("BTC-PERPETUAL"));
        assert!(Filter::Instrument("any".into()).covers("ETH-PERPETUAL"));
        assert!(!Filter::Instrument("BTC-PERPETUAL".into()).covers("ETH-PERPETUAL"));
        assert_eq!((currency_of("BTC_USDC-PERPETUAL"), kind_of("BTC_USDC")), ("BTC", "spot"));
    }
}
