//! Picking the healthiest client: eligibility filters, a ranking, ties taken in turn.

use std::{
    sync::{Mutex, PoisonError},
    time::Duration,
};

use tokio::time::Instant;

/// Latency samples older than this no longer rank a client: it is tried again and measured
/// afresh.
const LATENCY_STALE_AFTER: Duration = Duration::from_secs(10);
/// The time constant of the latency average (weight of older samples falls by e per tau).
const LATENCY_TAU: Duration = Duration::from_secs(2);
/// Recent errors halve every this long.
const ERRORS_HALF_LIFE: Duration = Duration::from_secs(30);

/// Which clients may take a balanced send or request, and how many to try.
///
/// # Examples
///
/// ```
/// use zen_websocket_supervisor::BalanceOptions;
///
/// // Orders: only clients tagged "orders" that are logged in, at most two tries.
/// let orders = BalanceOptions::default().tag("orders").authenticated().max_attempts(2);
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct BalanceOptions {
    pub(crate) name: Option<String>,
    pub(crate) tag: Option<String>,
    pub(crate) authenticated: bool,
    pub(crate) max_attempts: u32,
}

impl Default for BalanceOptions {
    fn default() -> Self {
        Self { name: None, tag: None, authenticated: false, max_attempts: 3 }
    }
}

impl BalanceOptions {
    /// Only clients whose spec has this name.
    ///
    /// # Examples
    ///
    /// ```
    /// let options = zen_websocket_supervisor::BalanceOptions::default().name("deribit-main");
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Only clients whose spec carries this tag.
    ///
    /// # Examples
    ///
    /// ```
    /// let options = zen_websocket_supervisor::BalanceOptions::default().tag("orders");
    /// ```
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tag = Some(tag.into());
        self
    }

    /// Only authenticated clients: specs with
    /// [`authenticated_on_connect`](crate::ClientSpec::authenticated_on_connect), or clients
    /// [`mark_authenticated`](crate::ClientSupervisor::mark_authenticated) since their socket
    /// opened.
    ///
    /// # Examples
    ///
    /// ```
    /// let options = zen_websocket_supervisor::BalanceOptions::default().authenticated();
    /// ```
    pub fn authenticated(mut self) -> Self {
        self.authenticated = true;
        self
    }

    /// How many clients to try, in rank order, when a client refuses the frame before writing
    /// it (not connected, rate limited). At least 1; default 3.
    ///
    /// # Examples
    ///
    /// ```
    /// let options = zen_websocket_supervisor::BalanceOptions::default().max_attempts(5);
    /// ```
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    pub(crate) fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(name) = &self.name {
            parts.push(format!("name {name:?}"));
        }
        if let Some(tag) = &self.tag {
            parts.push(format!("tag {tag:?}"));
        }
        if self.authenticated {
            parts.push("authenticated".to_owned());
        }
        if parts.is_empty() { "any client".to_owned() } else { parts.join(", ") }
    }
}

/// What balancing remembers about one client: a latency average of its balanced requests and
/// a decaying count of its recent errors.
#[derive(Debug, Default)]
pub(crate) struct Scores {
    inner: Mutex<ScoreState>,
}

#[derive(Debug, Default)]
struct ScoreState {
    latency: Option<(f64, Instant)>,
    errors: Option<(f64, Instant)>,
}

impl Scores {
    /// Folds a round trip into the average: a slower sample is taken at once (peak EWMA), a
    /// faster one pulls the average down with time constant [`LATENCY_TAU`].
    pub(crate) fn latency_sample(&self, rtt: Duration, now: Instant) {
        let sample = rtt.as_secs_f64() * 1e3;
        let mut state = self.lock();
        state.latency = Some(match state.latency {
            Some((average, _)) if sample >= average => (sample, now),
            Some((average, at)) => {
                let age = now.saturating_duration_since(at).as_secs_f64();
                let keep = (-age / LATENCY_TAU.as_secs_f64()).exp();
                (average * keep + sample * (1.0 - keep), now)
            }
            None => (sample, now),
        });
    }

    /// Counts an error.
    pub(crate) fn error(&self, now: Instant) {
        let mut state = self.lock();
        let current = decayed(state.errors, now);
        state.errors = Some((current + 1.0, now));
    }

    /// The latency average (unless stale) and the recent errors, under one lock.
    pub(crate) fn now(&self, now: Instant) -> (Option<f64>, f64) {
        let state = self.lock();
        let latency = state
            .latency
            .filter(|(_, at)| now.saturating_duration_since(*at) < LATENCY_STALE_AFTER)
            .map(|(average, _)| average);
        (latency, decayed(state.errors, now))
    }

    /// The latency average in milliseconds, unless it is stale.
    #[cfg(test)]
    pub(crate) fn latency_ms(&self, now: Instant) -> Option<f64> {
        let state = self.lock();
        let (average, at) = state.latency?;
        (now.saturating_duration_since(at) < LATENCY_STALE_AFTER).then_some(average)
    }

