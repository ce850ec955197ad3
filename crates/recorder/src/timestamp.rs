//! `Timestamp`: a UTC instant with microsecond precision, written as RFC 3339.
//!
//! Calendar math comes from the `time` crate rather than hand-written code: it is widely used,
//! maintained, and its RFC 3339 parser accepts every offset and fraction length a hand-edited
//! or foreign file may hold. Only its parser is enabled; writing reads the calendar fields of
//! an `OffsetDateTime` and prints them with `std::fmt`, which is all the fixed
//! `YYYY-MM-DDTHH:MM:SS.ffffffZ` form needs (and avoids the `formatting`/`macros` features).

use std::{
    fmt,
    str::FromStr,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::error::{Error, Result};

/// 0000-01-01T00:00:00Z in microseconds since the Unix epoch.
const MIN_MICROS: i64 = -62_167_219_200 * 1_000_000;
/// 9999-12-31T23:59:59.999999Z in microseconds since the Unix epoch.
const MAX_MICROS: i64 = 253_402_300_799 * 1_000_000 + 999_999;

/// When an entry was recorded: a UTC instant with microsecond precision.
///
/// It displays and serializes as RFC 3339 in UTC with exactly six fractional digits
/// (`2026-11-28T10:15:30.123456Z`) and parses any RFC 3339 text (any offset, any number of
/// fractional digits; digits past the microsecond are truncated). The years 0000 to 9999 are
/// representable, which is what RFC 3339 can spell.
///
/// # Examples
///
/// ```
/// use zen_websocket_recorder::Timestamp;
///
/// let ts: Timestamp = "2026-11-28T11:15:30.123456+01:00".parse()?;
/// assert_eq!(ts.to_string(), "2026-11-28T10:15:30.123456Z");
/// assert_eq!(Timestamp::from_unix_micros(ts.as_unix_micros()), Some(ts));
/// # Ok::<(), zen_websocket_recorder::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    micros: i64,
}

impl Timestamp {
    /// The current time of the system clock.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_recorder::Timestamp;
    ///
    /// let before = Timestamp::now();
    /// assert!(Timestamp::now() >= before);
    /// ```
    #[must_use]
    pub fn now() -> Self {
        Self::from(SystemTime::now())
    }

    /// The instant `micros` microseconds after (or, when negative, before) 1970-01-01T00:00:00Z.
    ///
    /// Returns `None` outside the years 0000 to 9999.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_recorder::Timestamp;
    ///
    /// let ts = Timestamp::from_unix_micros(1_500_000).unwrap();
    /// assert_eq!(ts.to_string(), "1970-01-01T00:00:01.500000Z");
    /// assert_eq!(Timestamp::from_unix_micros(i64::MAX), None);
    /// ```
    #[must_use]
    pub fn from_unix_micros(micros: i64) -> Option<Self> {
        (MIN_MICROS..=MAX_MICROS).contains(&micros).then_some(Self { micros })
    }

    /// Microseconds since 1970-01-01T00:00:00Z (negative before it).
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_recorder::Timestamp;
    ///
    /// let ts: Timestamp = "1970-01-01T00:00:00.000042Z".parse()?;
    /// assert_eq!(ts.as_unix_micros(), 42);
    /// # Ok::<(), zen_websocket_recorder::Error>(())
    /// ```
    #[must_use]
    pub fn as_unix_micros(self) -> i64 {
        self.micros
    }

    /// How much later `self` is than `earlier`; zero when it is not later.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use zen_websocket_recorder::Timestamp;
    ///
    /// let a: Timestamp = "2026-01-01T00:00:00Z".parse()?;
    /// let b: Timestamp = "2026-01-01T00:00:01.250Z".parse()?;
    /// assert_eq!(b.saturating_duration_since(a), Duration::from_millis(1250));
    /// assert_eq!(a.saturating_duration_since(b), Duration::ZERO);
    /// # Ok::<(), zen_websocket_recorder::Error>(())
    /// ```
    #[must_use]
    pub fn saturating_duration_since(self, earlier: Timestamp) -> Duration {
        // Both ends are within ±2^58 µs, so the difference cannot overflow.
        let micros = self.micros - earlier.micros;
        Duration::from_micros(u64::try_from(micros).unwrap_or(0))
    }

