//! The connection task: what it owns, how it runs from socket to socket, and how it ends —
//! however it ends.

use std::{future::Future, sync::Arc, time::Duration};

use tokio::time::{Instant, timeout_at};
use tracing::Instrument;
use zen_websocket_recorder::{Direction, Payload, Recorder};

use super::{
    delivery::Delivery,
    drive::Serving,
    failure::fail_connection,
    heartbeat::Beat,
    outbox::{Outbox, Outgoing},
    pending::{Pending, Waiter},
    subscriptions::Subscriptions,
};
use crate::{
    config::Config,
    error::Error,
    event::{DisconnectReason, Ending, Event},
    heartbeat::HeartbeatKind,
    message::Message,
    monitor::{Shared, Totals},
    state::ConnectionState,
    telemetry::names,
    telemetry::{EndLabel, Telemetry},
    transport::{Endpoint, WsStream},
};

/// Starts the task that owns `ws`; commands reach it through `shared`'s queue.
pub(crate) fn spawn(
    ws: WsStream,
    endpoint: Endpoint,
    config: Arc<Config>,
    shared: Arc<Shared>,
    telemetry: Telemetry,
    recorder: Option<Recorder>,
    opened: Option<tokio::sync::oneshot::Sender<crate::Result<()>>>,
) {
    let delivery = match &config.message_handler {
        Some(handler) => Delivery::Handler(super::delivery::HandlerCell(Arc::clone(handler))),
        None => Delivery::inbox(Arc::clone(&shared)),
    };
    let span = tracing::debug_span!("zen_websocket.connection", host = %endpoint.host, port = endpoint.port);
    let connection = Connection {
        pending: Pending::new(config.request_timeout),
        heartbeat: config.heartbeat.as_ref().map(Beat::new),
        config,
        endpoint: Arc::new(endpoint),
        shared,
        telemetry,
        delivery,
        subscriptions: Subscriptions::default(),
        totals: Totals::default(),
        recorder,
        recording_dropped: 0,
        subscriptions_published: 0,
        outbox: Outbox::default(),
        session: None,
        opened,
        reconnected: false,
        phase: Phase::Open,
        retry: Retry::default(),
        finished: false,
    };
    let serving = Serving::new(connection, ws, span.clone());
    tokio::spawn(Connection::run(serving).instrument(span));
}

/// Everything the connection task owns.
#[derive(Debug)]
pub(super) struct Connection {
    pub(super) config: Arc<Config>,
    pub(super) endpoint: Arc<Endpoint>,
    pub(super) shared: Arc<Shared>,
    pub(super) telemetry: Telemetry,
    pub(super) delivery: Delivery,
    pub(super) pending: Pending,
    pub(super) subscriptions: Subscriptions,
    pub(super) heartbeat: Option<Beat>,
    pub(super) recorder: Option<Recorder>,
    /// The recorder's dropped-entry count already published.
    recording_dropped: u64,
    /// The version of the subscription record last published.
    subscriptions_published: u64,
    pub(super) totals: Totals,
    pub(super) outbox: Outbox,
    pub(super) phase: Phase,
    pub(super) retry: Retry,
    /// The session set-up running on the current socket, if any.
    pub(super) session: Option<crate::session::Lane>,
    /// Told when the first socket's set-up is over: `Client::connect` waits for it.
    pub(super) opened: Option<tokio::sync::oneshot::Sender<crate::Result<()>>>,
    /// Whether a socket was lost before (the set-up is told it is a reconnect).
    pub(super) reconnected: bool,
    /// Set once the task has told the user it ended; `Drop` handles every other ending.
    finished: bool,
}

/// Where the current socket stands.
#[derive(Debug)]
pub(super) enum Phase {
    /// Open: commands are served.
    Open,
    /// A new socket running the session set-up: only its requests go out; commands wait, and
    /// restores follow once it is done.
    SettingUp,
    /// A new socket restoring subscriptions: commands wait until the restores are answered
    /// and the connection is reported open.
    Restoring { left: usize },
    /// [`Client::close`](crate::Client::close) (or the last handle's drop): frames already
    /// taken are written, then the close frame; the handshake ends at `deadline`.
    Closing { deadline: Instant, timer: std::pin::Pin<Box<tokio::time::Sleep>>, sent: bool },
}

/// Reconnection bookkeeping that outlives one socket.
#[derive(Debug)]
pub(super) struct Retry {
    /// Dials since the connection was last up for `backoff_reset_after`.
    pub(super) attempts: u32,
    /// The wait a server asked for (`Retry-After`) on the last dial.
    pub(super) retry_after: Option<Duration>,
    /// Why the last socket or dial failed (boxed: rarely there, and large).
    pub(super) last_error: Option<Box<Error>>,
    /// When the current socket came up.
    pub(super) up_since: Instant,
}

