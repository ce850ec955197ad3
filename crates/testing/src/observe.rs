//! Observing `MockServer`: recorded messages, events and handshakes, and waits on them.

use std::time::Duration;

use crate::error::AssertionError;
use crate::event::{HandshakeRequest, ServerEvent};
use crate::mark::Mark;
use crate::matcher::Matcher;
use crate::message::{ConnectionId, ReceivedMessage};
use crate::server::MockServer;
use crate::state::Shared;

impl MockServer {
    /// Every data frame received from every client, in arrival order (since the last
    /// [`clear_received`](Self::clear_received)).
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
    /// ws.send(Message::text("one")).await?;
    /// server.assert_message_sent("one", Duration::from_secs(5)).await?;
    /// assert_eq!(server.received()[0].text(), Some("one"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn received(&self) -> Vec<ReceivedMessage> {
        self.shared.read_log(|log| log.received.clone())
    }

    /// The data frames received on one connection, in arrival order (since the last
    /// [`clear_received`](Self::clear_received)) — for example to compare what the server was
    /// asked to subscribe to on the current connection with what the client believes.
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
    /// ws.send(Message::text("one")).await?;
    /// let one = server.assert_message_sent("one", Duration::from_secs(5)).await?;
    /// assert_eq!(server.received_by(one.connection), [one]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn received_by(&self, connection: ConnectionId) -> Vec<ReceivedMessage> {
        self.shared.read_log(|log| {
            log.received
                .iter()
                .filter(|message| message.connection == connection)
                .cloned()
                .collect()
        })
    }

    /// Forgets every received message; later assertions only see newer ones.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::MockServer;
    /// let server = MockServer::start().await?;
    /// server.clear_received();
    /// assert!(server.received().is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn clear_received(&self) {
        self.shared.write_log(|log| {
            log.received_cleared += log.received.len();
            log.received.clear();
        });
    }

    /// Waits until some client has sent a data frame that `matcher` accepts (frames received
    /// before the call count too) and returns the first such frame. Event-driven: it wakes on
    /// every new frame, no polling. To ignore earlier frames, take a [`mark`](Self::mark) and
    /// use [`assert_message_sent_since`](Self::assert_message_sent_since).
    ///
    /// `matcher` is anything that converts into a [`Matcher`]: `&str` or `String` (exact text),
    /// a [`regex::Regex`], a [`serde_json::Value`] (JSON subset) or a [`Matcher`].
    ///
    /// # Errors
    ///
    /// [`AssertionError::NoMatchingMessage`] when no frame matched within `timeout`; it lists
    /// what was received.
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
    /// use zen_websocket_testing::{Matcher, MockServer};
    ///
    /// let server = MockServer::start().await?;
    /// let tcp = tokio::net::TcpStream::connect(server.addr()).await?;
    /// let (mut ws, _) = tokio_tungstenite::client_async(server.url(), tcp).await?;
    /// ws.send(Message::text(r#"{"jsonrpc":"2.0","id":1,"method":"public/test"}"#)).await?;
    ///
    /// let timeout = Duration::from_secs(5);
    /// server.assert_message_sent(json!({"method": "public/test"}), timeout).await?;
    /// server.assert_message_sent(Matcher::regex(r#""id":\s*1\b"#)?, timeout).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn assert_message_sent(
        &self,
        matcher: impl Into<Matcher>,
        timeout: Duration,
    ) -> Result<ReceivedMessage, AssertionError> {
        self.assert_message_sent_since(Mark::ORIGIN, matcher, timeout).await
    }

    /// Everything that happened on the server, in order (since the last
    /// [`clear_events`](Self::clear_events)).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::MockServer;
    /// let server = MockServer::start().await?;
    /// assert!(server.events().is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn events(&self) -> Vec<ServerEvent> {
        self.shared.read_log(|log| log.events.clone())
    }

    /// Forgets every recorded event; later waits only see newer ones.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::MockServer;
    /// let server = MockServer::start().await?;
    /// server.clear_events();
    /// assert!(server.events().is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn clear_events(&self) {
        self.shared.write_log(|log| {
            log.events_cleared += log.events.len();
            log.events.clear();
        });
    }

    /// Waits until an event satisfying `predicate` has been recorded (earlier events count too)
    /// and returns the first one; [`wait_for_event_since`](Self::wait_for_event_since) ignores
    /// earlier ones.
    ///
    /// # Errors
    ///
    /// [`AssertionError::NoMatchingEvent`] when none came within `timeout`; it lists the events
    /// seen.
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
    /// use tokio_tungstenite::tungstenite::protocol::{CloseFrame, frame::coding::CloseCode};
    /// use zen_websocket_testing::{MockServer, ServerEvent};
    ///
    /// let server = MockServer::start().await?;
    /// let tcp = tokio::net::TcpStream::connect(server.addr()).await?;
    /// let (mut ws, _) = tokio_tungstenite::client_async(server.url(), tcp).await?;
    /// ws.close(Some(CloseFrame { code: CloseCode::Normal, reason: "bye".into() })).await?;
    ///
    /// let closed = |e: &ServerEvent| matches!(e, ServerEvent::ClientClosed { .. });
    /// let event = server.wait_for_event(closed, Duration::from_secs(5)).await?;
    /// assert!(matches!(event, ServerEvent::ClientClosed { code: Some(1000), .. }));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn wait_for_event(
        &self,
        predicate: impl Fn(&ServerEvent) -> bool,
        timeout: Duration,
    ) -> Result<ServerEvent, AssertionError> {
        self.wait_for_event_since(Mark::ORIGIN, predicate, timeout).await
    }

    /// Waits until at least `count` connections are open at the same time.
    ///
    /// # Errors
    ///
    /// [`AssertionError::ConnectionCount`] when fewer were open when `timeout` passed.
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
    /// use zen_websocket_testing::MockServer;
    ///
    /// let server = MockServer::start().await?;
    /// let tcp = tokio::net::TcpStream::connect(server.addr()).await?;
    /// let (_ws, _) = tokio_tungstenite::client_async(server.url(), tcp).await?;
    /// server.wait_for_connections(1, Duration::from_secs(5)).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn wait_for_connections(
        &self,
        count: usize,
        timeout: Duration,
    ) -> Result<(), AssertionError> {
        self.wait_for_count(|open| open >= count, || format!("at least {count}"), timeout).await
    }

    /// Waits until exactly `count` connections are open, for example `0` once a client has
    /// hung up and its socket is closed.
    ///
    /// # Errors
    ///
    /// [`AssertionError::ConnectionCount`] when the count differed when `timeout` passed.
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
    /// use zen_websocket_testing::MockServer;
    ///
    /// let server = MockServer::start().await?;
    /// let tcp = tokio::net::TcpStream::connect(server.addr()).await?;
    /// let (ws, _) = tokio_tungstenite::client_async(server.url(), tcp).await?;
    /// assert_eq!(server.connection_count(), 1);
    /// drop(ws);
    /// server.wait_for_connection_count(0, Duration::from_secs(5)).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn wait_for_connection_count(
        &self,
        count: usize,
        timeout: Duration,
    ) -> Result<(), AssertionError> {
        self.wait_for_count(|open| open == count, || format!("exactly {count}"), timeout).await
    }

    async fn wait_for_count(
        &self,
        accept: impl Fn(usize) -> bool,
        expected: impl FnOnce() -> String,
        timeout: Duration,
    ) -> Result<(), AssertionError> {
        let check = |shared: &Shared| accept(shared.open_connections()).then_some(());
        let found = self.shared.wait_for(timeout, check).await;
        found.ok_or_else(|| AssertionError::ConnectionCount {
            expected: expected(),
            open: self.connection_count(),
            timeout,
        })
    }

    /// How many connections are open now. A connection counts from the moment its upgrade is
    /// accepted (before the client reads the `101` answer) until its socket is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::MockServer;
    /// let server = MockServer::start().await?;
    /// assert_eq!(server.connection_count(), 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn connection_count(&self) -> usize {
        self.shared.open_connections()
    }

    /// The ids of the connections open now, in ascending order (the newest last). A connection
    /// is open from the moment its upgrade is accepted until its socket is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// use zen_websocket_testing::{ConnectionId, MockServer};
    ///
    /// let server = MockServer::start().await?;
    /// let tcp = tokio::net::TcpStream::connect(server.addr()).await?;
    /// let (ws, _) = tokio_tungstenite::client_async(server.url(), tcp).await?;
    /// assert_eq!(server.open_connection_ids(), [ConnectionId::new(1)]);
    /// drop(ws);
    /// server.wait_for_connection_count(0, Duration::from_secs(5)).await?;
    /// assert!(server.open_connection_ids().is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn open_connection_ids(&self) -> Vec<ConnectionId> {
        self.shared.open_connection_ids()
    }

    /// How many upgrades were accepted since the server was built, across restarts.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use zen_websocket_testing::MockServer;
    /// let server = MockServer::start().await?;
    /// for _ in 0..2 {
    ///     let tcp = tokio::net::TcpStream::connect(server.addr()).await?;
    ///     drop(tokio_tungstenite::client_async(server.url(), tcp).await?);
    /// }
    /// assert_eq!(server.total_connections(), 2);
    /// # Ok(())
    /// # }
    /// ```
    pub fn total_connections(&self) -> usize {
        self.shared.total_connections()
    }

    /// The upgrade requests of every accepted connection, in order: path, query and headers, to
    /// check what a client sends while connecting.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use zen_websocket_testing::MockServer;
    /// let server = MockServer::start().await?;
    /// let tcp = tokio::net::TcpStream::connect(server.addr()).await?;
    /// let url = format!("{}/ws/api/v2", server.url());
    /// let (_ws, _) = tokio_tungstenite::client_async(url, tcp).await?;
    /// let handshakes = server.handshakes();
    /// assert_eq!(handshakes[0].path, "/ws/api/v2");
    /// assert_eq!(handshakes[0].header("sec-websocket-version"), Some("13"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn handshakes(&self) -> Vec<HandshakeRequest> {
        self.shared.read_log(|log| log.handshakes.clone())
    }
}