    fn to_datetime(self) -> OffsetDateTime {
        // In range by construction: every `Timestamp` is within the years 0000–9999.
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.micros) * 1000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

impl From<SystemTime> for Timestamp {
    /// Truncates to the microsecond; clamps to the years 0000–9999.
    fn from(time: SystemTime) -> Self {
        let micros = match time.duration_since(UNIX_EPOCH) {
            Ok(after) => i64::try_from(after.as_micros()).unwrap_or(i64::MAX),
            Err(before) => {
                let before = before.duration();
                // Truncate towards the past, as for instants after the epoch.
                let rounded_up = before.as_nanos().div_ceil(1000);
                i64::try_from(rounded_up).map_or(i64::MIN, |micros| -micros)
            }
        };
        Self { micros: micros.clamp(MIN_MICROS, MAX_MICROS) }
    }
}

impl From<Timestamp> for SystemTime {
    fn from(ts: Timestamp) -> Self {
        let magnitude = Duration::from_micros(ts.micros.unsigned_abs());
        if ts.micros >= 0 { UNIX_EPOCH + magnitude } else { UNIX_EPOCH - magnitude }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dt = self.to_datetime();
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
            dt.year(),
            u8::from(dt.month()),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second(),
            dt.microsecond()
        )
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Timestamp {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        let invalid = |reason: String| Error::InvalidTimestamp { value: text.to_owned(), reason };
        let dt = OffsetDateTime::parse(text, &Rfc3339).map_err(|err| invalid(err.to_string()))?;
        let micros = dt.unix_timestamp_nanos().div_euclid(1000);
        i64::try_from(micros)
            .ok()
            .and_then(Self::from_unix_micros)
            .ok_or_else(|| invalid("outside the years 0000 to 9999 in UTC".to_owned()))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> Timestamp {
        text.parse().expect("a valid timestamp")
    }

    #[test]
    fn writes_utc_with_six_fractional_digits() {
        assert_eq!(ts("2026-11-28T10:15:30.123456Z").to_string(), "2026-11-28T10:15:30.123456Z");
        assert_eq!(ts("2026-11-28T10:15:30Z").to_string(), "2026-11-28T10:15:30.000000Z");
        assert_eq!(ts("0001-02-03T04:05:06.7Z").to_string(), "0001-02-03T04:05:06.700000Z");
    }

    #[test]
    fn parses_offsets_and_truncates_nanoseconds() {
        assert_eq!(ts("2026-11-28T12:15:30.123456789+02:00"), ts("2026-11-28T10:15:30.123456Z"));
        assert_eq!(
            ts("1969-12-31T23:59:59.9999999Z").as_unix_micros(),
            -1,
            "truncation goes towards the past"
        );
    }

    #[test]
    fn the_extremes_round_trip() {
        for micros in [MIN_MICROS, -1, 0, 1, MAX_MICROS] {
            let ts = Timestamp::from_unix_micros(micros).expect("in range");
            assert_eq!(ts.to_string().parse::<Timestamp>().expect("parses"), ts);
            assert_eq!(Timestamp::from(SystemTime::from(ts)), ts);
        }
        assert_eq!(ts("0000-01-01T00:00:00Z").as_unix_micros(), MIN_MICROS);
        assert_eq!(ts("9999-12-31T23:59:59.999999Z").as_unix_micros(), MAX_MICROS);
        assert_eq!(Timestamp::from_unix_micros(MIN_MICROS - 1), None);
        assert_eq!(Timestamp::from_unix_micros(MAX_MICROS + 1), None);
    }

    #[test]
    fn rejects_text_that_is_not_rfc_3339() {
        for bad in [
            "",
            "yesterday",
            "2026-11-28T10:15:30",
            "2026-13-01T00:00:00Z",
            "0000-01-01T00:00:00+01:00",
        ] {
            let err = bad.parse::<Timestamp>().unwrap_err();
            assert!(
                matches!(err, Error::InvalidTimestamp { ref value, .. } if value == bad),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn system_times_before_the_epoch_truncate_towards_the_past() {
        let before = UNIX_EPOCH - Duration::from_nanos(1500);
        assert_eq!(Timestamp::from(before).as_unix_micros(), -2);
    }
}
