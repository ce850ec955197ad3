//! What the demo prints. On a terminal: event lines scrolling above a status block redrawn in
//! place (ANSI cursor-up and clear escapes). Otherwise (CI, pipes): one line per event and one
//! status line a second. Both end with the same summary table.

use std::{
    io::{self, IsTerminal, Write},
    time::Duration,
};

use zen_websocket::{ConnectionState, HeartbeatHealth, LatencyStats};

use super::tracker::seconds;

/// How often the status block is redrawn on a terminal.
const LIVE_REFRESH: Duration = Duration::from_millis(250);
/// How often a status line is printed otherwise.
const PLAIN_REFRESH: Duration = Duration::from_secs(1);

/// The figures of one moment, for a status line, the block or the summary.
#[derive(Debug)]
pub(crate) struct Snapshot {
    /// Time since the subscriptions were confirmed.
    pub(crate) elapsed: Duration,
    /// How long the run lasts.
    pub(crate) duration: Duration,
    /// The connection state.
    pub(crate) state: ConnectionState,
    /// Notifications received.
    pub(crate) messages: u64,
    /// Notifications a second, lately.
    pub(crate) rate: f64,
    /// The client's round-trip figures.
    pub(crate) latency: LatencyStats,
    /// The client's heartbeat health.
    pub(crate) heartbeat: HeartbeatHealth,
    /// The Deribit heartbeat interval asked for.
    pub(crate) heartbeat_every: Duration,
    /// Successful reconnections.
    pub(crate) reconnects: u64,
    /// Faults injected.
    pub(crate) faults: usize,
    /// Channels restored and owed.
    pub(crate) restores: (usize, usize),
    /// Errors surfaced to the user.
    pub(crate) errors: usize,
    /// The last price of each instrument.
    pub(crate) prices: Vec<(String, Option<f64>)>,
}

/// The output: plain lines, or a live block on a terminal.
#[derive(Debug)]
pub(crate) struct View {
    /// Whether stdout is a terminal.
    live: bool,
    /// The status block as last drawn.
    block: Vec<String>,
    /// How many lines of it are on screen below the cursor's line (0: none).
    drawn: usize,
}

impl View {
    /// A live view when stdout is a terminal, plain lines otherwise.
    pub(crate) fn new() -> Self {
        Self { live: io::stdout().is_terminal(), block: Vec::new(), drawn: 0 }
    }

    /// How often [`status`](Self::status) should be called.
    pub(crate) fn refresh(&self) -> Duration {
        if self.live { LIVE_REFRESH } else { PLAIN_REFRESH }
    }

    /// Prints an event at `at` (since the start), above the live block.
    pub(crate) fn event(&mut self, at: Duration, text: &str) {
        let mut out = io::stdout().lock();
        self.erase(&mut out);
        let _ = writeln!(out, "[{:>5}s] {text}", seconds(at));
        self.draw(&mut out);
    }

    /// Shows the figures: redraws the block, or prints a status line.
    pub(crate) fn status(&mut self, snapshot: &Snapshot) {
        if !self.live {
            return self.event(snapshot.elapsed, &plain_line(snapshot));
        }
        let mut out = io::stdout().lock();
        self.erase(&mut out);
        self.block = block(snapshot);
        self.draw(&mut out);
    }

    /// Leaves the last block on screen and prints the summary, and `ending`, below it.
    pub(crate) fn summary(&mut self, snapshot: &Snapshot, ending: &str) {
        self.block.clear();
        self.drawn = 0;
        let mut out = io::stdout().lock();
        for line in summary(snapshot, ending) {
            let _ = writeln!(out, "{line}");
        }
        let _ = out.flush();
    }

    /// Moves up over the drawn block and clears it.
    fn erase(&mut self, out: &mut impl Write) {
        if self.drawn > 0 {
            let _ = write!(out, "\x1b[{}A\r\x1b[J", self.drawn);
            self.drawn = 0;
        }
    }

    /// Draws the block below the cursor.
    fn draw(&mut self, out: &mut impl Write) {
        for line in &self.block {
            let _ = writeln!(out, "\x1b[2K{line}");
        }
        self.drawn = self.block.len();
        let _ = out.flush();
    }
}

/// One status line: `connected | 243 msgs | 61/s | …`.
fn plain_line(s: &Snapshot) -> String {
    let (restored, owed) = s.restores;
    let mut parts = vec![
        s.state.to_string(),
        format!("{} msgs", s.messages),
        format!("{:.0}/s", s.rate),
        format!("p50 {} p99 {}", millis(s.latency.p50), millis(s.latency.p99)),
        format!("heartbeat {}", heartbeat(&s.heartbeat, s.heartbeat_every)),
        format!("reconnects {}", s.reconnects),
        format!("faults {}", s.faults),
        format!("restored {restored}/{owed}"),
        format!("errors {}", s.errors),
    ];
    parts.extend(s.prices.iter().map(|(name, price)| format!("{name} {}", price_text(*price))));
    parts.join(" | ")
}

