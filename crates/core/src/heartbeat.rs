//! Heartbeat settings and the health they report: how a half-open connection gets noticed.

use std::time::{Duration, SystemTime};

use crate::message::Message;

/// Which heartbeat a connection keeps, set with [`Config::heartbeat`](crate::Config::heartbeat).
///
/// # Examples
///
/// ```
/// use zen_websocket_core::{HeartbeatKind, Message};
///
/// let custom = HeartbeatKind::Custom(Message::from(r#"{"op":"ping"}"#));
/// assert!(matches!(custom, HeartbeatKind::Custom(_)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HeartbeatKind {
    /// The client sends a WebSocket ping every interval; the matching pong must arrive before
    /// the next one is due, else it counts as a failure. Round trips are measured.
    Ping,
    /// The server is expected to ping; an interval without a ping counts as a failure.
    Pong,
    /// Deribit's heartbeat: `public/set_heartbeat` on every (re)connect, every `test_request`
    /// answered with `public/test`; `heartbeat` messages are consumed, not delivered. An
    /// interval without either counts as a failure.
    Deribit,
    /// The client sends this message every interval (for venues with an application-level
    /// ping). No answer is expected, so no failures are counted.
    Custom(Message),
}

/// A heartbeat: what to send or expect, how often, and how many misses end the connection.
///
/// After `max_failures` consecutive failures the client closes the socket and reconnects
/// (when [`Config::reconnect_on_error`](crate::Config::reconnect_on_error) is on): a half-open
/// connection must not live forever.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use zen_websocket_core::{Config, HeartbeatConfig};
///
/// let config = Config::default()
///     .heartbeat(HeartbeatConfig::ping().interval(Duration::from_secs(15)).max_failures(3));
/// assert!(config.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct HeartbeatConfig {
    pub(crate) kind: HeartbeatKind,
    pub(crate) interval: Duration,
    pub(crate) max_failures: u32,
}

impl HeartbeatConfig {
    /// The smallest interval Deribit's `public/set_heartbeat` accepts.
    pub const DERIBIT_MIN_INTERVAL: Duration = Duration::from_secs(10);

    /// A heartbeat of `kind`, every 30 s, ending the connection after 2 consecutive failures.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_core::{HeartbeatConfig, HeartbeatKind};
    ///
    /// let heartbeat = HeartbeatConfig::new(HeartbeatKind::Pong);
    /// ```
    pub fn new(kind: HeartbeatKind) -> Self {
        Self { kind, interval: Duration::from_secs(30), max_failures: 2 }
    }

    /// [`HeartbeatKind::Ping`] with the defaults of [`new`](Self::new).
    ///
    /// # Examples
    ///
    /// ```
    /// let heartbeat = zen_websocket_core::HeartbeatConfig::ping();
    /// ```
    pub fn ping() -> Self {
        Self::new(HeartbeatKind::Ping)
    }

    /// [`HeartbeatKind::Pong`] with the defaults of [`new`](Self::new).
    ///
    /// # Examples
    ///
    /// ```
    /// let heartbeat = zen_websocket_core::HeartbeatConfig::pong();
    /// ```
    pub fn pong() -> Self {
        Self::new(HeartbeatKind::Pong)
    }

    /// [`HeartbeatKind::Deribit`] with the defaults of [`new`](Self::new).
    ///
    /// # Examples
    ///
    /// ```
    /// let heartbeat = zen_websocket_core::HeartbeatConfig::deribit();
    /// ```
    pub fn deribit() -> Self {
        Self::new(HeartbeatKind::Deribit)
    }

    /// [`HeartbeatKind::Custom`] sending `message`, with the defaults of [`new`](Self::new).
    ///
    /// # Examples
    ///
    /// ```
    /// let heartbeat = zen_websocket_core::HeartbeatConfig::custom(r#"{"op":"ping"}"#);
    /// ```
    pub fn custom(message: impl Into<Message>) -> Self {
        Self::new(HeartbeatKind::Custom(message.into()))
    }

    /// How often a heartbeat is sent or expected.
    ///
    /// Default is 30 s. For [`HeartbeatKind::Deribit`] it must be at least 10 s (Deribit's
    /// minimum); it is sent to the server rounded up to whole seconds.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let heartbeat = zen_websocket_core::HeartbeatConfig::ping().interval(Duration::from_secs(10));
    /// ```
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// Consecutive failures that end the connection.
    ///
    /// Default is 2.
    ///
    /// # Examples
    ///
    /// ```
    /// let heartbeat = zen_websocket_core::HeartbeatConfig::ping().max_failures(3);
    /// ```
    pub fn max_failures(mut self, failures: u32) -> Self {
        self.max_failures = failures;
        self
    }

    /// The kind of heartbeat.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_core::{HeartbeatConfig, HeartbeatKind};
    /// assert_eq!(HeartbeatConfig::ping().kind(), &HeartbeatKind::Ping);
    /// ```
    #[must_use]
    pub fn kind(&self) -> &HeartbeatKind {
        &self.kind
    }
}

/// How the heartbeat is doing, from [`Client::get_heartbeat_health`](crate::Client::get_heartbeat_health).
///
/// # Examples
///
/// ```
/// use zen_websocket_core::HeartbeatHealth;
///
/// let health = HeartbeatHealth::default();
/// assert_eq!(health.failures, 0);
/// assert!(health.last_at.is_none());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HeartbeatHealth {
    /// Consecutive failures on the current socket (0 after every success, and on a new
    /// socket).
    pub failures: u32,
    /// When the last successful heartbeat (pong, server ping, Deribit heartbeat) was seen.
    pub last_at: Option<SystemTime>,
    /// The round trip of the last measured heartbeat (ping → pong, or Deribit's
    /// `public/test` reply).
    pub last_rtt: Option<Duration>,
}
