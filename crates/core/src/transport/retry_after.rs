//! Reading a `Retry-After` header (RFC 9110 §10.2.3): delay seconds or an HTTP date.

use std::time::{Duration, SystemTime};

use time::{OffsetDateTime, format_description::well_known::Rfc2822};
use tokio_tungstenite::tungstenite::http::{HeaderMap, header::RETRY_AFTER};

/// How long the server asked clients to wait, counted from `now`; `None` without a readable
/// header. A date in the past means no wait.
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    // IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") is a subset of RFC 2822's syntax.
    let at = OffsetDateTime::parse(value, &Rfc2822).ok()?;
    let now = OffsetDateTime::from(now);
    Some(Duration::try_from(at - now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use tokio_tungstenite::tungstenite::http::HeaderValue;

    use super::*;

    fn with(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn seconds_and_dates_are_read_and_nonsense_is_not() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777); // 08:49:37 GMT
        assert_eq!(retry_after(&with("120"), now), Some(Duration::from_secs(120)));
        let date = "Sun, 06 Nov 1994 08:51:37 GMT";
        assert_eq!(retry_after(&with(date), now), Some(Duration::from_secs(120)));
        let past = "Sun, 06 Nov 1994 08:00:00 GMT";
        assert_eq!(retry_after(&with(past), now), Some(Duration::ZERO));
        assert_eq!(retry_after(&with("soon"), now), None);
        assert_eq!(retry_after(&with("-5"), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }
}
