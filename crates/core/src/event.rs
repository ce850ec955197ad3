//! What the connection reports to its user: inbound messages and lifecycle changes.

use std::{fmt, time::Duration};

use crate::{error::Error, message::Message, subscription::SubscriptionId};

/// One thing that happened on the connection, in the order it happened.
///
/// Read events with [`Client::recv`](crate::Client::recv), or have them pushed to
/// [`Config::message_handler`](crate::Config::message_handler). Responses to
/// [`Client::request`](crate::Client::request) and subscription confirmations go to their
/// callers, not here.
///
/// When you see an event, [`Client::get_state`](crate::Client::get_state) already agrees
/// with it, and each change is reported once. A loss reads `Disconnected` (with
/// `will_retry: true`) → `Reconnecting` → … → `Connected`, or ends in `ReconnectFailed`;
/// `Connected` comes once the subscriptions are restored, after a `SubscriptionLost` for each
/// one the server refused.
///
/// # Examples
///
/// ```
/// use zen_websocket_core::{DisconnectReason, Event};
///
/// fn describe(event: &Event) -> String {
///     match event {
///         Event::Message(message) => format!("{} bytes", message.len()),
///         Event::Disconnected { reason, .. } => format!("lost: {reason}"),
///         other => format!("{other:?}"),
///     }
/// }
/// assert_eq!(describe(&Event::Connected), "Connected");
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// A text or binary message from the server.
    Message(Message),
    /// The connection is open again after a loss, and every subscription the server
    /// confirmed again is restored (the first connection is reported by
    /// [`Client::connect`](crate::Client::connect) returning `Ok`).
    Connected,
    /// The connection ended; `reason` says how.
    #[non_exhaustive]
    Disconnected {
        /// The close code and reason, or the error that ended the connection.
        reason: DisconnectReason,
        /// Whether the client will try to reconnect (`Reconnecting` follows); when `false`
        /// the client is [`Disconnected`](crate::ConnectionState::Disconnected) for good.
        will_retry: bool,
    },
    /// A reconnection attempt will start after `delay`.
    #[non_exhaustive]
    Reconnecting {
        /// 1 for the first attempt after a loss.
        attempt: u32,
        /// The back-off before this attempt.
        delay: Duration,
    },
    /// Reconnection gave up — every attempt failed, or one failed in a way retrying cannot
    /// fix (see [`Error::is_recoverable`]); the client is now
    /// [`Disconnected`](crate::ConnectionState::Disconnected) for good.
    #[non_exhaustive]
    ReconnectFailed {
        /// How many attempts were made.
        attempts: u32,
        /// Why the last one failed.
        last_error: Error,
    },
    /// Channels of a confirmed subscription are no longer subscribed: the server refused (or
    /// did not confirm in time) to restore them after a reconnect. The subscription keeps the
    /// channels that were confirmed again; when none were, `id` is gone (unsubscribing it
    /// answers [`Error::UnknownSubscription`]).
    #[non_exhaustive]
    SubscriptionLost {
        /// The subscription the channels belonged to.
        id: SubscriptionId,
        /// The channels lost.
        channels: Vec<String>,
        /// Why: the server's refusal, or [`Error::RequestTimeout`].
        error: Error,
    },
}

/// Why a connection ended, carried by [`Event::Disconnected`].
///
/// # Examples
///
/// ```
/// use zen_websocket_core::DisconnectReason;
///
/// let reason = DisconnectReason::ServerClosed { code: 1001, reason: "restart".into() };
/// assert_eq!(reason.close_code(), Some(1001));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The server sent a close frame (code 1005 when the frame carried no code).
    ServerClosed {
        /// The close code, e.g. 1000 (normal) or 1001 (going away).
        code: u16,
        /// The close reason text, possibly empty.
        reason: String,
    },
    /// [`Client::close`](crate::Client::close) ended the connection (or every handle was dropped).
    ClientClosed,
    /// The connection broke without a close handshake: a reset, an unexpected end of stream,
    /// a protocol violation or a message over the size limit.
    Error(Error),
}

impl DisconnectReason {
    /// The close code the server sent, if it sent one.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_core::DisconnectReason;
    ///
    /// assert_eq!(DisconnectReason::ClientClosed.close_code(), None);
    /// ```
    #[must_use]
    pub fn close_code(&self) -> Option<u16> {
        match self {
            Self::ServerClosed { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The error that broke the connection, if it broke.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_core::{DisconnectReason, Error};
    ///
    /// assert!(DisconnectReason::Error(Error::Disconnected).error().is_some());
    /// ```
    #[must_use]
    pub fn error(&self) -> Option<&Error> {
        match self {
            Self::Error(err) => Some(err),
            _ => None,
        }
    }

    /// The reason as an error, for reports that outlive the event (the `last_error` of a
    /// reconnection that gave up).
    pub(crate) fn as_error(&self) -> Error {
        match self {
            Self::ServerClosed { code, reason } => {
                Error::ServerClosed { code: *code, reason: reason.clone() }
            }
            Self::ClientClosed => Error::Disconnected,
            Self::Error(err) => err.copy_for_report(),
        }
    }
}

/// How a connection ended for good, as [`Client::closed`](crate::Client::closed) reports it.
///
/// # Examples
///
/// ```
/// use zen_websocket_core::Ending;
///
/// assert!(Ending::Closed.is_normal());
/// assert!(Ending::ServerClosed { code: 1000 }.is_normal());
/// assert!(!Ending::GaveUp.is_normal());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Ending {
    /// [`Client::close`](crate::Client::close) ended it, or every handle was dropped.
    Closed,
    /// The server closed it with this code, and the client was not to reconnect.
    ServerClosed {
        /// The close code (1005 when the close frame carried none).
        code: u16,
    },
    /// The socket broke without a close handshake, and the client was not to reconnect.
    Lost,
    /// Reconnection gave up: [`Config::retry_count`](crate::Config::retry_count) attempts
    /// failed, or one failed in a way retrying cannot fix ([`Event::ReconnectFailed`]).
    GaveUp,
    /// The connection task ended otherwise: its runtime shut down, or it panicked.
    TaskEnded,
}

impl Ending {
    /// The ending of a socket lost while the client was not to reconnect.
    pub(crate) fn of_lost(reason: &DisconnectReason) -> Self {
        match reason {
            DisconnectReason::ServerClosed { code, .. } => Self::ServerClosed { code: *code },
            DisconnectReason::ClientClosed => Self::Closed,
            DisconnectReason::Error(_) => Self::Lost,
        }
    }

    /// Whether the connection ended as asked: closed by the client, or by the server with
    /// close code 1000. Anything else is a failure (what a supervisor restarts a `Transient`
    /// client for).
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_core::Ending;
    ///
    /// assert!(!Ending::ServerClosed { code: 1011 }.is_normal());
    /// ```
    #[must_use]
    pub fn is_normal(self) -> bool {
        matches!(self, Self::Closed | Self::ServerClosed { code: 1000 })
    }
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ServerClosed { code, reason } if reason.is_empty() => {
                write!(f, "closed by the server with code {code}")
            }
            Self::ServerClosed { code, reason } => {
                write!(f, "closed by the server with code {code} ({reason})")
            }
            Self::ClientClosed => f.write_str("closed by the client"),
            Self::Error(err) => write!(f, "connection lost: {err}"),
        }
    }
}
