//! Serving a live socket: one pass polls every source — the close signal, commands, inbox room,
//! inbound frames, writes, request deadlines, the heartbeat, the no-progress clock — and the
//! task sleeps only after a pass in which none of them had anything to do.

use std::{
    future::Future,
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
    drive::TurnBound,
    outbox::Outgoing,
    task::{Connection, Ended, Phase, Teardown},
};
use crate::{error::Error, event::DisconnectReason, transport::WsStream};

/// Most frames read, or passes made, before the task yields to the runtime.
const MAX_BATCH: usize = 64;

/// Where one pass's reading stops: after `frames` frames, or once the connection's inbound
/// byte total reaches `until`.
#[derive(Debug, Clone, Copy)]
struct ReadBound {
    frames: usize,
    until: u64,
}

/// What one pass over the sources found.
enum Pass {
    /// A source stopped at a bound, or gave another work: another pass follows.
    Worked,
    /// Every source is waiting, with the task's waker registered.
    Idle,
    /// The socket's service is over.
    Ended(Ended),
}

impl Connection {
    /// Serves `ws` until it is closed or lost: one turn of the work, by the task or a reader
    /// (see [`Drive`](super::drive::Drive)).
    ///
    /// A turn ends after at most [`MAX_BATCH`] passes, or at the pass that reached `bound`
    /// (a reader's turn: it hands the events out while they are still in its cache).
    pub(super) fn poll_serve(
        &mut self,
        cx: &mut Context<'_>,
        ws: &mut WsStream,
        bound: TurnBound,
    ) -> Poll<Ended> {
        let until = self.totals.bytes_in.saturating_add(bound.bytes);
        for _ in 0..MAX_BATCH {
            let frames = MAX_BATCH.min(bound.events.saturating_sub(self.delivery.waiting()));
            let pass = self.pass(cx, ws, ReadBound { frames, until });
            // What this pass delivered goes into the inbox in one step.
            self.delivery.stage();
            match pass {
                Pass::Worked
                    if self.totals.bytes_in >= until || self.delivery.waiting() >= bound.events =>
                {
                    break;
                }
                Pass::Worked => {}
                Pass::Idle => {
                    self.end_turn();
                    return Poll::Pending;
                }
                Pass::Ended(ended) => {
                    self.end_turn();
                    return Poll::Ready(ended);
                }
            }
        }
        // Busy for a while (or a reader's share done): let others run, and come straight back.
        self.end_turn();
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    /// Before the task sleeps or yields: readers are woken once for everything this turn
    /// delivered, and the monitors see the turn's figures.
    fn end_turn(&mut self) {
        self.delivery.wake_readers();
        self.publish_gauges();
    }

    /// One pass: the sources that produce frames first, then the writer, then the clocks the
    /// writer arms. Every source is polled until it has nothing more (so it has registered the
    /// waker) unless a bound stopped it or one source's work gave another something to do —
    /// then another pass follows.
    fn pass(&mut self, cx: &mut Context<'_>, ws: &mut WsStream, read: ReadBound) -> Pass {
        self.poll_close_request(cx);
        let commands_held_back = self.poll_commands(cx);
        let mut again = match self.poll_session(cx) {
            Ok(worked) => worked,
            Err(ended) => return Pass::Ended(ended),
        };
        let awaited = self.awaiting();
        if self.delivery.is_paused() {
            self.delivery.poll_room(cx, self.awaiting());
        }
        again |= match self.read_frames(cx, ws, read) {
            Ok(capped) => capped,
            Err(ended) => return Pass::Ended(ended),
        };
        // Paused by the reads just now: wait for room (or find it already made).
        if self.delivery.is_paused() {
            again |= self.delivery.poll_room(cx, self.awaiting());
        }
        match self.poll_beat(cx) {
            // A beat re-arms its timer: poll it again.
            Ok(beat) => again |= beat,
            Err(ended) => return Pass::Ended(ended),
        }
        if let Err(err) = self.write_pass(cx, ws) {
            return Pass::Ended(self.write_failed(err));
        }
        // After the writer, so the deadlines of requests it just wrote are armed; an expiry
        // may queue frames (or end a restore), so it asks for another pass.
        again |= self.poll_deadlines(cx);
        if let Some(ended) = self.poll_timeouts(cx, ws) {
            return Pass::Ended(ended);
        }
        // Commands left waiting for room, or for the restores to end, may go now.
        again |= commands_held_back && self.outbox.has_room() && matches!(self.phase, Phase::Open);
        // A reply now awaited lets a paused reader go past the count bound: look again.
        again |= self.delivery.is_paused() && !awaited && self.awaiting();
        if again { Pass::Worked } else { Pass::Idle }
    }

    /// Starts closing once [`Client::close`](crate::Client::close) asks (or every handle is
    /// gone): frames already taken go out first, then the close frame.
    fn poll_close_request(&mut self, cx: &mut Context<'_>) {
        if !matches!(self.phase, Phase::Closing { .. })
            && self.shared.close.poll_requested(cx).is_ready()
        {
            self.begin_closing();
        }
    }

    pub(super) fn begin_closing(&mut self) {
        let deadline = Instant::now() + self.config.close_timeout;
        let timer = Box::pin(tokio::time::sleep_until(deadline));
        self.phase = Phase::Closing { deadline, timer, sent: false };
        let frame = CloseFrame { code: CloseCode::Normal, reason: "".into() };
        self.outbox.push(Outgoing::Internal(tungstenite::Message::Close(Some(frame))));
    }

    /// Serves the session set-up's requests and learns when it is over; `true` when it did
    /// something. A failed set-up ends the socket.
    fn poll_session(&mut self, cx: &mut Context<'_>) -> Result<bool, Ended> {
        use crate::session::Progress;
        if matches!(self.phase, Phase::Closing { .. }) {
            self.session = None;
        }
        let mut worked = false;
        loop {
            let Some(lane) = &mut self.session else { return Ok(worked) };
            match lane.poll(cx, self.config.request_timeout) {
                Progress::Command(command) => {
                    self.on_command(command);
                    worked = true;
                }
                Progress::Done => {
                    self.session_done();
                    return Ok(true);
                }
                Progress::Failed(error) => {
                    self.session = None;
                    tracing::warn!(%error, "session set-up failed; dropping the socket");
                    let reason = DisconnectReason::Error(Error::SessionSetup(Box::new(error)));
                    let teardown = Teardown::Fail(CloseCode::Normal);
                    return Err(Ended::Lost { reason, teardown });
                }
                Progress::Waiting => return Ok(worked),
            }
        }
    }

    /// Takes commands while the connection is open and the outbox has room; `true` when
    /// commands may be waiting that were held back (no room, or restores in flight).
    fn poll_commands(&mut self, cx: &mut Context<'_>) -> bool {
        loop {
            match self.phase {
                Phase::Open if self.outbox.has_room() => {}
                Phase::Closing { .. } => return false,
                _ => return true,
            }
            match self.shared.commands.poll_recv(cx) {
                Poll::Ready(Some(command)) => self.on_command(command),
                Poll::Ready(None) => self.begin_closing(), // every handle was dropped
                Poll::Pending => return false,
            }
        }
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Send { message, ack } => self.outbox.push(Outgoing::Send { message, ack }),
            Command::Request(request) => self.queue_request(*request),
            Command::Subscribe(subscribe) => self.queue_subscribe(*subscribe),
            Command::Unsubscribe(unsubscribe) => self.queue_unsubscribe(*unsubscribe),
        }
    }

    /// Reads what the socket has, within `bound`, while the inbox takes it; `true` when the
    /// bound stopped it (more may be readable).
    fn read_frames(
        &mut self,
        cx: &mut Context<'_>,
        ws: &mut WsStream,
        bound: ReadBound,
    ) -> Result<bool, Ended> {
        if self.totals.bytes_in >= bound.until {
            // A turn that reads nothing (a sender's): the reads stay with whoever the socket
            // wakes, there is nothing left over for this turn.
            return Ok(false);
        }
        for _ in 0..bound.frames {
            if self.delivery.is_paused() {
                return Ok(false);
            }
            let Poll::Ready(frame) = ws.poll_next_unpin(cx) else { return Ok(false) };
            if let Some(ended) = self.on_frame(frame) {
                return Err(ended);
            }
            if self.totals.bytes_in >= bound.until {
                return Ok(true);
            }
        }
        Ok(true)
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
            || (self.heartbeat.as_ref().zip(self.config.heartbeat.as_ref()))
                .is_some_and(|(beat, config)| beat.awaiting(config))
    }
}
