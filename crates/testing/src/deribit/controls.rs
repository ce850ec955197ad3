//! Scripted faults: dropping connections, refusing logins, pausing heartbeats, book gaps.

use std::time::Duration;

use super::server::DeribitSimulator;
use super::session::CloseReason;
use crate::message::ConnectionId;

/// The longest a drop waits for the sessions to carry it out.
const DROP_TIMEOUT: Duration = Duration::from_secs(10);

impl DeribitSimulator {
    /// Resets every open connection (TCP RST, no close frame), as a network failure would;
    /// cancel-on-disconnect fires for connections that have it on. Returns how many connections
    /// were dropped once their sessions have finished (state updated, sockets closed).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use futures_util::StreamExt;
    /// use zen_websocket_testing::DeribitSimulator;
    ///
    /// let simulator = DeribitSimulator::start().await?;
    /// let tcp = tokio::net::TcpStream::connect(simulator.addr()).await?;
    /// let (mut ws, _) = tokio_tungstenite::client_async(simulator.url(), tcp).await?;
    /// assert_eq!(simulator.drop_connections().await, 1);
    /// assert!(matches!(ws.next().await, Some(Err(_)))); // connection reset
    /// # Ok(())
    /// # }
    /// ```
    pub async fn drop_connections(&self) -> usize {
        self.drop_where(|_| true).await
    }

    /// Resets one connection, like [`drop_connections`](Self::drop_connections); `false` when
    /// it was not open.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use zen_websocket_testing::{CloseReason, ConnectionId, DeribitSimulator};
    ///
    /// let simulator = DeribitSimulator::start().await?;
    /// let tcp = tokio::net::TcpStream::connect(simulator.addr()).await?;
    /// let (_ws, _) = tokio_tungstenite::client_async(simulator.url(), tcp).await?;
    /// let id = ConnectionId::new(1);
    /// assert!(simulator.drop_connection(id).await);
    /// assert_eq!(simulator.close_reason(id), Some(CloseReason::DroppedByTest));
    /// assert!(!simulator.drop_connection(id).await);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn drop_connection(&self, connection: ConnectionId) -> bool {
        self.drop_where(|id| id == connection).await == 1
    }

    async fn drop_where(&self, wanted: impl Fn(ConnectionId) -> bool) -> usize {
        let dropping: Vec<ConnectionId> = self.sim.read(|inner| {
            let open = inner.connections.iter().filter(|(id, _)| wanted(**id));
            open.map(|(id, conn)| {
                conn.close(CloseReason::DroppedByTest);
                *id
            })
            .collect()
        });
        let gone = |inner: &super::state::Inner| {
            let open = dropping.iter().filter(|id| inner.connections.contains_key(id)).count();
            (open == 0).then_some(())
        };
        let _ = self.sim.wait_for(DROP_TIMEOUT, gone).await;
        self.sim.read(|inner| {
            let closed = |id: &&ConnectionId| inner.closed.contains_key(id);
            dropping.iter().filter(closed).count()
        })
    }

    /// With `true`, every `public/auth` from now on is answered `13004 invalid_credentials`,
    /// whatever it sends; `false` checks credentials again. Logins already made stay.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::DeribitSimulator;
    /// let simulator = DeribitSimulator::start().await?;
    /// simulator.refuse_auth(true); // the client's re-login after a reconnect now fails
    /// # Ok(())
    /// # }
    /// ```
    pub fn refuse_auth(&self, refuse: bool) {
        self.sim.with(|inner| inner.refuse_auth = refuse);
    }

    /// With `true`, no connection gets `test_request` notices, and none is closed for a missed
    /// one (a pending one is forgotten) — a silent server, for the client's own watchdog.
    /// `false` resumes them, one interval after the next due time.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::DeribitSimulator;
    /// let simulator = DeribitSimulator::start().await?;
    /// simulator.pause_heartbeats(true);
    /// # Ok(())
    /// # }
    /// ```
    pub fn pause_heartbeats(&self, pause: bool) {
        self.sim.with(|inner| inner.heartbeats_paused = pause);
    }

    /// Makes the next book change of `instrument` skip a `change_id`: the book moves, but the
    /// change that moved it is never published, so the next `type: "change"` notification's
    /// `prev_change_id` is not the last `change_id` sent — a gap the client should answer by
    /// subscribing again (a new subscription starts with a fresh snapshot). `false` for an
    /// instrument that is not listed.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::DeribitSimulator;
    /// let simulator = DeribitSimulator::start().await?;
    /// assert!(simulator.skip_book_change("BTC-PERPETUAL"));
    /// assert!(!simulator.skip_book_change("DOGE-PERPETUAL"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn skip_book_change(&self, instrument: &str) -> bool {
        self.sim.with(|inner| inner.market.skip_book_change(instrument))
    }
}
