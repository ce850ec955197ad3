//! Run-time controls on `FaultProxy`: default faults, faults on open connections, resets,
//! closes and the admission of new connections.

use std::io;
use std::time::Duration;

use super::FaultProxy;
use super::connection::ProxyConnectionId;
use super::fault::{Admission, Fault, Faults};
use super::state::{Control, Counters, Ending};

/// The longest a reset or close waits for the connections to finish.
const END_TIMEOUT: Duration = Duration::from_secs(10);

impl FaultProxy {
    /// The faults every new connection starts with from now on; open connections keep theirs.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use std::time::Duration;
    /// use zen_websocket_testing::{Direction, Fault, FaultProxy, Faults, MockServer};
    ///
    /// let server = MockServer::start().await?;
    /// let proxy = FaultProxy::start(server.addr()).await?;
    /// let latency = Fault::latency(Direction::Both, Duration::from_millis(5), Duration::from_millis(2));
    /// proxy.set_default(Faults::none().with(latency));
    /// assert_eq!(proxy.default_faults(), Faults::from(latency));
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_default(&self, faults: Faults) {
        self.shared.set_defaults(faults);
    }

    /// The faults new connections start with.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::{FaultProxy, MockServer};
    /// let server = MockServer::start().await?;
    /// let proxy = FaultProxy::start(server.addr()).await?;
    /// assert!(proxy.default_faults().is_none());
    /// # Ok(())
    /// # }
    /// ```
    pub fn default_faults(&self) -> Faults {
        self.shared.defaults()
    }

    /// Puts `fault` in force on every open connection, at once (replacing a fault of the same
    /// kind in the same direction); returns how many connections got it. New connections are
    /// not affected: see [`set_default`](Self::set_default).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// use futures_util::SinkExt;
    /// use tokio_tungstenite::tungstenite::Message;
    /// use zen_websocket_testing::{Direction, Fault, FaultProxy, MockServer};
    ///
    /// let server = MockServer::start().await?;
    /// let proxy = FaultProxy::start(server.addr()).await?;
    /// let tcp = tokio::net::TcpStream::connect(proxy.addr()).await?;
    /// let (mut ws, _) = tokio_tungstenite::client_async(proxy.url_for(&server.url()), tcp).await?;
    ///
    /// assert_eq!(proxy.apply_all(Fault::blackhole(Direction::ClientToServer)), 1);
    /// ws.send(Message::text("lost")).await?; // the write succeeds…
    /// let short = Duration::from_millis(100);
    /// assert!(server.assert_message_sent("lost", short).await.is_err()); // …but nothing arrives
    /// # Ok(())
    /// # }
    /// ```
    pub fn apply_all(&self, fault: Fault) -> usize {
        self.shared.control(None, |control, counters| put(control, counters, fault)).len()
    }

    /// Puts `fault` in force on one connection; returns whether it was open.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use zen_websocket_testing::{Direction, Fault, FaultProxy, MockServer, ProxyConnectionId};
    ///
    /// let server = MockServer::start().await?;
    /// let proxy = FaultProxy::start(server.addr()).await?;
    /// let stall = Fault::stall(Direction::Both);
    /// assert!(!proxy.apply(ProxyConnectionId::new(1), stall)); // no such connection yet
    /// # Ok(())
    /// # }
    /// ```
    pub fn apply(&self, connection: ProxyConnectionId, fault: Fault) -> bool {
        let changed = self.shared.control(Some(connection), |c, n| put(c, n, fault));
        !changed.is_empty()
    }

    /// Lifts faults of `fault`'s kind in `fault`'s direction on every open connection (the
    /// other fields of `fault` are ignored); returns how many connections were open.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::{Direction, Fault, FaultProxy, MockServer};
    /// let server = MockServer::start().await?;
    /// let proxy = FaultProxy::start(server.addr()).await?;
    /// proxy.apply_all(Fault::stall(Direction::Both));
    /// proxy.clear_all(Fault::stall(Direction::ClientToServer)); // the server side stays stalled
    /// # Ok(())
    /// # }
    /// ```
    pub fn clear_all(&self, fault: Fault) -> usize {
        let lift = |control: &mut Control, _: &Counters| {
            control.faults = control.faults.without(fault);
        };
        self.shared.control(None, lift).len()
    }

