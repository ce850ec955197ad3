//! Re-dialling after a loss: exponential back-off, commands answered while offline, and
//! subscriptions restored once the new socket is up.

use std::{future::Future, sync::atomic::Ordering, time::Instant};

use futures_util::SinkExt;

use super::{command::Command, pending::Waiter, task::Connection};
use crate::{
    error::Error,
    event::{DisconnectReason, Event},
    message::Message,
    state::ConnectionState,
    transport::{WsStream, dial},
};

/// The outcome of work done while offline.
enum Offline<T> {
    /// The work finished.
    Done(T),
    /// The user closed the client (or dropped it) meanwhile; the task must end.
    Stopped,
}

impl Connection {
    /// Re-dials with back-off; `None` when the connection is over for good.
    pub(super) async fn reconnect(&mut self) -> Option<WsStream> {
        let attempts = self.config.retry_count;
        if !self.config.reconnect_on_error || attempts == 0 {
            self.finish(None);
            return None;
        }
        let mut last_error = Error::Disconnected;
        for attempt in 1..=attempts {
            let delay = self.config.backoff(attempt);
            self.delivery.lifecycle(Event::Reconnecting { attempt, delay });
            self.telemetry.reconnect_attempt.increment(1);
            tracing::info!(attempt, ?delay, "reconnecting");
            if let Offline::Stopped = self.offline(tokio::time::sleep(delay)).await {
                return None;
            }
            let (endpoint, config) = (self.endpoint.clone(), self.config.clone());
            let started = Instant::now();
            let dialled = self.offline(Box::pin(async move { dial(&endpoint, &config).await }));
            match dialled.await {
                Offline::Stopped => return None,
                Offline::Done(Ok((mut ws, subprotocol))) => {
                    self.telemetry.upgraded(started.elapsed());
                    self.shared.set_subprotocol(subprotocol);
                    self.on_reconnected(&mut ws).await;
                    return Some(ws);
                }
                Offline::Done(Err(err)) => {
                    tracing::info!(attempt, error = %err, "reconnection attempt failed");
                    last_error = err;
                }
            }
        }
        self.finish(None);
        self.telemetry.reconnect_failure.increment(1);
        tracing::warn!(attempts, error = %last_error, "reconnection failed");
        self.delivery.lifecycle(Event::ReconnectFailed { attempts, last_error });
        None
    }

    /// Runs `work` while answering commands as a connection without a socket must.
    async fn offline<T>(&mut self, work: impl Future<Output = T>) -> Offline<T> {
        let mut work = std::pin::pin!(work);
        loop {
            tokio::select! {
                output = &mut work => return Offline::Done(output),
                command = self.commands.recv() => match command {
                    None => {
                        self.finish(Some(DisconnectReason::ClientClosed));
                        return Offline::Stopped;
                    }
                    Some(Command::Close { done }) => {
                        self.finish(Some(DisconnectReason::ClientClosed));
                        let _ = done.send(());
                        return Offline::Stopped;
                    }
                    Some(Command::Unsubscribe { id, reply }) => {
                        // Nothing to tell the server: just do not restore it.
                        let removed = self.subscriptions.remove(id).map(drop);
                        self.publish_gauges();
                        drop(reply.send(removed.ok_or(Error::UnknownSubscription(id))));
                    }
                    Some(other) => other.refuse(|| Error::NotConnected(ConnectionState::Connecting)),
                },
            }
        }
    }

    /// Marks the connection up, tells the user, and re-sends confirmed subscriptions.
    async fn on_reconnected(&mut self, ws: &mut WsStream) {
        self.shared.state.set(ConnectionState::Connected);
        self.shared.reconnects.fetch_add(1, Ordering::Relaxed);
        self.telemetry.reconnect_success.increment(1);
        tracing::info!("reconnected");
        self.delivery.lifecycle(Event::Connected);
        self.on_open(ws).await;
        if !self.config.restore_subscriptions {
            self.subscriptions.clear();
            return;
        }
        let restores: Vec<_> =
            self.subscriptions.iter().map(|(id, channels)| (id, channels.to_vec())).collect();
        for (subscription, channels) in restores {
            let id = self.shared.next_request_id();
            let frame = self.config.subscription_protocol.subscribe_message(&id, &channels);
            let waiter = Waiter::Restore { id: subscription };
            let frame = Message::from(frame);
            self.charge(&frame);
            // A write failure means the new socket is already gone: serving it will notice.
            if self.write_request(ws, id, frame, waiter).await.is_err() {
                return;
            }
        }
        self.publish_gauges();
        drop(ws.flush().await);
    }
}
