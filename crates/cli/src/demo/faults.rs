//! The faults injected into the simulator: when, which, and the task that injects them,
//! reporting each step so the event loop prints it where it happened.

use std::{sync::Arc, time::Duration};

use tokio::{sync::mpsc, task::JoinHandle, time::Instant};
use zen_websocket::testing::DeribitSimulator;

/// When the first fault comes.
const FIRST: Duration = Duration::from_secs(3);
/// The time between faults.
const EVERY: Duration = Duration::from_secs(4);
/// The time left after the last fault for the client to recover before the run ends.
const RECOVERY: Duration = Duration::from_secs(3);
/// How long the simulator stays down in a restart.
const DOWN_FOR: Duration = Duration::from_secs(1);
/// The kinds of fault, in the order they are injected (then again from the first).
const CYCLE: [Fault; 3] = [Fault::Drop, Fault::Restart, Fault::Drop];

/// One kind of fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Every connection reset (TCP RST, no close frame), as a network failure would.
    Drop,
    /// The simulator stopped (close 1001 to every connection, the port refusing), then
    /// listening again on the same port.
    Restart,
}

/// What the fault task reports.
#[derive(Debug)]
pub(crate) enum Report {
    /// A step of a fault, to print.
    Step(String),
    /// A fault was injected in full.
    Injected,
    /// A fault could not be injected (the port could not be bound again).
    Failed(String),
}

/// The faults of a run of `duration`: the first at 3 s, then every 4 s, none later than 3 s
/// before the end.
pub(crate) fn schedule(duration: Duration) -> Vec<(Duration, Fault)> {
    let last = duration.saturating_sub(RECOVERY);
    let times = std::iter::successors(Some(FIRST), |at| Some(*at + EVERY));
    times.take_while(|at| *at <= last).zip(CYCLE.into_iter().cycle()).collect()
}

/// Injects the faults of `schedule` (times from `start`), reporting on the returned channel.
pub(crate) fn spawn(
    simulator: Arc<DeribitSimulator>,
    schedule: Vec<(Duration, Fault)>,
    start: Instant,
) -> (mpsc::UnboundedReceiver<Report>, JoinHandle<()>) {
    let (reports, receiver) = mpsc::unbounded_channel();
    let task = tokio::spawn(async move {
        let total = schedule.len();
        for (number, (at, fault)) in (1..).zip(schedule) {
            tokio::time::sleep_until(start + at).await;
            let say = |text: String| {
                let _ = reports.send(Report::Step(format!("fault {number}/{total}: {text}")));
            };
            let outcome = inject(&simulator, fault, say).await;
            let report = outcome.map_or_else(Report::Failed, |()| Report::Injected);
            if reports.send(report).is_err() {
                return;
            }
        }
    });
    (receiver, task)
}

/// Injects one fault, saying what it does before and after each step.
async fn inject(
    simulator: &DeribitSimulator,
    fault: Fault,
    say: impl Fn(String),
) -> Result<(), String> {
    match fault {
        Fault::Drop => {
            say("dropping every connection (TCP reset, no close frame)".to_owned());
            let dropped = simulator.drop_connections().await;
            say(format!("dropped {dropped} connection(s)"));
        }
        Fault::Restart => {
            say("stopping the simulator (close 1001 \"going away\", port closed)".to_owned());
            simulator.stop().await;
            say(format!("simulator down; restarting in {} ms", DOWN_FOR.as_millis()));
            tokio::time::sleep(DOWN_FOR).await;
            let port = simulator.addr().port();
            simulator.restart().await.map_err(|error| {
                format!("could not restart the simulator on port {port}: {error}")
            })?;
            say(format!("simulator listening again on port {port}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(seconds: u64) -> Duration {
        Duration::from_secs(seconds)
    }

    #[test]
    fn the_default_run_has_three_faults_and_time_to_recover() {
        let expected = [(secs(3), Fault::Drop), (secs(7), Fault::Restart), (secs(11), Fault::Drop)];
        assert_eq!(schedule(secs(15)), expected);
    }

    #[test]
    fn short_runs_have_fewer_faults() {
        assert_eq!(schedule(secs(12)).len(), 2);
        assert_eq!(schedule(secs(6)).len(), 1);
        assert!(schedule(secs(5)).is_empty());
        assert_eq!(schedule(secs(30)).last(), Some(&(secs(27), Fault::Drop)));
    }
}
