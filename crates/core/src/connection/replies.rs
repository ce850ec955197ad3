//! Requests and their outcomes: queuing them, matching responses to waiters, and keeping the
//! record of subscriptions equal to what the server confirmed — a confirmation nobody waits
//! for, a partial one or a late one is undone on the server; a lost restore is reported.

use std::panic::{AssertUnwindSafe, catch_unwind};

use serde_json::Value;
use tokio::{sync::oneshot, time::Instant};

use super::{
    command::{RequestCommand, SubscribeCommand, UnsubscribeCommand},
    outbox::{OutRequest, Outgoing},
    pending::Waiter,
    task::{Connection, Phase},
};
use crate::{
    error::{Error, Result},
    event::Event,
    message::Message,
    rpc::{RequestId, Response},
    state::ConnectionState,
    subscription::{SubscriptionId, SubscriptionProtocol},
    telemetry::names,
};

impl Connection {
    pub(super) fn queue_request(&mut self, request: RequestCommand) {
        let RequestCommand { id, frame, reply, deadline } = request;
        self.push_request(id, Message::from(frame), Waiter::Request(reply), deadline);
    }

    pub(super) fn queue_subscribe(&mut self, subscribe: SubscribeCommand) {
        let SubscribeCommand { id, frame, channels, reply, deadline } = subscribe;
        self.subscriptions.begin(&channels);
        let waiter = Waiter::Subscribe { channels, reply };
        self.push_request(id, Message::from(frame), waiter, deadline);
    }

    /// A waiter leaves the task (answered, expired, abandoned or failed): a subscribe's
    /// channels stop counting as held on its behalf.
    pub(super) fn settle(&mut self, waiter: &Waiter) {
        if let Waiter::Subscribe { channels, .. } = waiter {
            self.subscriptions.end(channels);
        }
    }

    /// Unsubscribes `id`, asking the server to drop only the channels no other subscription
    /// holds (none at all: nothing to ask).
    pub(super) fn queue_unsubscribe(&mut self, unsubscribe: UnsubscribeCommand) {
        let UnsubscribeCommand { id, reply, deadline } = unsubscribe;
        let Some(sole) = self.subscriptions.sole_channels(id) else {
            let _ = reply.send(Err(Error::UnknownSubscription(id)));
            return;
        };
        if sole.is_empty() {
            self.subscriptions.remove(id);
            self.telemetry.count(names::SUBSCRIPTION_REMOVED, 1);
            self.publish_subscriptions();
            let _ = reply.send(Ok(()));
            return;
        }
        let request_id = self.fresh_request_id();
        match self.protocol_frame(|protocol| protocol.unsubscribe_message(&request_id, &sole)) {
            Ok(frame) => {
                self.push_request(request_id, frame, Waiter::Unsubscribe { id, reply }, deadline)
            }
            Err(err) => drop(reply.send(Err(err))),
        }
    }

    fn push_request(&mut self, id: RequestId, frame: Message, waiter: Waiter, deadline: Instant) {
        let request = Box::new(OutRequest { id, frame, waiter, deadline });
        self.outbox.push(Outgoing::Request(request));
    }

    /// A frame built by the configured subscription protocol, a panic in it contained.
    pub(super) fn protocol_frame(
        &self,
        build: impl FnOnce(&dyn SubscriptionProtocol) -> Value,
    ) -> Result<Message> {
        let protocol = &*self.config.subscription_protocol;
        catch_unwind(AssertUnwindSafe(|| build(protocol)))
            .map(Message::from)
            .map_err(|_| Error::CallbackPanicked { callback: "SubscriptionProtocol" })
    }

