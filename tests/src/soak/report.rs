//! What the soak measured, gathered round by round, and the checks it passes or fails.

use std::{collections::BTreeMap, time::Duration};

use hdrhistogram::Histogram;

use super::{
    memory::Sample, options::Options, plan::Kind, protocol::Stopped, requests::RequestTally,
    round::Round, tasks::TaskCounts, tracker::Record, verify::Verdict,
};

/// How many examples of each problem the report keeps.
const EXAMPLES: usize = 10;

/// Recovery times of one group of failures, in microseconds.
#[derive(Debug, Clone)]
pub(crate) struct Recovery(pub(crate) Histogram<u64>);

impl Default for Recovery {
    fn default() -> Self {
        // 1 µs to 10 min, three significant digits.
        Self(Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds"))
    }
}

impl Recovery {
    fn record(&mut self, took: Duration) {
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX).max(1);
        self.0.saturating_record(micros);
    }

    /// The `quantile` (0..=1) in milliseconds; `None` when empty.
    pub(crate) fn millis(&self, quantile: f64) -> Option<f64> {
        (!self.0.is_empty()).then(|| self.0.value_at_quantile(quantile) as f64 / 1000.0)
    }
}

/// Figures of one kind of fault.
#[derive(Debug, Clone, Default)]
pub(crate) struct KindFigures {
    /// Rounds that carried it out (missed ones excluded).
    pub(crate) rounds: usize,
    /// Connections it dropped.
    pub(crate) failures: usize,
    /// Their recovery times.
    pub(crate) recovery: Recovery,
}

/// The subscription checks, added up.
#[derive(Debug, Clone, Default)]
pub(crate) struct Subscriptions {
    /// Client verifications made.
    pub(crate) checks: usize,
    /// Expected channels missing on the server's side or the client's, summed over checks.
    pub(crate) lost: usize,
    /// Channels held that were never subscribed to.
    pub(crate) extra: usize,
    /// Channels the server was asked for twice on one connection (not a loss; reported).
    pub(crate) repeated: usize,
    /// Checks where `get_state_metrics().subscriptions` was off.
    pub(crate) gauge_off: usize,
    /// Checks that could not be made (the probe got no answer).
    pub(crate) unverified: usize,
    /// Channels named by `SubscriptionLost` events.
    pub(crate) lost_events: usize,
    /// The first problems, in words.
    pub(crate) examples: Vec<String>,
}

/// The notification order checks, added up.
#[derive(Debug, Clone, Default)]
pub(crate) struct Messages {
    /// Numbered notifications the clients received.
    pub(crate) received: u64,
    /// Repeated or reordered numbers.
    pub(crate) out_of_order: u64,
    /// Numbers missing inside one connection.
    pub(crate) missing: u64,
    /// Messages that were not numbered notifications.
    pub(crate) other: u64,
    /// The first problems, in words.
    pub(crate) examples: Vec<String>,
}

/// Connection losses the clients reported.
#[derive(Debug, Clone, Default)]
pub(crate) struct Drops {
    /// `Disconnected { will_retry: true }` events, by reason.
    pub(crate) by_reason: BTreeMap<&'static str, u64>,
    /// Forced drops a client never reported with `Disconnected` (summed per client).
    pub(crate) unreported: u64,
    /// Losses beyond the forced ones (a heartbeat timing out on a busy machine, …).
    pub(crate) unexpected: u64,
    /// `Reconnecting` events.
    pub(crate) reconnect_attempts: u64,
    /// The highest attempt number of any `Reconnecting`.
    pub(crate) highest_attempt: u32,
    /// Endings without recovery (`ReconnectFailed`, a loss with `will_retry: false`).
    pub(crate) gave_up: Vec<String>,
}

/// Everything the soak measured.
#[derive(Debug, Clone)]
pub struct Report {
    /// The command line.
    pub(crate) options: Options,
    /// From start to the end of teardown.
    pub(crate) wall: Duration,
    /// Per kind of fault.
    pub(crate) kinds: BTreeMap<Kind, KindFigures>,
    /// Every recovery time.
    pub(crate) recovery: Recovery,
    /// Connections dropped on purpose, the warm-up included.
    pub(crate) failures: usize,
    /// Of those, the ones dropped by the warm-up (one round of every kind on every client).
    pub(crate) warm_up: usize,
    /// Rounds in a row that found no target (the soak stops at some point).
    pub(crate) misses_in_a_row: usize,
    /// Of those, how many reported `Connected` again in time.
    pub(crate) recoveries: usize,
    /// Those that did not, with evidence.
    pub(crate) unrecovered: Vec<String>,
    /// Rounds whose target connection was not found (not counted as failures).
    pub(crate) missed: usize,
    /// Errors carrying out a fault.
    pub(crate) injection_errors: Vec<String>,
    /// Upgrades refused with 429.
    pub(crate) refusals: usize,
    /// Subscription checks.
    pub(crate) subscriptions: Subscriptions,
    /// Request outcomes.
    pub(crate) requests: RequestTally,
    /// Notification order.
    pub(crate) messages: Messages,
    /// Reported losses.
    pub(crate) drops: Drops,
    /// Live task counts in the soak's process.
    pub(crate) tasks: TaskCounts,
    /// The server process's figures (notifications pushed, its tasks, its memory).
    pub(crate) server: Stopped,
    /// Readers that did not end after `close`.
    pub(crate) readers_left: usize,
    /// RSS after each tenth of the failures.
    pub(crate) memory: Vec<Sample>,
    /// Why the soak stopped before reaching the failure count, if it did.
    pub(crate) aborted: Option<String>,
}