impl Default for Retry {
    fn default() -> Self {
        Self { attempts: 0, retry_after: None, last_error: None, up_since: Instant::now() }
    }
}

/// How serving a socket ended.
#[derive(Debug)]
pub(super) enum Ended {
    /// Closed by the client: the handshake finished or its time ran out.
    Closed,
    /// The socket was lost; `teardown` is what is still owed to the peer.
    Lost { reason: DisconnectReason, teardown: Teardown },
}

/// What a lost socket still owes the peer before it is dropped.
#[derive(Debug)]
pub(super) enum Teardown {
    /// Nothing: the socket is gone.
    None,
    /// The reply to the server's close frame, queued by tungstenite.
    FlushClose,
    /// A protocol violation: a close frame with this code (RFC 6455 §7.1.7).
    Fail(tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode),
}

impl Connection {
    /// The task's whole life, from socket to socket.
    ///
    /// Not an `async fn`, and the connection boxed: the task's future keeps a pointer, not a
    /// second copy of the largest part of every idle connection. While a socket is served the
    /// box sits in the shared [`Drive`](super::drive::Drive) slot, where a reader may do a
    /// turn of its work.
    fn run(serving: Box<Serving>) -> impl Future<Output = ()> + Send {
        let mut serving = serving;
        async move {
            let shared = Arc::clone(&serving.connection.shared);
            serving.connection.on_socket_up();
            serving.connection.begin_session();
            loop {
                let ended;
                (serving, ended) = shared.drive.serve(serving).await;
                let Serving { connection, ws, .. } = &mut *serving;
                match ended {
                    Ended::Closed => {
                        *ws = None;
                        // Boxed, like every rare step: the live task should not carry its size.
                        return Box::pin(connection.close_for_good()).await;
                    }
                    Ended::Lost { reason, teardown } => {
                        if let Some(ws) = ws.as_mut() {
                            Box::pin(connection.teardown(ws, teardown)).await;
                        }
                        *ws = None;
                        if connection.opened.is_some() {
                            // The first socket never opened: `connect` reports why.
                            return Box::pin(connection.never_opened(reason)).await;
                        }
                        if !Box::pin(connection.on_lost(reason)).await {
                            return;
                        }
                        match Box::pin(connection.reconnect()).await {
                            Some(restored) => *ws = Some(restored),
                            None => return,
                        }
                        connection.on_socket_up();
                        connection.begin_session();
                    }
                }
            }
        }
    }

    /// The end after [`Client::close`](crate::Client::close): the recording flushed within the
    /// close deadline, then the final `Disconnected`.
    async fn close_for_good(&mut self) {
        let deadline = self.close_deadline();
        let told =
            Event::Disconnected { reason: DisconnectReason::ClientClosed, will_retry: false };
        self.telemetry.disconnected(EndLabel::ClientClosed);
        self.finish(Ending::Closed, Some(told), deadline).await;
    }

    /// When the close handshake must be over (also bounds flushing the recording).
    fn close_deadline(&self) -> Instant {
        match &self.phase {
            Phase::Closing { deadline, .. } => *deadline,
            _ => Instant::now() + self.config.close_timeout,
        }
    }

    /// Pays what a lost socket owes its peer, within `close_timeout`.
    async fn teardown(&mut self, ws: &mut WsStream, teardown: Teardown) {
        let bound = self.config.close_timeout;
        match teardown {
            Teardown::None => {}
            Teardown::FlushClose => {
                use futures_util::SinkExt;
                // Sends tungstenite's queued reply to the close frame; the socket ends either way.
                let _ = tokio::time::timeout(bound, ws.flush()).await;
            }
            Teardown::Fail(code) => fail_connection(ws, code, bound).await,
        }
    }

    /// Starts the session set-up on a fresh socket; without one, a reconnected socket restores
    /// its subscriptions at once (a first one is open already).
    fn begin_session(&mut self) {
        let Some(setup) = &self.config.session_setup else {
            if self.reconnected {
                self.begin_restore();
            }
            return;
        };
        let shared = Arc::clone(&self.shared);
        let next_id = Arc::new(move || shared.next_request_id());
        self.session =
            Some(crate::session::Lane::start(setup, &self.config, next_id, self.reconnected));
        self.phase = Phase::SettingUp;
    }

