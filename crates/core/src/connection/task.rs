//! The select loop that owns a live socket: commands in, frames in, deadlines, and how it ends.

use std::{future::poll_fn, sync::Arc};

use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::{
    self,
    protocol::{CloseFrame, frame::coding::CloseCode},
};
use tracing::Instrument;

use super::{
    command::Command,
    delivery::{Delivery, HandlerCell, Inbox},
    pending::{Pending, Waiter},
    subscriptions::Subscriptions,
};
use crate::{
    config::Config,
    error::{Error, Result},
    event::{DisconnectReason, Event},
    message::Message,
    monitor::Shared,
    rpc::{RequestId, Response},
    state::ConnectionState,
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
) -> (mpsc::Sender<Command>, Option<Inbox>) {
    let (commands_tx, commands) = mpsc::channel(config.outbox_capacity);
    let (delivery, inbox) = match &config.message_handler {
        Some(handler) => (Delivery::Handler(HandlerCell(Arc::clone(handler))), None),
        None => {
            let (delivery, inbox) = Delivery::inbox(config.inbox_capacity);
            (delivery, Some(inbox))
        }
    };
    let span = tracing::debug_span!(
        "zen_websocket.connection",
        host = %endpoint.host,
        port = endpoint.port,
    );
    let connection = Connection {
        pending: Pending::new(config.request_timeout),
        config,
        endpoint: Arc::new(endpoint),
        shared,
        commands,
        delivery,
        subscriptions: Subscriptions::default(),
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
    pub(super) commands: mpsc::Receiver<Command>,
    pub(super) delivery: Delivery,
    pub(super) pending: Pending,
    pub(super) subscriptions: Subscriptions,
    acks: Vec<oneshot::Sender<Result<()>>>,
}

/// How serving a socket ended.
#[derive(Debug)]
pub(super) enum Ended {
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
        loop {
            match self.serve(&mut ws).await {
                Ended::ClientClosed(done) => {
                    self.close_socket(ws).await;
                    self.finish(Some(DisconnectReason::ClientClosed));
                    let _ = done.send(());
                    return;
                }
                Ended::HandlesDropped => {
                    self.close_socket(ws).await;
                    self.finish(Some(DisconnectReason::ClientClosed));
                    return;
                }
                Ended::Lost(reason) => {
                    drop(ws);
                    tracing::info!(%reason, "connection lost");
                    self.pending.fail_all(|| Error::Disconnected);
                    self.shared.state.set(ConnectionState::Connecting);
                    self.delivery.lifecycle(Event::Disconnected { reason });
                    // Boxed: re-dialling is rare, and the live task should not carry its size.
                    match Box::pin(self.reconnect()).await {
                        Some(restored) => ws = restored,
                        None => return,
                    }
                }
            }
        }
    }

    async fn serve(&mut self, ws: &mut WsStream) -> Ended {
        loop {
            let flow = tokio::select! {
                command = self.commands.recv() => match command {
                    Some(command) => self.on_commands(command, ws).await,
                    None => Flow::End(Ended::HandlesDropped),
                },
                () = self.delivery.wait_for_room(), if self.delivery.is_blocked() => Flow::Continue,
                frame = ws.next(), if !self.delivery.is_blocked() => self.on_frame(frame, ws).await,
                Some((id, waiter)) = poll_fn(|cx| self.pending.poll_expired(cx)) => {
                    waiter.fail(Error::RequestTimeout { id, after: self.pending.timeout() });
                    Flow::Continue
                }
            };
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
            drop(ack.send(if failed {
                Err(Error::Disconnected)
            } else {
                Ok(())
            }));
        }
        match (result, close) {
            (Err(err), _) => Flow::End(Ended::Lost(DisconnectReason::Error(err))),
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
            Command::Request { id, frame, reply } => {
                if let Err(waiter) = self.pending.insert(id.clone(), Waiter::Request(reply)) {
                    waiter.fail(Error::DuplicateRequestId(id));
                    return Ok(());
                }
                self.write(ws, Message::from(frame)).await?;
            }
            Command::Subscribe { channels, reply } => {
                let id = self.shared.next_request_id();
                let frame = self
                    .config
                    .subscription_protocol
                    .subscribe_message(&id, &channels);
                self.write_request(ws, id, &frame, Waiter::Subscribe { channels, reply })
                    .await?;
            }
            Command::Unsubscribe {
                id: subscription,
                reply,
            } => {
                let Some(channels) = self.subscriptions.channels(subscription) else {
                    drop(reply.send(Err(Error::UnknownSubscription(subscription))));
                    return Ok(());
                };
                let id = self.shared.next_request_id();
                let frame = self
                    .config
                    .subscription_protocol
                    .unsubscribe_message(&id, channels);
                let waiter = Waiter::Unsubscribe {
                    id: subscription,
                    reply,
                };
                self.write_request(ws, id, &frame, waiter).await?;
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
        frame: &serde_json::Value,
        waiter: Waiter,
    ) -> Result<()> {
        if let Err(waiter) = self.pending.insert(id.clone(), waiter) {
            waiter.fail(Error::DuplicateRequestId(id));
            return Ok(());
        }
        self.write(ws, Message::from(frame)).await
    }

    async fn write(&self, ws: &mut WsStream, message: Message) -> Result<()> {
        if self.config.debug {
            log_frame("out", &message);
        }
        ws.feed(message.into_frame())
            .await
            .map_err(Error::from_transport)
    }

    async fn on_frame(
        &mut self,
        frame: Option<Result<tungstenite::Message, tungstenite::Error>>,
        ws: &mut WsStream,
    ) -> Flow {
        let frame = match frame {
            Some(Ok(frame)) => frame,
            Some(Err(err)) => return lost(Error::from_transport(err)),
            None => return lost(Error::WebSocket(tungstenite::Error::ConnectionClosed)),
        };
        match frame {
            tungstenite::Message::Text(text) => self.on_data(Message::Text(text), false),
            tungstenite::Message::Binary(bytes) => self.on_data(Message::Binary(bytes), false),
            tungstenite::Message::Close(frame) => {
                // Sends tungstenite's queued reply to the close frame; the socket ends either way.
                drop(ws.flush().await);
                let (code, reason) = frame.map_or((1005, String::new()), |frame| {
                    (u16::from(frame.code), frame.reason.as_str().to_owned())
                });
                return Flow::End(Ended::Lost(DisconnectReason::ServerClosed { code, reason }));
            }
            // Pings are answered by tungstenite itself; pongs and raw frames need nothing.
            tungstenite::Message::Ping(_)
            | tungstenite::Message::Pong(_)
            | tungstenite::Message::Frame(_) => {}
        }
        Flow::Continue
    }

    /// Routes a data message: to the request it answers, else to the user.
    fn on_data(&mut self, message: Message, closing: bool) {
        if self.config.debug {
            log_frame("in", &message);
        }
        if let Message::Text(text) = &message
            && !self.pending.is_empty()
            && self.resolve(text.as_str())
        {
            return;
        }
        if closing {
            self.delivery.lifecycle(Event::Message(message));
        } else {
            self.delivery.message(Event::Message(message));
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
        match waiter {
            Waiter::Request(reply) => drop(reply.send(response.into_result())),
            Waiter::Subscribe { channels, reply } => {
                let confirmed = self.confirm(&channels, &mut response, text);
                drop(reply.send(confirmed.map(|()| self.subscriptions.add(channels))));
            }
            Waiter::Restore { id } => {
                let channels = self
                    .subscriptions
                    .channels(id)
                    .map(<[String]>::to_vec)
                    .unwrap_or_default();
                if let Err(err) = self.confirm(&channels, &mut response, text) {
                    self.subscriptions.remove(id);
                    tracing::warn!(subscription = %id, error = %err, "the server refused to restore a subscription");
                }
            }
            Waiter::Unsubscribe { id, reply } => {
                let result = response
                    .check_error()
                    .map(|()| drop(self.subscriptions.remove(id)));
                drop(reply.send(result));
            }
        }
        true
    }

    fn confirm(&self, channels: &[String], response: &mut Response<'_>, text: &str) -> Result<()> {
        response.check_error()?;
        let whole: serde_json::Value = serde_json::from_str(text)?;
        self.config
            .subscription_protocol
            .confirm(channels, &whole)
            .map_err(|missing| Error::SubscriptionRejected { channels: missing })
    }

    /// Sends close 1000 and waits, bounded, for the server's answer, delivering what arrives.
    async fn close_socket(&mut self, mut ws: WsStream) {
        let frame = CloseFrame {
            code: CloseCode::Normal,
            reason: "".into(),
        };
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
        if let Some(reason) = reason {
            self.delivery.lifecycle(Event::Disconnected { reason });
        }
    }
}

fn lost(err: Error) -> Flow {
    Flow::End(Ended::Lost(DisconnectReason::Error(err)))
}

/// Secret-bearing field names whose frames are never logged in full.
const SECRET_MARKERS: [&str; 6] = [
    "client_secret",
    "access_token",
    "refresh_token",
    "signature",
    "password",
    "api_key",
];

fn log_frame(direction: &'static str, message: &Message) {
    match message.as_text() {
        Some(text) if SECRET_MARKERS.iter().any(|marker| text.contains(marker)) => {
            tracing::debug!(
                direction,
                len = text.len(),
                "text frame (credentials redacted)"
            );
        }
        Some(text) => {
            let shown = text
                .char_indices()
                .nth(512)
                .map_or(text, |(cut, _)| &text[..cut]);
            tracing::debug!(direction, len = text.len(), text = shown, "text frame");
        }
        None => tracing::debug!(direction, len = message.len(), "binary frame"),
    }
}
