//! The table: medians of the samples, ratios to raw and to each peer, and the targets they are
//! held to.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::{
    balanced::{self, BalancedResult},
    clients::Contender,
    flood::{FloodResult, Path, RecordingResult},
    memory::IdleResult,
    rtt::{Percentiles, RttResult},
};

/// zen's inbound throughput through `recv()` / `Events` must reach this share of raw's (the
/// goal beyond it is 0.95).
const THROUGHPUT_MIN_RATIO: f64 = 0.80;
/// zen's inbound throughput through a `message_handler` must reach this share of raw's.
const HANDLER_MIN_RATIO: f64 = 0.90;
/// zen's median round trip may take at most this multiple of raw's.
const RTT_P50_MAX_RATIO: f64 = 1.10;
/// zen's 99th-percentile round trip may take at most this multiple of raw's.
const RTT_P99_MAX_RATIO: f64 = 1.5;
/// A `send_balanced` over a pool of 100 may take at most this multiple of a `send_message` on
/// one of its clients: the pick costs microseconds, not milliseconds (2.4–3.1× measured on 2
/// cores, about 20 µs over the direct send; see docs/performance.md).
const BALANCED_MAX_RATIO: f64 = 4.0;
/// What an idle `ws` connection may cost zen, in KiB.
const IDLE_WS_MAX_KIB: f64 = 8.0;
/// What an idle `wss` connection may cost zen, in KiB.
const IDLE_WSS_MAX_KIB: f64 = 16.0;

/// How many times each peer's 64 B flood rate zen must reach.
fn flood_lead_over(peer: Contender) -> Option<f64> {
    match peer {
        Contender::Ezsockets => Some(1.5),
        Contender::Python => Some(3.0),
        Contender::Node => Some(1.2),
        Contender::Zen | Contender::Raw => None,
    }
}

/// Everything one run measured (a `--only` run leaves the rest empty).
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Results {
    /// The flood rows.
    pub(crate) flood: Vec<FloodResult>,
    /// The round-trip rows.
    pub(crate) rtt: Option<RttResult>,
    /// The memory rows.
    pub(crate) idle: Vec<IdleResult>,
    /// zen recording against zen not recording.
    pub(crate) recording: Option<RecordingResult>,
    /// Balanced sends over a pool against direct sends on one of its clients.
    pub(crate) balanced: Option<BalancedResult>,
}

/// A promise a row is held to.
#[derive(Debug, Clone, Copy)]
enum Target {
    /// zen / raw ≥ this.
    RatioAtLeast(f64),
    /// zen / raw ≤ this.
    RatioAtMost(f64),
    /// Balanced / direct ≤ this (the balanced-send row: its `zen` column is the balanced
    /// send, its `raw` column the direct one).
    RatioToDirectAtMost(f64),
    /// zen's own figure ≤ this.
    AtMost(f64),
}

impl Target {
    fn met(self, zen: f64, ratio: f64) -> bool {
        match self {
            Self::RatioAtLeast(min) => ratio >= min,
            Self::RatioAtMost(max) | Self::RatioToDirectAtMost(max) => ratio <= max,
            Self::AtMost(max) => zen <= max,
        }
    }

    fn describe(self, unit: &str) -> String {
        match self {
            Self::RatioAtLeast(min) => format!("≥ {min:.2}× raw"),
            Self::RatioAtMost(max) => format!("≤ {max:.2}× raw"),
            Self::RatioToDirectAtMost(max) => format!("≤ {max:.2}× direct"),
            Self::AtMost(max) => format!("≤ {max} {unit}"),
        }
    }
}

/// The chart panel a row is drawn in; each has its own scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Panel {
    /// Messages per second of the 64 B floods: longer is better.
    Throughput,
    /// MB/s of the 16 KiB flood: longer is better.
    Bytes,
    /// Median round trips in µs: shorter is better.
    Median,
    /// 99th-percentile round trips in µs: shorter is better.
    Tail,
    /// KiB per idle connection: shorter is better.
    Memory,
}

impl Panel {
    /// The panels, top to bottom.
    pub(crate) const ALL: [Self; 5] =
        [Self::Throughput, Self::Bytes, Self::Median, Self::Tail, Self::Memory];

