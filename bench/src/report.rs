//! The table: medians of the samples, ratios to raw, and the targets they are held to.

use serde::Serialize;

use crate::{
    flood::FloodResult,
    memory::IdleResult,
    rtt::{Percentiles, RttResult},
};

/// zen's inbound throughput must reach this share of raw's.
const THROUGHPUT_MIN_RATIO: f64 = 0.95;
/// zen's median round trip may take at most this multiple of raw's.
const RTT_P50_MAX_RATIO: f64 = 1.10;
/// What an idle `ws` connection may cost zen, in KiB.
const IDLE_WS_MAX_KIB: f64 = 12.0;

/// Everything one run measured.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Results {
    /// The flood rows.
    pub(crate) flood: Vec<FloodResult>,
    /// The round-trip row.
    pub(crate) rtt: RttResult,
    /// The memory rows.
    pub(crate) idle: Vec<IdleResult>,
    /// zen recording (`zen_secs`) against zen not recording (`raw_secs`).
    pub(crate) recording: FloodResult,
}

/// A promise a row is held to.
#[derive(Debug, Clone, Copy)]
enum Target {
    /// zen / raw ≥ this.
    RatioAtLeast(f64),
    /// zen / raw ≤ this.
    RatioAtMost(f64),
    /// zen's own figure ≤ this.
    AtMost(f64),
}

impl Target {
    fn met(self, zen: f64, ratio: f64) -> bool {
        match self {
            Self::RatioAtLeast(min) => ratio >= min,
            Self::RatioAtMost(max) => ratio <= max,
            Self::AtMost(max) => zen <= max,
        }
    }

    fn describe(self, unit: &str) -> String {
        match self {
            Self::RatioAtLeast(min) => format!("≥ {min:.2}× raw"),
            Self::RatioAtMost(max) => format!("≤ {max:.2}× raw"),
            Self::AtMost(max) => format!("≤ {max} {unit}"),
        }
    }
}

/// One line of the table, as printed and as written to `results.json`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Row {
    /// What is measured.
    pub(crate) name: String,
    /// The unit of `zen` and `raw`.
    pub(crate) unit: &'static str,
    /// zen's median.
    pub(crate) zen: Option<f64>,
    /// Raw tokio-tungstenite's median.
    pub(crate) raw: Option<f64>,
    /// `zen / raw`.
    pub(crate) ratio: Option<f64>,
    /// The target, in words.
    pub(crate) target: Option<String>,
    /// Whether the target was met.
    pub(crate) met: Option<bool>,
    /// Why the row has no figures.
    pub(crate) skipped: Option<String>,
}

impl Row {
    fn new(name: String, unit: &'static str, zen: f64, raw: f64, target: Option<Target>) -> Self {
        let ratio = zen / raw;
        Self {
            name,
            unit,
            zen: Some(zen),
            raw: Some(raw),
            ratio: Some(ratio),
            target: target.map(|target| target.describe(unit)),
            met: target.map(|target| target.met(zen, ratio)),
            skipped: None,
        }
    }
}

/// The table's rows, in the order printed.
pub(crate) fn rows(results: &Results) -> Vec<Row> {
    let mut rows = Vec::new();
    for flood in &results.flood {
        let rate = |secs: &[f64]| flood.count as f64 / median(secs);
        let (zen, raw) = (rate(&flood.zen_secs), rate(&flood.raw_secs));
        let name = format!("flood {}", flood.label);
        let target = Target::RatioAtLeast(THROUGHPUT_MIN_RATIO);
        rows.push(Row::new(name.clone(), "msgs/s", zen, raw, Some(target)));
        let megabytes = flood.size as f64 / 1e6;
        rows.push(Row::new(name, "MB/s", zen * megabytes, raw * megabytes, None));
    }
    let rtt = &results.rtt;
    let p50 =
        |samples: &[Percentiles]| median(&samples.iter().map(|p| p.p50_us).collect::<Vec<_>>());
    let p99 =
        |samples: &[Percentiles]| median(&samples.iter().map(|p| p.p99_us).collect::<Vec<_>>());
    let target = Target::RatioAtMost(RTT_P50_MAX_RATIO);
    rows.push(Row::new("rtt p50".into(), "µs", p50(&rtt.zen), p50(&rtt.raw), Some(target)));
    rows.push(Row::new("rtt p99".into(), "µs", p99(&rtt.zen), p99(&rtt.raw), None));
    for pair in results.idle.chunks(2) {
        rows.push(idle_row(pair));
    }
    let recording = &results.recording;
    let rate = |secs: &[f64]| recording.count as f64 / median(secs);
    let name = format!("recording on ÷ off, flood {}", recording.label);
    let (on, off) = (rate(&recording.zen_secs), rate(&recording.raw_secs));
    rows.push(Row::new(name, "msgs/s", on, off, None));
    rows
}

