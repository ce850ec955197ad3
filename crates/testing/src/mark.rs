//! Marks: positions in `MockServer`'s message and event logs, so a wait can ignore the past.

use std::fmt;
use std::time::Duration;

use crate::error::{AssertionError, render_list};
use crate::event::ServerEvent;
use crate::matcher::Matcher;
use crate::message::ReceivedMessage;
use crate::server::MockServer;
use crate::state::{scan, since};

/// How many items an assertion failure lists.
const SHOWN: usize = 10;

/// A position in a [`MockServer`]'s logs of received messages and events, from
/// [`MockServer::mark`]: everything recorded later is "since the mark".
///
/// Marks are cheap `Copy` values. They count every message and event ever recorded, so
/// [`clear_received`](MockServer::clear_received) and [`clear_events`](MockServer::clear_events)
/// do not move them: after a clear, what is left of the log is still compared with the mark.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use futures_util::SinkExt;
/// use tokio_tungstenite::tungstenite::Message;
/// use zen_websocket_testing::MockServer;
///
/// let server = MockServer::start().await?;
/// let tcp = tokio::net::TcpStream::connect(server.addr()).await?;
/// let (mut ws, _) = tokio_tungstenite::client_async(server.url(), tcp).await?;
/// let wait = Duration::from_secs(5);
///
/// ws.send(Message::text("subscribe")).await?;
/// server.assert_message_sent("subscribe", wait).await?;
/// let mark = server.mark();
/// // The first "subscribe" is before the mark: only a new one satisfies this wait.
/// ws.send(Message::text("subscribe")).await?;
/// let again = server.assert_message_sent_since(mark, "subscribe", wait).await?;
/// assert_eq!(server.received_since(mark), [again]);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Mark {
    /// How many messages had been received (cleared ones included) when the mark was taken.
    received: usize,
    /// How many events had been recorded (cleared ones included) when the mark was taken.
    events: usize,
}

impl Mark {
    /// The start of the logs: everything ever recorded is after it.
    pub(crate) const ORIGIN: Self = Self { received: 0, events: 0 };

    /// How `matcher` reads in an assertion failure that waited since this mark.
    fn describe(self, matcher: &Matcher) -> String {
        if self == Self::ORIGIN { matcher.to_string() } else { format!("{matcher} since {self}") }
    }
}

impl fmt::Display for Mark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the mark after message {} and event {}", self.received, self.events)
    }
}

impl MockServer {
    /// Marks the current end of the received-message and event logs. Pass the mark to
    /// [`assert_message_sent_since`](Self::assert_message_sent_since),
    /// [`received_since`](Self::received_since), [`wait_for_event_since`](Self::wait_for_event_since)
    /// or [`events_since`](Self::events_since) to look only at what came later — for example
    /// "the client re-sent its subscription after the reconnect", which
    /// [`assert_message_sent`](Self::assert_message_sent) cannot tell from the first one.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::MockServer;
    /// let server = MockServer::start().await?;
    /// let mark = server.mark();
    /// assert!(server.received_since(mark).is_empty());
    /// assert_eq!(server.mark(), mark); // nothing happened in between
    /// # Ok(())
    /// # }
    /// ```
    pub fn mark(&self) -> Mark {
        self.shared.read_log(|log| Mark {
            received: log.received_cleared + log.received.len(),
            events: log.events_cleared + log.events.len(),
        })
    }