    /// The panel's title.
    pub(crate) fn title(self) -> &'static str {
        match self {
            Self::Throughput => "Flood of 64 B messages, msgs/s (longer is better)",
            Self::Bytes => "Flood of 16 KiB messages, MB/s (longer is better)",
            Self::Median => "Request round trip p50, µs (shorter is better)",
            Self::Tail => "Request round trip p99, µs (shorter is better)",
            Self::Memory => "Idle memory, KiB per connection (shorter is better)",
        }
    }
}

/// One line of the table, as printed and as written to `results.json`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Row {
    /// What is measured.
    pub(crate) name: String,
    /// The unit of every figure.
    pub(crate) unit: &'static str,
    /// zen's median.
    pub(crate) zen: Option<f64>,
    /// Raw tokio-tungstenite's median.
    pub(crate) raw: Option<f64>,
    /// `zen / raw`.
    pub(crate) ratio: Option<f64>,
    /// The peers' medians, when they took part.
    pub(crate) peers: BTreeMap<Contender, f64>,
    /// `zen / peer` for each peer.
    pub(crate) vs_peers: BTreeMap<Contender, f64>,
    /// For each peer with a target on this row: the least `zen / peer` allowed, and whether
    /// it was reached.
    pub(crate) peer_targets: BTreeMap<Contender, (f64, bool)>,
    /// The target, in words.
    pub(crate) target: Option<String>,
    /// Whether the target was met.
    pub(crate) met: Option<bool>,
    /// Why the row has no figures.
    pub(crate) skipped: Option<String>,
    /// A figure the columns do not hold, printed after the verdict.
    pub(crate) note: Option<String>,
    /// Where the chart draws the row; `None` keeps it out of the chart.
    #[serde(skip)]
    pub(crate) panel: Option<Panel>,
}

impl Row {
    /// A row from each contender's median (zen and raw must be there).
    fn new(
        name: String,
        unit: &'static str,
        figures: &BTreeMap<Contender, f64>,
        target: Option<Target>,
        panel: Option<Panel>,
    ) -> Self {
        let (zen, raw) = (figures[&Contender::Zen], figures[&Contender::Raw]);
        let ratio = zen / raw;
        let peers: BTreeMap<Contender, f64> = figures
            .iter()
            .filter(|(who, _)| Contender::PEERS.contains(who))
            .map(|(w, v)| (*w, *v))
            .collect();
        let vs_peers = peers.iter().map(|(who, value)| (*who, zen / value)).collect();
        Self {
            name,
            unit,
            zen: Some(zen),
            raw: Some(raw),
            ratio: Some(ratio),
            peers,
            vs_peers,
            peer_targets: BTreeMap::new(),
            target: target.map(|target| target.describe(unit)),
            met: target.map(|target| target.met(zen, ratio)),
            skipped: None,
            note: None,
            panel,
        }
    }

    /// `who`'s figure, if the row has one.
    pub(crate) fn figure(&self, who: Contender) -> Option<f64> {
        match who {
            Contender::Zen => self.zen,
            Contender::Raw => self.raw,
            peer => self.peers.get(&peer).copied(),
        }
    }
}

