//! Errors: failed assertions and invalid matchers.

use std::time::Duration;

/// A `Result` whose error is this crate's [`Error`].
///
/// # Examples
///
/// ```
/// use zen_websocket_testing::{Matcher, Result};
///
/// fn matcher() -> Result<Matcher> {
///     Matcher::regex(r"^\{.*\}$")
/// }
/// assert!(matcher().is_ok());
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in this crate apart from I/O while starting a server.
///
/// # Examples
///
/// ```
/// use zen_websocket_testing::{Error, Matcher};
///
/// let err = Matcher::regex("(unclosed").unwrap_err();
/// assert!(matches!(err, Error::InvalidRegex(_)));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A pattern given to [`Matcher::regex`](crate::Matcher::regex) does not compile.
    #[error("invalid regex matcher")]
    InvalidRegex(#[source] regex::Error),
    /// An assertion such as [`MockServer::assert_message_sent`] failed.
    ///
    /// [`MockServer::assert_message_sent`]: crate::MockServer::assert_message_sent
    #[error(transparent)]
    Assertion(#[from] AssertionError),
    /// A recording given to [`Replay::from_recording`](crate::Replay::from_recording) could
    /// not be read.
    #[error("the recording could not be read: {0}")]
    Recording(#[from] zen_websocket_recorder::Error),
}

/// A wait on the server or proxy timed out: the expected message, event or connection count
/// never came.
///
/// The message says what was expected and lists what was seen instead (truncated).
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// use std::time::Duration;
/// use zen_websocket_testing::{AssertionError, MockServer};
///
/// let server = MockServer::start().await?;
/// let err = server
///     .assert_message_sent("never sent", Duration::from_millis(10))
///     .await
///     .unwrap_err();
/// assert!(matches!(err, AssertionError::NoMatchingMessage { .. }));
/// assert!(err.to_string().contains("never sent"));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum AssertionError {
    /// No received message matched.
    #[error(
        "no message matching {expected} arrived within {timeout:?}; received {count} message(s): {seen}"
    )]
    NoMatchingMessage {
        /// A description of the matcher.
        expected: String,
        /// How long the assertion waited.
        timeout: Duration,
        /// How many messages had been received in total.
        count: usize,
        /// The received messages, rendered and truncated.
        seen: String,
    },
    /// No server event satisfied the predicate.
    #[error("no matching server event within {timeout:?}; saw {count} event(s): {seen}")]
    NoMatchingEvent {
        /// How long the wait lasted.
        timeout: Duration,
        /// How many events had been recorded in total.
        count: usize,
        /// The recorded events, rendered and truncated.
        seen: String,
    },
    /// The number of open connections was not as expected when the wait ended.
    #[error("expected {expected} open connection(s) within {timeout:?}, saw {open}")]
    ConnectionCount {
        /// The awaited count, for example `"at least 2"` or `"exactly 0"`.
        expected: String,
        /// The number of connections open when the wait gave up.
        open: usize,
        /// How long the wait lasted.
        timeout: Duration,
    },
    /// No request with the awaited method reached a
    /// [`DeribitSimulator`](crate::DeribitSimulator).
    #[error("no {method} request arrived within {timeout:?}; received {count} request(s): {seen}")]
    NoMatchingRequest {
        /// The awaited method, for example `public/auth`.
        method: String,
        /// How long the wait lasted.
        timeout: Duration,
        /// How many requests had been received in total.
        count: usize,
        /// The methods received, in order, truncated.
        seen: String,
    },
    /// A [`FaultProxy`](crate::FaultProxy) had accepted fewer connections than expected when
    /// the wait ended.
    #[error(
        "expected at least {expected} accepted connection(s) within {timeout:?}, saw {accepted}"
    )]
    AcceptedCount {
        /// The awaited number of accepted connections.
        expected: usize,
        /// How many had been accepted when the wait gave up.
        accepted: usize,
        /// How long the wait lasted.
        timeout: Duration,
    },
}

/// Renders at most `limit` items, noting how many more were left out.
pub(crate) fn render_list<T>(items: &[T], limit: usize, render: impl Fn(&T) -> String) -> String {
    if items.is_empty() {
        return "none".to_owned();
    }
    let shown: Vec<String> = items.iter().take(limit).map(render).collect();
    let mut out = format!("[{}]", shown.join(", "));
    if items.len() > limit {
        out.push_str(&format!(" and {} more", items.len() - limit));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_send_sync_static() {
        fn assert_bounds<T: Send + Sync + 'static>() {}
        assert_bounds::<Error>();
        assert_bounds::<AssertionError>();
    }

    #[test]
    fn render_list_truncates() {
        let items = [1, 2, 3];
        assert_eq!(render_list(&items, 2, |i| i.to_string()), "[1, 2] and 1 more");
        assert_eq!(render_list::<u8>(&[], 2, |i| i.to_string()), "none");
    }
}
