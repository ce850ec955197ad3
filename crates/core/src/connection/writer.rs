//! Writing: frames are started while the socket takes them and flushed once per pass — never
//! awaited — and each is checked at the last moment: a frame whose caller gave up is not
//! written, and a request's waiter is registered only once its frame goes out.

use std::task::{Context, Poll};

use futures_util::SinkExt;
use tokio_tungstenite::tungstenite;
use zen_websocket_recorder::{Direction, Payload};

use super::{
    outbox::{OutRequest, Outgoing},
    task::{Connection, Phase},
};
use crate::{
    error::{Error, Result},
    message::Message,
    state::ConnectionState,
    telemetry::names,
    transport::WsStream,
};

impl Connection {
    /// Starts every waiting frame the socket takes now and flushes; `true` when anything
    /// moved. Never waits: what the socket does not take now stays queued.
    pub(super) fn write_pass(&mut self, cx: &mut Context<'_>, ws: &mut WsStream) -> Result<bool> {
        let mut worked = false;
        while !self.outbox.is_empty() {
            match ws.poll_ready_unpin(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(err)) => return Err(Error::from_transport(err)),
                Poll::Pending => break,
            }
            let Some(item) = self.outbox.pop() else { break };
            worked = true;
            if let Some(frame) = self.prepare(item) {
                ws.start_send_unpin(frame).map_err(Error::from_transport)?;
                self.outbox.flush_due = true;
            }
        }
        if self.outbox.flush_due {
            match ws.poll_flush_unpin(cx) {
                Poll::Ready(Ok(())) => {
                    self.outbox.flush_due = false;
                    for ack in self.outbox.unflushed.drain(..) {
                        let _ = ack.send(Ok(()));
                    }
                    worked = true;
                }
                Poll::Ready(Err(err)) => return Err(Error::from_transport(err)),
                Poll::Pending => {}
            }
        }
        Ok(worked)
    }

    /// The frame to write for `item`, or `None` when it must not be written (its caller gave
    /// up, its id is taken, or the close frame already went out).
    fn prepare(&mut self, item: Outgoing) -> Option<tungstenite::Message> {
        if let Phase::Closing { sent: true, .. } = self.phase {
            self.refuse_after_close(item);
            return None;
        }
        match item {
            Outgoing::Send { message, ack } => {
                if ack.is_closed() {
                    self.telemetry.count(names::REQUEST_ABANDONED, 1);
                    return None;
                }
                self.on_written(&message);
                self.outbox.unflushed.push(ack);
                Some(message.into_frame())
            }
            Outgoing::Request(request) => self.prepare_request(*request),
            Outgoing::Internal(frame) => {
                self.on_internal_written(&frame);
                Some(frame)
            }
        }
    }

    fn prepare_request(&mut self, request: OutRequest) -> Option<tungstenite::Message> {
        let OutRequest { id, frame, waiter, deadline } = request;
        if waiter.is_abandoned() {
            self.settle(&waiter);
            self.telemetry.count(names::REQUEST_ABANDONED, 1);
            return None;
        }
        if deadline <= tokio::time::Instant::now() {
            // Its time ran out before it reached the socket: never write it.
            self.telemetry.count(names::REQUEST_ABANDONED, 1);
            self.on_expired(id, waiter);
            return None;
        }
        if let Err(waiter) = self.pending.insert(id.clone(), waiter, deadline) {
            self.settle(&waiter);
            waiter.fail(Error::DuplicateRequestId(id));
            return None;
        }
        self.on_written(&frame);
        Some(frame.into_frame())
    }

    /// Counts, logs and records a data frame on its way out.
    fn on_written(&mut self, message: &Message) {
        if self.config.debug {
            self.log_frame("out", message);
        }
        self.totals.count(false, message.len());
        self.telemetry.message_sent.record(message.len() as f64);
        self.record_message(Direction::Out, message);
    }

    /// The client's own frames: custom heartbeats count as data; the close frame is recorded
    /// and ends what may be written.
    fn on_internal_written(&mut self, frame: &tungstenite::Message) {
        match frame {
            tungstenite::Message::Text(text) => self.on_written(&Message::Text(text.clone())),
            tungstenite::Message::Binary(bytes) => self.on_written(&Message::Binary(bytes.clone())),
            tungstenite::Message::Close(close) => {
                let code = close.as_ref().map(|frame| u16::from(frame.code));
                let reason =
                    close.as_ref().map(|frame| frame.reason.to_string()).unwrap_or_default();
                self.record(Direction::Out, Payload::Close { code, reason });
                if let Phase::Closing { sent, .. } = &mut self.phase {
                    *sent = true;
                }
            }
            _ => {}
        }
    }

    /// Answers what can no longer be written: the close frame is out.
    fn refuse_after_close(&mut self, item: Outgoing) {
        self.refuse_unwritten(item, ConnectionState::Disconnected);
    }

    /// Logs a frame at DEBUG with the configured secrets blanked and text cut to 512 bytes.
    pub(super) fn log_frame(&self, direction: &'static str, message: &Message) {
        match message.as_text() {
            Some(text) => {
                let shown = text.char_indices().nth(512).map_or(text, |(cut, _)| &text[..cut]);
                let shown = self.config.redaction.redact_text(shown);
                tracing::debug!(direction, len = text.len(), text = %shown, "text frame");
            }
            None => tracing::debug!(direction, len = message.len(), "binary frame"),
        }
    }
}
