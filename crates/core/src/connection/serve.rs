//! Serving a live socket: one pass polls every source — the close signal, commands, inbox room,
//! inbound frames, writes, request deadlines, the heartbeat, the no-progress clock — and the
//! task sleeps only after a pass in which none of them had anything to do.

use std::{
    future::{Future, poll_fn},
    task::{Context, Poll},
};

use futures_util::StreamExt;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::{
    self,
    protocol::{CloseFrame, frame::coding::CloseCode},
};

use super::{
    command::Command,
    outbox::Outgoing,
    task::{Connection, Ended, Phase, Teardown},
};
use crate::{error::Error, event::DisconnectReason, transport::WsStream};

/// Most frames read, or passes made, before the task yields to the runtime.
const MAX_BATCH: usize = 64;

/// What one pass over the sources found.
enum Pass {
    /// Something was done: another pass may find more.
    Worked,
    /// Every source is waiting, with the task's waker registered.
    Idle,
    /// The socket's service is over.
    Ended(Ended),
}

impl Connection {
    /// Serves `ws` until it is closed or lost.
    pub(super) async fn serve(&mut self, ws: &mut WsStream) -> Ended {
        poll_fn(|cx| self.poll_serve(cx, ws)).await
    }

    fn poll_serve(&mut self, cx: &mut Context<'_>, ws: &mut WsStream) -> Poll<Ended> {
        for _ in 0..MAX_BATCH {
            match self.pass(cx, ws) {
                Pass::Worked => {}
                Pass::Idle => {
                    self.publish_gauges();
                    return Poll::Pending;
                }
                Pass::Ended(ended) => {
                    self.publish_gauges();
                    return Poll::Ready(ended);
                }
            }
        }
        // Busy for a while: let other tasks run, and come straight back.
        self.publish_gauges();
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    fn pass(&mut self, cx: &mut Context<'_>, ws: &mut WsStream) -> Pass {
        let mut worked = self.poll_close_request(cx);
        worked |= self.poll_commands(cx);
        if self.delivery.is_paused() && self.delivery.poll_room(cx, self.awaiting()) {
            worked = true;
        }
        match self.read_frames(cx, ws) {
            Ok(read) => worked |= read,
            Err(ended) => return Pass::Ended(ended),
        }
        match self.write_pass(cx, ws) {
            Ok(wrote) => worked |= wrote,
            Err(err) => return Pass::Ended(self.write_failed(err)),
        }
        worked |= self.poll_deadlines(cx);
        match self.poll_beat(cx) {
            Ok(beat) => worked |= beat,
            Err(ended) => return Pass::Ended(ended),
        }
        if let Some(ended) = self.poll_timeouts(cx, ws) {
            return Pass::Ended(ended);
        }
        if worked { Pass::Worked } else { Pass::Idle }
    }

    /// Starts closing once [`Client::close`](crate::Client::close) asks (or every handle is
    /// gone): frames already taken go out first, then the close frame.
    fn poll_close_request(&mut self, cx: &mut Context<'_>) -> bool {
        if matches!(self.phase, Phase::Closing { .. }) {
            return false;
        }
        if self.shared.close.poll_requested(cx).is_pending() {
            return false;
        }
        self.begin_closing();
        true
    }

    pub(super) fn begin_closing(&mut self) {
        let deadline = Instant::now() + self.config.close_timeout;
        let timer = Box::pin(tokio::time::sleep_until(deadline));
        self.phase = Phase::Closing { deadline, timer, sent: false };
        let frame = CloseFrame { code: CloseCode::Normal, reason: "".into() };
        self.outbox.push(Outgoing::Internal(tungstenite::Message::Close(Some(frame))));
    }

    /// Takes commands while the connection is open and the outbox has room.
    fn poll_commands(&mut self, cx: &mut Context<'_>) -> bool {
        let mut worked = false;
        while matches!(self.phase, Phase::Open) && self.outbox.has_room() {
            match self.commands.poll_recv(cx) {
                Poll::Ready(Some(command)) => self.on_command(command),
                Poll::Ready(None) => self.begin_closing(), // every handle was dropped
                Poll::Pending => break,
            }
            worked = true;
        }
        worked
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Send { message, ack } => self.outbox.push(Outgoing::Send { message, ack }),
            Command::Request(request) => self.queue_request(*request),
            Command::Subscribe(subscribe) => self.queue_subscribe(*subscribe),
            Command::Unsubscribe(unsubscribe) => self.queue_unsubscribe(*unsubscribe),
        }
    }

    /// Reads what the socket has, up to a batch, while the inbox takes it.
    fn read_frames(&mut self, cx: &mut Context<'_>, ws: &mut WsStream) -> Result<bool, Ended> {
        let mut read = 0;
        while read < MAX_BATCH && !self.delivery.is_paused() {
            let Poll::Ready(frame) = ws.poll_next_unpin(cx) else { break };
            read += 1;
            if let Some(ended) = self.on_frame(frame) {
                return Err(ended);
            }
        }
        Ok(read > 0)
    }

    /// A failed write ends the socket (a closing one quietly).
    fn write_failed(&mut self, err: Error) -> Ended {
        if matches!(self.phase, Phase::Closing { .. }) {
            return Ended::Closed;
        }
        Ended::Lost { reason: DisconnectReason::Error(err), teardown: Teardown::None }
    }

    /// Fails the requests whose deadline passed.
    fn poll_deadlines(&mut self, cx: &mut Context<'_>) -> bool {
        let mut worked = false;
        while let Poll::Ready((id, waiter)) = self.pending.poll_expired(cx) {
            self.on_expired(id, waiter);
            worked = true;
        }
        worked
    }

    /// A due heartbeat, unless the socket is closing.
    fn poll_beat(&mut self, cx: &mut Context<'_>) -> Result<bool, Ended> {
        if matches!(self.phase, Phase::Closing { .. }) {
            return Ok(false);
        }
        let due = self.heartbeat.as_mut().is_some_and(|beat| beat.poll_due(cx).is_ready());
        if !due {
            return Ok(false);
        }
        match self.on_beat() {
            Some(ended) => Err(ended),
            None => Ok(true),
        }
    }

    /// The write that made no progress, and the end of a close handshake's time.
    fn poll_timeouts(&mut self, cx: &mut Context<'_>, ws: &WsStream) -> Option<Ended> {
        let written = ws.get_ref().written();
        if let Poll::Ready(after) = self.outbox.poll_stalled(cx, written, self.config.write_timeout)
        {
            tracing::debug!(?after, "a write made no progress");
            return Some(self.write_failed(Error::WriteTimeout { after }));
        }
        if let Phase::Closing { timer, .. } = &mut self.phase
            && timer.as_mut().poll(cx).is_ready()
        {
            tracing::debug!("the server did not finish the close handshake in time");
            return Some(Ended::Closed);
        }
        None
    }

    /// Whether a reply or heartbeat answer is awaited: the inbox may then be read past its
    /// count bound (never its byte bound), so the answer is not stuck behind unread data.
    pub(super) fn awaiting(&self) -> bool {
        !self.pending.is_empty()
            || matches!(self.phase, Phase::Closing { .. })
            || self.heartbeat.as_ref().is_some_and(super::heartbeat::Beat::awaiting)
    }
}
