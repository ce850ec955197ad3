//! Every documented metric, seen by `metrics-util`'s debugging recorder.
//!
//! This binary installs the global recorder, so it holds one test only.

mod support;

use std::{collections::HashSet, time::Duration};

use metrics_util::debugging::DebuggingRecorder;
use serde_json::json;
use support::{connect_with, next_event, within};
use zen_websocket_core::{Event, HeartbeatConfig};
use zen_websocket_testing::{MockServer, RpcReply};

#[tokio::test]
async fn every_documented_metric_is_recorded() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
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
    })
    .await;

    let recorded = |name: &str| {
        snapshotter.snapshot().into_vec().iter().any(|(key, ..)| key.key().name() == name)
    };
    within(client.send_message("one")).await.unwrap();
    within(client.send_message("two")).await.unwrap(); // its echo waits for inbox room
    within(async {
        while !recorded("zen_websocket.client.backpressure") {
            tokio::task::yield_now().await;
        }
    })
    .await;
    for _ in 0..2 {
        assert!(matches!(next_event(&client).await, Event::Message(_)));
    }
    within(client.request("public/test", json!({}))).await.unwrap();
    assert!(within(client.request("public/slow", json!({}))).await.is_err());
    let id = within(client.subscribe(["ticker.a.100ms"])).await.unwrap();
    let _kept = within(client.subscribe(["ticker.b.100ms"])).await.unwrap();
    within(client.unsubscribe(id)).await.unwrap();
    server.set_rpc_handler(|_| RpcReply::error(13778, "refused"));
    assert!(within(client.subscribe(["ticker.c.raw"])).await.is_err());
    server.set_rpc_handler(|_| RpcReply::Default);
    within(async {
        while client.get_heartbeat_health().last_rtt.is_none() {
            tokio::task::yield_now().await;
        }
    })
    .await;
    // Lose the socket to the heartbeat and come back, restoring ticker.b.
    server.set_auto_pong(false);
    loop {
        if let Event::Connected = next_event(&client).await {
            break;
        }
    }
    server.set_auto_pong(true);
    within(server.assert_message_sent(
        zen_websocket_testing::Matcher::json(json!({"params": {"channels": ["ticker.b.100ms"]}})),
        support::WAIT,
    ))
    .await
    .unwrap();
    within(async {
        while !recorded("zen_websocket.subscription.restored") {
            tokio::task::yield_now().await;
        }
    })
    .await;
    // Then lose it for good: every retry is refused.
    server.stop().await;
    loop {
        if let Event::ReconnectFailed { .. } = next_event(&client).await {
            break;
        }
    }

    let names: HashSet<String> = snapshotter
        .snapshot()
        .into_vec()
        .iter()
        .map(|(key, ..)| key.key().name().to_owned())
        .collect();
    for name in [
        "zen_websocket.client.message_received",
        "zen_websocket.client.message_sent",
        "zen_websocket.client.backpressure",
        "zen_websocket.connection.upgrade",
        "zen_websocket.connection.disconnected",
        "zen_websocket.heartbeat.pong",
        "zen_websocket.heartbeat.failure",
        "zen_websocket.reconnect.attempt",
        "zen_websocket.reconnect.success",
        "zen_websocket.reconnect.failure",
        "zen_websocket.request.resolved",
        "zen_websocket.request.timeout",
        "zen_websocket.subscription.added",
        "zen_websocket.subscription.removed",
        "zen_websocket.subscription.restored",
        "zen_websocket.subscription.rejected",
    ] {
        assert!(names.contains(name), "{name} was not recorded; saw {names:?}");
    }
}