    /// The session set-up finished: the first socket is open; a later one restores its
    /// subscriptions before it is reported open.
    pub(super) fn session_done(&mut self) {
        self.session = None;
        match self.opened.take() {
            Some(opened) => {
                self.phase = Phase::Open;
                self.shared.state.set(ConnectionState::Connected);
                tracing::debug!("session set up");
                let _ = opened.send(Ok(()));
            }
            None => self.begin_restore(),
        }
    }

    /// The first socket was lost before it opened (its set-up failed): `connect` fails with
    /// the reason, and the task ends without events — nobody holds the client.
    async fn never_opened(&mut self, reason: DisconnectReason) {
        let error = match reason {
            DisconnectReason::Error(error) => error,
            other => other.as_error(),
        };
        tracing::info!(%error, "the first connection failed its session set-up");
        if let Some(opened) = self.opened.take() {
            let _ = opened.send(Err(error));
        }
        let deadline = Instant::now() + self.config.close_timeout;
        self.finish(Ending::Lost, None, deadline).await;
    }

    /// A fresh socket: its heartbeat starts afresh (asking Deribit for one when configured).
    pub(super) fn on_socket_up(&mut self) {
        self.retry.up_since = Instant::now();
        self.phase = Phase::Open;
        self.shared.heartbeat_restarted();
        let Some(beat) = &mut self.heartbeat else {
            return;
        };
        let Some(config) = self.config.heartbeat.as_ref() else { return };
        beat.restart(config);
        if config.kind == HeartbeatKind::Deribit {
            let params = serde_json::json!({"interval": Beat::deribit_interval_secs(config)});
            self.internal_request(
                "public/set_heartbeat",
                params,
                Waiter::Internal("public/set_heartbeat"),
                false,
            );
        }
    }

    /// Queues a JSON-RPC request of the client's own (heartbeat calls), urgent or not.
    pub(super) fn internal_request(
        &mut self,
        method: &str,
        params: serde_json::Value,
        waiter: Waiter,
        urgent: bool,
    ) {
        let id = self.fresh_request_id();
        let frame = Message::from(
            serde_json::json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}),
        );
        self.charge(&frame);
        let deadline = Instant::now() + self.config.request_timeout;
        let request = Box::new(super::outbox::OutRequest { id, frame, waiter, deadline });
        if urgent {
            self.outbox.push_urgent(Outgoing::Request(request));
        } else {
            self.outbox.push(Outgoing::Request(request));
        }
    }

    /// An id for a request of the client's own that no pending request uses (a caller may
    /// have picked a number of the same counter with `request_with_id`).
    pub(super) fn fresh_request_id(&self) -> crate::rpc::RequestId {
        loop {
            let id = self.shared.next_request_id();
            if !self.pending.contains(&id) {
                return id;
            }
        }
    }

    /// Takes tokens for a frame the client sends on its own, when the limiter has them; such
    /// frames never wait (a heartbeat must not be starved into a false timeout).
    pub(super) fn charge(&self, frame: &Message) {
        let Some(limiter) = &self.config.rate_limiter else { return };
        let charged = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match frame {
            Message::Text(text) => limiter.try_acquire_for(text.as_str()),
            Message::Binary(bytes) => limiter.try_acquire_for(&bytes[..]),
        }));
        match charged {
            Ok(Ok(_)) => {}
            Ok(Err(err)) => {
                tracing::debug!(error = %err, "sent an internal frame past the rate limiter");
            }
            Err(_) => tracing::error!("the rate limiter's cost function panicked"),
        }
    }

    /// Fails everything that waited on the socket just lost (the state already set): what
    /// may have reached the server with [`Error::Disconnected`], what never left the outbox
    /// with [`Error::NotConnected`] — so a caller knows a retry cannot send it twice.
    pub(super) fn fail_waiting(&mut self) {
        for waiter in self.pending.drain() {
            self.settle(&waiter);
            waiter.fail(Error::Disconnected);
        }
        for ack in self.outbox.unflushed.drain(..) {
            let _ = ack.send(Err(Error::Disconnected));
        }
        let state = self.shared.state.get();
        let queued: Vec<Outgoing> = self.outbox.drain().collect();
        for item in queued {
            self.refuse_unwritten(item, state);
        }
    }

    /// Answers a frame that was never written: it did not reach the server.
    pub(super) fn refuse_unwritten(&mut self, item: Outgoing, state: ConnectionState) {
        match item {
            Outgoing::Send { ack, .. } => drop(ack.send(Err(Error::NotConnected(state)))),
            Outgoing::Request(request) => {
                self.settle(&request.waiter);
                request.waiter.fail(Error::NotConnected(state));
            }
            Outgoing::Internal(_) => {}
        }
    }

    /// Ends the connection for good: fails what waits, refuses what is queued, writes the
    /// rest of the recording (bounded by `deadline`), then tells the user `told`.
    pub(super) async fn finish(&mut self, ending: Ending, told: Option<Event>, deadline: Instant) {
        self.shared.set_ending(ending);
        self.shared.state.set(ConnectionState::Disconnected);
        self.fail_waiting();
        for command in self.shared.commands.close() {
            command.refuse(|| Error::NotConnected(ConnectionState::Disconnected));
        }
        self.publish_gauges();
        self.close_recording(deadline).await;
        if let Some(event) = told {
            self.delivery.lifecycle(event);
        }
        self.finished = true;
    }

    /// Writes what the recording still buffers, off the runtime's threads, waiting at most
    /// until `deadline`; a slow disk finishes in the background.
    async fn close_recording(&mut self, deadline: Instant) {
        let Some(recorder) = self.recorder.take() else { return };
        match timeout_at(deadline, recorder.close_in_background()).await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "the session recording could not be completed");
            }
            Err(_) => tracing::warn!(
                "the session recording was not flushed within close_timeout; it finishes in the background"
            ),
        }
    }

    /// Hands a frame to the session recording, if one is configured (never waits on I/O).
    pub(super) fn record(&self, dir: Direction, payload: impl Into<Payload>) {
        if let Some(recorder) = &self.recorder {
            recorder.record(dir, payload);
        }
    }

    /// Records a data message, copying its payload only when recording is on (the check is
    /// inlined into every message's path, the copy is not).
    #[inline]
    pub(super) fn record_message(&self, dir: Direction, message: &Message) {
        if self.recorder.is_some() {
            self.record_copy(dir, message);
        }
    }

    #[inline(never)]
    fn record_copy(&self, dir: Direction, message: &Message) {
        let payload = match message {
            Message::Text(text) => Payload::Text(text.as_str().to_owned()),
            Message::Binary(bytes) => Payload::Binary(bytes.to_vec()),
        };
        self.record(dir, payload);
    }

    /// Copies the task's gauges to the monitors handles read.
    pub(super) fn publish_gauges(&mut self) {
        use std::sync::atomic::Ordering;
        self.shared.publish_totals(&self.totals);
        self.shared.pending.store(self.pending.len(), Ordering::Relaxed);
        self.shared.subscriptions.store(self.subscriptions.len(), Ordering::Relaxed);
        self.publish_subscriptions();
        if let Some(recorder) = &self.recorder {
            let dropped = recorder.dropped();
            if dropped > self.recording_dropped {
                self.telemetry.count(names::RECORDING_DROPPED, dropped - self.recording_dropped);
                self.recording_dropped = dropped;
            }
        }
    }
}

