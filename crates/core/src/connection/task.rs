//! The select loop that owns a live socket: commands in, frames in, deadlines, heartbeats,
//! and how it ends.

use std::{
    future::poll_fn,
    sync::{Arc, atomic::Ordering},
};

use futures_util::{FutureExt, SinkExt, StreamExt};
use serde_json::json;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::{
    self,
    protocol::{CloseFrame, frame::coding::CloseCode},
};
use tracing::Instrument;
use zen_websocket_recorder::{Direction, Payload, Recorder};

use super::{
    command::{Command, RequestCommand, SubscribeCommand},
    delivery::{Delivery, HandlerCell, Inbox},
    failure::{fail_connection, failure_code},
    heartbeat::{Beat, DeribitNotice, deribit_notice},
    pending::{Pending, Waiter},
    subscriptions::Subscriptions,
};
use crate::{
    config::Config,
    error::{Error, Result},
    event::{DisconnectReason, Event},
    heartbeat::HeartbeatKind,
    message::Message,
    monitor::{Shared, Totals},
    rpc::{RequestId, Response},
    state::ConnectionState,
    telemetry::{EndLabel, Telemetry, millis},
    transport::{Endpoint, WsStream},
};

/// Most commands written before one flush.
const MAX_BATCH: usize = 64;

/// Starts the task that owns `ws`; returns the command sender and, without a message handler,
/// the inbox.
pub(crate) fn spawn(
    ws: WsStream,
    endpoint: Endpoint,
    config: Arc<Config>,
    shared: Arc<Shared>,
    telemetry: Telemetry,
    recorder: Option<Recorder>,
) -> (mpsc::Sender<Command>, Option<Inbox>) {
    let (commands_tx, commands) = mpsc::channel(config.outbox_capacity);
    let (delivery, inbox) = match &config.message_handler {
        Some(handler) => (Delivery::Handler(HandlerCell(Arc::clone(handler))), None),
        None => {
            let (delivery, inbox) = Delivery::inbox(Arc::clone(&shared));
            (delivery, Some(inbox))
        }
    };
    let span = tracing::debug_span!("zen_websocket.connection", host = %endpoint.host, port = endpoint.port);
    let connection = Connection {
        pending: Pending::new(config.request_timeout),
        heartbeat: config.heartbeat.clone().map(Beat::new),
        config,
        endpoint: Arc::new(endpoint),
        shared,
        telemetry,
        commands,
        delivery,
        subscriptions: Subscriptions::default(),
        totals: Totals::default(),
        recorder,
        acks: Vec::new(),
    };
    tokio::spawn(connection.run(ws).instrument(span));
    (commands_tx, inbox)
}

/// Everything the connection task owns.
#[derive(Debug)]
pub(super) struct Connection {
    pub(super) config: Arc<Config>,
    pub(super) endpoint: Arc<Endpoint>,
    pub(super) shared: Arc<Shared>,
    pub(super) telemetry: Telemetry,
    pub(super) commands: mpsc::Receiver<Command>,
    pub(super) delivery: Delivery,
    pub(super) pending: Pending,
    pub(super) subscriptions: Subscriptions,
    pub(super) heartbeat: Option<Beat>,
    recorder: Option<Recorder>,
    totals: Totals,
    acks: Vec<oneshot::Sender<Result<()>>>,
}

/// How serving a socket ended.
#[derive(Debug)]
enum Ended {
    /// [`Client::close`](crate::Client::close) was called.
    ClientClosed(oneshot::Sender<()>),
    /// Every client handle was dropped.
    HandlesDropped,
    /// The socket was lost.
    Lost(DisconnectReason),
}

/// Whether the select loop goes on.
enum Flow {
    Continue,
    End(Ended),
}

