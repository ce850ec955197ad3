//! The vocabulary of faults: directions, single faults, fault sets and the admission of new
//! connections.

use std::time::Duration;

/// Which way bytes flow through a [`FaultProxy`](crate::FaultProxy).
///
/// The client is the side that dialled the proxy; the server is the proxy's upstream.
///
/// # Examples
///
/// ```
/// use zen_websocket_testing::{Direction, Fault};
///
/// // The client's frames stop reaching the server; the server's still reach the client.
/// let fault = Fault::blackhole(Direction::ClientToServer);
/// assert_eq!(fault.direction(), Direction::ClientToServer);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the client to the server (upstream): what the client sends.
    ClientToServer,
    /// From the server (upstream) to the client: what the client receives.
    ServerToClient,
    /// Both ways.
    Both,
}

impl Direction {
    /// The one-way sides this direction covers.
    pub(super) fn sides(self) -> &'static [Side] {
        match self {
            Self::ClientToServer => &[Side::ClientToServer],
            Self::ServerToClient => &[Side::ServerToClient],
            Self::Both => &[Side::ClientToServer, Side::ServerToClient],
        }
    }
}

/// One way through a connection: a [`Direction`] other than `Both`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    ClientToServer,
    ServerToClient,
}

impl Side {
    /// The index of this side in per-side arrays.
    pub(super) fn index(self) -> usize {
        match self {
            Self::ClientToServer => 0,
            Self::ServerToClient => 1,
        }
    }
}

/// One fault a [`FaultProxy`](crate::FaultProxy) injects into a connection, in one or both
/// [`Direction`]s.
///
/// Faults are conditions (latency, bandwidth, stall, blackhole) that last until cleared, or
/// triggers (close after some bytes, truncate the next chunk) that end the connection when they
/// fire. Applying a fault replaces any fault of the same kind in the same direction.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use zen_websocket_testing::{Direction, Fault, Faults};
///
/// let faults = Faults::none()
///     .with(Fault::latency(Direction::Both, Duration::from_millis(20), Duration::from_millis(5)))
///     .with(Fault::bandwidth(Direction::ServerToClient, 64 * 1024));
/// assert!(!faults.is_none());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fault {
    /// Every chunk of bytes is held back `delay` plus a random extra of up to `jitter` before it
    /// is forwarded. Order is always kept: a chunk never overtakes an earlier one.
    Latency {
        /// Which way the delay applies.
        direction: Direction,
        /// The fixed part of the delay.
        delay: Duration,
        /// The largest random extra delay (uniform between zero and this).
        jitter: Duration,
    },
    /// Forwarding is paced to at most `bytes_per_second` (at least 1): after `t` seconds at most
    /// `bytes_per_second × t` bytes have gone out.
    Bandwidth {
        /// Which way the cap applies (each way gets the full rate).
        direction: Direction,
        /// The rate, in bytes per second.
        bytes_per_second: u64,
    },
    /// The proxy stops reading: bytes pile up in kernel buffers until the sender's writes block
    /// (TCP back-pressure; to make that happen after a few hundred KiB rather than megabytes,
    /// see [`FaultProxyBuilder::socket_buffer_size`](crate::FaultProxyBuilder::socket_buffer_size)
    /// and [`max_segment_size`](crate::FaultProxyBuilder::max_segment_size)). Nothing is lost:
    /// clearing the stall delivers everything, in order.
    Stall(Direction),
    /// A half-open connection: the proxy keeps reading but silently discards every byte (an end
    /// of stream included), so both TCP connections stay up while nothing gets through.
    Blackhole(Direction),
    /// Forwards `bytes` more bytes, then closes both sides with a FIN (each direction named
    /// counts its own bytes; `0` closes at once).
    CloseAfter {
        /// Which way the bytes are counted.
        direction: Direction,
        /// How many more bytes to forward before closing.
        bytes: u64,
    },
    /// Forwards only the first `keep` bytes of the next chunk read, then closes both sides with
    /// a FIN: the receiver sees a partial WebSocket frame followed by the end of the stream.
    Truncate {
        /// Which way the next chunk is cut.
        direction: Direction,
        /// How many bytes of the chunk get through.
        keep: usize,
    },
}

impl Fault {
    /// [`Fault::Latency`]: holds every chunk back `delay` plus up to `jitter`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use zen_websocket_testing::{Direction, Fault};
    /// let fault = Fault::latency(Direction::Both, Duration::from_millis(50), Duration::ZERO);
    /// assert_eq!(fault.direction(), Direction::Both);
    /// ```
    pub fn latency(direction: Direction, delay: Duration, jitter: Duration) -> Self {
        Self::Latency { direction, delay, jitter }
    }

    /// [`Fault::Bandwidth`]: paces forwarding to `bytes_per_second` (a rate of 0 counts as 1).
    ///
    /// # Examples
    ///
    /// ```
    /// # use zen_websocket_testing::{Direction, Fault};
    /// let fault = Fault::bandwidth(Direction::ServerToClient, 0);
    /// assert!(matches!(fault, Fault::Bandwidth { bytes_per_second: 1, .. }));
    /// ```
    pub fn bandwidth(direction: Direction, bytes_per_second: u64) -> Self {
        Self::Bandwidth { direction, bytes_per_second: bytes_per_second.max(1) }
    }