impl Connection {
    /// Publishes the subscription record if it changed — before any reply or event about it,
    /// so whoever hears of a change sees it in [`Client::subscriptions`](crate::Client::subscriptions).
    pub(super) fn publish_subscriptions(&mut self) {
        use std::sync::atomic::Ordering;
        if self.subscriptions.version() == self.subscriptions_published {
            return;
        }
        self.subscriptions_published = self.subscriptions.version();
        let list = self.subscriptions.iter().map(|(id, channels)| (id, channels.to_vec()));
        self.shared.publish_subscriptions(list.collect());
        self.shared.subscriptions.store(self.subscriptions.len(), Ordering::Relaxed);
        self.shared.subscription_bytes.store(self.subscriptions.bytes(), Ordering::Relaxed);
    }
}

impl Drop for Connection {
    /// However the task ends — normally, by a panic, or dropped with its runtime — the client
    /// reads `Disconnected` afterwards and the user gets a final event.
    fn drop(&mut self) {
        if !self.finished {
            self.shared.state.set(ConnectionState::Disconnected);
            self.fail_waiting();
            let reason = DisconnectReason::Error(Error::ConnectionTaskEnded);
            self.telemetry.disconnected(EndLabel::TaskEnded);
            self.delivery.lifecycle(Event::Disconnected { reason, will_retry: false });
        }
        self.shared.mark_ended();
    }
}

/// The metrics label for how a connection ended.
pub(super) fn end_label(reason: &DisconnectReason) -> EndLabel {
    match reason {
        DisconnectReason::ServerClosed { .. } => EndLabel::ServerClosed,
        DisconnectReason::ClientClosed => EndLabel::ClientClosed,
        DisconnectReason::Error(Error::HeartbeatTimeout { .. }) => EndLabel::Heartbeat,
        DisconnectReason::Error(Error::WriteTimeout { .. }) => EndLabel::WriteTimeout,
        DisconnectReason::Error(_) => EndLabel::Error,
    }
}
