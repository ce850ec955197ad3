//! The fault mix: which kinds of failure the soak forces, on whom, drawn from the seeded RNG.

use std::{fmt, time::Duration};

use zen_websocket::testing::Direction;

use super::rng::SplitMix64;

/// One kind of forced failure. Each drops the connections it targets exactly once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Kind {
    /// The proxy resets the TCP connection (RST to both sides).
    Reset,
    /// The server closes with 1001 (going away).
    GoingAway,
    /// The proxy stops forwarding (both ways, or client → server) until the client's heartbeat
    /// gives up on the connection.
    Stall,
    /// The proxy swallows bytes (both ways, or one way) — a half-open connection only the
    /// heartbeat can notice.
    Blackhole,
    /// The server stops (1001 to everyone) and listens again on the same port.
    Restart,
    /// The connection is reset while the server answers every upgrade with HTTP 429 and
    /// `Retry-After: 1` for a short while, so re-dials are refused first.
    Reject429,
}

impl Kind {
    /// Every kind, in report order.
    pub(crate) const ALL: [Kind; 6] = [
        Kind::Reset,
        Kind::GoingAway,
        Kind::Stall,
        Kind::Blackhole,
        Kind::Restart,
        Kind::Reject429,
    ];

    /// How often the kind is drawn, out of the sum of all weights (100).
    fn weight(self) -> u64 {
        match self {
            Kind::Reset | Kind::GoingAway => 20,
            Kind::Stall | Kind::Blackhole => 15,
            Kind::Restart => 8,
            Kind::Reject429 => 22,
        }
    }

    /// The label used in the report and the JSON.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Kind::Reset => "tcp reset",
            Kind::GoingAway => "server close 1001",
            Kind::Stall => "stall",
            Kind::Blackhole => "blackhole",
            Kind::Restart => "server restart",
            Kind::Reject429 => "429 on re-dial",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Whose connections a fault drops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// One client, by index.
    One(usize),
    /// Every client at once.
    All,
}

/// One forced failure, fully decided before it is carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fault {
    /// What happens.
    pub(crate) kind: Kind,
    /// To whom.
    pub(crate) target: Target,
    /// Which way a stall or blackhole applies (ignored by the other kinds).
    pub(crate) direction: Direction,
    /// How long the server refuses upgrades with 429 (ignored by the other kinds).
    pub(crate) refusal: Duration,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.target {
            Target::One(index) => write!(f, "{} on client {index}", self.kind)?,
            Target::All => write!(f, "{} on every client", self.kind)?,
        }
        match self.kind {
            Kind::Stall | Kind::Blackhole => write!(f, " ({:?})", self.direction),
            Kind::Reject429 => write!(f, " (refusing for {:?})", self.refusal),
            _ => Ok(()),
        }
    }
}

/// One in this many faults (other than restarts, which always hit everyone) targets every
/// client at once.
const ALL_ONE_IN: u64 = 5;

/// Draws the next fault for `clients` clients.
pub(crate) fn draw(rng: &mut SplitMix64, clients: usize) -> Fault {
    let kind = draw_kind(rng);
    let target = if kind == Kind::Restart || clients == 1 || rng.chance(1, ALL_ONE_IN) {
        Target::All
    } else {
        Target::One(rng.below(clients as u64) as usize)
    };
    let direction = match kind {
        Kind::Stall => [Direction::Both, Direction::ClientToServer][rng.below(2) as usize],
        Kind::Blackhole => {
            let ways = [Direction::Both, Direction::ClientToServer, Direction::ServerToClient];
            ways[rng.below(3) as usize]
        }
        _ => Direction::Both,
    };
    let refusal = rng.millis(150, 400);
    Fault { kind, target, direction, refusal }
}

fn draw_kind(rng: &mut SplitMix64) -> Kind {
    let total: u64 = Kind::ALL.iter().map(|kind| kind.weight()).sum();
    let mut pick = rng.below(total);
    for kind in Kind::ALL {
        if pick < kind.weight() {
            return kind;
        }
        pick -= kind.weight();
    }
    Kind::Reset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_and_both_targets_come_up() {
        let mut rng = SplitMix64::new(1);
        let faults: Vec<Fault> = (0..500).map(|_| draw(&mut rng, 10)).collect();
        for kind in Kind::ALL {
            assert!(faults.iter().any(|f| f.kind == kind), "{kind} never drawn");
        }
        assert!(faults.iter().any(|f| f.target == Target::All && f.kind != Kind::Restart));
        assert!(faults.iter().any(|f| matches!(f.target, Target::One(i) if i < 10)));
        assert!(faults.iter().filter(|f| f.kind == Kind::Restart).all(|f| f.target == Target::All));
    }

    #[test]
    fn a_seed_replays_the_same_mix() {
        let (mut a, mut b) = (SplitMix64::new(42), SplitMix64::new(42));
        for _ in 0..50 {
            assert_eq!(draw(&mut a, 10), draw(&mut b, 10));
        }
    }
}
