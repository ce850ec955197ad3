//! Every documented pool metric counts what happened, read from `metrics-util`'s debugging
//! recorder.
//!
//! This binary installs the global recorder, so it holds one test only.

mod support;

use std::{collections::HashMap, time::Duration};

use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use serde_json::json;
use support::{eventually, pool_config, quick, server, spec, wait_for, within};
use zen_websocket_supervisor::{
    BalanceOptions, ClientSpec, ClientSupervisor, Connect, Disconnect, Error, PoolEvent,
    RestartIntensity, ShardOptions,
};
use zen_websocket_testing::{DisconnectKind, FaultProxy, MockServer, RpcReply};

/// Counter totals and gauge values, by name and labels (`name{label=value,...}`). The debugging
/// recorder zeroes a gauge when it hands it over, so a zero reads as "not set since".
struct Totals {
    snapshotter: Snapshotter,
    counters: HashMap<String, u64>,
    gauges: HashMap<String, f64>,
}

impl Totals {
    fn refresh(&mut self) -> &mut Self {
        for (key, _, _, value) in self.snapshotter.snapshot().into_vec() {
            let key = key.key();
            let labels: Vec<String> = key
                .labels()
                .filter(|label| label.key() != "pool")
                .map(|label| format!("{}={}", label.key(), label.value()))
                .collect();
            let name = if labels.is_empty() {
                key.name().to_owned()
            } else {
                format!("{}{{{}}}", key.name(), labels.join(","))
            };
            match value {
                DebugValue::Counter(count) => *self.counters.entry(name).or_default() += count,
                DebugValue::Gauge(value) if value.into_inner() != 0.0 => {
                    self.gauges.insert(name, value.into_inner());
                }
                DebugValue::Gauge(_) => {}
                DebugValue::Histogram(_) => {}
            }
        }
        self
    }

    fn counter(&mut self, name: &str) -> u64 {
        self.refresh().counters.get(name).copied().unwrap_or(0)
    }

    fn gauge(&mut self, name: &str) -> f64 {
        self.refresh().gauges.get(name).copied().unwrap_or(-1.0)
    }
}

#[tokio::test]
async fn every_pool_metric_counts_what_happened() {
    let recorder = DebuggingRecorder::new();
    let mut metrics = Totals {
        snapshotter: recorder.snapshotter(),
        counters: HashMap::new(),
        gauges: HashMap::new(),
    };
    recorder.install().expect("the only recorder in this binary");

    let open = MockServer::builder()
        .rpc_handler(|request| match request.method.as_str() {
            "private/buy" => RpcReply::None,
            _ => RpcReply::Default,
        })
        .start()
        .await
        .unwrap();
    let (limited, rejecting) = (server().await, server().await);
    rejecting.reject_handshake(Some(503));
    let dials = FaultProxy::start(rejecting.addr()).await.unwrap();
    let one_token = support::one_token();
    let config = pool_config()
        .name("metrics")
        .intensity(RestartIntensity::new(2, Duration::from_secs(60)))
        .hook_queue(1, 1)
        .on_connect(|_: Connect| async { panic!("hook panics") })
        .on_disconnect(|_: Disconnect| async { tokio::time::sleep(Duration::from_secs(60)).await })
        .client(
            spec("open", &open)
                .config(quick().request_timeout(Duration::from_millis(300)))
                .tag("data"),
        )
        .client(spec("limited", &limited).config(quick().rate_limiter(one_token)))
        .client(ClientSpec::new("bad", dials.url("ws")).config(quick()))
        .template(spec("spare", &open).tag("data"));
    let pool = within(ClientSupervisor::start(config)).await.unwrap();
    let events = pool.events();
    wait_for(&events, "the bad client to fail", |event| matches!(event, PoolEvent::Failed { .. }))
        .await;
    assert_eq!(metrics.counter("zen_websocket.pool.restarts{client=client-3,name=bad}"), 2);
    assert_eq!(metrics.counter("zen_websocket.pool.failed{client=client-3,name=bad}"), 1);
    assert_eq!(metrics.gauge("zen_websocket.pool.clients{state=failed}"), 1.0);
    assert_eq!(metrics.gauge("zen_websocket.pool.clients{state=connected}"), 2.0);
    // Two on_connect calls at once with room for one waiting: each one panicked or was dropped.
    let (mut panics, mut dropped) = (0, 0);
    eventually("both on_connect calls accounted for", || {
        panics = metrics.counter("zen_websocket.pool.hook_panics");
        dropped = metrics.counter("zen_websocket.pool.hooks_dropped");
        panics + dropped == 2
    })
    .await;
    assert!(panics >= 1, "a panicking hook is counted");

    // Ties take turns: open, limited, open, limited... the limited one has a single token.
    for _ in 0..4 {
        within(pool.send_balanced("x", &BalanceOptions::default())).await.unwrap();
    }
    assert_eq!(metrics.counter("zen_websocket.pool.balanced{client=client-1}"), 3);
    assert_eq!(metrics.counter("zen_websocket.pool.balanced{client=client-2}"), 1);
    assert_eq!(metrics.counter("zen_websocket.pool.failovers"), 1);

    let err = within(pool.request_balanced(
        "private/buy",
        json!({}),
        &BalanceOptions::default().name("open"),
    ))
    .await
    .unwrap_err();
    assert!(matches!(err, Error::OutcomeUnknown { .. }), "{err:?}");
    assert_eq!(metrics.counter("zen_websocket.pool.outcome_unknown"), 1);

    within(pool.subscribe_sharded(["a", "b", "c"], &ShardOptions::default().tag("data")))
        .await
        .unwrap();
    assert_eq!(metrics.gauge("zen_websocket.pool.shard_channels{client=client-1}"), 3.0);
    let open_id = pool.list_clients()[0].id;
    within(pool.stop_client(open_id)).await.unwrap();
    wait_for(&events, "the channels to move", |event| {
        matches!(event, PoolEvent::ChannelsMoved { .. })
    })
    .await;
    assert_eq!(metrics.counter("zen_websocket.pool.channels_moved"), 3);
    assert_eq!(metrics.gauge("zen_websocket.pool.shard_channels{client=client-4}"), 3.0);

    // The spare's socket drops twice: one on_disconnect sleeps holding the only running slot,
    // the next call waits for it, one more fills the queue, the rest are dropped.
    for round in 1..=2 {
        open.simulate_disconnect(DisconnectKind::Abrupt).await;
        eventually("the spare to reconnect", || open.total_connections() == 2 + round).await;
        eventually("the spare to be connected", || {
            pool.list_clients().iter().all(|info| info.health > 0 || info.name == "bad")
        })
        .await;
    }
    let dropped_later = metrics.counter("zen_websocket.pool.hooks_dropped");
    assert!(dropped_later >= 1, "hook calls past the queue are counted ({dropped} before)");

    // Restore nothing: the unplaced counter stays at zero in this scenario.
    assert_eq!(metrics.counter("zen_websocket.pool.channels_unplaced"), 0);
}