    /// Hands a response to its waiter; `false` when `text` answers nothing pending.
    pub(super) fn resolve(&mut self, text: &str) -> bool {
        let Some(mut response) = Response::peek(text) else {
            return false;
        };
        let Some((waiter, rtt)) = self.pending.take(&response.id) else {
            return false;
        };
        self.settle(&waiter);
        self.shared.record_latency(rtt);
        self.telemetry.resolved(rtt);
        match waiter {
            Waiter::Request(reply) => drop(reply.send(response.into_result())),
            Waiter::Subscribe { channels, reply } => {
                let confirmed = self.confirm(&channels, &mut response, text);
                self.on_subscribed(channels, reply, confirmed);
            }
            Waiter::Restore { id } => {
                let asked =
                    self.subscriptions.channels(id).map(<[String]>::to_vec).unwrap_or_default();
                let confirmed = self.confirm(&asked, &mut response, text);
                self.on_restored(id, confirmed);
            }
            Waiter::Unsubscribe { id, reply } => {
                let result = response.check_error();
                if result.is_ok() && self.subscriptions.remove(id).is_some() {
                    self.telemetry.count(names::SUBSCRIPTION_REMOVED, 1);
                }
                self.publish_subscriptions();
                let _ = reply.send(result);
            }
            Waiter::Heartbeat => self.on_heard(Some(rtt)),
            Waiter::Internal(method) => {
                if let Err(err) = response.check_error() {
                    tracing::warn!(method, error = %err, "the server refused an internal request");
                }
            }
        }
        true
    }

