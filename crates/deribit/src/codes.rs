//! Deribit's error codes that need more than their message: what they mean for the caller and
//! whether waiting and trying again is safe.

/// `too_many_requests`: the credits ran out; the request was refused, not executed.
pub const TOO_MANY_REQUESTS: i64 = 10028;
/// `raw_subscriptions_not_available_for_unauthorized`.
pub const RAW_NEEDS_AUTH: i64 = 13778;
/// `unauthorized`: a wrong or expired token, a bad signature, or a private call before login.
pub const UNAUTHORIZED: i64 = 13009;
/// `invalid_credentials`.
pub const INVALID_CREDENTIALS: i64 = 13004;

/// Codes the venue answers without executing the request, so the adapter waits and retries
/// (Deribit's `retry`, `settlement_in_progress`, `matching_engine_queue_full`,
/// `too_many_concurrent_requests`, `system_maintenance`, `temporarily_unavailable` and
/// `too_many_requests`).
///
/// # Examples
///
/// ```
/// assert!(zen_websocket_deribit::codes::is_retryable(10028));
/// assert!(!zen_websocket_deribit::codes::is_retryable(13004));
/// ```
#[must_use]
pub fn is_retryable(code: i64) -> bool {
    matches!(code, 10028 | 10040 | 10041 | 10047 | 10066 | 11051 | 13028)
}

/// Plain words and a fix for the codes a client meets most.
pub(crate) fn advice(code: i64) -> Option<(&'static str, &'static str)> {
    Some(match code {
        TOO_MANY_REQUESTS => (
            "Deribit refused the request: the account's credits ran out (10028 too_many_requests)",
            "The adapter waits and retries these by itself; if it still fails, send less often or set a lower `DeribitTier` so the local limiter paces you",
        ),
        RAW_NEEDS_AUTH => (
            "`.raw` channels need a logged-in connection (13778)",
            "Give the client `Credentials` (or set DERIBIT_CLIENT_ID / DERIBIT_CLIENT_SECRET), or use a `100ms` channel",
        ),
        UNAUTHORIZED => (
            "Deribit did not accept the login or token (13009 unauthorized)",
            "Check the API key's scopes and that private calls go through a client with `Credentials`",
        ),
        INVALID_CREDENTIALS => (
            "Deribit refused the client id or secret (13004 invalid_credentials)",
            "Check DERIBIT_CLIENT_ID / DERIBIT_CLIENT_SECRET, and that the key belongs to this environment (testnet keys do not work in production)",
        ),
        _ => return None,
    })
}
