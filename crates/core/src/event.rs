//! What the connection reports to its user: inbound messages and lifecycle changes.

use std::{fmt, time::Duration};

use crate::{error::Error, message::Message};

/// One thing that happened on the connection, in the order it happened.
///
/// Read events with [`Client::recv`](crate::Client::recv), or have them pushed to
/// [`Config::message_handler`](crate::Config::message_handler). Responses to
/// [`Client::request`](crate::Client::request) and subscription confirmations go to their
/// callers, not here.
///
/// # Examples
///
/// ```
/// use zen_websocket_core::{DisconnectReason, Event};
///
/// fn describe(event: &Event) -> String {
///     match event {
///         Event::Message(message) => format!("{} bytes", message.len()),
///         Event::Disconnected { reason } => format!("lost: {reason}"),
///         other => format!("{other:?}"),
///     }
/// }
/// let event = Event::Disconnected { reason: DisconnectReason::ClientClosed };
/// assert_eq!(describe(&event), "lost: closed by the client");
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// A text or binary message from the server.
    Message(Message),
    /// The connection is open again after a loss (the first connection is reported by
    /// [`Client::connect`](crate::Client::connect) returning `Ok`).
    Connected,
    /// The connection ended; `reason` says how.
    Disconnected {
        /// The close code and reason, or the error that ended the connection.
        reason: DisconnectReason,
    },
    /// A reconnection attempt will start after `delay`.
    Reconnecting {
        /// 1 for the first attempt after a loss.
        attempt: u32,
        /// The back-off before this attempt.
        delay: Duration,
    },
    /// Every reconnection attempt failed; the client is now
    /// [`Disconnected`](crate::ConnectionState::Disconnected) for good.
    ReconnectFailed {
        /// How many attempts were made.
        attempts: u32,
        /// Why the last one failed.
        last_error: Error,
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
