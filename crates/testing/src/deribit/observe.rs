//! Observing the simulator: requests, connections and their per-socket state, orders, and
//! bounded waits on them.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::auth;
use super::order::{OrderState, SimulatedOrder};
use super::server::DeribitSimulator;
use super::session::CloseReason;
use super::state::Inner;
use crate::error::{AssertionError, render_list};
use crate::message::ConnectionId;

/// One request a client sent, as recorded by [`DeribitSimulator::requests`]: every frame that
/// was a JSON object with a string `method`, in arrival order — refused ones (no `id`, too
/// large, out of credits, not logged in, …) included.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use futures_util::SinkExt;
/// use tokio_tungstenite::tungstenite::Message;
/// use zen_websocket_testing::DeribitSimulator;
///
/// let simulator = DeribitSimulator::start().await?;
/// let tcp = tokio::net::TcpStream::connect(simulator.addr()).await?;
/// let (mut ws, _) = tokio_tungstenite::client_async(simulator.url(), tcp).await?;
/// ws.send(Message::text(r#"{"id":"t-1","method":"public/get_time"}"#)).await?;
/// let request = simulator.wait_for_request("public/get_time", Duration::from_secs(5)).await?;
/// assert_eq!(request.id, "t-1");
/// assert_eq!(request.params, serde_json::json!({}));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct DeribitRequest {
    /// The connection it arrived on.
    pub connection: ConnectionId,
    /// The request id as sent (a number or a string); [`Value::Null`] when it had none.
    pub id: Value,
    /// The method, for example `private/buy`.
    pub method: String,
    /// The params; `{}` when absent.
    pub params: Value,
}

