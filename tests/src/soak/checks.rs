//! The checks a soak passes or fails, each with the figure behind it.

use super::{memory, report::Report, requests::SLACK};

/// The RSS growth from the first tenth to the last that fails the run, in percent.
const RSS_LIMIT_PERCENT: f64 = 10.0;

/// One named check and whether it passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// A short name.
    pub name: &'static str,
    /// Whether it passed.
    pub passed: bool,
    /// The figure behind it.
    pub detail: String,
}

impl Report {
    /// Every check, in report order.
    pub fn checks(&self) -> Vec<Check> {
        vec![
            self.failures_check(),
            self.recoveries_check(),
            self.drops_check(),
            self.subscriptions_check(),
            self.requests_check(),
            self.messages_check(),
            self.tasks_check(),
            self.rss_check(),
        ]
    }

    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.checks().iter().all(|check| check.passed)
    }

    /// The RSS growth from the first tenth to the last, in percent (all ten samples needed).
    pub(crate) fn rss_growth(&self) -> Option<f64> {
        (self.memory.len() >= 10).then(|| memory::growth_percent(&self.memory)).flatten()
    }

    fn failures_check(&self) -> Check {
        let (counted, asked) = (self.counted(), self.options.failures);
        let detail = match &self.aborted {
            Some(why) => format!("{counted} of {asked} forced after the warm-up; stopped: {why}"),
            None => {
                format!("{counted} forced after a warm-up of {} (asked for {asked})", self.warm_up)
            }
        };
        let passed = counted >= asked as usize && self.aborted.is_none();
        Check { name: "failures", passed, detail }
    }

    fn recoveries_check(&self) -> Check {
        let gave_up = self.drops.gave_up.len();
        let detail = format!(
            "{} of {} reported Connected within the bound; {gave_up} gave up",
            self.recoveries, self.failures
        );
        let passed = self.recoveries == self.failures && gave_up == 0;
        Check { name: "recoveries", passed, detail }
    }

    fn drops_check(&self) -> Check {
        let unreported = self.drops.unreported;
        let detail = format!("{unreported} forced drops without a Disconnected event");
        Check { name: "drops reported", passed: unreported == 0, detail }
    }

    fn subscriptions_check(&self) -> Check {
        let subs = &self.subscriptions;
        let lost = subs.lost + subs.extra + subs.gauge_off + subs.lost_events;
        let detail = format!(
            "{lost} ({} channel checks missing, {} unexpected, {} gauge mismatches, {} \
             SubscriptionLost channels); {} of {} client checks unverified",
            subs.lost, subs.extra, subs.gauge_off, subs.lost_events, subs.unverified, subs.checks
        );
        Check { name: "lost subscriptions", passed: lost == 0 && subs.unverified == 0, detail }
    }

    fn requests_check(&self) -> Check {
        let (unresolved, sent) = (self.requests.unresolved, self.requests.sent);
        let detail =
            format!("{unresolved} of {sent} never resolved within request_timeout + {SLACK:?}");
        Check { name: "unresolved requests", passed: unresolved == 0, detail }
    }

    fn messages_check(&self) -> Check {
        let m = &self.messages;
        let detail = format!(
            "{} repeated or reordered, {} missing inside a connection, of {} received",
            m.out_of_order, m.missing, m.received
        );
        Check { name: "message order", passed: m.out_of_order == 0 && m.missing == 0, detail }
    }

    fn tasks_check(&self) -> Check {
        let (leaked, by_clients) = (self.leaked_tasks(), self.tasks.leaked_by_clients());
        let detail = format!(
            "{leaked} (clients {by_clients}, server process {}; readers not ended {})",
            self.server_leaked_tasks(),
            self.readers_left
        );
        let passed = leaked == 0 && by_clients == 0 && self.readers_left == 0;
        Check { name: "leaked tasks", passed, detail }
    }

    fn rss_check(&self) -> Check {
        let growth = self.rss_growth();
        let detail = match growth {
            Some(growth) => format!(
                "{growth:+.1} % from the first tenth to the last (limit {RSS_LIMIT_PERCENT} %)"
            ),
            None => format!("not measured ({} of 10 samples)", self.memory.len()),
        };
        let passed = growth.is_some_and(|growth| growth < RSS_LIMIT_PERCENT);
        Check { name: "rss growth", passed, detail }
    }
}