impl Connection {
    async fn run(mut self, mut ws: WsStream) {
        self.on_open(&mut ws).await;
        loop {
            let ended = self.serve(&mut ws).await;
            self.publish_gauges();
            match ended {
                Ended::ClientClosed(done) => {
                    Box::pin(self.close_socket(ws)).await;
                    self.finish(Some(DisconnectReason::ClientClosed));
                    let _ = done.send(());
                    return;
                }
                Ended::HandlesDropped => {
                    Box::pin(self.close_socket(ws)).await;
                    self.finish(Some(DisconnectReason::ClientClosed));
                    return;
                }
                Ended::Lost(reason) => {
                    drop(ws);
                    self.on_lost(reason);
                    // Boxed: re-dialling is rare, and the live task should not carry its size.
                    match Box::pin(self.reconnect()).await {
                        Some(restored) => ws = restored,
                        None => return,
                    }
                }
            }
        }
    }

    /// Starts a fresh socket's heartbeat (asking Deribit for one when configured).
    pub(super) async fn on_open(&mut self, ws: &mut WsStream) {
        let Some(beat) = &mut self.heartbeat else {
            return;
        };
        beat.restart();
        if *beat.kind() == HeartbeatKind::Deribit {
            let params = json!({"interval": beat.deribit_interval_secs()});
            let waiter = Waiter::Internal("public/set_heartbeat");
            let sent = self.send_request(ws, "public/set_heartbeat", params, waiter).await;
            if sent.is_ok() {
                drop(ws.flush().await);
            }
        }
    }

    fn on_lost(&mut self, reason: DisconnectReason) {
        tracing::info!(%reason, "connection lost");
        self.telemetry.disconnected(end_label(&reason));
        self.pending.fail_all(|| Error::Disconnected);
        self.shared.state.set(ConnectionState::Connecting);
        self.publish_gauges();
        self.delivery.lifecycle(Event::Disconnected { reason });
    }

    async fn serve(&mut self, ws: &mut WsStream) -> Ended {
        loop {
            let flow = tokio::select! {
                command = self.commands.recv() => match command {
                    Some(command) => self.on_commands(command, ws).await,
                    None => Flow::End(Ended::HandlesDropped),
                },
                () = self.delivery.wait_for_room(), if self.delivery.is_blocked() => Flow::Continue,
                frame = ws.next(), if !self.delivery.is_blocked() => self.on_frames(frame, ws).await,
                Some((id, waiter)) = poll_fn(|cx| self.pending.poll_expired(cx)) => {
                    self.telemetry.request_timeout.increment(1);
                    waiter.fail(Error::RequestTimeout { id, after: self.pending.timeout() });
                    Flow::Continue
                }
                () = Beat::due(&mut self.heartbeat) => self.on_beat(ws).await,
            };
            self.publish_gauges();
            if let Flow::End(ended) = flow {
                return ended;
            }
        }
    }

    /// Writes `first` and whatever else is queued (up to a batch), then flushes once.
    async fn on_commands(&mut self, first: Command, ws: &mut WsStream) -> Flow {
        let mut next = Some(first);
        let mut written = 0;
        let mut result = Ok(());
        let mut close = None;
        while let Some(command) = next.take() {
            if let Command::Close { done } = command {
                close = Some(done);
                break;
            }
            if let Err(err) = self.write_command(command, ws).await {
                result = Err(err);
                break;
            }
            written += 1;
            if written < MAX_BATCH {
                next = self.commands.try_recv().ok();
            }
        }
        if result.is_ok() {
            result = ws.flush().await.map_err(Error::from_transport);
        }
        let failed = result.is_err();
        for ack in self.acks.drain(..) {
            let _ = ack.send(if failed { Err(Error::Disconnected) } else { Ok(()) });
        }
        match (result, close) {
            (Err(err), _) => lost(err),
            (Ok(()), Some(done)) => Flow::End(Ended::ClientClosed(done)),
            (Ok(()), None) => Flow::Continue,
        }
    }