/// The live block.
fn block(s: &Snapshot) -> Vec<String> {
    let (restored, owed) = s.restores;
    let mut lines = vec![
        String::new(),
        format!(
            "  connection  {:<14} reconnects {}   faults {}   restored {restored}/{owed}   errors {}",
            s.state.to_string(),
            s.reconnects,
            s.faults,
            s.errors
        ),
        format!(
            "  messages    {:<14} latency p50 {}  p99 {}",
            format!("{} ({:.0}/s)", s.messages, s.rate),
            millis(s.latency.p50),
            millis(s.latency.p99)
        ),
        format!("  heartbeat   {}", heartbeat(&s.heartbeat, s.heartbeat_every)),
    ];
    for (name, price) in &s.prices {
        lines.push(format!("  {name:<18}{:>12}", price_text(*price)));
    }
    let time = format!("{} s of {} s", seconds(s.elapsed), seconds(s.duration));
    lines.push(format!("  {time}   Ctrl-C stops"));
    lines
}

/// The summary table.
fn summary(s: &Snapshot, ending: &str) -> Vec<String> {
    let (restored, owed) = s.restores;
    let rate = s.messages as f64 / s.elapsed.as_secs_f64().max(f64::EPSILON);
    let rows = [
        ("duration", format!("{} s", seconds(s.elapsed))),
        ("messages", s.messages.to_string()),
        ("msgs/s", format!("{rate:.1}")),
        ("reconnects", s.reconnects.to_string()),
        ("faults injected", s.faults.to_string()),
        ("subscriptions restored", format!("{restored}/{owed}")),
        ("errors", s.errors.to_string()),
        ("latency p50 / p99", format!("{} / {}", millis(s.latency.p50), millis(s.latency.p99))),
        ("ended", ending.to_owned()),
    ];
    let mut lines = vec![String::new(), "summary".to_owned()];
    lines.extend(rows.iter().map(|(label, value)| format!("  {label:<24}{value}")));
    lines
}

/// Milliseconds with two decimals, e.g. `0.42 ms`.
fn millis(ms: f64) -> String {
    format!("{ms:.2} ms")
}

/// A price, or `-` before the first one.
fn price_text(price: Option<f64>) -> String {
    price.map_or_else(|| "-".to_owned(), |price| price.to_string())
}

/// The heartbeat in words: `ok, last 3 s ago`, `ok, none due yet (every 10 s)`, `2 missed`.
fn heartbeat(health: &HeartbeatHealth, every: Duration) -> String {
    match (health.failures, health.last_at) {
        (0, None) => format!("ok, none due yet (every {} s)", every.as_secs()),
        (0, Some(at)) => {
            let ago = at.elapsed().map_or(0, |ago| ago.as_secs());
            format!("ok, last {ago} s ago")
        }
        (missed, _) => format!("{missed} missed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(prices: Vec<(String, Option<f64>)>) -> Snapshot {
        Snapshot {
            elapsed: Duration::from_secs(4),
            duration: Duration::from_secs(15),
            state: ConnectionState::Connected,
            messages: 240,
            rate: 60.0,
            latency: LatencyStats::default(),
            heartbeat: HeartbeatHealth::default(),
            heartbeat_every: Duration::from_secs(10),
            reconnects: 1,
            faults: 1,
            restores: (6, 6),
            errors: 0,
            prices,
        }
    }

    #[test]
    fn a_status_line_has_every_figure() {
        let prices =
            [("BTC-PERPETUAL".to_owned(), Some(60000.5)), ("ETH-PERPETUAL".to_owned(), None)];
        let line = plain_line(&snapshot(prices.to_vec()));
        assert_eq!(
            line,
            "connected | 240 msgs | 60/s | p50 0.00 ms p99 0.00 ms | heartbeat ok, none due yet (every 10 s) \
             | reconnects 1 | faults 1 | restored 6/6 | errors 0 | BTC-PERPETUAL 60000.5 | ETH-PERPETUAL -"
        );
    }

    #[test]
    fn the_summary_has_the_rate_and_the_restores() {
        let lines = summary(&snapshot(Vec::new()), "closed cleanly");
        assert!(lines.contains(&"  msgs/s                  60.0".to_owned()));
        assert!(lines.contains(&"  subscriptions restored  6/6".to_owned()));
        assert!(lines.contains(&"  ended                   closed cleanly".to_owned()));
    }
}
