//! What arrives on the socket: data for the user, responses for their waiters, heartbeats,
//! and the frames that end a connection.

use tokio_tungstenite::tungstenite;
use zen_websocket_recorder::{Direction, Payload};

use super::{
    failure::failure_code,
    heartbeat::{DeribitNotice, deribit_notice},
    outbox::Outgoing,
    pending::Waiter,
    task::{Connection, Ended, Phase, Teardown},
};
use crate::{
    error::Error, event::DisconnectReason, heartbeat::HeartbeatKind, message::Message,
    telemetry::millis, telemetry::names,
};

impl Connection {
    /// Handles one read result; `Some` when it ends the socket's service.
    pub(super) fn on_frame(
        &mut self,
        frame: Option<Result<tungstenite::Message, tungstenite::Error>>,
    ) -> Option<Ended> {
        let closing = matches!(self.phase, Phase::Closing { .. });
        let frame = match frame {
            Some(Ok(frame)) => frame,
            Some(Err(_)) | None if closing => return Some(Ended::Closed),
            Some(Err(err)) => return Some(self.on_read_error(err)),
            None => return Some(lost(Error::WebSocket(tungstenite::Error::ConnectionClosed))),
        };
        match frame {
            tungstenite::Message::Text(text) => match self.deribit_notice(&text) {
                Some(notice) => self.on_deribit_notice(notice, Message::Text(text)),
                None => self.on_data(Message::Text(text)),
            },
            tungstenite::Message::Binary(bytes) => self.on_data(Message::Binary(bytes)),
            tungstenite::Message::Close(frame) => return self.on_close_frame(frame, closing),
            tungstenite::Message::Pong(payload) => self.on_pong(&payload),
            // tungstenite answers pings itself; a server ping is the `Pong` heartbeat's beat.
            tungstenite::Message::Ping(_) => self.on_heard(None),
            tungstenite::Message::Frame(_) => {}
        }
        None
    }

    /// A read error ends the socket; a protocol violation is answered with its close code.
    fn on_read_error(&mut self, err: tungstenite::Error) -> Ended {
        let teardown = match failure_code(&err) {
            Some(code) => {
                let code_number = Some(u16::from(code));
                self.record(
                    Direction::Out,
                    Payload::Close { code: code_number, reason: String::new() },
                );
                Teardown::Fail(code)
            }
            None => Teardown::None,
        };
        Ended::Lost { reason: DisconnectReason::Error(Error::from_transport(err)), teardown }
    }

    /// The server's close frame: recorded with tungstenite's reply; it ends an open socket,
    /// and a closing one once the server hangs up.
    fn on_close_frame(
        &mut self,
        frame: Option<tungstenite::protocol::CloseFrame>,
        closing: bool,
    ) -> Option<Ended> {
        let received = frame.as_ref().map(|frame| u16::from(frame.code));
        let (code, reason) = frame.map_or((1005, String::new()), |frame| {
            (u16::from(frame.code), frame.reason.as_str().to_owned())
        });
        self.record(Direction::In, Payload::Close { code: received, reason: reason.clone() });
        if closing {
            return None;
        }
        self.record(Direction::Out, Payload::Close { code: received, reason: String::new() });
        let reason = DisconnectReason::ServerClosed { code, reason };
        Some(Ended::Lost { reason, teardown: Teardown::FlushClose })
    }

    /// Routes a data message: to the request it answers, else to the user.
    fn on_data(&mut self, message: Message) {
        if self.config.debug {
            self.log_frame("in", &message);
        }
        self.totals.count(true, message.len());
        self.telemetry.message_received.record(message.len() as f64);
        self.record_message(Direction::In, &message);
        if !self.pending.is_empty()
            && let Message::Text(text) = &message
            && self.resolve(text.as_str())
        {
            return;
        }
        // Whether an answer is awaited matters only once the count bound is reached.
        let Err(message) = self.delivery.message(message) else { return };
        let awaiting = self.awaiting();
        if self.delivery.message_at_bound(message, awaiting) {
            self.telemetry.backpressure.increment(1);
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

    /// The server's beat (a ping, a Deribit notice, the answer to a `test_request`).
    pub(super) fn on_heard(&mut self, rtt: Option<std::time::Duration>) {
        let config = self.config.heartbeat.as_ref();
        if self.heartbeat.as_mut().zip(config).is_some_and(|(beat, config)| beat.on_heard(config)) {
            self.shared.heartbeat_succeeded(rtt);
        }
    }

    fn deribit_notice(&self, text: &str) -> Option<DeribitNotice> {
        self.heartbeat.as_ref()?;
        if self.config.heartbeat.as_ref()?.kind != HeartbeatKind::Deribit {
            return None;
        }
        deribit_notice(text)
    }

    /// Consumes a Deribit heartbeat notice, answering a `test_request` with `public/test`
    /// ahead of anything queued.
    fn on_deribit_notice(&mut self, notice: DeribitNotice, message: Message) {
        if self.config.debug {
            self.log_frame("in", &message);
        }
        self.totals.count(true, message.len());
        self.telemetry.message_received.record(message.len() as f64);
        self.record_message(Direction::In, &message);
        self.on_heard(None);
        if notice == DeribitNotice::TestRequest
            && matches!(self.phase, Phase::Open | Phase::Restoring { .. })
        {
            let params = serde_json::json!({});
            self.internal_request("public/test", params, Waiter::Heartbeat, true);
        }
    }

    /// A due heartbeat: count what it missed, drop a dead socket, queue what it sends.
    pub(super) fn on_beat(&mut self) -> Option<Ended> {
        let paused = self.delivery.is_paused();
        let beat = self.heartbeat.as_mut()?;
        let tick = beat.on_tick(self.config.heartbeat.as_ref()?, paused);
        if let Some(failures) = tick.failed {
            tracing::debug!(failures, "heartbeat missed");
            self.shared.heartbeat_failed(failures);
            self.telemetry.count(names::HEARTBEAT_FAILURE, 1);
            if tick.dead {
                return Some(lost(Error::HeartbeatTimeout { failures }));
            }
        }
        let frame = tick.frame?;
        if let tungstenite::Message::Text(text) = &frame {
            self.charge(&Message::Text(text.clone()));
        } else if let tungstenite::Message::Binary(bytes) = &frame {
            self.charge(&Message::Binary(bytes.clone()));
        }
        self.outbox.push_urgent(Outgoing::Internal(frame));
        None
    }
}

/// The socket broke with `err`, owing the peer nothing.
pub(super) fn lost(err: Error) -> Ended {
    Ended::Lost { reason: DisconnectReason::Error(err), teardown: Teardown::None }
}
