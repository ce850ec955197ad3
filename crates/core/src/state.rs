//! The connection state, readable from any handle without waiting on the connection task.

use std::{
    fmt,
    sync::atomic::{AtomicU8, Ordering},
};

/// Where a connection stands right now, as returned by
/// [`Client::get_state`](crate::Client::get_state).
///
/// # Examples
///
/// ```
/// use zen_websocket_core::ConnectionState;
///
/// assert_eq!(ConnectionState::Connected.to_string(), "connected");
/// assert!(ConnectionState::Connected.is_connected());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectionState {
    /// Dialling, upgrading, or waiting to reconnect after a loss.
    Connecting,
    /// The WebSocket is open: sends and requests go out at once.
    Connected,
    /// Closed by [`Client::close`](crate::Client::close), by the server, or after a loss that
    /// was not (or could no longer be) recovered. A disconnected client stays disconnected.
    Disconnected,
}

impl ConnectionState {
    /// `true` only for [`ConnectionState::Connected`].
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_core::ConnectionState;
    ///
    /// assert!(!ConnectionState::Connecting.is_connected());
    /// ```
    #[must_use]
    pub fn is_connected(self) -> bool {
        self == Self::Connected
    }

    fn from_u8(raw: u8) -> Self {
        match raw {
            0 => Self::Connecting,
            1 => Self::Connected,
            _ => Self::Disconnected,
        }
    }

    fn as_u8(self) -> u8 {
        match self {
            Self::Connecting => 0,
            Self::Connected => 1,
            Self::Disconnected => 2,
        }
    }
}

impl fmt::Display for ConnectionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Connecting => "connecting",
            Self::Connected => "connected",
            Self::Disconnected => "disconnected",
        })
    }
}

/// A lock-free cell holding a [`ConnectionState`], written by the connection task only.
#[derive(Debug)]
pub(crate) struct StateCell(AtomicU8);

impl StateCell {
    pub(crate) fn new(state: ConnectionState) -> Self {
        Self(AtomicU8::new(state.as_u8()))
    }

    pub(crate) fn get(&self) -> ConnectionState {
        ConnectionState::from_u8(self.0.load(Ordering::Acquire))
    }

    pub(crate) fn set(&self, state: ConnectionState) {
        self.0.store(state.as_u8(), Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_through_the_cell() {
        let cell = StateCell::new(ConnectionState::Connecting);
        for state in
            [ConnectionState::Connected, ConnectionState::Disconnected, ConnectionState::Connecting]
        {
            cell.set(state);
            assert_eq!(cell.get(), state);
        }
    }
}
