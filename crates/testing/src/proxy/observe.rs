//! Observing `FaultProxy`: the connections, their byte counts, and waits on connection counts.

use std::time::Duration;

use super::FaultProxy;
use super::connection::{ProxyConnection, ProxyConnectionId};
use super::state::ProxyShared;
use crate::error::AssertionError;

impl FaultProxy {
    /// The connections the proxy accepted, in id order, with the bytes forwarded and
    /// discarded each way: every open one and the last 1,024 closed ones (older closed ones are
    /// forgotten, so a long run through the proxy stays bounded; they still count in
    /// [`total_accepted`](Self::total_accepted)).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use zen_websocket_testing::{FaultProxy, MockServer};
    ///
    /// let server = MockServer::start().await?;
    /// let proxy = FaultProxy::start(server.addr()).await?;
    /// let tcp = tokio::net::TcpStream::connect(proxy.addr()).await?;
    /// let (ws, _) = tokio_tungstenite::client_async(proxy.url_for(&server.url()), tcp).await?;
    /// let connections = proxy.connections();
    /// assert_eq!(connections.len(), 1);
    /// assert_eq!(connections[0].client, ws.get_ref().local_addr()?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn connections(&self) -> Vec<ProxyConnection> {
        self.shared.snapshot()
    }

    /// One connection by id; `None` if the proxy never accepted it, or has forgotten it (see
    /// [`connections`](Self::connections)).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::{FaultProxy, MockServer, ProxyConnectionId};
    /// let server = MockServer::start().await?;
    /// let proxy = FaultProxy::start(server.addr()).await?;
    /// assert!(proxy.connection(ProxyConnectionId::new(1)).is_none());
    /// # Ok(())
    /// # }
    /// ```
    pub fn connection(&self, id: ProxyConnectionId) -> Option<ProxyConnection> {
        self.shared.snapshot().into_iter().find(|connection| connection.id == id)
    }

    /// How many connections are open now (accepted, and the proxy still holds their sockets).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::{FaultProxy, MockServer};
    /// let server = MockServer::start().await?;
    /// let proxy = FaultProxy::start(server.addr()).await?;
    /// assert_eq!(proxy.connection_count(), 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn connection_count(&self) -> usize {
        self.shared.open_count()
    }

    /// How many TCP connections the proxy accepted since it started, including those reset at
    /// once under [`Admission::Reset`](crate::Admission::Reset) and those whose upstream could
    /// not be reached.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// use zen_websocket_testing::{FaultProxy, MockServer};
    ///
    /// let server = MockServer::start().await?;
    /// let proxy = FaultProxy::start(server.addr()).await?;
    /// let _tcp = tokio::net::TcpStream::connect(proxy.addr()).await?;
    /// proxy.wait_for_accepted(1, Duration::from_secs(5)).await?;
    /// assert_eq!(proxy.total_accepted(), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn total_accepted(&self) -> usize {
        self.shared.accepted()
    }

    /// Waits until at least `count` connections are open at the same time. Event-driven: it
    /// wakes whenever a connection opens or closes.
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
    /// use zen_websocket_testing::{FaultProxy, MockServer};
    ///
    /// let server = MockServer::start().await?;
    /// let proxy = FaultProxy::start(server.addr()).await?;
    /// let _tcp = tokio::net::TcpStream::connect(proxy.addr()).await?;
    /// proxy.wait_for_connections(1, Duration::from_secs(5)).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn wait_for_connections(
        &self,
        count: usize,
        timeout: Duration,
    ) -> Result<(), AssertionError> {
        self.wait_for_open(|open| open >= count, || format!("at least {count}"), timeout).await
    }

    /// Waits until exactly `count` connections are open, for example `0` once every client has
    /// gone.
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
    /// use zen_websocket_testing::{FaultProxy, MockServer};
    ///
    /// let server = MockServer::start().await?;
    /// let proxy = FaultProxy::start(server.addr()).await?;
    /// let tcp = tokio::net::TcpStream::connect(proxy.addr()).await?;
    /// let (ws, _) = tokio_tungstenite::client_async(proxy.url_for(&server.url()), tcp).await?;
    /// drop(ws);
    /// proxy.wait_for_connection_count(0, Duration::from_secs(5)).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn wait_for_connection_count(
        &self,
        count: usize,
        timeout: Duration,
    ) -> Result<(), AssertionError> {
        self.wait_for_open(|open| open == count, || format!("exactly {count}"), timeout).await
    }

    async fn wait_for_open(
        &self,
        accept: impl Fn(usize) -> bool,
        expected: impl FnOnce() -> String,
        timeout: Duration,
    ) -> Result<(), AssertionError> {
        let check = |shared: &ProxyShared| accept(shared.open_count()).then_some(());
        let found = self.shared.wait_for(timeout, check).await;
        found.ok_or_else(|| AssertionError::ConnectionCount {
            expected: expected(),
            open: self.connection_count(),
            timeout,
        })
    }

    /// Waits until the proxy has accepted at least `count` TCP connections in total (see
    /// [`total_accepted`](Self::total_accepted)) — for example to see a client retry while
    /// connections are reset.
    ///
    /// # Errors
    ///
    /// [`AssertionError::AcceptedCount`] when fewer were accepted when `timeout` passed.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only observes.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use std::time::Duration;
    /// use zen_websocket_testing::{FaultProxy, MockServer};
    ///
    /// let server = MockServer::start().await?;
    /// let proxy = FaultProxy::start(server.addr()).await?;
    /// assert!(proxy.wait_for_accepted(1, Duration::from_millis(10)).await.is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn wait_for_accepted(
        &self,
        count: usize,
        timeout: Duration,
    ) -> Result<(), AssertionError> {
        let check = |shared: &ProxyShared| (shared.accepted() >= count).then_some(());
        let found = self.shared.wait_for(timeout, check).await;
        found.ok_or_else(|| AssertionError::AcceptedCount {
            expected: count,
            accepted: self.total_accepted(),
            timeout,
        })
    }
}