    /// Recent errors, halving every 30 s.
    pub(crate) fn recent_errors(&self, now: Instant) -> f64 {
        decayed(self.lock().errors, now)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ScoreState> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn decayed(errors: Option<(f64, Instant)>, now: Instant) -> f64 {
    errors.map_or(0.0, |(count, at)| {
        let halvings =
            now.saturating_duration_since(at).as_secs_f64() / ERRORS_HALF_LIFE.as_secs_f64();
        count * 0.5f64.powf(halvings)
    })
}

/// One eligible client as ranking sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Candidate {
    /// Requests awaiting answers plus balanced sends in flight.
    pub(crate) pending: usize,
    /// Recent latency in milliseconds, when measured lately.
    pub(crate) latency_ms: Option<f64>,
    /// Recent errors (decaying).
    pub(crate) errors: f64,
}

/// Latencies below this tie: under a millisecond a round trip's spread is the scheduler's, and
/// one unlucky sample would otherwise rank an equally fast client behind the rest until its
/// latency goes stale.
const LATENCY_FLOOR_MS: f64 = 1.0;

/// The rank key: fewest pending first, then latency in doubling buckets relative to the best
/// or [`LATENCY_FLOOR_MS`], whichever is higher (so clients within 2× of each other tie), then
/// recent errors rounded (one error counts until it has decayed below a half: 30 s).
pub(crate) type RankKey = (usize, u32, u32);

/// Rank keys of `candidates` (same order).
pub(crate) fn rank_keys(candidates: &[Candidate]) -> Vec<RankKey> {
    let best = candidates
        .iter()
        .filter_map(|candidate| candidate.latency_ms)
        .fold(f64::INFINITY, f64::min)
        .max(LATENCY_FLOOR_MS);
    candidates
        .iter()
        .map(|candidate| {
            let bucket = candidate
                .latency_ms
                .map_or(0, |ms| (ms / best).log2().floor().clamp(0.0, 31.0) as u32);
            (candidate.pending, bucket, candidate.errors.round().min(1e6) as u32)
        })
        .collect()
}

/// The order to try candidates in: by rank key; candidates with equal keys rotate by `turn`
/// so ties share the traffic.
pub(crate) fn order(keys: &[RankKey], turn: usize) -> Vec<usize> {
    let mut indices: Vec<usize> = (0..keys.len()).collect();
    indices.sort_by_key(|&index| keys[index]);
    let mut start = 0;
    while start < indices.len() {
        let key = keys[indices[start]];
        let end = start + indices[start..].iter().take_while(|&&index| keys[index] == key).count();
        let ties = end - start;
        indices[start..end].rotate_left(turn % ties);
        start = end;
    }
    indices
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(pending: usize, latency_ms: Option<f64>, errors: f64) -> Candidate {
        Candidate { pending, latency_ms, errors }
    }

    #[test]
    fn fewest_pending_wins_over_latency() {
        let keys = rank_keys(&[candidate(2, Some(1.0), 0.0), candidate(0, Some(50.0), 0.0)]);
        assert_eq!(order(&keys, 0), [1, 0]);
    }

    #[test]
    fn slower_by_more_than_twice_ranks_later_and_close_latencies_tie() {
        let keys = rank_keys(&[
            candidate(0, Some(40.0), 0.0),
            candidate(0, Some(1.0), 0.0),
            candidate(0, Some(1.5), 0.0),
        ]);
        assert_eq!(keys[0].1, 5);
        assert_eq!((keys[1].1, keys[2].1), (0, 0));
        assert_eq!(order(&keys, 0), [1, 2, 0]);
        assert_eq!(order(&keys, 1), [2, 1, 0]);
    }

    #[test]
    fn latencies_under_a_millisecond_tie() {
        let keys = rank_keys(&[candidate(0, Some(0.05), 0.0), candidate(0, Some(0.6), 0.0)]);
        assert_eq!((keys[0].1, keys[1].1), (0, 0));
        assert_eq!(
            rank_keys(&[candidate(0, Some(0.05), 0.0), candidate(0, Some(2.5), 0.0)])[1].1,
            1
        );
    }

    #[test]
    fn recent_errors_break_ties() {
        let keys = rank_keys(&[candidate(0, None, 0.6), candidate(0, None, 0.3)]);
        assert_eq!(order(&keys, 0), [1, 0]);
    }

    #[test]
    fn ties_rotate_with_the_turn() {
        let keys = rank_keys(&[candidate(0, None, 0.0); 3]);
        let firsts: Vec<usize> = (0..6).map(|turn| order(&keys, turn)[0]).collect();
        assert_eq!(firsts, [0, 1, 2, 0, 1, 2]);
    }

    #[test]
    fn latency_goes_stale_and_errors_decay() {
        let scores = Scores::default();
        let start = Instant::now();
        scores.latency_sample(Duration::from_millis(10), start);
        assert_eq!(scores.latency_ms(start), Some(10.0));
        assert_eq!(scores.latency_ms(start + LATENCY_STALE_AFTER), None);
        assert_eq!(scores.now(start + LATENCY_STALE_AFTER).0, None);
        scores.error(start);
        scores.error(start);
        let later = scores.recent_errors(start + ERRORS_HALF_LIFE);
        assert!((later - 1.0).abs() < 1e-9, "{later}");
    }

    #[test]
    fn latency_takes_peaks_at_once_and_recovers_with_time() {
        let scores = Scores::default();
        let start = Instant::now();
        scores.latency_sample(Duration::from_millis(10), start);
        scores.latency_sample(Duration::from_millis(30), start);
        assert_eq!(scores.latency_ms(start), Some(30.0));
        scores.latency_sample(Duration::from_millis(10), start + LATENCY_TAU);
        let average = scores.latency_ms(start + LATENCY_TAU).unwrap();
        assert!(average > 10.0 && average < 30.0, "{average}");
    }
}