impl DeribitSimulator {
    /// How many connections are open now: from the accepted upgrade until the session ends
    /// (its tokens gone and cancel-on-disconnect done).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::DeribitSimulator;
    /// let simulator = DeribitSimulator::start().await?;
    /// assert_eq!(simulator.connection_count(), 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn connection_count(&self) -> usize {
        self.sim.read(|inner| inner.connections.len())
    }

    /// How many connections were accepted since the simulator was built, across restarts.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use zen_websocket_testing::DeribitSimulator;
    /// let simulator = DeribitSimulator::start().await?;
    /// let tcp = tokio::net::TcpStream::connect(simulator.addr()).await?;
    /// let (ws, _) = tokio_tungstenite::client_async(simulator.url(), tcp).await?;
    /// assert_eq!(simulator.total_connections(), 1);
    /// # drop(ws);
    /// # Ok(())
    /// # }
    /// ```
    pub fn total_connections(&self) -> usize {
        self.sim.read(|inner| (inner.next_connection - 1) as usize)
    }

    /// The ids of the open connections, oldest first.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use zen_websocket_testing::{ConnectionId, DeribitSimulator};
    ///
    /// let simulator = DeribitSimulator::start().await?;
    /// let tcp = tokio::net::TcpStream::connect(simulator.addr()).await?;
    /// let (_ws, _) = tokio_tungstenite::client_async(simulator.url(), tcp).await?;
    /// assert_eq!(simulator.open_connection_ids(), [ConnectionId::new(1)]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn open_connection_ids(&self) -> Vec<ConnectionId> {
        self.sim.read(|inner| inner.connections.keys().copied().collect())
    }

    /// Every request received, in arrival order, on every connection.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::DeribitSimulator;
    /// let simulator = DeribitSimulator::start().await?;
    /// assert!(simulator.requests().is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn requests(&self) -> Vec<DeribitRequest> {
        self.sim.read(|inner| inner.requests.clone())
    }

    /// The requests received on one connection, in arrival order.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use zen_websocket_testing::{ConnectionId, DeribitSimulator};
    ///
    /// let simulator = DeribitSimulator::start().await?;
    /// assert!(simulator.requests_on(ConnectionId::new(1)).is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn requests_on(&self, connection: ConnectionId) -> Vec<DeribitRequest> {
        self.sim.read(|inner| {
            let on = inner.requests.iter().filter(|request| request.connection == connection);
            on.cloned().collect()
        })
    }

    /// Waits until a request with `method` has been received (earlier ones count) and returns
    /// the first.
    ///
    /// # Errors
    ///
    /// [`AssertionError::NoMatchingRequest`] when none came within `timeout`; it lists the
    /// methods received.
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
    /// use tokio_tungstenite::tungstenite::Message;
    /// use zen_websocket_testing::DeribitSimulator;
    ///
    /// let simulator = DeribitSimulator::start().await?;
    /// let tcp = tokio::net::TcpStream::connect(simulator.addr()).await?;
    /// let (mut ws, _) = tokio_tungstenite::client_async(simulator.url(), tcp).await?;
    /// ws.send(Message::text(r#"{"id":1,"method":"public/hello","params":{"client_name":"t"}}"#)).await?;
    /// let hello = simulator.wait_for_request("public/hello", Duration::from_secs(5)).await?;
    /// assert_eq!(hello.params["client_name"], "t");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn wait_for_request(
        &self,
        method: &str,
        timeout: Duration,
    ) -> Result<DeribitRequest, AssertionError> {
        let find = |inner: &Inner| inner.requests.iter().find(|r| r.method == method).cloned();
        if let Some(found) = self.sim.wait_for(timeout, find).await {
            return Ok(found);
        }
        let requests = self.requests();
        Err(AssertionError::NoMatchingRequest {
            method: method.to_owned(),
            timeout,
            count: requests.len(),
            seen: render_list(&requests, 20, |r| format!("{} {}", r.connection, r.method)),
        })
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
    /// use zen_websocket_testing::DeribitSimulator;
    ///
    /// let simulator = DeribitSimulator::start().await?;
    /// let tcp = tokio::net::TcpStream::connect(simulator.addr()).await?;
    /// let (_ws, _) = tokio_tungstenite::client_async(simulator.url(), tcp).await?;
    /// simulator.wait_for_connections(1, Duration::from_secs(5)).await?;
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

    /// Waits until exactly `count` connections are open — for example `0` once a client has
    /// gone, which also means its cancel-on-disconnect has run.
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
    /// use zen_websocket_testing::DeribitSimulator;
    ///
    /// let simulator = DeribitSimulator::start().await?;
    /// let tcp = tokio::net::TcpStream::connect(simulator.addr()).await?;
    /// let (ws, _) = tokio_tungstenite::client_async(simulator.url(), tcp).await?;
    /// drop(ws);
    /// simulator.wait_for_connection_count(0, Duration::from_secs(5)).await?;
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
        let check = |inner: &Inner| accept(inner.connections.len()).then_some(());
        let found = self.sim.wait_for(timeout, check).await;
        found.ok_or_else(|| AssertionError::ConnectionCount {
            expected: expected(),
            open: self.connection_count(),
            timeout,
        })
    }

    /// Every order the account ever placed, oldest first, with its current state.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::DeribitSimulator;
    /// let simulator = DeribitSimulator::start().await?;
    /// assert!(simulator.orders().is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn orders(&self) -> Vec<SimulatedOrder> {
        self.sim.read(|inner| inner.orders.all())
    }

    /// The orders still open (resting), oldest first.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::DeribitSimulator;
    /// let simulator = DeribitSimulator::start().await?;
    /// assert!(simulator.open_orders().is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn open_orders(&self) -> Vec<SimulatedOrder> {
        let mut orders = self.orders();
        orders.retain(|order| order.state == OrderState::Open);
        orders
    }

    /// Whether `connection` is open and logged in with a token that has not expired.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use zen_websocket_testing::{ConnectionId, DeribitSimulator};
    ///
    /// let simulator = DeribitSimulator::start().await?;
    /// assert!(!simulator.authenticated(ConnectionId::new(1)));
    /// # Ok(())
    /// # }
    /// ```
    pub fn authenticated(&self, connection: ConnectionId) -> bool {
        self.sim.read(|inner| auth::is_authenticated(inner, connection, Instant::now()))
    }

    /// Whether `connection` is open with cancel-on-disconnect on (connection scope, or account
    /// scope when it opened).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use zen_websocket_testing::{ConnectionId, DeribitSimulator};
    ///
    /// let simulator = DeribitSimulator::start().await?;
    /// assert!(!simulator.cod_enabled(ConnectionId::new(1)));
    /// # Ok(())
    /// # }
    /// ```
    pub fn cod_enabled(&self, connection: ConnectionId) -> bool {
        self.sim.read(|inner| inner.connections.get(&connection).is_some_and(|conn| conn.cod))
    }

    /// The channels `connection` is subscribed to, sorted; empty once it closed.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use zen_websocket_testing::{ConnectionId, DeribitSimulator};
    ///
    /// let simulator = DeribitSimulator::start().await?;
    /// assert!(simulator.subscriptions(ConnectionId::new(1)).is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn subscriptions(&self, connection: ConnectionId) -> Vec<String> {
        self.sim.read(|inner| {
            let conn = inner.connections.get(&connection);
            conn.map(|conn| conn.subscriptions.iter().cloned().collect()).unwrap_or_default()
        })
    }

    /// The heartbeat interval `connection` set with `public/set_heartbeat`; `None` when it set
    /// none, disabled it, or is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use zen_websocket_testing::{ConnectionId, DeribitSimulator};
    ///
    /// let simulator = DeribitSimulator::start().await?;
    /// assert_eq!(simulator.heartbeat_interval(ConnectionId::new(1)), None);
    /// # Ok(())
    /// # }
    /// ```
    pub fn heartbeat_interval(&self, connection: ConnectionId) -> Option<Duration> {
        self.sim.read(|inner| {
            let conn = inner.connections.get(&connection)?;
            conn.heartbeat.as_ref().map(|heartbeat| heartbeat.interval)
        })
    }

    /// How `connection` ended; `None` while it is open (or if it never existed).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// use zen_websocket_testing::{CloseReason, DeribitSimulator};
    ///
    /// let simulator = DeribitSimulator::start().await?;
    /// let tcp = tokio::net::TcpStream::connect(simulator.addr()).await?;
    /// let (ws, _) = tokio_tungstenite::client_async(simulator.url(), tcp).await?;
    /// let [id] = simulator.open_connection_ids()[..] else { panic!("one connection") };
    /// drop(ws); // no close frame
    /// simulator.wait_for_connection_count(0, Duration::from_secs(5)).await?;
    /// assert_eq!(simulator.close_reason(id), Some(CloseReason::Dropped));
    /// # Ok(())
    /// # }
    /// ```
    pub fn close_reason(&self, connection: ConnectionId) -> Option<CloseReason> {
        self.sim.read(|inner| inner.closed.get(&connection).copied())
    }

    /// The client id `public/auth` accepts.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::DeribitSimulator;
    /// assert_eq!(DeribitSimulator::start().await?.client_id(), "simulator-client");
    /// # Ok(())
    /// # }
    /// ```
    pub fn client_id(&self) -> &str {
        &self.sim.config.client_id
    }

    /// The client secret `public/auth` accepts.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::DeribitSimulator;
    /// assert_eq!(DeribitSimulator::start().await?.client_secret(), "simulator-secret");
    /// # Ok(())
    /// # }
    /// ```
    pub fn client_secret(&self) -> &str {
        &self.sim.config.client_secret
    }

    /// The instruments that can be traded and subscribed to, in the order they were listed.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::DeribitSimulator;
    /// let simulator = DeribitSimulator::start().await?;
    /// assert_eq!(simulator.instruments(), ["BTC-PERPETUAL", "ETH-PERPETUAL"]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn instruments(&self) -> Vec<String> {
        self.sim.config.instruments.iter().map(|(name, _)| name.clone()).collect()
    }
}