    /// [`Fault::Stall`]: stops reading, so the sender's writes eventually block.
    ///
    /// # Examples
    ///
    /// ```
    /// # use zen_websocket_testing::{Direction, Fault};
    /// assert_eq!(Fault::stall(Direction::ClientToServer), Fault::Stall(Direction::ClientToServer));
    /// ```
    pub fn stall(direction: Direction) -> Self {
        Self::Stall(direction)
    }

    /// [`Fault::Blackhole`]: reads and discards everything, keeping the connections up.
    ///
    /// # Examples
    ///
    /// ```
    /// # use zen_websocket_testing::{Direction, Fault};
    /// assert_eq!(Fault::blackhole(Direction::Both), Fault::Blackhole(Direction::Both));
    /// ```
    pub fn blackhole(direction: Direction) -> Self {
        Self::Blackhole(direction)
    }

    /// [`Fault::CloseAfter`]: forwards `bytes` more bytes, then closes both sides (FIN).
    ///
    /// # Examples
    ///
    /// ```
    /// # use zen_websocket_testing::{Direction, Fault};
    /// let fault = Fault::close_after(Direction::ServerToClient, 1024);
    /// assert!(matches!(fault, Fault::CloseAfter { bytes: 1024, .. }));
    /// ```
    pub fn close_after(direction: Direction, bytes: u64) -> Self {
        Self::CloseAfter { direction, bytes }
    }

    /// [`Fault::Truncate`]: forwards the first `keep` bytes of the next chunk, then closes both
    /// sides (FIN).
    ///
    /// # Examples
    ///
    /// ```
    /// # use zen_websocket_testing::{Direction, Fault};
    /// let fault = Fault::truncate(Direction::ClientToServer, 3);
    /// assert!(matches!(fault, Fault::Truncate { keep: 3, .. }));
    /// ```
    pub fn truncate(direction: Direction, keep: usize) -> Self {
        Self::Truncate { direction, keep }
    }

    /// The direction the fault applies to.
    ///
    /// # Examples
    ///
    /// ```
    /// # use zen_websocket_testing::{Direction, Fault};
    /// assert_eq!(Fault::stall(Direction::Both).direction(), Direction::Both);
    /// ```
    pub fn direction(&self) -> Direction {
        match *self {
            Self::Latency { direction, .. }
            | Self::Bandwidth { direction, .. }
            | Self::Stall(direction)
            | Self::Blackhole(direction)
            | Self::CloseAfter { direction, .. }
            | Self::Truncate { direction, .. } => direction,
        }
    }
}

/// The faults in force on one side of a connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub(super) struct Lane {
    pub(super) delay: Duration,
    pub(super) jitter: Duration,
    pub(super) bandwidth: Option<u64>,
    pub(super) stall: bool,
    pub(super) blackhole: bool,
    /// In a `Faults` value: bytes left to forward. On a live connection: the total count of
    /// bytes passed on this side at which the connection closes.
    pub(super) close_after: Option<u64>,
    pub(super) truncate: Option<usize>,
}

impl Lane {
    /// Puts `fault` in force, replacing a fault of the same kind.
    pub(super) fn set(&mut self, fault: Fault) {
        match fault {
            Fault::Latency { delay, jitter, .. } => (self.delay, self.jitter) = (delay, jitter),
            Fault::Bandwidth { bytes_per_second, .. } => self.bandwidth = Some(bytes_per_second),
            Fault::Stall(_) => self.stall = true,
            Fault::Blackhole(_) => self.blackhole = true,
            Fault::CloseAfter { bytes, .. } => self.close_after = Some(bytes),
            Fault::Truncate { keep, .. } => self.truncate = Some(keep),
        }
    }

    /// Lifts the fault of `fault`'s kind.
    pub(super) fn unset(&mut self, fault: Fault) {
        match fault {
            Fault::Latency { .. } => (self.delay, self.jitter) = (Duration::ZERO, Duration::ZERO),
            Fault::Bandwidth { .. } => self.bandwidth = None,
            Fault::Stall(_) => self.stall = false,
            Fault::Blackhole(_) => self.blackhole = false,
            Fault::CloseAfter { .. } => self.close_after = None,
            Fault::Truncate { .. } => self.truncate = None,
        }
    }
}

/// A set of [`Fault`]s, for example the faults every new connection through a
/// [`FaultProxy`](crate::FaultProxy) starts with
/// ([`set_default`](crate::FaultProxy::set_default)).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use zen_websocket_testing::{Direction, Fault, Faults};
///
/// let stall = Fault::stall(Direction::ClientToServer);
/// let faults = Faults::none()
///     .with(Fault::latency(Direction::Both, Duration::from_millis(5), Duration::from_millis(2)))
///     .with(stall);
/// let only_latency = faults.without(stall);
/// assert_ne!(faults, only_latency);
/// assert!(only_latency.without(Fault::latency(Direction::Both, Duration::ZERO, Duration::ZERO)).is_none());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Faults {
    /// Indexed by [`Side::index`].
    lanes: [Lane; 2],
}

