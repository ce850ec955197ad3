//! The adapter against the testing kit's `DeribitSimulator` over loopback: the session on every
//! socket in Deribit's order, logins and refresh, cancel-on-disconnect, channel limits, busy
//! answers, book gaps and logout.

use std::time::Duration;

use serde_json::json;
use zen_websocket_core::{Config, ConnectionState};
use zen_websocket_deribit::{
    Credentials, DeribitClient, DeribitConfig, DeribitEvent, Environment, Grant, OrderRequest,
};
use zen_websocket_testing::{
    CloseReason, DeribitRequest, DeribitSimulator, Direction, Fault, FaultProxy, OrderState,
};

/// The bound on every wait in these tests.
const WAIT: Duration = Duration::from_secs(15);

async fn within<F: std::future::Future>(future: F) -> F::Output {
    tokio::time::timeout(WAIT, future).await.expect("timed out waiting")
}

async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !condition() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A config for `simulator`, quick to reconnect, logged in with its credentials.
fn config(simulator: &DeribitSimulator) -> DeribitConfig {
    DeribitConfig::default()
        .environment(Environment::Custom(simulator.url()))
        .credentials(Credentials::new(simulator.client_id(), simulator.client_secret()))
        .client_config(Config::default().retry_delay(Duration::from_millis(20)).retry_count(20))
}

fn methods(requests: &[DeribitRequest]) -> Vec<&str> {
    requests.iter().map(|request| request.method.as_str()).collect()
}

async fn next_notification(
    deribit: &DeribitClient,
    channel: &str,
) -> zen_websocket_deribit::Notification {
    loop {
        match within(deribit.recv()).await.expect("events open") {
            DeribitEvent::Notification(notification) if notification.channel == channel => {
                return notification;
            }
            _ => {}
        }
    }
}

