//! Losing a socket and getting another: the loss reported once, back-off that survives
//! connections dying at once, `Retry-After` honoured, and errors retrying cannot fix ending it.

use std::{
    future::{Future, poll_fn},
    time::{Duration, Instant as StdInstant},
};

use tokio::time::Instant;

use super::{
    command::Command,
    task::{Connection, Phase, end_label},
};
use crate::{
    error::Error,
    event::{DisconnectReason, Ending, Event},
    state::ConnectionState,
    telemetry::names,
    transport::{WsStream, dial},
};

/// The outcome of work done while offline.
enum Offline<T> {
    /// The work finished.
    Done(T),
    /// The user closed the client (or dropped it) meanwhile; the task has finished.
    Stopped,
}

impl Connection {
    /// Reports a lost socket; `true` when a reconnection follows, `false` when the task has
    /// finished.
    pub(super) async fn on_lost(&mut self, reason: DisconnectReason) -> bool {
        tracing::info!(%reason, "connection lost");
        self.telemetry.disconnected(end_label(&reason));
        if self.retry.up_since.elapsed() >= self.config.backoff_reset_after {
            self.retry.attempts = 0;
            self.retry.retry_after = None;
        }
        self.retry.last_error = Some(Box::new(reason.as_error()));
        let reconnecting = self.config.reconnect_on_error && self.config.retry_count > 0;
        let will_retry = reconnecting && self.retry.attempts < self.config.retry_count;
        let ending = if reconnecting { Ending::GaveUp } else { Ending::of_lost(&reason) };
        // A socket lost while restoring was never reported open: the user already knows the
        // client is connecting.
        let was_open = !matches!(self.phase, Phase::Restoring { .. } | Phase::SettingUp);
        self.phase = Phase::Open;
        self.session = None;
        self.reconnected = true;
        let state =
            if will_retry { ConnectionState::Connecting } else { ConnectionState::Disconnected };
        // The state first: a caller woken by the failures below already reads it.
        self.shared.state.set(state);
        self.fail_waiting();
        self.publish_gauges();
        if was_open {
            self.delivery.lifecycle(Event::Disconnected { reason, will_retry });
        }
        if will_retry {
            return true;
        }
        let last = reconnecting.then(|| self.gave_up_event());
        self.finish_now(ending, last).await;
        false
    }

    /// Re-dials with back-off; `None` when the connection is over for good.
    pub(super) async fn reconnect(&mut self) -> Option<WsStream> {
        loop {
            if self.retry.attempts >= self.config.retry_count {
                let event = self.gave_up_event();
                self.finish_now(Ending::GaveUp, Some(event)).await;
                return None;
            }
            // A reader that stopped reading is not handed an unbounded history.
            let shared = std::sync::Arc::clone(&self.shared);
            let room = poll_fn(move |cx| shared.poll_inbox_within_budget(cx));
            if let Offline::Stopped = self.offline(room).await {
                return None;
            }
            self.retry.attempts += 1;
            let attempt = self.retry.attempts;
            let delay = self.next_delay(attempt);
            self.delivery.lifecycle(Event::Reconnecting { attempt, delay });
            self.telemetry.count(names::RECONNECT_ATTEMPT, 1);
            tracing::info!(attempt, ?delay, "reconnecting");
            if let Offline::Stopped = self.offline(tokio::time::sleep(delay)).await {
                return None;
            }
            let (endpoint, config) = (self.endpoint.clone(), self.config.clone());
            let started = StdInstant::now();
            let dialled = self.offline(Box::pin(async move { dial(&endpoint, &config).await }));
            match dialled.await {
                Offline::Stopped => return None,
                Offline::Done(Ok((ws, subprotocol))) => {
                    self.telemetry.upgraded(started.elapsed());
                    self.shared.set_subprotocol(subprotocol);
                    return Some(ws);
                }
                Offline::Done(Err(err)) => {
                    tracing::info!(attempt, error = %err, "reconnection attempt failed");
                    self.retry.retry_after = err.retry_after();
                    let hopeless = !err.is_recoverable();
                    self.retry.last_error = Some(Box::new(err));
                    if hopeless {
                        let event = self.gave_up_event();
                        self.finish_now(Ending::GaveUp, Some(event)).await;
                        return None;
                    }
                }
            }
        }
    }

    /// The wait before attempt `attempt`: the back-off, or longer when the server asked for it
    /// (`Retry-After`), never past `max_backoff`.
    fn next_delay(&mut self, attempt: u32) -> Duration {
        let backoff = self.config.backoff(attempt);
        let asked = self.retry.retry_after.take().unwrap_or_default();
        backoff.max(asked.min(self.config.max_backoff))
    }

    /// `ReconnectFailed`, with the reason of the last failure.
    fn gave_up_event(&mut self) -> Event {
        self.telemetry.count(names::RECONNECT_FAILURE, 1);
        let attempts = self.retry.attempts;
        let last_error = self.retry.last_error.take().map_or(Error::Disconnected, |err| *err);
        tracing::warn!(attempts, error = %last_error, "reconnection failed");
        Event::ReconnectFailed { attempts, last_error }
    }

    /// Finishes with `told` as the last event, bounded by `close_timeout`.
    async fn finish_now(&mut self, ending: Ending, told: Option<Event>) {
        let deadline = Instant::now() + self.config.close_timeout;
        self.finish(ending, told, deadline).await;
    }

    /// Runs `work` while answering commands as a connection without a socket must.
    async fn offline<T>(&mut self, work: impl Future<Output = T>) -> Offline<T> {
        let mut work = std::pin::pin!(work);
        loop {
            tokio::select! {
                output = &mut work => return Offline::Done(output),
                () = poll_fn(|cx| self.shared.close.poll_requested(cx)) => {
                    self.finish_now(Ending::Closed, None).await;
                    return Offline::Stopped;
                }
                command = self.shared.commands.recv() => match command {
                    None => {
                        self.finish_now(Ending::Closed, None).await;
                        return Offline::Stopped;
                    }
                    Some(command) => self.offline_command(command),
                },
            }
        }
    }

    fn offline_command(&mut self, command: Command) {
        match command {
            Command::Unsubscribe(unsubscribe) => {
                // Nothing to tell the server: just do not restore it.
                let id = unsubscribe.id;
                let removed = self.subscriptions.remove(id).map(drop);
                if removed.is_some() {
                    self.telemetry.count(names::SUBSCRIPTION_REMOVED, 1);
                }
                self.publish_gauges();
                let _ = unsubscribe.reply.send(removed.ok_or(Error::UnknownSubscription(id)));
            }
            other => other.refuse(|| Error::NotConnected(ConnectionState::Connecting)),
        }
    }
}