/// The table's rows, in the order printed.
pub(crate) fn rows(results: &Results) -> Vec<Row> {
    let mut rows = Vec::new();
    for flood in &results.flood {
        let rates: BTreeMap<Contender, f64> = flood
            .secs
            .iter()
            .map(|(who, secs)| (*who, flood.count as f64 / median(secs)))
            .collect();
        let name = format!("flood {}", flood.label);
        let target = Target::RatioAtLeast(match flood.path {
            Path::Handler => HANDLER_MIN_RATIO,
            Path::Recv | Path::RecvMany => THROUGHPUT_MIN_RATIO,
        });
        // Large messages are drawn in MB/s, on their own scale.
        let large = flood.size > 64;
        let panel = (!large).then_some(Panel::Throughput);
        let mut row = Row::new(name.clone(), "msgs/s", &rates, Some(target), panel);
        row.peer_targets = row
            .vs_peers
            .iter()
            .filter_map(|(peer, lead)| Some((*peer, flood_lead_over(*peer)?, *lead)))
            .map(|(peer, least, lead)| (peer, (least, lead >= least)))
            .collect();
        rows.push(row);
        if large {
            let megabytes = flood.size as f64 / 1e6;
            let rates = rates.iter().map(|(who, rate)| (*who, rate * megabytes)).collect();
            rows.push(Row::new(name, "MB/s", &rates, None, Some(Panel::Bytes)));
        }
    }
    if let Some(rtt) = &results.rtt {
        let figures = |pick: fn(&Percentiles) -> f64| -> BTreeMap<Contender, f64> {
            let median_of =
                |samples: &[Percentiles]| median(&samples.iter().map(pick).collect::<Vec<_>>());
            rtt.samples.iter().map(|(who, samples)| (*who, median_of(samples))).collect()
        };
        let target = Target::RatioAtMost(RTT_P50_MAX_RATIO);
        let p50 = figures(|p| p.p50_us);
        rows.push(Row::new("rtt p50".into(), "µs", &p50, Some(target), Some(Panel::Median)));
        let p99 = figures(|p| p.p99_us);
        let target = Some(Target::RatioAtMost(RTT_P99_MAX_RATIO));
        rows.push(Row::new("rtt p99".into(), "µs", &p99, target, Some(Panel::Tail)));
    }
    for pair in results.idle.chunks(2) {
        rows.push(idle_row(pair));
    }
    if let Some(recording) = &results.recording {
        let rate = |secs: &[f64]| recording.count as f64 / median(secs);
        let name = format!("recording on ÷ off, flood {}", recording.label);
        let figures = BTreeMap::from([
            (Contender::Zen, rate(&recording.on_secs)),
            (Contender::Raw, rate(&recording.off_secs)),
        ]);
        rows.push(Row::new(name, "msgs/s", &figures, None, None));
    }
    if let Some(balanced) = &results.balanced {
        rows.push(balanced_row(balanced));
    }
    rows
}

/// The balanced-send row: the median time per send of each side (`zen`: balanced, `raw`:
/// direct), and their difference as its note — the pick, plus spreading the sends over the
/// pool's sockets. Not charted.
fn balanced_row(result: &BalancedResult) -> Row {
    let per_send = |secs: &[f64]| median(secs) * 1e6 / result.sends.max(1) as f64;
    let (through_pool, direct) = (per_send(&result.balanced_secs), per_send(&result.direct_secs));
    let figures = BTreeMap::from([(Contender::Zen, through_pool), (Contender::Raw, direct)]);
    let target = Some(Target::RatioToDirectAtMost(BALANCED_MAX_RATIO));
    let mut row = Row::new(balanced::name(result.clients), "µs/send", &figures, target, None);
    row.note = Some(format!("overhead {:+.1} µs/send", through_pool - direct));
    row
}

/// A memory row from its zen and raw results (in that order).
fn idle_row(pair: &[IdleResult]) -> Row {
    let first = &pair[0];
    let scheme = if first.secure { "wss" } else { "ws" };
    let name = format!("idle {scheme} × {}", grouped(first.count as f64));
    let figures: BTreeMap<Contender, f64> = pair
        .iter()
        .filter_map(|result| {
            Some((result.kind.contender(), result.sample.as_ref()?.per_connection_kib))
        })
        .collect();
    let target = Target::AtMost(if first.secure { IDLE_WSS_MAX_KIB } else { IDLE_WS_MAX_KIB });
    let target = Some(target);
    if figures.len() == 2 {
        return Row::new(name, "KiB/conn", &figures, target, Some(Panel::Memory));
    }
    Row {
        name,
        unit: "KiB/conn",
        zen: None,
        raw: None,
        ratio: None,
        peers: BTreeMap::new(),
        vs_peers: BTreeMap::new(),
        peer_targets: BTreeMap::new(),
        target: target.map(|target| target.describe("KiB/conn")),
        met: None,
        skipped: first.skipped.clone(),
        note: None,
        panel: Some(Panel::Memory),
    }
}