    /// Every data frame received after `mark`, in arrival order (frames cleared by
    /// [`clear_received`](Self::clear_received) are gone).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// use futures_util::SinkExt;
    /// use tokio_tungstenite::tungstenite::Message;
    /// use zen_websocket_testing::MockServer;
    ///
    /// let server = MockServer::start().await?;
    /// let tcp = tokio::net::TcpStream::connect(server.addr()).await?;
    /// let (mut ws, _) = tokio_tungstenite::client_async(server.url(), tcp).await?;
    /// ws.send(Message::text("old")).await?;
    /// server.assert_message_sent("old", Duration::from_secs(5)).await?;
    /// let mark = server.mark();
    /// ws.send(Message::text("new")).await?;
    /// server.assert_message_sent("new", Duration::from_secs(5)).await?;
    /// let texts: Vec<_> = server.received_since(mark).iter().map(|m| m.text().map(str::to_owned)).collect();
    /// assert_eq!(texts, [Some("new".to_owned())]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn received_since(&self, mark: Mark) -> Vec<ReceivedMessage> {
        self.shared.read_log(|log| since(&log.received, log.received_cleared, mark.received))
    }

    /// Like [`assert_message_sent`](Self::assert_message_sent), but only frames received after
    /// `mark` count: waits until one that `matcher` accepts arrives and returns the first such
    /// frame. Event-driven: it wakes on every new frame, no polling.
    ///
    /// # Errors
    ///
    /// [`AssertionError::NoMatchingMessage`] when no frame after the mark matched within
    /// `timeout`; it lists the frames received since the mark.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only observes.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// use futures_util::SinkExt;
    /// use serde_json::json;
    /// use tokio_tungstenite::tungstenite::Message;
    /// use zen_websocket_testing::MockServer;
    ///
    /// let server = MockServer::start().await?;
    /// let tcp = tokio::net::TcpStream::connect(server.addr()).await?;
    /// let (mut ws, _) = tokio_tungstenite::client_async(server.url(), tcp).await?;
    /// let request = r#"{"jsonrpc":"2.0","id":1,"method":"public/subscribe"}"#;
    /// ws.send(Message::text(request)).await?;
    ///
    /// let wait = Duration::from_secs(5);
    /// let subscribe = json!({"method": "public/subscribe"});
    /// server.assert_message_sent(subscribe.clone(), wait).await?;
    /// let mark = server.mark();
    /// // Nothing new since the mark: the earlier request does not count.
    /// let short = Duration::from_millis(20);
    /// assert!(server.assert_message_sent_since(mark, subscribe.clone(), short).await.is_err());
    /// ws.send(Message::text(request)).await?;
    /// server.assert_message_sent_since(mark, subscribe, wait).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn assert_message_sent_since(
        &self,
        mark: Mark,
        matcher: impl Into<Matcher>,
        timeout: Duration,
    ) -> Result<ReceivedMessage, AssertionError> {
        let matcher = matcher.into();
        let mut scanned = mark.received;
        let found = self
            .shared
            .wait_for(timeout, |shared| {
                shared.read_log(|log| {
                    let wanted = |message: &ReceivedMessage| matcher.matches(message);
                    scan(&log.received, log.received_cleared, &mut scanned, wanted)
                })
            })
            .await;
        found.ok_or_else(|| {
            let received = self.received_since(mark);
            AssertionError::NoMatchingMessage {
                expected: mark.describe(&matcher),
                timeout,
                count: received.len(),
                seen: render_list(&received, SHOWN, ReceivedMessage::summary),
            }
        })
    }

    /// Every event recorded after `mark`, in order (events cleared by
    /// [`clear_events`](Self::clear_events) are gone).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// use zen_websocket_testing::{MockServer, ServerEvent};
    ///
    /// let server = MockServer::start().await?;
    /// let mark = server.mark();
    /// let tcp = tokio::net::TcpStream::connect(server.addr()).await?;
    /// let (_ws, _) = tokio_tungstenite::client_async(server.url(), tcp).await?;
    /// server.wait_for_connections(1, Duration::from_secs(5)).await?;
    /// assert!(matches!(server.events_since(mark).as_slice(), [ServerEvent::Connected(_)]));
    /// # Ok(())
    /// # }
    /// ```
    pub fn events_since(&self, mark: Mark) -> Vec<ServerEvent> {
        self.shared.read_log(|log| since(&log.events, log.events_cleared, mark.events))
    }

    /// Like [`wait_for_event`](Self::wait_for_event), but only events recorded after `mark`
    /// count: waits until one satisfies `predicate` and returns the first such event.
    ///
    /// # Errors
    ///
    /// [`AssertionError::NoMatchingEvent`] when none came within `timeout`; it lists the events
    /// recorded since the mark.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only observes.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// use zen_websocket_testing::{MockServer, ServerEvent};
    ///
    /// let server = MockServer::start().await?;
    /// let connected = |e: &ServerEvent| matches!(e, ServerEvent::Connected(_));
    /// let tcp = tokio::net::TcpStream::connect(server.addr()).await?;
    /// let (_first, _) = tokio_tungstenite::client_async(server.url(), tcp).await?;
    /// server.wait_for_event(connected, Duration::from_secs(5)).await?;
    ///
    /// let mark = server.mark();
    /// let tcp = tokio::net::TcpStream::connect(server.addr()).await?;
    /// let (_second, _) = tokio_tungstenite::client_async(server.url(), tcp).await?;
    /// let event = server.wait_for_event_since(mark, connected, Duration::from_secs(5)).await?;
    /// assert_eq!(event.connection().map(|id| id.get()), Some(2));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn wait_for_event_since(
        &self,
        mark: Mark,
        predicate: impl Fn(&ServerEvent) -> bool,
        timeout: Duration,
    ) -> Result<ServerEvent, AssertionError> {
        let mut scanned = mark.events;
        let found = self
            .shared
            .wait_for(timeout, |shared| {
                shared
                    .read_log(|log| scan(&log.events, log.events_cleared, &mut scanned, &predicate))
            })
            .await;
        found.ok_or_else(|| {
            let events = self.events_since(mark);
            AssertionError::NoMatchingEvent {
                timeout,
                count: events.len(),
                seen: render_list(&events, SHOWN, |event| format!("{event:?}")),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_respects_cleared_items() {
        // Items 0..5 were recorded, 0..3 cleared: the log holds items 3 and 4.
        let log = [3, 4];
        assert_eq!(since(&log, 3, 0), [3, 4]);
        assert_eq!(since(&log, 3, 4), [4]);
        assert_eq!(since(&log, 3, 5), Vec::<i32>::new());
        assert_eq!(since(&log, 3, 9), Vec::<i32>::new());
    }

    #[test]
    fn describe_names_the_mark() {
        let matcher = Matcher::exact("x");
        assert_eq!(Mark::ORIGIN.describe(&matcher), r#"exact "x""#);
        let mark = Mark { received: 2, events: 5 };
        assert_eq!(
            mark.describe(&matcher),
            r#"exact "x" since the mark after message 2 and event 5"#
        );
    }
}
