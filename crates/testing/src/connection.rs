//! One upgraded connection: read frames, answer through the handlers, run commands, close.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use crate::event::{DisconnectKind, HandshakeRequest, ServerEvent};
use crate::message::{ConnectionId, MessageKind, ReceivedMessage};
use crate::ping_tap::PingTap;
use crate::reply::{Incoming, Reply, respond};
use crate::state::Shared;
use crate::transport::Transport;

/// How long a graceful close waits for the client's close frame before closing the TCP.
const CLOSE_GRACE: Duration = Duration::from_secs(1);
/// The longest close reason a close frame can carry.
const MAX_REASON: usize = 123;

type Ws = WebSocketStream<PingTap<Transport>>;

/// What the `MockServer` handle asks a connection task to do.
#[derive(Debug)]
pub(crate) enum Command {
    /// Send a reply; `done` fires once its immediate frames are written.
    Send { reply: Reply, done: Option<oneshot::Sender<()>> },
    /// End the connection; `done` fires once the socket is closed.
    Disconnect { kind: DisconnectKind, done: oneshot::Sender<()> },
}

/// The channels a connection task listens on.
pub(crate) struct Channels {
    pub(crate) pings: mpsc::UnboundedReceiver<Bytes>,
    pub(crate) commands: mpsc::UnboundedReceiver<Command>,
    /// A sender to our own queue, for delayed replies.
    pub(crate) commands_tx: mpsc::UnboundedSender<Command>,
}

/// An accepted connection's entry in the server's table; removes it when dropped.
pub(crate) struct Registration {
    shared: Arc<Shared>,
    id: ConnectionId,
}

impl Registration {
    /// Registers the connection and records its handshake and `Connected` event.
    pub(crate) fn new(
        shared: &Arc<Shared>,
        commands: mpsc::UnboundedSender<Command>,
        mut request: HandshakeRequest,
    ) -> Self {
        let id = shared.register(commands);
        request.connection = id;
        shared.write_log(|log| {
            log.handshakes.push(request);
            log.events.push(ServerEvent::Connected(id));
        });
        Self { shared: Arc::clone(shared), id }
    }

    pub(crate) fn id(&self) -> ConnectionId {
        self.id
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.shared.unregister(self.id);
    }
}

/// Serves an upgraded connection until it ends.
pub(crate) async fn serve(mut ws: Ws, channels: Channels, registration: Registration) {
    ws.get_mut().activate();
    let mut connection = Connection {
        shared: Arc::clone(&registration.shared),
        id: registration.id,
        ws,
        channels,
        peer_closed: false,
    };
    let done = connection.run().await;
    // Close the socket and leave the table before telling anyone the connection is gone.
    drop(connection);
    drop(registration);
    if let Some(done) = done {
        let _ = done.send(());
    }
}

/// Whether the connection goes on; `Exit` carries the acknowledgement to send once closed.
enum Flow {
    Continue,
    Exit(Option<oneshot::Sender<()>>),
}

/// One thing to do for a reply.
enum Step {
    Send(Message),
    Later(Duration, Reply),
    Close(u16, String),
}

struct Connection {
    shared: Arc<Shared>,
    id: ConnectionId,
    ws: Ws,
    channels: Channels,
    /// Whether the client sent a close frame.
    peer_closed: bool,
}

impl Connection {
    async fn run(&mut self) -> Option<oneshot::Sender<()>> {
        loop {
            let flow = tokio::select! {
                frame = self.ws.next() => self.on_frame(frame).await,
                Some(payload) = self.channels.pings.recv() => self.on_ping(payload).await,
                Some(command) = self.channels.commands.recv() => self.on_command(command).await,
            };
            if let Flow::Exit(done) = flow {
                return done;
            }
        }
    }

    async fn on_frame(&mut self, frame: Option<Result<Message, WsError>>) -> Flow {
        let message = match frame {
            Some(Ok(message)) => message,
            Some(Err(error)) => {
                tracing::debug!(%error, connection = %self.id, "mock server read failed");
                return self.ended();
            }
            None => return self.ended(),
        };
        match message {
            Message::Text(text) => self.on_data(MessageKind::Text(text.to_string())).await,
            Message::Binary(bytes) => self.on_data(MessageKind::Binary(bytes.to_vec())).await,
            other => {
                self.record_control(other);
                Flow::Continue
            }
        }
    }

    /// The stream ended; without a close frame from the client that is a drop.
    fn ended(&self) -> Flow {
        if !self.peer_closed {
            self.shared.record_event(ServerEvent::Dropped { connection: self.id });
        }
        Flow::Exit(None)
    }

    /// Records a data frame; returns it.
    fn record_data(&self, kind: MessageKind) -> ReceivedMessage {
        let message = ReceivedMessage { connection: self.id, kind, at: std::time::Instant::now() };
        let recorded = message.clone();
        self.shared.write_log(|log| log.received.push(recorded));
        message
    }

    /// Records a ping (one that slipped past the tap), pong or close frame.
    fn record_control(&mut self, message: Message) {
        let connection = self.id;
        let event = match message {
            Message::Ping(payload) => ServerEvent::Ping { connection, payload: payload.to_vec() },
            Message::Pong(payload) => ServerEvent::Pong { connection, payload: payload.to_vec() },
            Message::Close(frame) => {
                self.peer_closed = true;
                let code = frame.as_ref().map(|frame| u16::from(frame.code));
                let reason = frame.map(|frame| frame.reason.to_string()).unwrap_or_default();
                ServerEvent::ClientClosed { connection, code, reason }
            }
            Message::Text(_) | Message::Binary(_) | Message::Frame(_) => return,
        };
        self.shared.record_event(event);
    }

