//! Parsers for the values of `zenws` flags: durations, headers, heartbeats, rates, dialects.
//! Each returns a plain-words error that clap prints with exit code 2.

use std::time::Duration;

use zen_websocket::HeartbeatConfig;

/// Parses a duration: a number with a unit, `250ms`, `30s`, `1.5s`, `2m`, `1h` (`us` too); a
/// bare number is seconds.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration such as 250ms, 30s or 2m"))?;
    let seconds = match unit.trim() {
        "us" | "µs" => value / 1_000_000.0,
        "ms" => value / 1_000.0,
        "" | "s" | "sec" => value,
        "m" | "min" => value * 60.0,
        "h" => value * 3_600.0,
        other => return Err(format!("unknown unit `{other}` in `{text}`: use us, ms, s, m or h")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|_| format!("`{text}` is out of range"))
}

/// Parses `NAME:VALUE` (spaces around the value are trimmed).
pub(crate) fn parse_header(text: &str) -> Result<(String, String), String> {
    let (name, value) =
        text.split_once(':').ok_or_else(|| format!("`{text}` is not NAME:VALUE"))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(format!("`{text}` has an empty header name"));
    }
    Ok((name.to_owned(), value.trim().to_owned()))
}

/// A `--heartbeat` choice: a heartbeat, or none.
#[derive(Debug, Clone)]
pub(crate) enum Heartbeat {
    /// This heartbeat.
    On(HeartbeatConfig),
    /// No heartbeat at all.
    Off,
}

/// Parses `ping:30s`, `pong:30s`, `deribit:30s` or `off` (the interval may be left out:
/// `ping` is `ping:30s`).
pub(crate) fn parse_heartbeat(text: &str) -> Result<Heartbeat, String> {
    if text == "off" {
        return Ok(Heartbeat::Off);
    }
    let (kind, interval) = match text.split_once(':') {
        Some((kind, interval)) => (kind, Some(parse_duration(interval)?)),
        None => (text, None),
    };
    let config = match kind {
        "ping" => HeartbeatConfig::ping(),
        "pong" => HeartbeatConfig::pong(),
        "deribit" => HeartbeatConfig::deribit(),
        other => {
            return Err(format!(
                "unknown heartbeat `{other}`: use ping:30s, pong:30s, deribit:30s or off"
            ));
        }
    };
    Ok(Heartbeat::On(match interval {
        Some(interval) => config.interval(interval),
        None => config,
    }))
}

/// A `--rate-limit`: so many messages per period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rate {
    /// Messages per period (also the burst).
    pub(crate) count: u32,
    /// The period.
    pub(crate) per: Duration,
}

/// Parses `N/s`, `N/m`, `N/h` or `N/<duration>` such as `5/100ms`.
pub(crate) fn parse_rate(text: &str) -> Result<Rate, String> {
    let (count, period) =
        text.split_once('/').ok_or_else(|| format!("`{text}` is not a rate such as 10/s"))?;
    let count: u32 = count
        .trim()
        .parse()
        .map_err(|_| format!("`{count}` in `{text}` is not a whole number of messages"))?;
    if count == 0 {
        return Err("a rate of 0 messages would never send anything".to_owned());
    }
    let period = period.trim();
    let per = if period.starts_with(|c: char| c.is_ascii_digit()) {
        parse_duration(period)?
    } else {
        parse_duration(&format!("1{period}"))?
    };
    if per.is_zero() {
        return Err(format!("the period of `{text}` must be longer than zero"));
    }
    Ok(Rate { count, per })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
        assert!(parse_duration("3 parsecs").is_err());
    }

    #[test]
    fn headers_rates_heartbeats() {
        assert_eq!(parse_header("X-Api: a:b"), Ok(("X-Api".into(), "a:b".into())));
        assert!(parse_header("nocolon").is_err());
        assert_eq!(parse_rate("10/s"), Ok(Rate { count: 10, per: Duration::from_secs(1) }));
        assert_eq!(parse_rate("5/100ms"), Ok(Rate { count: 5, per: Duration::from_millis(100) }));
        assert!(parse_rate("0/s").is_err());
        assert!(matches!(parse_heartbeat("off"), Ok(Heartbeat::Off)));
        assert!(matches!(parse_heartbeat("deribit:15s"), Ok(Heartbeat::On(_))));
        assert!(parse_heartbeat("beep:1s").is_err());
    }
}