    /// Whether the server confirmed every one of `channels`.
    fn confirm(&self, channels: &[String], response: &mut Response<'_>, text: &str) -> Result<()> {
        response.check_error()?;
        let whole: Value = serde_json::from_str(text)?;
        let protocol = &self.config.subscription_protocol;
        match catch_unwind(AssertUnwindSafe(|| protocol.confirm(channels, &whole))) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(missing)) => {
                let missing = channels.iter().filter(|c| missing.contains(c)).cloned().collect();
                Err(Error::SubscriptionRejected { channels: missing })
            }
            Err(_) => Err(Error::CallbackPanicked { callback: "SubscriptionProtocol::confirm" }),
        }
    }

    /// A subscribe's outcome: recorded when confirmed and still awaited; anything the server
    /// accepted but nobody will hold is undone.
    fn on_subscribed(
        &mut self,
        channels: Vec<String>,
        reply: oneshot::Sender<Result<SubscriptionId>>,
        confirmed: Result<()>,
    ) {
        match confirmed {
            Ok(()) if reply.is_closed() => self.undo(&channels), // the caller gave up
            Ok(()) => {
                let id = self.subscriptions.add(channels);
                self.publish_subscriptions();
                if reply.send(Ok(id)).is_ok() {
                    self.telemetry.count(names::SUBSCRIPTION_ADDED, 1);
                } else if let Some(channels) = self.subscriptions.remove(id) {
                    // The caller gave up: the server's subscription would be a phantom.
                    self.undo(&channels);
                }
            }
            Err(err) => {
                self.telemetry.count(names::SUBSCRIPTION_REJECTED, 1);
                match &err {
                    // Refused outright: the server holds nothing.
                    Error::JsonRpc { .. } => {}
                    Error::SubscriptionRejected { channels: missing } => {
                        let accepted: Vec<String> =
                            channels.iter().filter(|c| !missing.contains(c)).cloned().collect();
                        self.undo(&accepted);
                    }
                    // The answer could not be judged (a panicking or confused dialect): the
                    // server may hold any of them.
                    _ => self.undo(&channels),
                }
                let _ = reply.send(Err(err));
            }
        }
    }

    /// A restore's outcome: the subscription keeps the channels confirmed again; the rest are
    /// reported lost.
    fn on_restored(&mut self, id: SubscriptionId, confirmed: Result<()>) {
        match confirmed {
            Ok(()) => self.telemetry.count(names::SUBSCRIPTION_RESTORED, 1),
            Err(Error::SubscriptionRejected { channels: missing }) => {
                let kept: Vec<String> = self
                    .subscriptions
                    .channels(id)
                    .unwrap_or_default()
                    .iter()
                    .filter(|c| !missing.contains(c))
                    .cloned()
                    .collect();
                let lost = self.subscriptions.retain(id, &kept);
                let error = Error::SubscriptionRejected { channels: lost.clone() };
                self.subscription_lost(id, lost, error);
            }
            Err(error) => {
                let lost = self.subscriptions.remove(id).unwrap_or_default();
                if !matches!(error, Error::JsonRpc { .. }) {
                    self.undo(&lost);
                }
                self.subscription_lost(id, lost, error);
            }
        }
        self.restore_done();
    }

    fn subscription_lost(&mut self, id: SubscriptionId, channels: Vec<String>, error: Error) {
        tracing::warn!(subscription = %id, ?channels, %error, "a subscription was not restored");
        self.telemetry.count(names::SUBSCRIPTION_LOST, 1);
        self.publish_subscriptions();
        self.delivery.lifecycle(Event::SubscriptionLost { id, channels, error });
    }

    /// A request's deadline passed without a response.
    pub(super) fn on_expired(&mut self, id: RequestId, waiter: Waiter) {
        self.telemetry.count(names::REQUEST_TIMEOUT, 1);
        self.settle(&waiter);
        let after = self.pending.timeout();
        let timeout = || Error::RequestTimeout { id: id.clone(), after };
        match waiter {
            Waiter::Subscribe { channels, reply } => {
                let _ = reply.send(Err(timeout()));
                // It may still be confirmed: make sure the server holds nothing nobody tracks.
                self.undo(&channels);
            }
            Waiter::Restore { id: subscription } => {
                let lost = self.subscriptions.remove(subscription).unwrap_or_default();
                self.undo(&lost);
                self.subscription_lost(subscription, lost, timeout());
                self.restore_done();
            }
            Waiter::Unsubscribe { id: subscription, reply } => {
                // The server may have dropped the channels already: forget the subscription
                // and say so again, so the record never lists what is not streaming.
                let gone = self.subscriptions.remove(subscription).unwrap_or_default();
                self.publish_subscriptions();
                self.undo(&gone);
                let _ = reply.send(Err(timeout()));
            }
            other => other.fail(timeout()),
        }
    }

    /// Asks the server to drop whichever of `channels` no subscription holds.
    fn undo(&mut self, channels: &[String]) {
        let unheld = self.subscriptions.unheld(channels);
        if unheld.is_empty() || matches!(self.phase, Phase::Closing { .. }) {
            return;
        }
        let id = self.fresh_request_id();
        let Ok(frame) = self.protocol_frame(|protocol| protocol.unsubscribe_message(&id, &unheld))
        else {
            tracing::error!(channels = ?unheld, "the subscription protocol panicked; cannot unsubscribe");
            return;
        };
        tracing::debug!(channels = ?unheld, "undoing a subscription nobody holds");
        self.charge(&frame);
        let deadline = Instant::now() + self.config.request_timeout;
        self.push_request(id, frame, Waiter::Internal("unsubscribe"), deadline);
    }

    /// Re-sends every confirmed subscription on a new socket; the connection is reported open
    /// once each is confirmed or lost.
    pub(super) fn begin_restore(&mut self) {
        if !self.config.restore_subscriptions {
            self.subscriptions.clear();
        }
        let restores: Vec<(SubscriptionId, Vec<String>)> =
            self.subscriptions.iter().map(|(id, channels)| (id, channels.to_vec())).collect();
        let mut left = 0;
        for (subscription, channels) in restores {
            let id = self.fresh_request_id();
            match self.protocol_frame(|protocol| protocol.subscribe_message(&id, &channels)) {
                Ok(frame) => {
                    self.charge(&frame);
                    let deadline = Instant::now() + self.config.request_timeout;
                    self.push_request(id, frame, Waiter::Restore { id: subscription }, deadline);
                    left += 1;
                }
                Err(error) => {
                    let lost = self.subscriptions.remove(subscription).unwrap_or_default();
                    self.subscription_lost(subscription, lost, error);
                }
            }
        }
        self.phase = Phase::Restoring { left };
        self.restore_done_if(left);
    }

    fn restore_done(&mut self) {
        if let Phase::Restoring { left } = &mut self.phase {
            *left = left.saturating_sub(1);
            let left = *left;
            self.restore_done_if(left);
        }
    }

    fn restore_done_if(&mut self, left: usize) {
        if left == 0 && matches!(self.phase, Phase::Restoring { .. }) {
            self.phase = Phase::Open;
            self.publish_subscriptions();
            self.shared.state.set(ConnectionState::Connected);
            self.shared.reconnects.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.telemetry.count(names::RECONNECT_SUCCESS, 1);
            tracing::info!("reconnected");
            self.delivery.lifecycle(Event::Connected);
        }
    }
}
