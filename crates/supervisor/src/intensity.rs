//! Restart intensity: at most `max_restarts` restarts within a sliding `max_window`.

use std::{collections::VecDeque, time::Duration};

use tokio::time::Instant;

/// How often clients may be restarted before they are given up on: at most
/// [`max_restarts`](Self::max_restarts) within any [`max_window`](Self::max_window) (OTP's
/// restart intensity). Restarts older than the window are forgotten. Default: 5 in 60 s.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use zen_websocket_supervisor::RestartIntensity;
///
/// let strict = RestartIntensity::new(3, Duration::from_secs(30));
/// assert_eq!(strict.max_restarts(), 3);
/// assert_eq!(RestartIntensity::default().max_window(), Duration::from_secs(60));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestartIntensity {
    max_restarts: u32,
    max_window: Duration,
}

impl Default for RestartIntensity {
    fn default() -> Self {
        Self { max_restarts: 5, max_window: Duration::from_secs(60) }
    }
}

impl RestartIntensity {
    /// At most `max_restarts` within `max_window`; 0 restarts means the first failure is final.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let never = zen_websocket_supervisor::RestartIntensity::new(0, Duration::from_secs(1));
    /// ```
    #[must_use]
    pub fn new(max_restarts: u32, max_window: Duration) -> Self {
        Self { max_restarts, max_window }
    }

    /// The most restarts allowed within [`max_window`](Self::max_window).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(zen_websocket_supervisor::RestartIntensity::default().max_restarts(), 5);
    /// ```
    #[must_use]
    pub fn max_restarts(&self) -> u32 {
        self.max_restarts
    }

    /// The sliding window restarts are counted in.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// assert_eq!(zen_websocket_supervisor::RestartIntensity::default().max_window(), Duration::from_secs(60));
    /// ```
    #[must_use]
    pub fn max_window(&self) -> Duration {
        self.max_window
    }
}

/// The restarts of one client within the window.
#[derive(Debug)]
pub(crate) struct RestartWindow {
    intensity: RestartIntensity,
    recent: VecDeque<Instant>,
}

impl RestartWindow {
    pub(crate) fn new(intensity: RestartIntensity) -> Self {
        Self { intensity, recent: VecDeque::new() }
    }

    /// Counts a restart at `now` when the intensity allows one; `false` means give up.
    pub(crate) fn try_restart(&mut self, now: Instant) -> bool {
        let window = self.intensity.max_window;
        while self.recent.front().is_some_and(|at| now.duration_since(*at) >= window) {
            self.recent.pop_front();
        }
        if self.recent.len() >= self.intensity.max_restarts as usize {
            return false;
        }
        self.recent.push_back(now);
        true
    }

    /// Restarts counted within the window at `now`.
    pub(crate) fn in_window(&self) -> usize {
        self.recent.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_max_restarts_then_refuses() {
        let start = Instant::now();
        let mut window = RestartWindow::new(RestartIntensity::new(2, Duration::from_secs(10)));
        assert!(window.try_restart(start));
        assert!(window.try_restart(start + Duration::from_secs(1)));
        assert!(!window.try_restart(start + Duration::from_secs(2)));
        assert_eq!(window.in_window(), 2);
    }

    #[test]
    fn forgets_restarts_older_than_the_window() {
        let start = Instant::now();
        let mut window = RestartWindow::new(RestartIntensity::new(2, Duration::from_secs(10)));
        assert!(window.try_restart(start));
        assert!(window.try_restart(start + Duration::from_secs(5)));
        assert!(!window.try_restart(start + Duration::from_secs(9)));
        // The first restart leaves the window at 10 s: room for one more, not two.
        assert!(window.try_restart(start + Duration::from_secs(10)));
        assert!(!window.try_restart(start + Duration::from_secs(11)));
    }

    #[test]
    fn zero_restarts_gives_up_at_once() {
        let mut window = RestartWindow::new(RestartIntensity::new(0, Duration::from_secs(10)));
        assert!(!window.try_restart(Instant::now()));
    }
}