#[tokio::test]
async fn both_grants_log_in_and_the_login_is_refreshed_before_it_expires_without_a_gap() {
    let simulator = DeribitSimulator::builder()
        .expires_in(Duration::from_secs(4))
        .market_data_interval(Duration::from_millis(50))
        .start()
        .await
        .unwrap();
    let credentials =
        within(DeribitClient::connect(config(&simulator).grant(Grant::ClientCredentials)))
            .await
            .unwrap();
    let first = simulator.open_connection_ids()[0];
    assert!(simulator.authenticated(first));
    assert_eq!(simulator.requests_on(first)[1].params["grant_type"], "client_credentials");
    credentials.close().await.unwrap();

    let deribit = within(DeribitClient::connect(config(&simulator))).await.unwrap();
    let connection = *simulator.open_connection_ids().last().unwrap();
    let login = &simulator.requests_on(connection)[1];
    assert_eq!(
        (login.method.as_str(), login.params["grant_type"].as_str()),
        ("public/auth", Some("client_signature"))
    );
    assert!(login.params.get("client_secret").is_none(), "the secret never leaves the process");
    assert!(deribit.scope().is_some());
    deribit.subscribe(["ticker.BTC-PERPETUAL.100ms"]).await.unwrap();
    next_notification(&deribit, "ticker.BTC-PERPETUAL.100ms").await;

    // 80 % of 4 s: the refresh goes out on the same socket, and data keeps coming.
    let refreshed = |simulator: &DeribitSimulator| {
        simulator
            .requests_on(connection)
            .iter()
            .any(|r| r.method == "public/auth" && r.params["grant_type"] == "refresh_token")
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(4);
    while !refreshed(&simulator) {
        assert!(tokio::time::Instant::now() < deadline, "no refresh within the token's life");
        next_notification(&deribit, "ticker.BTC-PERPETUAL.100ms").await;
    }
    next_notification(&deribit, "ticker.BTC-PERPETUAL.100ms").await;
    assert_eq!(simulator.total_connections(), 2, "no reconnect: the first client and this one");
    assert!(simulator.authenticated(connection));
}

#[tokio::test]
async fn a_refused_login_is_a_clear_error() {
    let simulator = DeribitSimulator::start().await.unwrap();
    simulator.refuse_auth(true);
    let err = within(DeribitClient::connect(config(&simulator))).await.unwrap_err();
    assert_eq!(err.code(), Some(13004), "{err:?}");
    let explanation = err.explain();
    assert!(explanation.suggestion.contains("DERIBIT_CLIENT_ID"), "{}", explanation.suggestion);
}

#[tokio::test]
async fn after_a_drop_the_session_is_set_up_in_order_before_any_request_and_cod_cancelled_the_orders()
 {
    let simulator = DeribitSimulator::start().await.unwrap();
    let deribit = within(DeribitClient::connect(config(&simulator).cancel_on_disconnect(true)))
        .await
        .unwrap();
    let first = simulator.open_connection_ids()[0];
    assert!(simulator.cod_enabled(first));
    deribit.subscribe(["ticker.BTC-PERPETUAL.100ms"]).await.unwrap();
    deribit.subscribe(["user.orders.BTC-PERPETUAL.raw"]).await.unwrap();
    for price in [40_000.0, 41_000.0] {
        let placed =
            within(deribit.buy(OrderRequest::limit("BTC-PERPETUAL", 10.0, price))).await.unwrap();
        assert_eq!(placed.order.order_state, "open");
    }
    assert_eq!(simulator.open_orders().len(), 2);

    simulator.drop_connections().await;
    eventually("cancel-on-disconnect", || simulator.open_orders().is_empty()).await;
    assert!(simulator.orders().iter().all(|order| order.state == OrderState::Cancelled));

    // A request made as soon as the new socket exists goes out after the whole set-up.
    eventually("a new socket", || simulator.total_connections() == 2).await;
    within(deribit.request("public/get_time", json!({}))).await.unwrap();
    let second = *simulator.open_connection_ids().last().unwrap();
    let sequence = simulator.requests_on(second);
    let sequence = methods(&sequence);
    assert_eq!(
        &sequence[..5],
        [
            "public/set_heartbeat",
            "public/auth",
            "private/enable_cancel_on_disconnect",
            "public/subscribe",
            "private/subscribe"
        ],
        "{sequence:?}"
    );
    assert_eq!(sequence[5..].first(), Some(&"public/get_time"), "{sequence:?}");
    assert!(simulator.authenticated(second) && simulator.cod_enabled(second));
    let mut held = simulator.subscriptions(second);
    held.sort();
    assert_eq!(held, ["ticker.BTC-PERPETUAL.100ms", "user.orders.BTC-PERPETUAL.raw"]);
}

#[tokio::test]
async fn twelve_hundred_channels_go_out_in_three_requests_and_raw_needs_a_login() {
    let mut builder = DeribitSimulator::builder().market_data_interval(Duration::from_secs(3_600));
    for n in 0..400 {
        builder = builder.instrument(format!("T{n}-PERPETUAL"), 100.0);
    }
    let simulator = builder.start().await.unwrap();
    let channels: Vec<String> = (0..400)
        .flat_map(|n| {
            ["ticker", "book", "trades"].map(|kind| format!("{kind}.T{n}-PERPETUAL.100ms"))
        })
        .collect();
    let deribit = within(DeribitClient::connect(config(&simulator))).await.unwrap();
    let ids = within(deribit.subscribe(channels)).await.unwrap();
    assert_eq!(ids.len(), 3);
    let connection = simulator.open_connection_ids()[0];
    let sizes: Vec<usize> = simulator
        .requests_on(connection)
        .iter()
        .filter(|r| r.method.ends_with("/subscribe"))
        .map(|r| r.params["channels"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [500, 500, 200]);
    assert_eq!(simulator.subscriptions(connection).len(), 1_200);

    let public = DeribitConfig::default()
        .environment(Environment::Custom(simulator.url()))
        .client_config(Config::default());
    let anonymous = within(DeribitClient::connect(public)).await.unwrap();
    let err = within(anonymous.subscribe(["trades.BTC-PERPETUAL.raw"])).await.unwrap_err();
    assert_eq!(err.code(), Some(13778), "{err:?}");
    assert!(err.explain().suggestion.contains("Credentials"));
    within(deribit.subscribe(["trades.BTC-PERPETUAL.raw"])).await.unwrap();
}

#[tokio::test]
async fn a_burst_over_the_credits_is_answered_10028_and_every_call_still_succeeds() {
    let simulator = DeribitSimulator::builder().credits(2_000, 4_000, 500).start().await.unwrap();
    let busy = config(&simulator).tier(None).busy_retries(
        40,
        Duration::from_millis(20),
        Duration::from_millis(400),
    );
    let deribit = within(DeribitClient::connect(busy)).await.unwrap();
    let calls = (0..20).map(|n| {
        let deribit = deribit.clone();
        tokio::spawn(async move { deribit.request("public/test", json!({"n": n})).await })
    });
    for call in calls {
        within(call).await.unwrap().expect("every call eventually succeeds");
    }
    let answered_busy = simulator.requests().iter().filter(|r| r.method == "public/test").count();
    assert!(
        answered_busy > 20,
        "some calls were refused and sent again: {answered_busy} sends for 20 calls"
    );
}

#[tokio::test]
async fn a_book_gap_resubscribes_and_a_fresh_snapshot_follows() {
    let simulator = DeribitSimulator::builder()
        .market_data_interval(Duration::from_millis(20))
        .start()
        .await
        .unwrap();
    let deribit = within(DeribitClient::connect(config(&simulator))).await.unwrap();
    let channel = "book.BTC-PERPETUAL.100ms";
    deribit.subscribe([channel]).await.unwrap();
    let snapshot = next_notification(&deribit, channel).await.book().unwrap();
    assert_eq!(snapshot.kind.as_deref(), Some("snapshot"));
    let change = next_notification(&deribit, channel).await.book().unwrap();
    assert_eq!(change.prev_change_id, Some(snapshot.change_id));

    assert!(simulator.skip_book_change("BTC-PERPETUAL"));
    // The whole wait is bounded: a gap that is never reported fails instead of looping.
    within(async {
        loop {
            match deribit.recv().await.unwrap() {
                DeribitEvent::BookGap { channel: gapped } => {
                    assert_eq!(gapped, channel);
                    break;
                }
                DeribitEvent::Notification(n) if n.channel == channel => {
                    assert_eq!(
                        n.book().unwrap().kind.as_deref(),
                        Some("change"),
                        "changes in order until the gap"
                    );
                }
                _ => {}
            }
        }
    })
    .await;
    let fresh = next_notification(&deribit, channel).await.book().unwrap();
    assert_eq!(
        fresh.kind.as_deref(),
        Some("snapshot"),
        "nothing stale between the gap and the snapshot"
    );
    let next = next_notification(&deribit, channel).await.book().unwrap();
    assert_eq!(next.prev_change_id, Some(fresh.change_id));
}

#[tokio::test]
async fn close_logs_out_and_cancel_on_disconnect_does_not_fire() {
    let simulator = DeribitSimulator::start().await.unwrap();
    let deribit = within(DeribitClient::connect(config(&simulator).cancel_on_disconnect(true)))
        .await
        .unwrap();
    within(deribit.buy(OrderRequest::limit("BTC-PERPETUAL", 10.0, 40_000.0))).await.unwrap();
    let connection = simulator.open_connection_ids()[0];
    within(deribit.close()).await.unwrap();
    eventually("the socket to close", || simulator.connection_count() == 0).await;
    assert!(methods(&simulator.requests_on(connection)).contains(&"private/logout"));
    assert_eq!(simulator.close_reason(connection), Some(CloseReason::Logout));
    assert_eq!(simulator.open_orders().len(), 1, "a graceful logout keeps the orders");
    assert_eq!(deribit.client().get_state(), ConnectionState::Disconnected);
}

#[tokio::test]
async fn test_requests_are_answered_and_a_client_that_stops_answering_is_dropped_and_reconnects() {
    let simulator = DeribitSimulator::start().await.unwrap();
    let proxy = FaultProxy::start(simulator.addr()).await.unwrap();
    let through_proxy = config(&simulator)
        .environment(Environment::Custom(proxy.url("ws")))
        .heartbeat(Duration::from_secs(10));
    let deribit = within(DeribitClient::connect(through_proxy)).await.unwrap();
    let first = simulator.open_connection_ids()[0];
    assert_eq!(simulator.heartbeat_interval(first), Some(Duration::from_secs(10)));
    // One test_request, answered: the socket stays.
    let answered = tokio::time::timeout(Duration::from_secs(25), async {
        loop {
            let tests =
                simulator.requests_on(first).iter().filter(|r| r.method == "public/test").count();
            if tests >= 1 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    answered.expect("the test_request is answered with public/test");
    assert_eq!(simulator.connection_count(), 1);

    // Answers stop reaching the venue: it drops the socket, the adapter reconnects.
    proxy.apply_all(Fault::stall(Direction::ClientToServer));
    let dropped = tokio::time::timeout(Duration::from_secs(25), async {
        while simulator.close_reason(first).is_none() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    dropped.expect("the simulator drops a client that stops answering");
    assert_eq!(simulator.close_reason(first), Some(CloseReason::MissedHeartbeat));
    proxy.heal_all();
    eventually("the adapter to reconnect", || {
        simulator.total_connections() == 2 && simulator.connection_count() == 1
    })
    .await;
    let second = *simulator.open_connection_ids().last().unwrap();
    eventually("the new socket to log in", || simulator.authenticated(second)).await;
    within(deribit.request("public/get_time", json!({}))).await.unwrap();
}

#[tokio::test]
async fn secrets_and_tokens_never_reach_the_recording_or_debug_output() {
    let simulator = DeribitSimulator::start().await.unwrap();
    let dir = std::env::temp_dir().join(format!("zen-deribit-secrets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("session.jsonl");
    let recorded = config(&simulator)
        .grant(Grant::ClientCredentials)
        .client_config(Config::default().record_to(&path));
    let deribit = within(DeribitClient::connect(recorded)).await.unwrap();
    within(deribit.request("public/get_time", json!({}))).await.unwrap();
    assert!(!format!("{deribit:?}").contains(simulator.client_secret()));
    within(deribit.close()).await.unwrap();

    let recording = std::fs::read_to_string(&path).unwrap();
    assert!(recording.contains("public/auth"), "the login is recorded, redacted");
    assert!(!recording.contains(simulator.client_secret()), "the client secret is blanked");
    for field in ["access_token", "refresh_token"] {
        let lines: Vec<&str> = recording.lines().filter(|line| line.contains(field)).collect();
        assert!(!lines.is_empty(), "the login's answer is recorded");
        for line in lines {
            let token = line.split(&format!("\\\"{field}\\\":\\\"")).nth(1).unwrap_or_default();
            assert!(token.starts_with("[REDACTED]"), "{field} is blanked: {line}");
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn the_typed_calls_read_the_venues_answers() {
    let simulator = DeribitSimulator::start().await.unwrap();
    let deribit = within(DeribitClient::connect(config(&simulator))).await.unwrap();
    let bid =
        within(deribit.buy(OrderRequest::limit("BTC-PERPETUAL", 10.0, 40_000.0).label("bid")))
            .await
            .unwrap();
    let ask =
        within(deribit.sell(OrderRequest::limit("BTC-PERPETUAL", 20.0, 90_000.0))).await.unwrap();
    assert_eq!((bid.order.direction.as_str(), ask.order.direction.as_str()), ("buy", "sell"));
    assert_eq!(bid.order.label.as_deref(), Some("bid"));

    let open = within(deribit.open_orders("BTC")).await.unwrap();
    assert_eq!(open.len(), 2);
    let edited = within(deribit.edit(&bid.order.order_id, 30.0, 41_000.0)).await.unwrap();
    assert_eq!((edited.order.amount, edited.order.price), (30.0, Some(41_000.0)));
    let cancelled = within(deribit.cancel(&ask.order.order_id)).await.unwrap();
    assert_eq!(cancelled.order_state, "cancelled");
    assert_eq!(within(deribit.cancel_all()).await.unwrap(), 1);
    assert!(within(deribit.open_orders("BTC")).await.unwrap().is_empty());

    let filled = within(deribit.buy(OrderRequest::market("BTC-PERPETUAL", 10.0))).await.unwrap();
    assert_eq!(filled.order.order_state, "filled");
    assert!(!filled.trades.is_empty());
    let positions = within(deribit.positions("BTC")).await.unwrap();
    assert!(
        positions
            .iter()
            .any(|position| position.instrument_name == "BTC-PERPETUAL" && position.size == 10.0),
        "{positions:?}"
    );
    let summary = within(deribit.account_summary("BTC")).await.unwrap();
    assert_eq!(summary.currency, "BTC");
}
