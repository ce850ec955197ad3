//! Counting the runtime's live tasks, and waiting (bounded) for them to wind down to a baseline.

use std::time::Duration;

use tokio::time::Instant;

/// How often the count is read while waiting.
const POLL: Duration = Duration::from_millis(10);

/// Tasks alive on the current Tokio runtime (spawned and not yet finished).
///
/// # Panics
///
/// Outside a Tokio runtime.
pub(crate) fn alive() -> usize {
    tokio::runtime::Handle::current().metrics().num_alive_tasks()
}

/// Waits until at most `baseline` tasks are alive or `bound` has passed; returns the count then.
pub(crate) async fn settle_to(baseline: usize, bound: Duration) -> usize {
    let deadline = Instant::now() + bound;
    loop {
        let now = alive();
        if now <= baseline || Instant::now() >= deadline {
            return now;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The task counts the soak took, and what leaked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct TaskCounts {
    /// Before the server and the proxy started.
    pub(crate) at_start: usize,
    /// With the server and the proxy running, before any client connected.
    pub(crate) before_clients: usize,
    /// After every client closed and the soak's own tasks ended (server and proxy still up).
    pub(crate) after_clients: usize,
    /// After the server and the proxy stopped too.
    pub(crate) at_end: usize,
}

impl TaskCounts {
    /// Tasks the clients left behind.
    pub(crate) fn leaked_by_clients(&self) -> usize {
        self.after_clients.saturating_sub(self.before_clients)
    }

    /// Tasks alive at the end that were not at the start.
    pub(crate) fn leaked(&self) -> usize {
        self.at_end.saturating_sub(self.at_start)
    }
}