/// A memory row from its zen and raw results (in that order).
fn idle_row(pair: &[IdleResult]) -> Row {
    let first = &pair[0];
    let scheme = if first.secure { "wss" } else { "ws" };
    let name = format!("idle {scheme} × {}", grouped(first.count as f64));
    let figure = |kind| {
        pair.iter()
            .find(|result| result.kind == kind)
            .and_then(|result| result.sample.as_ref())
            .map(|sample| sample.per_connection_kib)
    };
    let target = (!first.secure).then_some(Target::AtMost(IDLE_WS_MAX_KIB));
    match (figure(crate::idle::Kind::Zen), figure(crate::idle::Kind::Raw)) {
        (Some(zen), Some(raw)) => Row::new(name, "KiB/conn", zen, raw, target),
        _ => Row {
            name,
            unit: "KiB/conn",
            zen: None,
            raw: None,
            ratio: None,
            target: target.map(|target| target.describe("KiB/conn")),
            met: None,
            skipped: first.skipped.clone(),
        },
    }
}

/// Prints the table to standard output.
pub(crate) fn print(rows: &[Row], heading: &str) {
    println!("\n{heading}\n");
    println!(
        "  {:<18} {:<9} {:>12} {:>12} {:>8}   {:<16} ",
        "row", "unit", "zen", "raw", "zen/raw", "target"
    );
    for row in rows {
        let value = |value: Option<f64>| value.map_or("-".to_owned(), |v| show(row.unit, v));
        let ratio = row.ratio.map_or("-".to_owned(), |r| format!("{r:.2}×"));
        let verdict = match (row.met, &row.skipped) {
            (Some(true), _) => "ok".to_owned(),
            (Some(false), _) => "MISSED".to_owned(),
            (None, Some(reason)) => format!("skipped: {reason}"),
            (None, None) => String::new(),
        };
        println!(
            "  {:<18} {:<9} {:>12} {:>12} {:>8}   {:<16} {verdict}",
            row.name,
            row.unit,
            value(row.zen),
            value(row.raw),
            ratio,
            row.target.as_deref().unwrap_or(""),
        );
    }
}

/// A figure as the table shows it: messages per second grouped by thousands, the rest with
/// one decimal.
fn show(unit: &str, value: f64) -> String {
    if unit == "msgs/s" { grouped(value) } else { format!("{value:.1}") }
}

/// `1234567.8` → `1,234,568`.
fn grouped(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// The median of `values` (the mean of the middle two for an even count); NaN when empty.
fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn groups_thousands() {
        assert_eq!(grouped(1_234_567.8), "1,234,568");
        assert_eq!(grouped(999.0), "999");
        assert_eq!(grouped(1_000.0), "1,000");
    }

    #[test]
    fn targets_compare_the_right_figure() {
        let row = Row::new("t".into(), "msgs/s", 94.0, 100.0, Some(Target::RatioAtLeast(0.95)));
        assert_eq!(row.met, Some(false));
        let row = Row::new("r".into(), "µs", 10.9, 10.0, Some(Target::RatioAtMost(1.10)));
        assert_eq!(row.met, Some(true));
        let row = Row::new("m".into(), "KiB/conn", 12.5, 3.0, Some(Target::AtMost(12.0)));
        assert_eq!((row.met, row.target.as_deref()), (Some(false), Some("≤ 12 KiB/conn")));
    }
}
