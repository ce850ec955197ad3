//! Carrying out one fault: which command to the server process drops which connections.

use tokio::time::Instant;
use zen_websocket::testing::ProxyConnectionId;

use super::{
    fleet::SoakClient,
    plan::{Fault, Kind, Target},
    protocol::{Command, Impairment},
    world::World,
};

/// What an injection did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Injection {
    /// When it started.
    pub(crate) at: Instant,
    /// The clients whose connection it dropped (empty when the target's connection was not
    /// found: the fault missed and is not counted).
    pub(crate) targets: Vec<usize>,
    /// How many connections the server or the proxy says it ended or impaired.
    pub(crate) reported: usize,
    /// Proxy links a stall or blackhole leaves open: reset once the clients are back, so
    /// nothing stale outlives the round.
    pub(crate) stale: Vec<ProxyConnectionId>,
    /// What went wrong carrying it out, if anything.
    pub(crate) error: Option<String>,
}

/// Carries out `fault` on `fleet`'s connections.
pub(crate) async fn inject(world: &World, fleet: &[SoakClient], fault: &Fault) -> Injection {
    let mut done = Injection {
        at: Instant::now(),
        targets: Vec::new(),
        reported: 0,
        stale: Vec::new(),
        error: None,
    };
    let (command, targets) = match fault.target {
        Target::All => (command(fault, None, None), (0..fleet.len()).collect()),
        Target::One(index) => {
            let soak = &fleet[index];
            let link = soak.link.map(ProxyConnectionId::get);
            let connection = soak.connection.map(|connection| connection.get());
            match (link, connection) {
                (Some(link), Some(connection)) => {
                    (command(fault, Some(link), Some(connection)), vec![index])
                }
                // Not mapped yet (the last probe could not tell): a miss, not a failure.
                _ => return done,
            }
        }
    };
    match world.fault(&command).await {
        Ok(answer) => {
            done.reported = answer.count;
            done.stale = answer.links.iter().map(|(id, _)| ProxyConnectionId::new(*id)).collect();
            let hit = answer.count > 0 || fault.target == Target::All;
            if hit {
                done.targets = targets;
            }
        }
        Err(error) => done.error = Some(error),
    }
    done
}

/// The command for `fault`: on one link and connection, or (`None`) on every one.
fn command(fault: &Fault, link: Option<u64>, connection: Option<u64>) -> Command {
    let impair = |impairment| Command::Impair { link, impairment, way: fault.direction.into() };
    match fault.kind {
        Kind::Reset => Command::Reset { link },
        Kind::GoingAway => Command::GoingAway { connection },
        Kind::Stall => impair(Impairment::Stall),
        Kind::Blackhole => impair(Impairment::Blackhole),
        Kind::Restart => Command::Restart,
        Kind::Reject429 => {
            let millis = u64::try_from(fault.refusal.as_millis()).unwrap_or(u64::MAX);
            Command::Refuse { link, millis }
        }
    }
}

/// Resets the links a stall or blackhole left open (a link already closed is left alone).
pub(crate) async fn clean_up(world: &World, stale: &[ProxyConnectionId]) {
    for link in stale {
        let _ = world.fault(&Command::Reset { link: Some(link.get()) }).await;
    }
}