    async fn write_command(&mut self, command: Command, ws: &mut WsStream) -> Result<()> {
        match command {
            Command::Send { message, ack } => {
                self.write(ws, message).await?;
                self.acks.push(ack);
            }
            Command::Request(request) => {
                let RequestCommand { id, frame, reply } = *request;
                self.write_request(ws, id, Message::from(frame), Waiter::Request(reply)).await?;
            }
            Command::Subscribe(subscribe) => {
                let SubscribeCommand { id, frame, channels, reply } = *subscribe;
                let waiter = Waiter::Subscribe { channels, reply };
                self.write_request(ws, id, Message::from(frame), waiter).await?;
            }
            Command::Unsubscribe { id: subscription, reply } => {
                let Some(channels) = self.subscriptions.channels(subscription) else {
                    let _ = reply.send(Err(Error::UnknownSubscription(subscription)));
                    return Ok(());
                };
                let id = self.shared.next_request_id();
                let frame = self.config.subscription_protocol.unsubscribe_message(&id, channels);
                let waiter = Waiter::Unsubscribe { id: subscription, reply };
                self.write_request(ws, id, Message::from(&frame), waiter).await?;
            }
            Command::Close { done } => {
                let _ = done.send(());
            }
        }
        Ok(())
    }

    /// Registers `waiter` under the fresh `id` and writes `frame`.
    pub(super) async fn write_request(
        &mut self,
        ws: &mut WsStream,
        id: RequestId,
        frame: Message,
        waiter: Waiter,
    ) -> Result<()> {
        if let Err(waiter) = self.pending.insert(id.clone(), waiter) {
            waiter.fail(Error::DuplicateRequestId(id));
            return Ok(());
        }
        self.write(ws, frame).await
    }

    /// Takes tokens for a frame the client sends on its own, when the limiter has them; such
    /// frames never wait (a heartbeat must not be starved into a false timeout).
    pub(super) fn charge(&self, frame: &Message) {
        if let Some(limiter) = &self.config.rate_limiter {
            let charged = match frame {
                Message::Text(text) => limiter.try_acquire_for(text.as_str()),
                Message::Binary(bytes) => limiter.try_acquire_for(&bytes[..]),
            };
            if let Err(err) = charged {
                tracing::debug!(error = %err, "sent an internal frame past the rate limiter");
            }
        }
    }

