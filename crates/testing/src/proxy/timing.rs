//! When bytes may go out: latency with jitter, and the pacer behind a bandwidth cap.

use std::hash::{BuildHasher, RandomState};
use std::time::Duration;

use tokio::time::Instant;

/// The longest a paced write waits before its bytes go out: a tenth of a second's worth of
/// bytes is written at a time.
const SLICES_PER_SECOND: u64 = 10;

/// Picks when each chunk is due: now plus the delay plus a random share of the jitter.
#[derive(Debug)]
pub(super) struct Delays {
    /// xorshift64 state (never zero).
    state: u64,
}

impl Delays {
    pub(super) fn new() -> Self {
        let seed = RandomState::new().hash_one(std::process::id());
        Self { state: seed | 1 }
    }

    /// When a chunk read now may be written.
    pub(super) fn due(&mut self, delay: Duration, jitter: Duration) -> Instant {
        Instant::now() + delay + self.jitter(jitter)
    }

    /// A uniform random duration between zero and `max`.
    fn jitter(&mut self, max: Duration) -> Duration {
        let max = u64::try_from(max.as_nanos()).unwrap_or(u64::MAX);
        if max == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(self.next() % max.saturating_add(1))
    }

    fn next(&mut self) -> u64 {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        self.state
    }
}

/// Paces writes so that at most `rate × t` bytes go out in `t` seconds.
#[derive(Debug, Default)]
pub(super) struct Pacer {
    /// When the bytes written so far have used up their time.
    next: Option<Instant>,
}

impl Pacer {
    /// How many of `len` bytes to write next under `rate` (bytes per second).
    pub(super) fn slice(rate: Option<u64>, len: usize) -> usize {
        match rate {
            None => len,
            Some(rate) => {
                let slice = (rate / SLICES_PER_SECOND).max(1);
                len.min(usize::try_from(slice).unwrap_or(usize::MAX))
            }
        }
    }

    /// Waits until `bytes` more bytes may go out under `rate`; no wait without a rate.
    pub(super) async fn wait(&mut self, rate: Option<u64>, bytes: usize) {
        let Some(rate) = rate else {
            self.next = None;
            return;
        };
        let now = Instant::now();
        let start = self.next.map_or(now, |next| next.max(now));
        let end = start + transfer_time(bytes, rate);
        self.next = Some(end);
        tokio::time::sleep_until(end).await;
    }
}

/// How long `bytes` take at `rate` bytes per second.
fn transfer_time(bytes: usize, rate: u64) -> Duration {
    let nanos = (bytes as u128 * 1_000_000_000) / u128::from(rate.max(1));
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_in_range() {
        let mut delays = Delays::new();
        let max = Duration::from_millis(3);
        let jitters: Vec<_> = (0..1000).map(|_| delays.jitter(max)).collect();
        assert!(jitters.iter().all(|j| *j <= max));
        assert!(jitters.iter().any(|j| *j != jitters[0]), "jitter is random");
        assert_eq!(delays.jitter(Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn slices_and_transfer_times() {
        assert_eq!(Pacer::slice(None, 5000), 5000);
        assert_eq!(Pacer::slice(Some(10_000), 5000), 1000);
        assert_eq!(Pacer::slice(Some(1), 5000), 1);
        assert_eq!(transfer_time(500, 1000), Duration::from_millis(500));
    }

    #[tokio::test(start_paused = true)]
    async fn pacer_spreads_bytes_over_time() {
        let started = Instant::now();
        let mut pacer = Pacer::default();
        for _ in 0..10 {
            pacer.wait(Some(1000), 100).await;
        }
        assert_eq!(started.elapsed(), Duration::from_secs(1));
        pacer.wait(None, 100).await;
        assert_eq!(started.elapsed(), Duration::from_secs(1));
    }
}
