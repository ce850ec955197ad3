//! One round of the soak: let the targets settle, force the fault, wait for every dropped
//! client's `Connected` (event-driven, bounded), and clean up what the fault left behind.

use std::time::Duration;

use tokio::time::Instant;

use super::{
    fleet::{BACKOFF_RESET_AFTER, SoakClient},
    inject::{self, Injection},
    plan::{Fault, Target},
    world::World,
};

/// The longest a dropped client may take to report `Connected` again. Detection takes at most
/// three heartbeat intervals, a restart or a 429 refusal well under a second, and the
/// back-off is capped at 200 ms; this leaves a wide margin for a loaded machine.
pub(crate) const RECOVERY_LIMIT: Duration = Duration::from_secs(15);

/// Extra time past `backoff_reset_after` before a client is faulted again, so each failure
/// starts from the first back-off step.
const SETTLE_MARGIN: Duration = Duration::from_millis(25);

/// What one round did and saw.
#[derive(Debug, Clone)]
pub(crate) struct Round {
    /// The fault.
    pub(crate) fault: Fault,
    /// What the injection did.
    pub(crate) injection: Injection,
    /// Per dropped client: how long from the injection to its `Connected` event.
    pub(crate) recovered: Vec<(usize, Duration)>,
    /// Dropped clients that did not report `Connected` in time, with their recent events.
    pub(crate) unrecovered: Vec<String>,
}

/// Runs one round of `fault` against `fleet`.
pub(crate) async fn run(world: &World, fleet: &mut [SoakClient], fault: Fault) -> Round {
    let targets: Vec<usize> = match fault.target {
        Target::One(index) => vec![index],
        Target::All => (0..fleet.len()).collect(),
    };
    settle(fleet, &targets).await;
    let seen: Vec<u64> = fleet.iter().map(|soak| soak.tracker.connections().count).collect();
    let injection = inject::inject(world, fleet, &fault).await;
    let deadline = injection.at + RECOVERY_LIMIT;
    let (mut recovered, mut unrecovered) = (Vec::new(), Vec::new());
    for &index in &injection.targets {
        let soak = &mut fleet[index];
        soak.failures += 1;
        match soak.tracker.connected_after(seen[index], deadline).await {
            Some(at) => recovered.push((index, at.saturating_duration_since(injection.at))),
            None => unrecovered.push(evidence(soak, &fault, injection.at)),
        }
    }
    inject::clean_up(world, &injection.stale).await;
    Round { fault, injection, recovered, unrecovered }
}

/// Waits until every target has been up for `backoff_reset_after` (plus a margin).
async fn settle(fleet: &[SoakClient], targets: &[usize]) {
    let ready = targets
        .iter()
        .map(|index| fleet[*index].tracker.connections().at + BACKOFF_RESET_AFTER + SETTLE_MARGIN)
        .max();
    if let Some(ready) = ready {
        tokio::time::sleep_until(ready).await;
    }
}

/// What a client that did not come back looked like: its state and its last events.
fn evidence(soak: &SoakClient, fault: &Fault, at: Instant) -> String {
    let recent = soak.tracker.read(|record| record.recent.iter().cloned().collect::<Vec<_>>());
    format!(
        "client {} did not report Connected within {RECOVERY_LIMIT:?} of {fault} (injected \
         {:.3}s ago); state {:?}; metrics {:?}; last events: {}",
        soak.index,
        at.elapsed().as_secs_f64(),
        soak.client.get_state(),
        soak.client.get_state_metrics(),
        recent.join(" | ")
    )
}