    async fn on_data(&mut self, kind: MessageKind) -> Flow {
        let message = self.record_data(kind);
        let settings = self.shared.settings();
        let incoming = Incoming { connection: self.id, message };
        let reply = respond(&incoming, settings.handler.as_ref(), settings.rpc_handler.as_ref());
        self.deliver(reply, None).await
    }

    async fn on_ping(&mut self, payload: Bytes) -> Flow {
        let event = ServerEvent::Ping { connection: self.id, payload: payload.to_vec() };
        self.shared.record_event(event);
        if self.shared.settings().auto_pong {
            self.send(Message::Pong(payload)).await;
        }
        Flow::Continue
    }

    async fn on_command(&mut self, command: Command) -> Flow {
        match command {
            Command::Send { reply, done } => self.deliver(reply, done).await,
            Command::Disconnect { kind: DisconnectKind::Abrupt, done } => self.reset(done),
            Command::Disconnect { kind, done } => {
                let code = kind.close_code().unwrap_or(1000);
                self.close(code, kind.reason(), Some(done)).await
            }
        }
    }

    /// Carries out `reply`; `done` fires when its immediate frames are written.
    async fn deliver(&mut self, reply: Reply, done: Option<oneshot::Sender<()>>) -> Flow {
        let mut steps = Vec::new();
        plan(reply, &mut steps);
        for step in steps {
            match step {
                Step::Send(message) => self.send(message).await,
                Step::Later(delay, reply) => self.later(delay, reply),
                Step::Close(code, reason) => return self.close(code, &reason, done).await,
            }
        }
        if let Some(done) = done {
            let _ = done.send(());
        }
        Flow::Continue
    }

    async fn send(&mut self, message: Message) {
        if let Err(error) = self.ws.send(message).await {
            // A broken connection shows up on the next read; nothing to do here.
            tracing::debug!(%error, connection = %self.id, "mock server send failed");
        }
    }

    /// Queues `reply` on this connection after `delay`, from a separate task.
    fn later(&self, delay: Duration, reply: Reply) {
        let commands = self.channels.commands_tx.clone();
        self.shared.spawn(async move {
            tokio::time::sleep(delay).await;
            // The connection may be gone by now; then the reply has nowhere to go.
            let _ = commands.send(Command::Send { reply, done: None });
        });
    }

    /// Sends a close frame, waits (bounded) for the client's answer, then ends the connection.
    async fn close(&mut self, code: u16, reason: &str, done: Option<oneshot::Sender<()>>) -> Flow {
        let reason = cut(reason, MAX_REASON).to_owned();
        let event = ServerEvent::ServerClosed {
            connection: self.id,
            code: Some(code),
            reason: reason.clone(),
        };
        self.shared.record_event(event);
        let frame = CloseFrame { code: CloseCode::from(code), reason: reason.into() };
        self.send(Message::Close(Some(frame))).await;
        // Whatever the client sends until its close frame is still recorded.
        let _ = tokio::time::timeout(CLOSE_GRACE, self.drain()).await;
        Flow::Exit(done)
    }

    async fn drain(&mut self) {
        while let Some(Ok(message)) = self.ws.next().await {
            match message {
                Message::Text(text) => drop(self.record_data(MessageKind::Text(text.to_string()))),
                Message::Binary(bytes) => {
                    drop(self.record_data(MessageKind::Binary(bytes.to_vec())))
                }
                other => self.record_control(other),
            }
        }
    }

    /// Resets the TCP connection: `SO_LINGER` 0, then the socket is closed by dropping it.
    fn reset(&self, done: oneshot::Sender<()>) -> Flow {
        let tcp = self.ws.get_ref().get_ref().tcp();
        if let Err(error) = socket2::SockRef::from(tcp).set_linger(Some(Duration::ZERO)) {
            tracing::warn!(%error, "could not set SO_LINGER; the close will not be a reset");
        }
        let reason = "connection reset".to_owned();
        let event = ServerEvent::ServerClosed { connection: self.id, code: None, reason };
        self.shared.record_event(event);
        Flow::Exit(Some(done))
    }
}

/// Flattens `reply` into steps, in order.
fn plan(reply: Reply, steps: &mut Vec<Step>) {
    match reply {
        Reply::None | Reply::Default => {}
        Reply::Text(text) => steps.push(Step::Send(Message::text(text))),
        Reply::Binary(bytes) => steps.push(Step::Send(Message::binary(bytes))),
        Reply::Json(value) => steps.push(Step::Send(Message::text(value.to_string()))),
        Reply::Ping(payload) => steps.push(Step::Send(Message::Ping(payload.into()))),
        Reply::Many(replies) => replies.into_iter().for_each(|reply| plan(reply, steps)),
        Reply::Delayed(delay, reply) => steps.push(Step::Later(delay, *reply)),
        Reply::Close { code, reason } => steps.push(Step::Close(code, reason)),
    }
}

/// Cuts `text` to at most `max` bytes on a character boundary.
fn cut(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_keeps_characters_whole() {
        assert_eq!(cut("abc", 2), "ab");
        assert_eq!(cut("é", 1), "");
        assert_eq!(cut("abc", 10), "abc");
    }

    #[test]
    fn plan_flattens_in_order() {
        let reply = Reply::Many(vec![
            Reply::Text("a".into()),
            Reply::Many(vec![Reply::None, Reply::Binary(vec![1])]),
            Reply::delayed(Duration::ZERO, Reply::Default),
            Reply::Close { code: 1000, reason: String::new() },
        ]);
        let mut steps = Vec::new();
        plan(reply, &mut steps);
        assert!(matches!(
            steps.as_slice(),
            [
                Step::Send(Message::Text(_)),
                Step::Send(Message::Binary(_)),
                Step::Later(..),
                Step::Close(1000, _),
            ]
        ));
    }
}