/// Prints the table, then zen against each peer, to standard output.
pub(crate) fn print(rows: &[Row], heading: &str, notes: &[String]) {
    println!("\n{heading}\n");
    let width = rows.iter().map(|row| row.name.chars().count()).fold(30, usize::max);
    println!(
        "  {:<width$} {:<9} {:>12} {:>12} {:>8}   {:<16} ",
        "row", "unit", "zen", "raw", "zen/raw", "target"
    );
    for row in rows {
        let mut verdict = match (row.met, &row.skipped) {
            (Some(true), _) => "ok".to_owned(),
            (Some(false), _) => "MISSED".to_owned(),
            (None, Some(reason)) => format!("skipped: {reason}"),
            (None, None) => String::new(),
        };
        if let Some(note) = &row.note {
            verdict.push_str(&format!("   {note}"));
        }
        println!(
            "  {:<width$} {:<9} {:>12} {:>12} {:>8}   {:<16} {verdict}",
            row.name,
            row.unit,
            figure(row.unit, row.zen),
            figure(row.unit, row.raw),
            times(row.ratio),
            row.target.as_deref().unwrap_or(""),
        );
    }
    print_peers(rows);
    for note in notes {
        println!("\n{note}");
    }
}

/// The rows the peers took part in: their figures and zen ÷ each.
fn print_peers(rows: &[Row]) {
    let rows: Vec<&Row> = rows.iter().filter(|row| !row.peers.is_empty()).collect();
    if rows.is_empty() {
        return;
    }
    println!(
        "\nzen against the peers (zen ÷ peer: above 1× zen is faster in msgs/s, slower in µs)\n"
    );
    let mut header = format!("  {:<16} {:<7} {:>12}", "row", "unit", "zen");
    for peer in Contender::PEERS {
        header.push_str(&format!(" {:>12}", peer.name()));
    }
    for peer in Contender::PEERS {
        header.push_str(&format!(" {:>14}", format!("zen/{}", peer.name())));
    }
    header.push_str("   target");
    println!("{header}");
    for row in rows {
        let mut line =
            format!("  {:<16} {:<7} {:>12}", row.name, row.unit, figure(row.unit, row.zen));
        for peer in Contender::PEERS {
            line.push_str(&format!(" {:>12}", figure(row.unit, row.peers.get(&peer).copied())));
        }
        for peer in Contender::PEERS {
            line.push_str(&format!(" {:>14}", times(row.vs_peers.get(&peer).copied())));
        }
        for (peer, (least, met)) in &row.peer_targets {
            let verdict = if *met { "ok" } else { "MISSED" };
            line.push_str(&format!("   ≥ {least}× {} {verdict}", peer.name()));
        }
        println!("{line}");
    }
}

/// A figure as the table shows it, `-` when missing.
fn figure(unit: &str, value: Option<f64>) -> String {
    value.map_or("-".to_owned(), |value| show(unit, value))
}

/// A ratio as `0.25×`, `-` when missing.
fn times(ratio: Option<f64>) -> String {
    ratio.map_or("-".to_owned(), |ratio| format!("{ratio:.2}×"))
}

