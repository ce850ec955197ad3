//! Deribit's credit system: 500-credit requests, and matching-engine tiers with a bucket of
//! their own.

/// Credits one non-matching-engine request costs.
pub(crate) const REQUEST_CREDITS: u32 = 500;
/// The non-matching-engine bucket: most credits held.
pub(crate) const CREDIT_CAPACITY: u32 = 50_000;
/// The non-matching-engine bucket: credits refilled per second.
pub(crate) const CREDIT_REFILL_PER_SECOND: u32 = 10_000;

/// Methods served by Deribit's matching engine, charged to the matching-engine bucket.
///
/// `private/cancel_withdrawal` and `private/cancel_transfer_by_id` start with `cancel` but
/// are wallet operations: they are not here.
const MATCHING_ENGINE_METHODS: &[&str] = &[
    "private/buy",
    "private/sell",
    "private/edit",
    "private/edit_by_label",
    "private/cancel",
    "private/cancel_all",
    "private/cancel_all_by_currency",
    "private/cancel_all_by_currency_pair",
    "private/cancel_all_by_instrument",
    "private/cancel_all_by_kind_or_type",
    "private/cancel_by_label",
    "private/cancel_quotes",
    "private/close_position",
    "private/mass_quote",
];

/// Whether `method` is a matching-engine request.
pub(crate) fn is_matching_engine(method: &str) -> bool {
    method.starts_with("private/") && MATCHING_ENGINE_METHODS.contains(&method)
}

/// A Deribit matching-engine tier, set by the account's 7-day trading volume.
///
/// | tier | 7-day volume | sustained | burst |
/// |---|---|---|---|
/// | `Tier1` | over $25M | 30/s | 100 |
/// | `Tier2` | over $5M | 20/s | 50 |
/// | `Tier3` | over $1M | 10/s | 30 |
/// | `Tier4` (default) | below $1M | 5/s | 20 |
///
/// Your account's exact limits are in the `limits` field of
/// `private/get_account_summary`; use
/// [`CostModel::deribit_custom`](crate::CostModel::deribit_custom) when they differ.
///
/// # Examples
///
/// ```
/// use zen_websocket_rate_limiter::DeribitTier;
///
/// assert_eq!(DeribitTier::default(), DeribitTier::Tier4);
/// assert_eq!((DeribitTier::Tier1.rate(), DeribitTier::Tier1.burst()), (30, 100));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DeribitTier {
    /// Over $25M 7-day volume: 30 requests/s, burst 100.
    Tier1,
    /// Over $5M: 20 requests/s, burst 50.
    Tier2,
    /// Over $1M: 10 requests/s, burst 30.
    Tier3,
    /// Below $1M, where every account starts: 5 requests/s, burst 20.
    #[default]
    Tier4,
}

impl DeribitTier {
    /// Matching-engine requests refilled per second.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(zen_websocket_rate_limiter::DeribitTier::Tier3.rate(), 10);
    /// ```
    #[must_use]
    pub fn rate(self) -> u32 {
        match self {
            Self::Tier1 => 30,
            Self::Tier2 => 20,
            Self::Tier3 => 10,
            Self::Tier4 => 5,
        }
    }

    /// Matching-engine requests that may go out at once.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(zen_websocket_rate_limiter::DeribitTier::Tier3.burst(), 30);
    /// ```
    #[must_use]
    pub fn burst(self) -> u32 {
        match self {
            Self::Tier1 => 100,
            Self::Tier2 => 50,
            Self::Tier3 => 30,
            Self::Tier4 => 20,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_engine_methods_are_recognised() {
        for method in MATCHING_ENGINE_METHODS {
            assert!(is_matching_engine(method), "{method}");
        }
        for method in [
            "public/buy",
            "private/buyer",
            "private/cancel_withdrawal",
            "private/cancel_transfer_by_id",
            "private/get_open_orders",
            "public/subscribe",
        ] {
            assert!(!is_matching_engine(method), "{method}");
        }
    }
}
