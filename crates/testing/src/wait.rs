//! Event-driven waits: re-check a condition after every change signalled on a `watch` channel.

use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

/// Waits until `check` returns `Some`, re-checking after every change signalled on `changes`
/// (no polling); `None` when `timeout` passes first.
pub(crate) async fn wait_until<T>(
    changes: &watch::Sender<u64>,
    timeout: Duration,
    mut check: impl FnMut() -> Option<T>,
) -> Option<T> {
    let deadline = Instant::now() + timeout;
    let mut changed = changes.subscribe();
    loop {
        if let Some(found) = check() {
            return Some(found);
        }
        match tokio::time::timeout_at(deadline, changed.changed()).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) | Err(_) => return check(),
        }
    }
}

/// Signals a change to every waiter.
pub(crate) fn bump(changes: &watch::Sender<u64>) {
    changes.send_modify(|version| *version = version.wrapping_add(1));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn wakes_on_change_and_times_out() {
        let changes = watch::Sender::new(0);
        let ready = std::sync::atomic::AtomicBool::new(false);
        let check = || ready.load(std::sync::atomic::Ordering::Relaxed).then_some(7);
        let waiting = wait_until(&changes, Duration::from_secs(5), check);
        let signalling = async {
            tokio::task::yield_now().await;
            ready.store(true, std::sync::atomic::Ordering::Relaxed);
            bump(&changes);
        };
        let (found, ()) = tokio::join!(waiting, signalling);
        assert_eq!(found, Some(7));
        assert_eq!(wait_until(&changes, Duration::from_millis(1), || None::<u8>).await, None);
    }
}
