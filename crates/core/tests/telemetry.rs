//! Every documented metric counts what happened: exact counts where the scenario fixes them,
//! read from `metrics-util`'s debugging recorder.
//!
//! This binary installs the global recorder, so it holds one test only.

mod support;

use std::{collections::HashMap, time::Duration};

use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use serde_json::json;
use support::{connect_with, eventually, next_event, within};
use zen_websocket_core::{Error, Event, HeartbeatConfig};
use zen_websocket_testing::{MockServer, RpcReply};

/// Running totals across snapshots (a snapshot hands over what was recorded since the last).
struct Totals {
    snapshotter: Snapshotter,
    /// Counter sums and histogram sample counts, by name and `reason` label.
    seen: HashMap<String, u64>,
}

impl Totals {
    fn refresh(&mut self) -> &mut Self {
        for (key, _, _, value) in self.snapshotter.snapshot().into_vec() {
            let key = key.key();
            let reason = key.labels().find(|label| label.key() == "reason");
            let name = match reason {
                Some(reason) => format!("{}{{{}}}", key.name(), reason.value()),
                None => key.name().to_owned(),
            };
            let added = match value {
                DebugValue::Counter(count) => count,
                DebugValue::Histogram(samples) => samples.len() as u64,
                DebugValue::Gauge(_) => 0,
            };
            *self.seen.entry(name).or_default() += added;
        }
        self
    }

    fn get(&mut self, name: &str) -> u64 {
        self.refresh().seen.get(name).copied().unwrap_or(0)
    }
}

#[tokio::test]
async fn every_documented_metric_counts_what_happened() {
    let recorder = DebuggingRecorder::new();
    let mut metrics = Totals { snapshotter: recorder.snapshotter(), seen: HashMap::new() };
    recorder.install().expect("the only recorder in this binary");

    let server = MockServer::builder()
        .rpc_handler(|request| match request.method.as_str() {
            "public/slow" => RpcReply::None,
            _ => RpcReply::Default,
        })
        .start()
        .await
        .unwrap();
    let heartbeat = HeartbeatConfig::ping().interval(Duration::from_millis(30));
    let client = connect_with(&server, |config| {
        config
            .heartbeat(heartbeat)
            .request_timeout(Duration::from_millis(100))
            .inbox_capacity(1)
            .retry_delay(Duration::from_millis(20))
            .max_backoff(Duration::from_millis(40))
            .retry_count(3)
    })
    .await;

    // Two echoes into a one-event inbox: the second waits for room.
    within(client.send_message("one")).await.unwrap();
    within(client.send_message("two")).await.unwrap();
    eventually("backpressure", || metrics.get("zen_websocket.client.backpressure") >= 1).await;
    for _ in 0..2 {
        assert!(matches!(next_event(&client).await, Event::Message(_)));
    }
    within(client.request("public/test", json!({}))).await.unwrap();
    let err = within(client.request("public/slow", json!({}))).await.unwrap_err();
    assert!(matches!(err, Error::RequestTimeout { .. }), "{err:?}");
    let gone = within(client.subscribe(["ticker.a.100ms"])).await.unwrap();
    within(client.subscribe(["ticker.b.100ms"])).await.unwrap();
    within(client.subscribe(["ticker.d.100ms"])).await.unwrap();
    within(client.unsubscribe(gone)).await.unwrap();
    server.set_rpc_handler(|_| RpcReply::error(13778, "refused"));
    assert!(within(client.subscribe(["ticker.c.raw"])).await.is_err());
    // On the next socket, ticker.b is restored and ticker.d refused.
    server.set_rpc_handler(|request| {
        if request.params.to_string().contains("ticker.d") {
            return RpcReply::error(13778, "refused");
        }
        RpcReply::Default
    });
    eventually("a pong", || client.get_heartbeat_health().last_rtt.is_some()).await;

    // Lose the socket to the heartbeat and come back.
    server.set_auto_pong(false);
    loop {
        if let Event::Connected = next_event(&client).await {
            break;
        }
    }
    server.set_auto_pong(true);
    // Then lose it for good: every retry is refused.
    server.stop().await;
    loop {
        if let Event::ReconnectFailed { .. } = next_event(&client).await {
            break;
        }
    }

    let state = client.get_state_metrics();
    let expected: &[(&str, u64)] = &[
        ("zen_websocket.client.message_received", state.messages_in),
        ("zen_websocket.client.message_sent", state.messages_out),
        ("zen_websocket.connection.upgrade", 2),
        ("zen_websocket.connection.disconnected{heartbeat}", 1),
        ("zen_websocket.connection.disconnected{server_closed}", 1),
        ("zen_websocket.reconnect.attempt", 3),
        ("zen_websocket.reconnect.success", 1),
        ("zen_websocket.reconnect.failure", 1),
        ("zen_websocket.request.timeout", 1),
        ("zen_websocket.subscription.added", 3),
        ("zen_websocket.subscription.removed", 1),
        ("zen_websocket.subscription.rejected", 1),
        ("zen_websocket.subscription.restored", 1),
        ("zen_websocket.subscription.lost", 1),
        ("zen_websocket.request.abandoned", 0),
        ("zen_websocket.recording.dropped", 0),
    ];
    for (name, count) in expected {
        assert_eq!(metrics.get(name), *count, "{name}; all: {:?}", metrics.seen);
    }
    assert!(state.messages_in > 0 && state.messages_out > 0);
    // Answered: public/test, three subscribes, the unsubscribe, the refused subscribe, and the
    // two restores on the second socket.
    assert_eq!(metrics.get("zen_websocket.request.resolved"), 8, "{:?}", metrics.seen);
    assert!(metrics.get("zen_websocket.client.backpressure") >= 1);
    assert!(metrics.get("zen_websocket.heartbeat.pong") >= 1);
    assert!(metrics.get("zen_websocket.heartbeat.failure") >= 2);
}