    /// Lifts faults of `fault`'s kind in `fault`'s direction on one connection; returns
    /// whether it was open.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::{Direction, Fault, FaultProxy, MockServer, ProxyConnectionId};
    /// let server = MockServer::start().await?;
    /// let proxy = FaultProxy::start(server.addr()).await?;
    /// assert!(!proxy.clear(ProxyConnectionId::new(1), Fault::stall(Direction::Both)));
    /// # Ok(())
    /// # }
    /// ```
    pub fn clear(&self, connection: ProxyConnectionId, fault: Fault) -> bool {
        let lift = |control: &mut Control, _: &Counters| {
            control.faults = control.faults.without(fault);
        };
        !self.shared.control(Some(connection), lift).is_empty()
    }

    /// Lifts every fault on every open connection: bytes flow freely again (a stall delivers
    /// what waited in the buffers; what a blackhole swallowed is gone). Returns how many
    /// connections were open.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::{FaultProxy, MockServer};
    /// let server = MockServer::start().await?;
    /// let proxy = FaultProxy::start(server.addr()).await?;
    /// assert_eq!(proxy.heal_all(), 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn heal_all(&self) -> usize {
        self.shared.control(None, |control, _| control.faults = Faults::none()).len()
    }

    /// Lifts every fault on one connection; returns whether it was open.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::{FaultProxy, MockServer, ProxyConnectionId};
    /// let server = MockServer::start().await?;
    /// let proxy = FaultProxy::start(server.addr()).await?;
    /// assert!(!proxy.heal(ProxyConnectionId::new(1)));
    /// # Ok(())
    /// # }
    /// ```
    pub fn heal(&self, connection: ProxyConnectionId) -> bool {
        let heal = |control: &mut Control, _: &Counters| control.faults = Faults::none();
        !self.shared.control(Some(connection), heal).is_empty()
    }

    /// Resets every open connection: both peers get a TCP RST (`SO_LINGER` 0, then close), so
    /// the client reads `ECONNRESET`. Waits until the sockets are closed (at most ten seconds);
    /// returns how many connections were reset.
    ///
    /// # Cancel safety
    ///
    /// Cancelling stops the wait, not the resets.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use futures_util::StreamExt;
    /// use tokio_tungstenite::tungstenite::Error;
    /// use zen_websocket_testing::{FaultProxy, MockServer};
    ///
    /// let server = MockServer::start().await?;
    /// let proxy = FaultProxy::start(server.addr()).await?;
    /// let tcp = tokio::net::TcpStream::connect(proxy.addr()).await?;
    /// let (mut ws, _) = tokio_tungstenite::client_async(proxy.url_for(&server.url()), tcp).await?;
    ///
    /// assert_eq!(proxy.reset_all().await, 1);
    /// match ws.next().await {
    ///     Some(Err(Error::Io(e))) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset),
    ///     other => panic!("expected a reset, got {other:?}"),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn reset_all(&self) -> usize {
        self.end(None, Ending::Reset).await
    }

    /// Resets one connection (see [`reset_all`](Self::reset_all)); returns whether it was open
    /// and is now closed.
    ///
    /// # Cancel safety
    ///
    /// Cancelling stops the wait, not the reset.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::{FaultProxy, MockServer, ProxyConnectionId};
    /// let server = MockServer::start().await?;
    /// let proxy = FaultProxy::start(server.addr()).await?;
    /// assert!(!proxy.reset(ProxyConnectionId::new(1)).await);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn reset(&self, connection: ProxyConnectionId) -> bool {
        self.end(Some(connection), Ending::Reset).await == 1
    }

    /// Closes every open connection: both peers get a FIN after the bytes already forwarded,
    /// like a proxy going away politely. Waits until the sockets are closed (at most a second
    /// or so while the peers answer); returns how many connections were closed.
    ///
    /// # Cancel safety
    ///
    /// Cancelling stops the wait, not the closes.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use futures_util::StreamExt;
    /// use zen_websocket_testing::{FaultProxy, MockServer};
    ///
    /// let server = MockServer::start().await?;
    /// let proxy = FaultProxy::start(server.addr()).await?;
    /// let tcp = tokio::net::TcpStream::connect(proxy.addr()).await?;
    /// let (mut ws, _) = tokio_tungstenite::client_async(proxy.url_for(&server.url()), tcp).await?;
    ///
    /// let (closed, end) = tokio::join!(proxy.close_all(), ws.next());
    /// assert_eq!(closed, 1);
    /// assert!(!matches!(end, Some(Ok(_)))); // the stream ended without a close frame
    /// # Ok(())
    /// # }
    /// ```
    pub async fn close_all(&self) -> usize {
        self.end(None, Ending::Close).await
    }

    /// Closes one connection (see [`close_all`](Self::close_all)); returns whether it was open
    /// and is now closed.
    ///
    /// # Cancel safety
    ///
    /// Cancelling stops the wait, not the close.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::{FaultProxy, MockServer, ProxyConnectionId};
    /// let server = MockServer::start().await?;
    /// let proxy = FaultProxy::start(server.addr()).await?;
    /// assert!(!proxy.close(ProxyConnectionId::new(1)).await);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn close(&self, connection: ProxyConnectionId) -> bool {
        self.end(Some(connection), Ending::Close).await == 1
    }

    /// Asks the open connections (all, or just `only`) to end, then waits until they have;
    /// returns how many ended in time.
    async fn end(&self, only: Option<ProxyConnectionId>, ending: Ending) -> usize {
        let ending = |control: &mut Control, _: &Counters| {
            control.end.get_or_insert(ending);
        };
        let ids = self.shared.control(only, ending);
        let all_closed = |shared: &super::state::ProxyShared| {
            ids.iter().all(|id| !shared.is_open(*id)).then_some(())
        };
        let _ = self.shared.wait_for(END_TIMEOUT, all_closed).await;
        ids.iter().filter(|id| !self.shared.is_open(**id)).count()
    }

    /// What the proxy does with new connections from now on: accept and forward, accept and
    /// reset at once, or stop listening so dials are refused. Open connections are not
    /// affected. Switching away from [`Admission::Refuse`] listens again on the same port.
    ///
    /// # Errors
    ///
    /// The port cannot be bound again (another process took it meanwhile); the admission is
    /// then left unchanged.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: when cancelled while refusing, the listening socket still closes.
    ///
    /// # Panics
    ///
    /// When polled outside a Tokio runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use std::io::ErrorKind;
    /// use tokio::net::TcpStream;
    /// use zen_websocket_testing::{Admission, FaultProxy, MockServer};
    ///
    /// let server = MockServer::start().await?;
    /// let proxy = FaultProxy::start(server.addr()).await?;
    /// proxy.set_admission(Admission::Refuse).await?;
    /// let refused = TcpStream::connect(proxy.addr()).await.unwrap_err();
    /// assert_eq!(refused.kind(), ErrorKind::ConnectionRefused);
    /// proxy.set_admission(Admission::Accept).await?;
    /// assert!(TcpStream::connect(proxy.addr()).await.is_ok());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn set_admission(&self, admission: Admission) -> io::Result<()> {
        if admission == Admission::Refuse {
            self.shared.set_admission(admission);
            self.stop_listening().await;
            return Ok(());
        }
        let previous = self.shared.admission();
        self.shared.set_admission(admission);
        if let Err(error) = self.listen() {
            self.shared.set_admission(previous);
            return Err(error);
        }
        Ok(())
    }

    /// What the proxy does with new connections.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::{Admission, FaultProxy, MockServer};
    /// let server = MockServer::start().await?;
    /// let proxy = FaultProxy::start(server.addr()).await?;
    /// assert_eq!(proxy.admission(), Admission::Accept);
    /// # Ok(())
    /// # }
    /// ```
    pub fn admission(&self) -> Admission {
        self.shared.admission()
    }
}

/// Puts `fault` in force on a live connection; a byte count to close after starts now.
fn put(control: &mut Control, counters: &Counters, fault: Fault) {
    for &side in fault.direction().sides() {
        let lane = control.faults.lane_mut(side);
        lane.set(fault);
        if let Fault::CloseAfter { bytes, .. } = fault {
            lane.close_after = Some(counters.passed(side).saturating_add(bytes));
        }
    }
}
