//! The report as a table for people.

use std::fmt::{self, Write as _};

use super::{
    fleet::{HEARTBEAT, MAX_BACKOFF, RETRY_DELAY},
    plan::Kind,
    report::{Recovery, Report},
};

/// `12.3` / `-` for an empty group.
fn ms(recovery: &Recovery, quantile: f64) -> String {
    recovery.millis(quantile).map_or_else(|| "-".to_owned(), |ms| format!("{ms:.1}"))
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = &self.options;
        writeln!(
            f,
            "\nsoak: {} clients x {} subscriptions; {} failures asked for (seed {}) after a warm-up of {} (one round of every kind on every client); retry_delay {} ms (jittered), max_backoff {} ms, heartbeat {} ms",
            o.clients,
            o.subscriptions,
            o.failures,
            o.seed,
            self.warm_up,
            RETRY_DELAY.as_millis(),
            MAX_BACKOFF.as_millis(),
            HEARTBEAT.as_millis()
        )?;
        writeln!(
            f,
            "\n  {:<20} {:>7} {:>9} {:>13} {:>13} {:>13}",
            "fault", "rounds", "failures", "recover p50", "recover p99", "recover max"
        )?;
        for kind in Kind::ALL {
            let figures = self.kinds.get(&kind).cloned().unwrap_or_default();
            writeln!(
                f,
                "  {:<20} {:>7} {:>9} {:>10} ms {:>10} ms {:>10} ms",
                kind.label(),
                figures.rounds,
                figures.failures,
                ms(&figures.recovery, 0.5),
                ms(&figures.recovery, 0.99),
                ms(&figures.recovery, 1.0)
            )?;
        }
        // The warm-up's rounds are in every row: one of each kind, on every client.
        let rounds: usize = self.kinds.values().map(|k| k.rounds).sum();
        writeln!(
            f,
            "  {:<20} {:>7} {:>9} {:>10} ms {:>10} ms {:>10} ms",
            "all",
            rounds,
            self.failures,
            ms(&self.recovery, 0.5),
            ms(&self.recovery, 0.99),
            ms(&self.recovery, 1.0)
        )?;
        self.figures(f)?;
        writeln!(f, "\n  checks")?;
        for check in self.checks() {
            let verdict = if check.passed { "ok" } else { "FAILED" };
            writeln!(f, "  {:<20} {verdict:<7} {}", check.name, check.detail)?;
        }
        self.examples(f)
    }
}

impl Report {
    fn figures(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows = [
            (
                "recoveries",
                format!(
                    "{} of {} (time to Connected: p50 {} ms, p99 {} ms; retry_delay {} ms)",
                    self.recoveries,
                    self.failures,
                    ms(&self.recovery, 0.5),
                    ms(&self.recovery, 0.99),
                    RETRY_DELAY.as_millis()
                ),
            ),
            (
                "drops reported",
                format!(
                    "{} Disconnected events ({}), {} beyond the forced ones, {} Reconnecting (highest attempt {}), {} 429 answers",
                    self.drops.by_reason.values().sum::<u64>(),
                    reasons(self),
                    self.drops.unexpected,
                    self.drops.reconnect_attempts,
                    self.drops.highest_attempt,
                    self.refusals
                ),
            ),
            (
                "subscriptions",
                format!(
                    "{} checks, {} lost, {} unexpected, {} SubscriptionLost channels, {} restored twice on one connection",
                    self.subscriptions.checks,
                    self.subscriptions.lost,
                    self.subscriptions.extra,
                    self.subscriptions.lost_events,
                    self.subscriptions.repeated
                ),
            ),
            (
                "requests",
                format!(
                    "{} sent: {} ok, {} errors ({} Disconnected, {} NotConnected, {} RequestTimeout, {} other), {} unresolved; slowest {:.1} ms",
                    self.requests.sent,
                    self.requests.ok,
                    self.requests.errors(),
                    self.requests.disconnected,
                    self.requests.not_connected,
                    self.requests.timed_out,
                    self.requests.other_errors,
                    self.requests.unresolved,
                    self.requests.slowest_us as f64 / 1000.0
                ),
            ),
            (
                "messages",
                format!(
                    "{} numbered notifications pushed ({} deliveries), {} received, {} out of order, {} missing inside a connection",
                    self.server.numbered,
                    self.server.deliveries,
                    self.messages.received,
                    self.messages.out_of_order,
                    self.messages.missing
                ),
            ),
            (
                "tasks",
                format!(
                    "soak process: {} at start, {} before clients, {} after clients closed, {} at end; server process: {} before the server and proxy started, {} after they stopped; {} leaked",
                    self.tasks.at_start,
                    self.tasks.before_clients,
                    self.tasks.after_clients,
                    self.tasks.at_end,
                    self.server.tasks_at_start,
                    self.server.tasks_at_end,
                    self.leaked_tasks()
                ),
            ),
            ("rss", self.rss_line()),
            ("wall time", format!("{:.1} s", self.wall.as_secs_f64())),
        ];
        writeln!(f)?;
        for (name, value) in rows {
            writeln!(f, "  {name:<20} {value}")?;
        }
        Ok(())
    }

    fn rss_line(&self) -> String {
        let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
        let line = match (self.memory.first(), self.memory.last(), self.rss_growth()) {
            (Some(first), Some(last), Some(growth)) => format!(
                "first tenth {:.2} MiB (after {} failures), last tenth {:.2} MiB (after {}): {growth:+.1} %; clients' own estimate {:.1} KiB -> {:.1} KiB",
                mib(first.rss_bytes),
                first.failures,
                mib(last.rss_bytes),
                last.failures,
                first.client_bytes as f64 / 1024.0,
                last.client_bytes as f64 / 1024.0
            ),
            _ => format!("{} samples", self.memory.len()),
        };
        format!(
            "{line}; the server process (mock server + proxy) ended at {:.2} MiB",
            mib(self.server.rss_bytes)
        )
    }

    fn examples(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let groups = [
            ("not recovered", &self.unrecovered),
            ("gave up", &self.drops.gave_up),
            ("subscription problems", &self.subscriptions.examples),
            ("request problems", &self.requests.examples),
            ("message problems", &self.messages.examples),
            ("injection errors", &self.injection_errors),
        ];
        for (title, lines) in groups.into_iter().filter(|(_, lines)| !lines.is_empty()) {
            writeln!(f, "\n  {title}:")?;
            for line in lines {
                writeln!(f, "    {line}")?;
            }
        }
        Ok(())
    }
}

fn reasons(report: &Report) -> String {
    let mut text = String::new();
    for (reason, count) in &report.drops.by_reason {
        let _ = write!(text, "{}{reason} {count}", if text.is_empty() { "" } else { ", " });
    }
    text
}