impl Report {
    /// An empty report for a run with `options`.
    pub(crate) fn new(options: &Options) -> Self {
        Self {
            options: options.clone(),
            wall: Duration::ZERO,
            kinds: BTreeMap::new(),
            recovery: Recovery::default(),
            failures: 0,
            warm_up: 0,
            misses_in_a_row: 0,
            recoveries: 0,
            unrecovered: Vec::new(),
            missed: 0,
            injection_errors: Vec::new(),
            refusals: 0,
            subscriptions: Subscriptions::default(),
            requests: RequestTally::default(),
            messages: Messages::default(),
            drops: Drops::default(),
            tasks: TaskCounts::default(),
            server: Stopped::default(),
            readers_left: 0,
            memory: Vec::new(),
            aborted: None,
        }
    }

    /// Failures forced after the warm-up: the ones `--failures` asks for.
    pub(crate) fn counted(&self) -> usize {
        self.failures - self.warm_up
    }

    /// Takes in one round.
    pub(crate) fn round(&mut self, round: &Round) {
        let injection = &round.injection;
        if let Some(error) = &injection.error {
            push(&mut self.injection_errors, format!("{}: {error}", round.fault));
        }
        if injection.targets.is_empty() {
            self.missed += 1;
            return;
        }
        let kind = self.kinds.entry(round.fault.kind).or_default();
        kind.rounds += 1;
        kind.failures += injection.targets.len();
        self.failures += injection.targets.len();
        for (_, took) in &round.recovered {
            kind.recovery.record(*took);
            self.recovery.record(*took);
        }
        self.recoveries += round.recovered.len();
        for evidence in &round.unrecovered {
            push(&mut self.unrecovered, evidence.clone());
        }
    }

    /// Takes in one client verification.
    pub(crate) fn verdict(&mut self, verdict: &Verdict) {
        let figures = &mut self.subscriptions;
        figures.checks += 1;
        figures.lost += verdict.lost;
        figures.extra += verdict.extra;
        figures.repeated += verdict.repeated;
        figures.gauge_off += usize::from(verdict.gauge_off);
        figures.unverified += usize::from(verdict.unverified);
        if verdict.failed() {
            verdict.problems.iter().for_each(|p| push(&mut figures.examples, p.clone()));
        }
    }

    /// Takes in one client's event record, its request tally and the failures forced on it.
    pub(crate) fn client(&mut self, record: &Record, requests: &RequestTally, failures: u64) {
        self.requests.add(requests);
        let sequence = &record.sequence;
        self.messages.received += sequence.received;
        self.messages.out_of_order += sequence.out_of_order;
        self.messages.missing += sequence.missing;
        self.messages.other += record.other_messages;
        sequence.examples.iter().for_each(|e| push(&mut self.messages.examples, e.clone()));
        for (reason, count) in &record.losses {
            *self.drops.by_reason.entry(reason).or_default() += count;
        }
        let losses = record.loss_count();
        self.drops.unreported += failures.saturating_sub(losses);
        self.drops.unexpected += losses.saturating_sub(failures);
        self.drops.reconnect_attempts += record.reconnect_attempts;
        self.drops.highest_attempt = self.drops.highest_attempt.max(record.highest_attempt);
        record.gave_up.iter().for_each(|line| push(&mut self.drops.gave_up, line.clone()));
        self.subscriptions.lost_events += record.channels_lost;
        let lost = record.subscriptions_lost.iter();
        lost.for_each(|line| push(&mut self.subscriptions.examples, line.clone()));
    }

    /// Tasks the server process left behind once its server and proxy stopped.
    pub(crate) fn server_leaked_tasks(&self) -> usize {
        self.server.tasks_at_end.saturating_sub(self.server.tasks_at_start)
    }

    /// Tasks left behind in both processes.
    pub(crate) fn leaked_tasks(&self) -> usize {
        self.tasks.leaked() + self.server_leaked_tasks()
    }
}

/// Keeps the first [`EXAMPLES`] entries.
fn push(list: &mut Vec<String>, entry: String) {
    if list.len() < EXAMPLES {
        list.push(entry);
    }
}
