//! One connection's task: read requests, write the queue (answers, notifications, heartbeat
//! notices) in order, fire the heartbeat timer, and end the session the way it was asked to.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use super::dispatch;
use super::heartbeat::{self, Tick};
use super::protocol::now_micros;
use super::state::{Outgoing, Sim};
use crate::message::ConnectionId;
use crate::transport::Transport;

/// How long a close frame waits for the client's answer before the TCP connection is closed.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// How a connection ended, from [`DeribitSimulator::close_reason`].
///
/// Every way but [`Logout`](Self::Logout) fires cancel-on-disconnect when the connection had it
/// on.
///
/// [`DeribitSimulator::close_reason`]: crate::DeribitSimulator::close_reason
///
/// # Examples
///
/// ```
/// use zen_websocket_testing::CloseReason;
///
/// assert!(CloseReason::MissedHeartbeat.cancels_orders());
/// assert!(!CloseReason::Logout.cancels_orders());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseReason {
    /// The client sent a close frame.
    ClientClosed,
    /// The TCP connection ended (or failed) without a close frame from the client.
    Dropped,
    /// A `test_request` went unanswered for a whole heartbeat interval; the simulator reset the
    /// connection (no close frame).
    MissedHeartbeat,
    /// `private/logout`: no answer, then a close frame (1000). Cancel-on-disconnect does not
    /// fire.
    Logout,
    /// Credits ran out and the simulator closes on that: the `10028` answer, then a close frame
    /// (1000).
    RateLimited,
    /// [`drop_connections`](crate::DeribitSimulator::drop_connections) or
    /// [`drop_connection`](crate::DeribitSimulator::drop_connection): a reset, no close frame.
    DroppedByTest,
    /// [`stop`](crate::DeribitSimulator::stop) (or dropping the simulator): a close frame (1001).
    Stopped,
}

impl CloseReason {
    /// Whether ending this way fires cancel-on-disconnect: every way but a logout.
    ///
    /// # Examples
    ///
    /// ```
    /// # use zen_websocket_testing::CloseReason;
    /// assert!(CloseReason::Dropped.cancels_orders());
    /// ```
    pub fn cancels_orders(self) -> bool {
        self != Self::Logout
    }
}

type Ws = WebSocketStream<Transport>;

/// Serves an upgraded, registered connection until it ends; its state is finished (tokens
/// dropped, cancel-on-disconnect fired) before the socket closes.
pub(crate) async fn serve(
    sim: Arc<Sim>,
    ws: Ws,
    id: ConnectionId,
    outbox: mpsc::UnboundedReceiver<Outgoing>,
) {
    // Aborted (stop after its grace period, or drop): finish anyway.
    let finish = Finish { sim: Arc::clone(&sim), id };
    let mut session = Session { sim, id, ws, outbox, client_closed: false };
    let reason = session.run().await;
    session.end(reason).await;
    drop(finish);
}

/// Finishes the connection when the task ends, however it ends (a no-op if already finished).
struct Finish {
    sim: Arc<Sim>,
    id: ConnectionId,
}

impl Drop for Finish {
    fn drop(&mut self) {
        self.sim.finish(self.id, CloseReason::Stopped);
    }
}

struct Session {
    sim: Arc<Sim>,
    id: ConnectionId,
    ws: Ws,
    outbox: mpsc::UnboundedReceiver<Outgoing>,
    /// Whether the client sent a close frame.
    client_closed: bool,
}

/// What one turn of the loop leads to.
enum Step {
    Continue,
    Write(String),
    End(CloseReason),
}

impl Session {
    /// Runs until the session should end; returns why.
    async fn run(&mut self) -> CloseReason {
        loop {
            let id = self.id;
            let deadline =
                self.sim.read(|inner| inner.connections.get(&id).and_then(heartbeat::deadline));
            let timer = async move {
                match deadline {
                    Some(deadline) => tokio::time::sleep_until(deadline.into()).await,
                    None => std::future::pending().await,
                }
            };
            // What the requests already read produced (answers, a logout's close) goes out
            // before the next frame is read, as a server that handles requests in order does:
            // a close frame right behind `private/logout` finds the logout done.
            let step = tokio::select! {
                biased;
                outgoing = self.outbox.recv() => match outgoing {
                    Some(Outgoing::Frame(frame)) => Step::Write(frame),
                    Some(Outgoing::Close(reason)) => Step::End(reason),
                    // The simulator is gone.
                    None => Step::End(CloseReason::Stopped),
                },
                frame = self.ws.next() => self.on_frame(frame),
                () = timer => self.on_timer(),
            };
            match step {
                Step::Continue => {}
                Step::Write(frame) => {
                    if let Err(error) = self.ws.send(Message::text(frame)).await {
                        // A broken connection shows up on the next read.
                        tracing::debug!(%error, connection = %self.id, "deribit simulator send failed");
                    }
                }
                Step::End(reason) => return reason,
            }
        }
    }

    fn on_frame(&mut self, frame: Option<Result<Message, WsError>>) -> Step {
        let us_in = now_micros();
        match frame {
            Some(Ok(Message::Text(text))) => dispatch::handle(&self.sim, self.id, &text, us_in),
            Some(Ok(Message::Binary(bytes))) => {
                dispatch::handle(&self.sim, self.id, &String::from_utf8_lossy(&bytes), us_in);
            }
            // tungstenite answers the close frame; the stream ends next.
            Some(Ok(Message::Close(_))) => self.client_closed = true,
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
            Some(Err(_)) | None if self.client_closed => {
                return Step::End(CloseReason::ClientClosed);
            }
            Some(Err(_)) | None => return Step::End(CloseReason::Dropped),
        }
        Step::Continue
    }

    fn on_timer(&self) -> Step {
        let now = Instant::now();
        let tick = self.sim.with(|inner| {
            let paused = inner.heartbeats_paused;
            let conn = inner.connections.get_mut(&self.id);
            conn.map_or(Tick::Idle, |conn| heartbeat::tick(conn, paused, now))
        });
        match tick {
            Tick::Idle => Step::Continue,
            Tick::Send(frame) => Step::Write(frame),
            Tick::Missed => Step::End(CloseReason::MissedHeartbeat),
        }
    }

    /// Finishes the connection's state first (so a client that sees the close already finds
    /// its orders cancelled), then closes the socket the way `reason` says.
    async fn end(&mut self, reason: CloseReason) {
        self.sim.finish(self.id, reason);
        match reason {
            CloseReason::ClientClosed | CloseReason::Dropped => {}
            CloseReason::MissedHeartbeat | CloseReason::DroppedByTest => self.reset(),
            CloseReason::Logout | CloseReason::RateLimited => {
                self.close(CloseCode::Normal).await;
            }
            CloseReason::Stopped => self.close(CloseCode::Away).await,
        }
    }

    /// Makes the close a TCP reset (`SO_LINGER` 0) once the socket is dropped.
    fn reset(&self) {
        let tcp = self.ws.get_ref().tcp();
        if let Err(error) = socket2::SockRef::from(tcp).set_linger(Some(Duration::ZERO)) {
            tracing::warn!(%error, "could not set SO_LINGER; the close will not be a reset");
        }
    }

    /// Sends a close frame and waits (bounded) for the client's.
    async fn close(&mut self, code: CloseCode) {
        let frame = CloseFrame { code, reason: "".into() };
        if self.ws.send(Message::Close(Some(frame))).await.is_err() {
            return;
        }
        let drain = async { while let Some(Ok(_)) = self.ws.next().await {} };
        let _ = tokio::time::timeout(CLOSE_GRACE, drain).await;
    }
}