/// A figure as the table and the chart show it: messages per second grouped by thousands, the
/// rest with one decimal.
pub(crate) fn show(unit: &str, value: f64) -> String {
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

    fn figures(pairs: &[(Contender, f64)]) -> BTreeMap<Contender, f64> {
        pairs.iter().copied().collect()
    }

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
        let at_least = Some(Target::RatioAtLeast(0.95));
        let pair = figures(&[(Contender::Zen, 94.0), (Contender::Raw, 100.0)]);
        assert_eq!(Row::new("t".into(), "msgs/s", &pair, at_least, None).met, Some(false));
        let pair = figures(&[(Contender::Zen, 10.9), (Contender::Raw, 10.0)]);
        let row = Row::new("r".into(), "µs", &pair, Some(Target::RatioAtMost(1.10)), None);
        assert_eq!(row.met, Some(true));
        let pair = figures(&[(Contender::Zen, 12.5), (Contender::Raw, 3.0)]);
        let row = Row::new("m".into(), "KiB/conn", &pair, Some(Target::AtMost(8.0)), None);
        assert_eq!((row.met, row.target.as_deref()), (Some(false), Some("≤ 8 KiB/conn")));
    }

    #[test]
    fn flood_rows_hold_zen_to_its_lead_over_each_peer() {
        let secs = BTreeMap::from([
            (Contender::Zen, vec![1.0]),
            (Contender::Raw, vec![1.0]),
            (Contender::Ezsockets, vec![1.4]),
            (Contender::Node, vec![1.3]),
        ]);
        let flood = FloodResult { label: "64 B", size: 64, count: 100, path: Path::Recv, secs };
        let results = Results { flood: vec![flood], ..Results::default() };
        let targets = &rows(&results)[0].peer_targets;
        let expected =
            BTreeMap::from([(Contender::Ezsockets, (1.5, false)), (Contender::Node, (1.2, true))]);
        assert_eq!(targets, &expected);
    }

    #[test]
    fn the_handler_row_has_its_own_target() {
        let secs = BTreeMap::from([(Contender::Zen, vec![1.0]), (Contender::Raw, vec![0.85])]);
        let flood = FloodResult { label: "h", size: 64, count: 100, path: Path::Handler, secs };
        let results = Results { flood: vec![flood], ..Results::default() };
        let row = &rows(&results)[0];
        assert_eq!((row.target.as_deref(), row.met), (Some("≥ 0.90× raw"), Some(false)));
    }

    #[test]
    fn ratios_divide_zen_by_raw_and_by_each_peer() {
        let all = figures(&[
            (Contender::Zen, 200.0),
            (Contender::Raw, 400.0),
            (Contender::Ezsockets, 100.0),
            (Contender::Python, 50.0),
        ]);
        let row = Row::new("flood".into(), "msgs/s", &all, None, None);
        assert_eq!(row.ratio, Some(0.5));
        assert_eq!(row.vs_peers, figures(&[(Contender::Ezsockets, 2.0), (Contender::Python, 4.0)]));
        assert_eq!(row.figure(Contender::Python), Some(50.0));
        assert_eq!(row.figure(Contender::Node), None);
    }

    #[test]
    fn flood_rates_are_medians_per_contender() {
        let secs = BTreeMap::from([
            (Contender::Zen, vec![2.0, 1.0, 4.0]),
            (Contender::Raw, vec![1.0, 0.5, 1.0]),
            (Contender::Node, vec![4.0, 4.0, 8.0]),
        ]);
        let flood = FloodResult { label: "64 B", size: 64, count: 100, path: Path::Recv, secs };
        let results = Results { flood: vec![flood], ..Results::default() };
        let rows = rows(&results);
        assert_eq!(rows.len(), 1, "no MB/s row for 64 B");
        assert_eq!((rows[0].zen, rows[0].raw), (Some(50.0), Some(100.0)));
        assert_eq!(rows[0].peers, figures(&[(Contender::Node, 25.0)]));
        assert_eq!(rows[0].vs_peers, figures(&[(Contender::Node, 2.0)]));
        assert_eq!(rows[0].panel, Some(Panel::Throughput));
    }

    #[test]
    fn the_balanced_row_divides_per_send_times_and_notes_the_overhead() {
        let balanced = BalancedResult {
            clients: 100,
            warmup: 10,
            sends: 1_000,
            balanced_secs: vec![0.012, 0.010, 0.011],
            direct_secs: vec![0.008, 0.009, 0.008],
        };
        let results = Results { balanced: Some(balanced), ..Results::default() };
        let row = &rows(&results)[0];
        assert_eq!(row.name, "send_balanced ÷ send_message (100 clients)");
        assert!((row.zen.unwrap() - 11.0).abs() < 1e-9 && (row.raw.unwrap() - 8.0).abs() < 1e-9);
        assert_eq!((row.target.as_deref(), row.met), (Some("≤ 4.00× direct"), Some(true)));
        assert_eq!((row.note.as_deref(), row.panel), (Some("overhead +3.0 µs/send"), None));
    }

    #[test]
    fn large_messages_are_charted_in_megabytes() {
        let secs = BTreeMap::from([(Contender::Zen, vec![2.0]), (Contender::Raw, vec![1.0])]);
        let flood =
            FloodResult { label: "16 KiB", size: 16 << 10, count: 1_000, path: Path::Recv, secs };
        let results = Results { flood: vec![flood], ..Results::default() };
        let rows = rows(&results);
        assert_eq!((rows[0].unit, rows[0].panel), ("msgs/s", None));
        assert_eq!((rows[1].unit, rows[1].panel), ("MB/s", Some(Panel::Bytes)));
        assert_eq!(rows[1].zen, Some(500.0 * 16_384.0 / 1e6));
    }
}
