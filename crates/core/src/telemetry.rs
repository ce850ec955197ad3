//! Metrics through the `metrics` facade: the per-message metrics have handles registered once
//! per connection, so the hot path only bumps them (a no-op when no recorder is installed); the
//! rare ones are registered when they happen, so an idle connection keeps no handle for them.
//!
//! Every name, kind, unit and label is listed in `docs/telemetry.md`.

use std::time::Duration;

use metrics::{Counter, Histogram, Unit};

/// The metric names, in one place.
pub(crate) mod names {
    pub(crate) const MESSAGE_RECEIVED: &str = "zen_websocket.client.message_received";
    pub(crate) const MESSAGE_SENT: &str = "zen_websocket.client.message_sent";
    pub(crate) const BACKPRESSURE: &str = "zen_websocket.client.backpressure";
    pub(crate) const UPGRADE: &str = "zen_websocket.connection.upgrade";
    pub(crate) const DISCONNECTED: &str = "zen_websocket.connection.disconnected";
    pub(crate) const HEARTBEAT_PONG: &str = "zen_websocket.heartbeat.pong";
    pub(crate) const HEARTBEAT_FAILURE: &str = "zen_websocket.heartbeat.failure";
    pub(crate) const RECONNECT_ATTEMPT: &str = "zen_websocket.reconnect.attempt";
    pub(crate) const RECONNECT_SUCCESS: &str = "zen_websocket.reconnect.success";
    pub(crate) const RECONNECT_FAILURE: &str = "zen_websocket.reconnect.failure";
    pub(crate) const REQUEST_RESOLVED: &str = "zen_websocket.request.resolved";
    pub(crate) const REQUEST_TIMEOUT: &str = "zen_websocket.request.timeout";
    pub(crate) const REQUEST_ABANDONED: &str = "zen_websocket.request.abandoned";
    pub(crate) const SUBSCRIPTION_ADDED: &str = "zen_websocket.subscription.added";
    pub(crate) const SUBSCRIPTION_REMOVED: &str = "zen_websocket.subscription.removed";
    pub(crate) const SUBSCRIPTION_RESTORED: &str = "zen_websocket.subscription.restored";
    pub(crate) const SUBSCRIPTION_REJECTED: &str = "zen_websocket.subscription.rejected";
    pub(crate) const SUBSCRIPTION_LOST: &str = "zen_websocket.subscription.lost";
    pub(crate) const RECORDING_DROPPED: &str = "zen_websocket.recording.dropped";
}

/// Why a connection ended, as the `reason` label of `zen_websocket.connection.disconnected`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum EndLabel {
    ServerClosed,
    ClientClosed,
    Heartbeat,
    WriteTimeout,
    Error,
    TaskEnded,
}

impl EndLabel {
    fn as_str(self) -> &'static str {
        match self {
            Self::ServerClosed => "server_closed",
            Self::ClientClosed => "client_closed",
            Self::Heartbeat => "heartbeat",
            Self::WriteTimeout => "write_timeout",
            Self::Error => "error",
            Self::TaskEnded => "task_ended",
        }
    }
}

/// The metric handles of one connection, each labelled with its `endpoint` (`host:port`).
#[derive(Debug)]
pub(crate) struct Telemetry {
    endpoint: String,
    pub(crate) message_received: Histogram,
    pub(crate) message_sent: Histogram,
    pub(crate) backpressure: Counter,
    upgrade: Histogram,
    pub(crate) heartbeat_pong: Histogram,
    request_resolved: Histogram,
}

impl Telemetry {
    /// Registers (or finds) every handle for `endpoint` with the installed recorder.
    pub(crate) fn new(endpoint: String) -> Self {
        describe();
        let label = endpoint.clone();
        let counter = |name: &'static str| metrics::counter!(name, "endpoint" => label.clone());
        let histogram = |name: &'static str| metrics::histogram!(name, "endpoint" => label.clone());
        Self {
            message_received: histogram(names::MESSAGE_RECEIVED),
            message_sent: histogram(names::MESSAGE_SENT),
            backpressure: counter(names::BACKPRESSURE),
            upgrade: histogram(names::UPGRADE),
            heartbeat_pong: histogram(names::HEARTBEAT_PONG),
            request_resolved: histogram(names::REQUEST_RESOLVED),
            endpoint,
        }
    }

    /// Records how long dialling and the upgrade took.
    pub(crate) fn upgraded(&self, took: Duration) {
        self.upgrade.record(millis(took));
    }

    /// Records a request's (or subscription's) round trip.
    pub(crate) fn resolved(&self, rtt: Duration) {
        self.request_resolved.record(millis(rtt));
    }

    /// Adds `by` to the rare counter `name` (registered on use: a connection does not keep a
    /// handle for what seldom happens).
    pub(crate) fn count(&self, name: &'static str, by: u64) {
        metrics::counter!(name, "endpoint" => self.endpoint.clone()).increment(by);
    }

    /// Counts a connection ending, labelled by why (rare: registered on use).
    pub(crate) fn disconnected(&self, why: EndLabel) {
        metrics::counter!(names::DISCONNECTED, "endpoint" => self.endpoint.clone(), "reason" => why.as_str())
            .increment(1);
    }
}

/// Milliseconds as a float, the unit of every duration metric.
pub(crate) fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Gives each metric its unit and description (once per recorder; cheap to repeat).
fn describe() {
    use names::*;
    let ms = Unit::Milliseconds;
    metrics::describe_histogram!(
        MESSAGE_RECEIVED,
        Unit::Bytes,
        "Size of each data message received."
    );
    metrics::describe_histogram!(MESSAGE_SENT, Unit::Bytes, "Size of each data message sent.");
    metrics::describe_counter!(BACKPRESSURE, "Times reading paused because the inbox was full.");
    metrics::describe_histogram!(UPGRADE, ms, "Time to dial and upgrade (connect_time_ms).");
    metrics::describe_counter!(DISCONNECTED, "Connections that ended, by reason.");
    metrics::describe_histogram!(HEARTBEAT_PONG, ms, "Heartbeat round trip (rtt_ms).");
    metrics::describe_counter!(
        HEARTBEAT_FAILURE,
        "Heartbeat intervals that passed without an answer."
    );
    metrics::describe_counter!(RECONNECT_ATTEMPT, "Reconnection attempts started.");
    metrics::describe_counter!(RECONNECT_SUCCESS, "Reconnections that succeeded.");
    metrics::describe_counter!(RECONNECT_FAILURE, "Reconnection sequences that gave up.");
    metrics::describe_histogram!(REQUEST_RESOLVED, ms, "Round trip of answered requests.");
    metrics::describe_counter!(REQUEST_TIMEOUT, "Requests that got no answer in time.");
    metrics::describe_counter!(SUBSCRIPTION_ADDED, "Subscriptions confirmed.");
    metrics::describe_counter!(SUBSCRIPTION_REMOVED, "Subscriptions ended by unsubscribe.");
    metrics::describe_counter!(
        SUBSCRIPTION_RESTORED,
        "Subscriptions confirmed again after a reconnect."
    );
    metrics::describe_counter!(SUBSCRIPTION_REJECTED, "Subscribe requests the server refused.");
    metrics::describe_counter!(
        SUBSCRIPTION_LOST,
        "Subscriptions (or some of their channels) not restored after a reconnect."
    );
    metrics::describe_counter!(
        REQUEST_ABANDONED,
        "Sends and requests not written because their caller had given up."
    );
    metrics::describe_counter!(
        RECORDING_DROPPED,
        "Recording entries skipped because the disk could not keep up."
    );
}