    /// Sends a JSON-RPC request of the client's own (heartbeat calls).
    async fn send_request(
        &mut self,
        ws: &mut WsStream,
        method: &str,
        params: serde_json::Value,
        waiter: Waiter,
    ) -> Result<()> {
        let id = self.shared.next_request_id();
        let frame =
            Message::from(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.charge(&frame);
        self.write_request(ws, id, frame, waiter).await
    }

    async fn write(&mut self, ws: &mut WsStream, message: Message) -> Result<()> {
        if self.config.debug {
            log_frame("out", &message);
        }
        self.totals.count(false, message.len());
        self.telemetry.message_sent.record(message.len() as f64);
        self.record_message(Direction::Out, &message);
        ws.feed(message.into_frame()).await.map_err(Error::from_transport)
    }

    /// Handles `first` and then every frame already readable without waiting (up to a
    /// batch), so a burst costs one pass through the select loop, not one per frame.
    async fn on_frames(
        &mut self,
        first: Option<Result<tungstenite::Message, tungstenite::Error>>,
        ws: &mut WsStream,
    ) -> Flow {
        let mut flow = self.on_frame(first, ws).await;
        for _ in 1..MAX_BATCH {
            if !matches!(flow, Flow::Continue) || self.delivery.is_blocked() {
                break;
            }
            // Polled once without a waker; the select loop polls again with one.
            let Some(frame) = ws.next().now_or_never() else {
                break;
            };
            flow = self.on_frame(frame, ws).await;
        }
        flow
    }

    async fn on_frame(
        &mut self,
        frame: Option<Result<tungstenite::Message, tungstenite::Error>>,
        ws: &mut WsStream,
    ) -> Flow {
        let frame = match frame {
            Some(Ok(frame)) => frame,
            Some(Err(err)) => {
                // Tell the server why (1002, 1007, 1009) before hanging up. Boxed: rare, and the
                // live task should not carry its size.
                if let Some(code) = failure_code(&err) {
                    let code = Some(u16::from(code));
                    self.record(Direction::Out, Payload::Close { code, reason: String::new() });
                }
                Box::pin(fail_connection(ws, &err, self.config.close_timeout)).await;
                return lost(Error::from_transport(err));
            }
            None => return lost(Error::WebSocket(tungstenite::Error::ConnectionClosed)),
        };
        match frame {
            tungstenite::Message::Text(text) => {
                if let Some(notice) = self.deribit_notice(&text) {
                    let len = text.len();
                    self.record_message(Direction::In, &Message::Text(text));
                    return self.on_deribit_notice(notice, len, ws).await;
                }
                self.on_data(Message::Text(text), false);
            }
            tungstenite::Message::Binary(bytes) => self.on_data(Message::Binary(bytes), false),
            tungstenite::Message::Close(frame) => {
                // Sends tungstenite's queued reply to the close frame; the socket ends either way.
                drop(ws.flush().await);
                let received = frame.as_ref().map(|frame| u16::from(frame.code));
                let (code, reason) = frame.map_or((1005, String::new()), |frame| {
                    (u16::from(frame.code), frame.reason.as_str().to_owned())
                });
                self.record(
                    Direction::In,
                    Payload::Close { code: received, reason: reason.clone() },
                );
                self.record(
                    Direction::Out,
                    Payload::Close { code: received, reason: String::new() },
                );
                return Flow::End(Ended::Lost(DisconnectReason::ServerClosed { code, reason }));
            }
            tungstenite::Message::Pong(payload) => self.on_pong(&payload),
            // tungstenite answers pings itself; a server ping is the `Pong` heartbeat's beat.
            tungstenite::Message::Ping(_) => self.on_heard(),
            tungstenite::Message::Frame(_) => {}
        }
        Flow::Continue
    }

    /// Routes a data message: to the request it answers, else to the user.
    fn on_data(&mut self, message: Message, closing: bool) {
        if self.config.debug {
            log_frame("in", &message);
        }
        self.totals.count(true, message.len());
        self.telemetry.message_received.record(message.len() as f64);
        self.record_message(Direction::In, &message);
        if let Message::Text(text) = &message
            && !self.pending.is_empty()
            && self.resolve(text.as_str())
        {
            return;
        }
        if closing {
            self.delivery.lifecycle(Event::Message(message));
        } else if self.delivery.message(Event::Message(message)) {
            self.telemetry.backpressure.increment(1);
        }
    }

    /// Hands a response to its waiter; `false` when `text` answers nothing pending.
    fn resolve(&mut self, text: &str) -> bool {
        let Some(mut response) = Response::peek(text) else {
            return false;
        };
        let Some((waiter, rtt)) = self.pending.take(&response.id) else {
            return false;
        };
        self.shared.record_latency(rtt);
        self.telemetry.resolved(rtt);
        match waiter {
            Waiter::Request(reply) => {
                let _ = reply.send(response.into_result());
            }
            Waiter::Subscribe { channels, reply } => {
                let confirmed = self.confirm(&channels, &mut response, text);
                let counter = if confirmed.is_ok() {
                    &self.telemetry.subscription_added
                } else {
                    &self.telemetry.subscription_rejected
                };
                counter.increment(1);
                let _ = reply.send(confirmed.map(|()| self.subscriptions.add(channels)));
            }
            Waiter::Restore { id } => self.on_restored(id, &mut response, text),
            Waiter::Unsubscribe { id, reply } => {
                let result = response.check_error();
                if result.is_ok() && self.subscriptions.remove(id).is_some() {
                    self.telemetry.subscription_removed.increment(1);
                }
                let _ = reply.send(result);
            }
            Waiter::Heartbeat => self.on_heard_with(Some(rtt)),
            Waiter::Internal(method) => {
                if let Err(err) = response.check_error() {
                    tracing::warn!(method, error = %err, "the server refused an internal request");
                }
            }
        }
        true
    }

    fn on_restored(&mut self, id: crate::SubscriptionId, response: &mut Response<'_>, text: &str) {
        let channels = self.subscriptions.channels(id).map(<[String]>::to_vec).unwrap_or_default();
        match self.confirm(&channels, response, text) {
            Ok(()) => self.telemetry.subscription_restored.increment(1),
            Err(err) => {
                self.subscriptions.remove(id);
                self.telemetry.subscription_rejected.increment(1);
                tracing::warn!(subscription = %id, error = %err, "the server refused to restore a subscription");
            }
        }
    }

    fn confirm(&self, channels: &[String], response: &mut Response<'_>, text: &str) -> Result<()> {
        response.check_error()?;
        let whole: serde_json::Value = serde_json::from_str(text)?;
        self.config
            .subscription_protocol
            .confirm(channels, &whole)
            .map_err(|missing| Error::SubscriptionRejected { channels: missing })
    }

    /// A due heartbeat: send what it asks, count what it missed, drop a dead socket.
    async fn on_beat(&mut self, ws: &mut WsStream) -> Flow {
        let Some(beat) = &mut self.heartbeat else {
            return Flow::Continue;
        };
        let tick = beat.on_tick(self.delivery.is_blocked());
        if let Some(failures) = tick.failed {
            tracing::debug!(failures, "heartbeat missed");
            self.shared.heartbeat_failed(failures);
            self.telemetry.heartbeat_failure.increment(1);
            if tick.dead {
                return lost(Error::HeartbeatTimeout { failures });
            }
        }
        let Some(frame) = tick.frame else {
            return Flow::Continue;
        };
        if let Some(message) = custom_beat(&frame) {
            self.charge(&message);
            self.record_message(Direction::Out, &message);
        }
        if frame.is_text() || frame.is_binary() {
            self.totals.count(false, frame.len());
            self.telemetry.message_sent.record(frame.len() as f64);
        }
        match ws.send(frame).await {
            Ok(()) => Flow::Continue,
            Err(err) => lost(Error::from_transport(err)),
        }
    }

    fn on_pong(&mut self, payload: &[u8]) {
        let rtt = self.heartbeat.as_mut().and_then(|beat| beat.on_pong(payload));
        if let Some(rtt) = rtt {
            self.shared.record_latency(rtt);
            self.telemetry.heartbeat_pong.record(millis(rtt));
            self.shared.heartbeat_succeeded(Some(rtt));
        }
    }

    fn on_heard(&mut self) {
        self.on_heard_with(None);
    }

    fn on_heard_with(&mut self, rtt: Option<std::time::Duration>) {
        if self.heartbeat.as_mut().is_some_and(Beat::on_heard) {
            self.shared.heartbeat_succeeded(rtt);
        }
    }

    fn deribit_notice(&self, text: &str) -> Option<DeribitNotice> {
        let beat = self.heartbeat.as_ref()?;
        if *beat.kind() != HeartbeatKind::Deribit {
            return None;
        }
        deribit_notice(text)
    }

    /// Consumes a Deribit heartbeat notice, answering a `test_request` with `public/test`.
    async fn on_deribit_notice(
        &mut self,
        notice: DeribitNotice,
        len: usize,
        ws: &mut WsStream,
    ) -> Flow {
        self.totals.count(true, len);
        self.on_heard();
        if notice == DeribitNotice::TestRequest {
            let sent = self.send_request(ws, "public/test", json!({}), Waiter::Heartbeat).await;
            let flushed = match sent {
                Ok(()) => ws.flush().await.map_err(Error::from_transport),
                Err(err) => Err(err),
            };
            if let Err(err) = flushed {
                return lost(err);
            }
        }
        Flow::Continue
    }

    /// Sends close 1000 and waits, bounded, for the server's answer, delivering what arrives.
    async fn close_socket(&mut self, mut ws: WsStream) {
        let frame = CloseFrame { code: CloseCode::Normal, reason: "".into() };
        self.record(Direction::Out, Payload::Close { code: Some(1000), reason: String::new() });
        let bound = self.config.close_timeout;
        let handshake = async {
            if ws.close(Some(frame)).await.is_err() {
                return;
            }
            while let Some(Ok(frame)) = ws.next().await {
                match frame {
                    tungstenite::Message::Text(text) => self.on_data(Message::Text(text), true),
                    tungstenite::Message::Binary(bytes) => {
                        self.on_data(Message::Binary(bytes), true)
                    }
                    tungstenite::Message::Close(frame) => {
                        let code = frame.as_ref().map(|frame| u16::from(frame.code));
                        let reason = frame.map(|frame| frame.reason.as_str().to_owned());
                        self.record(
                            Direction::In,
                            Payload::Close { code, reason: reason.unwrap_or_default() },
                        );
                    }
                    _ => {}
                }
            }
        };
        if tokio::time::timeout(bound, handshake).await.is_err() {
            tracing::debug!("the server did not answer the close frame in time");
        }
    }

    /// Ends the connection for good: fails what waits, refuses what is queued, and tells the
    /// user `reason` unless they were already told.
    pub(super) fn finish(&mut self, reason: Option<DisconnectReason>) {
        self.shared.state.set(ConnectionState::Disconnected);
        self.pending.fail_all(|| Error::Disconnected);
        self.commands.close();
        while let Ok(command) = self.commands.try_recv() {
            command.refuse(|| Error::NotConnected(ConnectionState::Disconnected));
        }
        self.publish_gauges();
        // Writes what is still buffered before anyone is told the connection ended.
        if let Some(recorder) = self.recorder.take()
            && let Err(err) = recorder.close()
        {
            tracing::warn!(error = %err, "the session recording could not be completed");
        }
        if let Some(reason) = reason {
            self.telemetry.disconnected(end_label(&reason));
            self.delivery.lifecycle(Event::Disconnected { reason });
        }
    }

    /// Hands a frame to the session recording, if one is configured (never waits on I/O).
    fn record(&self, dir: Direction, payload: impl Into<Payload>) {
        if let Some(recorder) = &self.recorder {
            recorder.record(dir, payload);
        }
    }

    /// Records a data message, copying its payload only when recording is on.
    fn record_message(&self, dir: Direction, message: &Message) {
        if self.recorder.is_some() {
            let payload = match message {
                Message::Text(text) => Payload::Text(text.as_str().to_owned()),
                Message::Binary(bytes) => Payload::Binary(bytes.to_vec()),
            };
            self.record(dir, payload);
        }
    }

    /// Copies the task's gauges to the monitors handles read.
    pub(super) fn publish_gauges(&self) {
        self.shared.publish_totals(&self.totals);
        self.shared.pending.store(self.pending.len(), Ordering::Relaxed);
        self.shared.subscriptions.store(self.subscriptions.len(), Ordering::Relaxed);
        self.shared.subscription_bytes.store(self.subscriptions.bytes(), Ordering::Relaxed);
    }
}

/// The data message inside a heartbeat frame (custom heartbeats; pings carry none).
fn custom_beat(frame: &tungstenite::Message) -> Option<Message> {
    match frame {
        tungstenite::Message::Text(text) => Some(Message::Text(text.clone())),
        tungstenite::Message::Binary(bytes) => Some(Message::Binary(bytes.clone())),
        _ => None,
    }
}

fn lost(err: Error) -> Flow {
    Flow::End(Ended::Lost(DisconnectReason::Error(err)))
}

fn end_label(reason: &DisconnectReason) -> EndLabel {
    match reason {
        DisconnectReason::ServerClosed { .. } => EndLabel::ServerClosed,
        DisconnectReason::ClientClosed => EndLabel::ClientClosed,
        DisconnectReason::Error(Error::HeartbeatTimeout { .. }) => EndLabel::Heartbeat,
        DisconnectReason::Error(_) => EndLabel::Error,
    }
}

/// Secret-bearing field names whose frames are never logged in full.
const SECRET_MARKERS: [&str; 6] =
    ["client_secret", "access_token", "refresh_token", "signature", "password", "api_key"];

fn log_frame(direction: &'static str, message: &Message) {
    match message.as_text() {
        Some(text) if SECRET_MARKERS.iter().any(|marker| text.contains(marker)) => {
            tracing::debug!(direction, len = text.len(), "text frame (credentials redacted)");
        }
        Some(text) => {
            let shown = text.char_indices().nth(512).map_or(text, |(cut, _)| &text[..cut]);
            tracing::debug!(direction, len = text.len(), text = shown, "text frame");
        }
        None => tracing::debug!(direction, len = message.len(), "binary frame"),
    }
}
