//! A peer that stops reading never freezes the client: requests time out on time, the
//! heartbeat still counts, `close` returns within its bound, a write that makes no progress
//! fails the connection, and a request whose caller gave up is never written.

mod support;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use serde_json::json;
use support::{EventLog, within};
use zen_websocket_core::{Client, Config, ConnectionState, Error};
use zen_websocket_testing::{Direction, Fault, FaultProxy, Matcher, MockServer};

/// A server behind a proxy with small buffers, so a stalled direction blocks its sender soon.
async fn server_behind_proxy() -> (Arc<MockServer>, FaultProxy) {
    let server = Arc::new(MockServer::start().await.unwrap());
    let proxy = FaultProxy::builder(server.addr())
        .socket_buffer_size(4 << 10)
        .max_segment_size(1460)
        .start()
        .await
        .unwrap();
    (server, proxy)
}

async fn connect(proxy: &FaultProxy, config: Config) -> Client {
    within(Client::connect(&proxy.url("ws"), config)).await.unwrap()
}

/// Stops the server reading what the client writes, and has the client write 256 KiB
/// messages — more than the small buffers on the way hold, so the first one never completes.
/// Returns once that first frame is in the socket: whatever is sent afterwards waits behind it.
async fn wedge(proxy: &FaultProxy, client: &Client) -> tokio::task::JoinHandle<()> {
    proxy.apply_all(Fault::stall(Direction::ClientToServer));
    let before = client.get_state_metrics().messages_out;
    let writer = tokio::spawn({
        let client = client.clone();
        async move {
            let big = "x".repeat(256 << 10);
            while client.send_message(big.as_str()).await.is_ok() {}
        }
    });
    support::eventually("a frame in the socket", || {
        client.get_state_metrics().messages_out > before
    })
    .await;
    writer
}

#[tokio::test]
async fn a_request_times_out_on_time_and_close_returns_while_the_peer_reads_nothing() {
    let (_server, proxy) = server_behind_proxy().await;
    let config = Config::default()
        .request_timeout(Duration::from_secs(1))
        .close_timeout(Duration::from_millis(500))
        .write_timeout(Duration::from_secs(60))
        .no_heartbeat();
    let client = connect(&proxy, config).await;
    let _writer = wedge(&proxy, &client).await;

    let started = Instant::now();
    let answer =
        tokio::time::timeout(Duration::from_secs(2), client.request("public/test", json!({})))
            .await
            .expect("request() returned within 2 s");
    assert!(matches!(answer, Err(Error::RequestTimeout { .. })), "{answer:?}");
    assert!(started.elapsed() >= Duration::from_secs(1));

    let closing = Instant::now();
    tokio::time::timeout(Duration::from_secs(1), client.close())
        .await
        .expect("close() returned within close_timeout + 0.5 s")
        .unwrap();
    assert!(closing.elapsed() < Duration::from_secs(1));
    assert_eq!(client.get_state(), ConnectionState::Disconnected);
}

#[tokio::test]
async fn a_write_that_makes_no_progress_fails_the_connection_and_a_new_one_is_dialled() {
    let (_server, proxy) = server_behind_proxy().await;
    let log = EventLog::default();
    let config = log.install(
        Config::default()
            .write_timeout(Duration::from_millis(300))
            .retry_delay(Duration::from_millis(20))
            .no_heartbeat(),
    );
    let client = connect(&proxy, config).await;
    let _writer = wedge(&proxy, &client).await;
    let seen = log.wait_for("Connected").await;
    assert!(seen[0].event.contains("WriteTimeout"), "{seen:?}");
    assert_eq!(proxy.total_accepted(), 2, "a new connection was dialled");
    let answer = within(client.request("public/test", json!({}))).await.unwrap();
    assert_eq!(answer["version"], "1.2.26");
}

#[tokio::test]
async fn the_heartbeat_still_counts_while_a_write_is_stuck() {
    let (_server, proxy) = server_behind_proxy().await;
    let log = EventLog::default();
    let heartbeat = zen_websocket_core::HeartbeatConfig::ping()
        .interval(Duration::from_millis(100))
        .max_failures(2);
    let config = log.install(
        Config::default()
            .heartbeat(heartbeat)
            .write_timeout(Duration::from_secs(60))
            .retry_delay(Duration::from_millis(20)),
    );
    let client = connect(&proxy, config).await;
    let _writer = wedge(&proxy, &client).await;
    let seen = log.wait_for("Disconnected").await;
    assert!(seen.last().unwrap().event.contains("HeartbeatTimeout"), "{seen:?}");
    drop(client);
}

#[tokio::test]
async fn a_request_whose_caller_gave_up_is_never_written() {
    let recorder = metrics_util::debugging::DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _local = metrics::set_default_local_recorder(&recorder);
    let (server, proxy) = server_behind_proxy().await;
    let config = Config::default().write_timeout(Duration::from_secs(60)).no_heartbeat();
    let client = connect(&proxy, config).await;
    let writer = wedge(&proxy, &client).await;

    let mark = server.mark();
    let gave_up = tokio::time::timeout(
        Duration::from_millis(200),
        client.request("private/buy", json!({"instrument_name": "BTC-PERPETUAL", "amount": 10})),
    )
    .await;
    assert!(gave_up.is_err(), "the caller gave up while the write was stuck");
    writer.abort();
    proxy.heal_all();

    // The queue drains; a later request goes through, and the abandoned one never did.
    let answer = within(client.request("public/test", json!({}))).await.unwrap();
    assert_eq!(answer["version"], "1.2.26");
    let buy = Matcher::json(json!({"method": "private/buy"}));
    let sent = server.assert_message_sent_since(mark, buy, Duration::from_millis(100)).await;
    assert!(sent.is_err(), "an order the caller abandoned was sent");
    let abandoned = snapshotter.snapshot().into_vec().into_iter().find_map(|(key, _, _, value)| {
        (key.key().name() == "zen_websocket.request.abandoned").then_some(value)
    });
    assert!(
        matches!(abandoned, Some(metrics_util::debugging::DebugValue::Counter(n)) if n >= 1),
        "{abandoned:?}"
    );
}

#[tokio::test]
async fn a_frame_that_never_left_the_outbox_fails_as_not_connected_the_stuck_one_as_disconnected() {
    let (_server, proxy) = server_behind_proxy().await;
    let config = Config::default()
        .write_timeout(Duration::from_millis(300))
        .reconnect_on_error(false)
        .no_heartbeat();
    let client = connect(&proxy, config).await;
    proxy.apply_all(Fault::stall(Direction::ClientToServer));
    let stuck = tokio::spawn({
        let client = client.clone();
        async move { client.send_message("x".repeat(256 << 10)).await }
    });
    support::eventually("a frame in the socket", || client.get_state_metrics().messages_out > 0)
        .await;
    let queued = tokio::spawn({
        let client = client.clone();
        async move { client.send_message("after it").await }
    });
    let request = tokio::spawn({
        let client = client.clone();
        async move { client.request("private/buy", json!({"amount": 10})).await }
    });
    // The stuck write fails the socket after `write_timeout`.
    let stuck = within(stuck).await.unwrap();
    assert!(matches!(stuck, Err(Error::Disconnected)), "may have reached the server: {stuck:?}");
    let queued = within(queued).await.unwrap();
    assert!(matches!(queued, Err(Error::NotConnected(_))), "never written: {queued:?}");
    let request = within(request).await.unwrap();
    assert!(matches!(request, Err(Error::NotConnected(_))), "never written: {request:?}");
}