impl Faults {
    /// No faults: bytes are forwarded as they come.
    ///
    /// # Examples
    ///
    /// ```
    /// # use zen_websocket_testing::Faults;
    /// assert!(Faults::none().is_none());
    /// assert_eq!(Faults::none(), Faults::default());
    /// ```
    pub fn none() -> Self {
        Self::default()
    }

    /// This set with `fault` added (replacing a fault of the same kind in the same direction).
    ///
    /// # Examples
    ///
    /// ```
    /// # use zen_websocket_testing::{Direction, Fault, Faults};
    /// let faults = Faults::none().with(Fault::blackhole(Direction::ServerToClient));
    /// assert_eq!(faults, Faults::from(Fault::blackhole(Direction::ServerToClient)));
    /// ```
    #[must_use]
    pub fn with(mut self, fault: Fault) -> Self {
        for &side in fault.direction().sides() {
            self.lanes[side.index()].set(fault);
        }
        self
    }

    /// This set without faults of `fault`'s kind in `fault`'s direction (the other fields of
    /// `fault` are ignored).
    ///
    /// # Examples
    ///
    /// ```
    /// # use zen_websocket_testing::{Direction, Fault, Faults};
    /// let faults = Faults::from(Fault::stall(Direction::Both));
    /// let faults = faults.without(Fault::stall(Direction::ClientToServer));
    /// assert_eq!(faults, Faults::from(Fault::stall(Direction::ServerToClient)));
    /// ```
    #[must_use]
    pub fn without(mut self, fault: Fault) -> Self {
        for &side in fault.direction().sides() {
            self.lanes[side.index()].unset(fault);
        }
        self
    }

    /// Whether the set holds no fault at all.
    ///
    /// # Examples
    ///
    /// ```
    /// # use zen_websocket_testing::{Direction, Fault, Faults};
    /// assert!(!Faults::from(Fault::close_after(Direction::Both, 0)).is_none());
    /// ```
    pub fn is_none(&self) -> bool {
        *self == Self::none()
    }

    /// The faults in force on one side.
    pub(super) fn lane(&self, side: Side) -> &Lane {
        &self.lanes[side.index()]
    }

    /// The faults in force on one side, to change.
    pub(super) fn lane_mut(&mut self, side: Side) -> &mut Lane {
        &mut self.lanes[side.index()]
    }
}

impl From<Fault> for Faults {
    fn from(fault: Fault) -> Self {
        Self::none().with(fault)
    }
}

/// What a [`FaultProxy`](crate::FaultProxy) does with new TCP connections
/// ([`set_admission`](crate::FaultProxy::set_admission)). Open connections are not affected.
///
/// # Examples
///
/// ```
/// use zen_websocket_testing::Admission;
///
/// assert_eq!(Admission::default(), Admission::Accept);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Admission {
    /// Accept and forward to the upstream (the default).
    #[default]
    Accept,
    /// Accept, then reset at once (`SO_LINGER` 0): the client's TCP connect succeeds and its
    /// first read or write fails with `ECONNRESET`.
    Reset,
    /// Stop listening: dials fail with `ECONNREFUSED`. The port is bound again (same number)
    /// when admission changes back.
    Refuse,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_and_without_touch_only_their_kind_and_sides() {
        let ms = Duration::from_millis;
        let faults = Faults::none()
            .with(Fault::latency(Direction::Both, ms(5), ms(1)))
            .with(Fault::stall(Direction::ServerToClient))
            .with(Fault::latency(Direction::ClientToServer, ms(9), ms(0)));
        assert_eq!(faults.lane(Side::ClientToServer).delay, ms(9));
        assert_eq!(faults.lane(Side::ServerToClient).delay, ms(5));
        assert!(faults.lane(Side::ServerToClient).stall);
        assert!(!faults.lane(Side::ClientToServer).stall);
        let healed = faults.without(Fault::stall(Direction::Both)).without(Fault::latency(
            Direction::Both,
            ms(0),
            ms(0),
        ));
        assert!(healed.is_none());
    }

    #[test]
    fn every_kind_round_trips() {
        let all = [
            Fault::latency(Direction::Both, Duration::from_millis(1), Duration::ZERO),
            Fault::bandwidth(Direction::Both, 10),
            Fault::stall(Direction::Both),
            Fault::blackhole(Direction::Both),
            Fault::close_after(Direction::Both, 3),
            Fault::truncate(Direction::Both, 2),
        ];
        for fault in all {
            let faults = Faults::from(fault);
            assert!(!faults.is_none(), "{fault:?}");
            assert!(faults.without(fault).is_none(), "{fault:?}");
        }
    }
}
