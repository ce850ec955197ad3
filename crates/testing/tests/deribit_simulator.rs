//! Integration tests for `DeribitSimulator`, driven by a bare tokio-tungstenite client over
//! 127.0.0.1. Every await is bounded; nothing sleeps where an event can be awaited.

use std::collections::VecDeque;
use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use zen_websocket_testing::{
    CloseReason, ConnectionId, DeribitSimulator, OrderDirection, OrderState, OrderType,
};

/// The bound on every wait that should succeed.
const WAIT: Duration = Duration::from_secs(5);

/// Awaits `future` (boxed at once: WebSocket handshakes are large futures), failing the test
/// if it takes longer than [`WAIT`].
fn bounded<F: Future>(future: F) -> impl Future<Output = F::Output> {
    let future = Box::pin(future);
    async move { tokio::time::timeout(WAIT, future).await.expect("timed out") }
}

/// How a client saw its connection end.
#[derive(Debug, PartialEq)]
enum Ending {
    /// A close frame with this code.
    CloseFrame(u16),
    /// An error (a reset) or the end of the stream without a close frame.
    Abrupt,
}

/// A raw client: JSON-RPC calls, and the notifications that arrive meanwhile kept in order.
struct Client {
    ws: WebSocketStream<TcpStream>,
    /// Frames read while waiting for a response, not yet handed out.
    pending: VecDeque<Value>,
    next_id: u64,
    /// The simulator's id for this connection.
    id: ConnectionId,
}

impl Client {
    /// Connects, then waits until the simulator has registered the connection (it does so
    /// right after writing the `101`), so the newest open id is ours. Tests connect one client
    /// at a time.
    async fn connect(simulator: &DeribitSimulator) -> Self {
        let open = simulator.connection_count();
        let ws = bounded(async {
            let tcp = TcpStream::connect(simulator.addr()).await.expect("TCP connect");
            let url = format!("{}/ws/api/v2", simulator.url());
            tokio_tungstenite::client_async(url, tcp).await.expect("WebSocket handshake").0
        })
        .await;
        bounded(simulator.wait_for_connections(open + 1, WAIT)).await.expect("registered");
        let id = *simulator.open_connection_ids().last().expect("an open connection");
        Self { ws, pending: VecDeque::new(), next_id: 1, id }
    }

    async fn send(&mut self, request: &Value) {
        bounded(self.ws.send(Message::text(request.to_string()))).await.expect("send");
    }

    /// Reads the next JSON frame from the socket.
    async fn read(&mut self) -> Value {
        let frame = bounded(self.ws.next()).await.expect("a frame").expect("a readable frame");
        match frame {
            Message::Text(text) => serde_json::from_str(&text).expect("JSON"),
            other => panic!("expected a text frame, got {other:?}"),
        }
    }

    /// The next frame that is not a response: a pending one first.
    async fn next_notification(&mut self) -> Value {
        if let Some(frame) = self.pending.pop_front() {
            return frame;
        }
        self.read().await
    }

    /// Sends a request and returns its whole response, checking what every Deribit response
    /// carries; frames that arrive before it are kept for `next_notification`.
    async fn call(&mut self, method: &str, params: Value) -> Value {
        let id = json!(self.next_id);
        self.next_id += 1;
        self.call_with_id(id, method, params).await
    }

    async fn call_with_id(&mut self, id: Value, method: &str, params: Value) -> Value {
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})).await;
        bounded(async {
            loop {
                let frame = self.read().await;
                if frame.get("id") == Some(&id) {
                    assert_response_shape(&frame);
                    return frame;
                }
                self.pending.push_back(frame);
            }
        })
        .await
    }

    /// Calls `method` and returns its `result`, failing on an error.
    async fn result(&mut self, method: &str, params: Value) -> Value {
        let response = self.call(method, params).await;
        assert!(response.get("error").is_none(), "{method} failed: {response}");
        response["result"].clone()
    }

    /// Calls `method` and returns its error code, failing on a result.
    async fn error_code(&mut self, method: &str, params: Value) -> i64 {
        let response = self.call(method, params).await;
        assert!(response.get("result").is_none(), "{method} should fail: {response}");
        response["error"]["code"].as_i64().expect("an error code")
    }

    async fn login(&mut self, simulator: &DeribitSimulator) -> Value {
        let params = json!({
            "grant_type": "client_credentials",
            "client_id": simulator.client_id(),
            "client_secret": simulator.client_secret(),
        });
        self.result("public/auth", params).await
    }

    /// Reads until the connection ends; how it ended. Data frames on the way are ignored.
    async fn ending(&mut self) -> Ending {
        bounded(async {
            loop {
                match self.ws.next().await {
                    Some(Ok(Message::Close(frame))) => {
                        return Ending::CloseFrame(frame.map_or(1005, |frame| frame.code.into()));
                    }
                    Some(Ok(_)) => {}
                    Some(Err(WsError::ConnectionClosed | WsError::AlreadyClosed)) | None => {
                        return Ending::Abrupt;
                    }
                    Some(Err(_)) => return Ending::Abrupt,
                }
            }
        })
        .await
    }
}

/// What every response carries: `jsonrpc`, `usIn`, `usOut`, `usDiff = usOut - usIn`, and
/// `testnet: true`; `result` or `error`, never both.
fn assert_response_shape(frame: &Value) {
    assert_eq!(frame["jsonrpc"], "2.0", "{frame}");
    assert_eq!(frame["testnet"], true, "{frame}");
    let us_in = frame["usIn"].as_u64().expect("usIn");
    let us_out = frame["usOut"].as_u64().expect("usOut");
    assert!(us_out >= us_in, "{frame}");
    assert_eq!(frame["usDiff"].as_u64(), Some(us_out - us_in), "{frame}");
    assert!(frame.get("result").is_some() != frame.get("error").is_some(), "{frame}");
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_millis() as u64
}

fn signature_params(secret: &str, timestamp: u64, data: &str) -> Value {
    let nonce = "n0nce";
    json!({
        "grant_type": "client_signature",
        "client_id": "simulator-client",
        "timestamp": timestamp,
        "nonce": nonce,
        "data": data,
        "signature": DeribitSimulator::client_signature(secret, timestamp, nonce, data),
    })
}

async fn start(builder: zen_websocket_testing::DeribitSimulatorBuilder) -> DeribitSimulator {
    bounded(builder.start()).await.expect("start")
}

#[tokio::test]
async fn client_credentials_then_refresh_and_tokens_die_with_the_socket() {
    let simulator = start(DeribitSimulator::builder()).await;
    let mut client = Client::connect(&simulator).await;
    assert!(!simulator.authenticated(client.id));
    let params = json!({
        "grant_type": "client_credentials",
        "client_id": "simulator-client",
        "client_secret": "simulator-secret",
        "state": "s1",
    });
    let response = client.call_with_id(json!("auth_1"), "public/auth", params).await;
    assert_eq!(response["id"], "auth_1", "a string id is echoed unchanged");
    let login = &response["result"];
    assert_eq!(login["token_type"], "bearer");
    assert_eq!(login["scope"], "connection");
    assert_eq!(login["expires_in"], 900);
    assert_eq!(login["enabled_features"], json!([]));
    assert_eq!(login["state"], "s1");
    assert!(simulator.authenticated(client.id));
    let summary = client.result("private/get_account_summary", json!({"currency": "BTC"})).await;
    assert_eq!(summary["currency"], "BTC");
    let access = login["access_token"].as_str().expect("an access token");
    let with_token = json!({"currency": "BTC", "access_token": access});
    client.result("private/get_account_summary", with_token).await;
    let wrong_token = json!({"currency": "BTC", "access_token": "not-mine"});
    assert_eq!(client.error_code("private/get_account_summary", wrong_token).await, 13009);

    let old_refresh = login["refresh_token"].clone();
    let refresh = json!({"grant_type": "refresh_token", "refresh_token": old_refresh});
    let refreshed = client.result("public/auth", refresh.clone()).await;
    assert_ne!(refreshed["access_token"], login["access_token"]);
    assert_ne!(refreshed["refresh_token"], old_refresh);
    assert_eq!(client.error_code("public/auth", refresh).await, 13009, "used once only");

    // Another connection may use a refresh token while its connection is open — once.
    let mut other = Client::connect(&simulator).await;
    let shared =
        json!({"grant_type": "refresh_token", "refresh_token": refreshed["refresh_token"]});
    other.result("public/auth", shared.clone()).await;
    assert!(simulator.authenticated(other.id));
    assert_eq!(other.error_code("public/auth", shared).await, 13009, "used once only");

    // A refresh token from a connection that has closed is dead.
    let mut third = Client::connect(&simulator).await;
    let last = client.login(&simulator).await;
    let last = json!({"grant_type": "refresh_token", "refresh_token": last["refresh_token"]});
    drop(client);
    bounded(simulator.wait_for_connection_count(2, WAIT)).await.expect("the first one closed");
    assert_eq!(third.error_code("public/auth", last).await, 13009);
    assert!(!simulator.authenticated(third.id));
}

#[tokio::test]
async fn client_signature_login() {
    // The documented example (secret "AMANDASECRECT", empty data: both newlines stay).
    assert_eq!(
        DeribitSimulator::client_signature("AMANDASECRECT", 1_576_074_319_000, "1iqt2wls", ""),
        "56590594f97921b09b18f166befe0d1319b198bbcdad7ca73382de2f88fe9aa1"
    );
    let simulator = start(DeribitSimulator::builder()).await;
    let mut client = Client::connect(&simulator).await;
    let login =
        client.result("public/auth", signature_params("simulator-secret", now_ms(), "")).await;
    assert_eq!(login["token_type"], "bearer");
    assert!(simulator.authenticated(client.id));
    let mut other = Client::connect(&simulator).await;
    let with_data = signature_params("simulator-secret", now_ms(), "some data");
    other.result("public/auth", with_data).await;
    assert!(simulator.authenticated(other.id));
}

#[tokio::test]
async fn wrong_secret_is_13004_and_refuse_auth_refuses_everyone() {
    let simulator = start(DeribitSimulator::builder()).await;
    let mut client = Client::connect(&simulator).await;
    let params = json!({
        "grant_type": "client_credentials",
        "client_id": "simulator-client",
        "client_secret": "wrong",
    });
    let response = client.call("public/auth", params).await;
    assert_eq!(response["error"], json!({"code": 13004, "message": "invalid_credentials"}));
    assert!(!simulator.authenticated(client.id));

    simulator.refuse_auth(true);
    let good = json!({
        "grant_type": "client_credentials",
        "client_id": "simulator-client",
        "client_secret": "simulator-secret",
    });
    assert_eq!(client.error_code("public/auth", good.clone()).await, 13004);
    simulator.refuse_auth(false);
    client.result("public/auth", good).await;
}

#[tokio::test]
async fn bad_or_stale_signature_is_13009() {
    let simulator = start(DeribitSimulator::builder()).await;
    let mut client = Client::connect(&simulator).await;
    let response = client.call("public/auth", signature_params("wrong", now_ms(), "")).await;
    assert_eq!(response["error"], json!({"code": 13009, "message": "unauthorized"}));
    let stale = signature_params("simulator-secret", now_ms() - 120_000, "");
    assert_eq!(client.error_code("public/auth", stale).await, 13009);
    assert!(!simulator.authenticated(client.id));
    let unknown = json!({"grant_type": "refresh_token", "refresh_token": "1.Rnever-issued"});
    assert_eq!(client.error_code("public/auth", unknown).await, 13009);
}

#[tokio::test]
async fn raw_channels_need_a_login() {
    let simulator = start(DeribitSimulator::builder()).await;
    let mut client = Client::connect(&simulator).await;
    let channels = json!({"channels": ["ticker.BTC-PERPETUAL.100ms", "trades.BTC-PERPETUAL.raw"]});
    let response = client.call("public/subscribe", channels.clone()).await;
    assert_eq!(
        response["error"],
        json!({"code": 13778, "message": "raw_subscriptions_not_available_for_unauthorized"})
    );
    assert!(simulator.subscriptions(client.id).is_empty(), "the whole request is refused");
    let user = json!({"channels": ["user.orders.BTC-PERPETUAL.raw"]});
    assert_eq!(client.error_code("public/subscribe", user.clone()).await, 13009);
    assert_eq!(client.error_code("private/subscribe", user.clone()).await, 13009);

    client.login(&simulator).await;
    let subscribed = client.result("public/subscribe", channels).await;
    assert_eq!(subscribed, json!(["ticker.BTC-PERPETUAL.100ms", "trades.BTC-PERPETUAL.raw"]));
    assert_eq!(
        client.result("private/subscribe", user).await,
        json!(["user.orders.BTC-PERPETUAL.raw"])
    );
    assert_eq!(
        simulator.subscriptions(client.id),
        ["ticker.BTC-PERPETUAL.100ms", "trades.BTC-PERPETUAL.raw", "user.orders.BTC-PERPETUAL.raw"]
    );
    // Unknown channels are left out; unsubscribe lists only what it removed.
    let mixed = json!({"channels": ["ticker.BTC-PERPETUAL.100ms", "ticker.NOPE.100ms"]});
    assert_eq!(
        client.result("public/unsubscribe", mixed).await,
        json!(["ticker.BTC-PERPETUAL.100ms"])
    );
    assert_eq!(client.result("private/unsubscribe_all", json!({})).await, "ok");
    assert!(simulator.subscriptions(client.id).is_empty());
}

#[tokio::test]
async fn more_than_500_channels_are_refused() {
    let simulator = start(DeribitSimulator::builder()).await;
    let mut client = Client::connect(&simulator).await;
    let channels = |count: usize| json!({"channels": vec!["ticker.ETH-PERPETUAL.100ms"; count]});
    let response = client.call("public/subscribe", channels(501)).await;
    assert_eq!(response["error"]["code"], -32602);
    assert_eq!(response["error"]["message"], "Invalid params");
    assert_eq!(response["error"]["data"]["param"], "channels");
    assert!(simulator.subscriptions(client.id).is_empty());
    let at_most = client.result("public/subscribe", channels(500)).await;
    assert_eq!(at_most, json!(["ticker.ETH-PERPETUAL.100ms"]), "duplicates count once");
}

#[tokio::test]
async fn heartbeat_intervals_are_checked() {
    let default = start(DeribitSimulator::builder()).await;
    let mut client = Client::connect(&default).await;
    assert_eq!(client.error_code("public/set_heartbeat", json!({"interval": 9})).await, -32602);
    assert_eq!(client.result("public/set_heartbeat", json!({"interval": 10})).await, "ok");
    assert_eq!(default.heartbeat_interval(client.id), Some(Duration::from_secs(10)));
    assert_eq!(client.result("public/disable_heartbeat", json!({})).await, "ok");
    assert_eq!(default.heartbeat_interval(client.id), None);

    let fast = DeribitSimulator::builder().min_heartbeat_interval(Duration::from_millis(50));
    let fast = start(fast).await;
    let mut client = Client::connect(&fast).await;
    assert_eq!(client.error_code("public/set_heartbeat", json!({"interval": 0.01})).await, -32602);
    assert_eq!(client.result("public/set_heartbeat", json!({"interval": 0.05})).await, "ok");
}

/// Waits for the next `test_request` notice, skipping anything else.
async fn next_test_request(client: &mut Client) {
    bounded(async {
        loop {
            let frame = client.next_notification().await;
            if frame["method"] == "heartbeat" {
                assert_eq!(frame["params"], json!({"type": "test_request"}), "{frame}");
                assert!(frame.get("id").is_none());
                return;
            }
        }
    })
    .await;
}

#[tokio::test]
async fn answered_test_requests_keep_the_socket() {
    let simulator = DeribitSimulator::builder().min_heartbeat_interval(Duration::from_millis(50));
    let simulator = start(simulator).await;
    let mut client = Client::connect(&simulator).await;
    client.result("public/set_heartbeat", json!({"interval": 0.3})).await;
    for _ in 0..3 {
        next_test_request(&mut client).await;
        let answer = client.result("public/test", json!({})).await;
        assert_eq!(answer, json!({"version": "1.2.26"}));
    }
    // A fourth notice means the third answer was taken: the socket outlived its deadline.
    next_test_request(&mut client).await;
    assert_eq!(simulator.close_reason(client.id), None);
    assert_eq!(simulator.connection_count(), 1);
}

#[tokio::test]
async fn an_unanswered_test_request_closes_the_socket_and_cancels_orders() {
    let simulator = DeribitSimulator::builder().min_heartbeat_interval(Duration::from_millis(50));
    let simulator = start(simulator).await;
    let mut client = Client::connect(&simulator).await;
    client.login(&simulator).await;
    client.result("private/enable_cancel_on_disconnect", json!({})).await;
    let order = json!({"instrument_name": "BTC-PERPETUAL", "amount": 10, "price": 50_000});
    client.result("private/buy", order).await;
    client.result("public/set_heartbeat", json!({"interval": 0.2})).await;
    next_test_request(&mut client).await;
    // No `public/test`: the next interval ends the connection with a reset.
    assert_eq!(client.ending().await, Ending::Abrupt);
    assert_eq!(simulator.close_reason(client.id), Some(CloseReason::MissedHeartbeat));
    let orders = simulator.orders();
    assert_eq!(orders[0].state, OrderState::Cancelled);
    assert_eq!(orders[0].cancel_reason.as_deref(), Some("cancel_on_disconnect"));
}

#[tokio::test]
async fn paused_heartbeats_send_nothing_and_close_nothing() {
    let simulator = DeribitSimulator::builder().min_heartbeat_interval(Duration::from_millis(20));
    let simulator = start(simulator).await;
    let mut client = Client::connect(&simulator).await;
    simulator.pause_heartbeats(true);
    client.result("public/set_heartbeat", json!({"interval": 0.02})).await;
    // A silent window of several intervals: no notice, no close.
    let silent = tokio::time::timeout(Duration::from_millis(200), client.ws.next()).await;
    assert!(silent.is_err(), "nothing may arrive while paused: {silent:?}");
    assert_eq!(simulator.close_reason(client.id), None);
    simulator.pause_heartbeats(false);
    next_test_request(&mut client).await;
}

/// Places a resting limit order; returns its id.
async fn rest_order(client: &mut Client, method: &str, price: f64) -> String {
    let params =
        json!({"instrument_name": "BTC-PERPETUAL", "amount": 10, "price": price, "type": "limit"});
    let placed = client.result(method, params).await;
    assert_eq!(placed["order"]["order_state"], "open");
    assert_eq!(placed["trades"], json!([]));
    placed["order"]["order_id"].as_str().expect("an order id").to_owned()
}

#[tokio::test]
async fn cancel_on_disconnect_cancels_only_the_dropped_connections_orders() {
    let simulator = start(DeribitSimulator::builder()).await;
    let mut dropped = Client::connect(&simulator).await;
    let mut staying = Client::connect(&simulator).await;
    for client in [&mut dropped, &mut staying] {
        client.login(&simulator).await;
        client.result("private/enable_cancel_on_disconnect", json!({"scope": "connection"})).await;
        let cod = client.result("private/get_cancel_on_disconnect", json!({})).await;
        assert_eq!(cod, json!({"scope": "connection", "enabled": true}));
    }
    assert!(simulator.cod_enabled(dropped.id) && simulator.cod_enabled(staying.id));
    staying.result("private/subscribe", json!({"channels": ["user.orders.any.raw"]})).await;
    let gone = rest_order(&mut dropped, "private/buy", 50_000.0).await;
    let kept = rest_order(&mut staying, "private/sell", 70_000.0).await;
    assert_eq!(simulator.open_orders().len(), 2);

    let dropped_id = dropped.id;
    drop(dropped); // TCP close, no close frame
    bounded(simulator.wait_for_connection_count(1, WAIT)).await.expect("one connection left");
    assert_eq!(simulator.close_reason(dropped_id), Some(CloseReason::Dropped));
    let open: Vec<String> = simulator.open_orders().into_iter().map(|o| o.order_id).collect();
    assert_eq!(open, [kept.as_str()]);
    let cancelled = simulator.orders().into_iter().find(|o| o.order_id == gone).expect("kept");
    assert_eq!(cancelled.state, OrderState::Cancelled);
    assert_eq!(cancelled.connection, dropped_id);

    // The staying connection hears of the cancel and sees only its own order open.
    bounded(async {
        loop {
            let note = staying.next_notification().await;
            if note["params"]["data"]["order_state"] == "cancelled" {
                assert_eq!(note["method"], "subscription");
                assert_eq!(note["params"]["channel"], "user.orders.any.raw");
                assert_eq!(note["params"]["data"]["order_id"], gone.as_str());
                return;
            }
        }
    })
    .await;
    let open =
        staying.result("private/get_open_orders_by_currency", json!({"currency": "BTC"})).await;
    assert_eq!(open.as_array().map(Vec::len), Some(1));
    assert_eq!(open[0]["order_id"], kept.as_str());
}

#[tokio::test]
async fn logout_closes_without_cancelling_and_a_scripted_drop_cancels() {
    let simulator = start(DeribitSimulator::builder()).await;
    let mut leaving = Client::connect(&simulator).await;
    leaving.login(&simulator).await;
    leaving.result("private/enable_cancel_on_disconnect", json!({})).await;
    let survives = rest_order(&mut leaving, "private/buy", 50_000.0).await;
    leaving.send(&json!({"id": 99, "method": "private/logout", "params": {}})).await;
    assert_eq!(leaving.ending().await, Ending::CloseFrame(1000), "no answer, then a close");
    assert_eq!(simulator.close_reason(leaving.id), Some(CloseReason::Logout));
    let open: Vec<String> = simulator.open_orders().into_iter().map(|o| o.order_id).collect();
    assert_eq!(open, [survives.as_str()], "a logout does not cancel");

    let mut reset = Client::connect(&simulator).await;
    reset.login(&simulator).await;
    reset.result("private/enable_cancel_on_disconnect", json!({})).await;
    rest_order(&mut reset, "private/buy", 51_000.0).await;
    assert!(bounded(simulator.drop_connection(reset.id)).await);
    assert_eq!(reset.ending().await, Ending::Abrupt);
    let open: Vec<String> = simulator.open_orders().into_iter().map(|o| o.order_id).collect();
    assert_eq!(open, [survives], "only the dropped connection's order went");
}

/// The next `book.*` notification's data, skipping anything else.
async fn next_book(client: &mut Client) -> Value {
    bounded(async {
        loop {
            let frame = client.next_notification().await;
            if frame["method"] == "subscription"
                && frame["params"]["channel"] == "book.BTC-PERPETUAL.100ms"
            {
                return frame["params"]["data"].clone();
            }
        }
    })
    .await
}

#[tokio::test]
async fn book_snapshot_then_chained_changes_then_a_gap() {
    let simulator = DeribitSimulator::builder().market_data_interval(Duration::from_millis(10));
    let simulator = start(simulator).await;
    let mut client = Client::connect(&simulator).await;
    let channels = json!({"channels": ["book.BTC-PERPETUAL.100ms"]});
    client.result("public/subscribe", channels.clone()).await;
    let snapshot = next_book(&mut client).await;
    assert_eq!(snapshot["type"], "snapshot");
    assert_eq!(snapshot["instrument_name"], "BTC-PERPETUAL");
    let bids = snapshot["bids"].as_array().expect("bids");
    assert!(!bids.is_empty() && bids.iter().all(|level| level[0] == "new"));
    assert!(bids[0][1].as_f64() > bids[1][1].as_f64(), "best bid first");
    assert!(snapshot["asks"][0][1].as_f64() > bids[0][1].as_f64());
    let mut last = snapshot["change_id"].as_u64().expect("change_id");
    for _ in 0..5 {
        let change = next_book(&mut client).await;
        assert_eq!(change["type"], "change");
        assert_eq!(change["prev_change_id"].as_u64(), Some(last), "{change}");
        last = change["change_id"].as_u64().expect("change_id");
    }

    assert!(simulator.skip_book_change("BTC-PERPETUAL"));
    // Changes already on their way chain on; the skipped one shows as a gap.
    bounded(async {
        loop {
            let change = next_book(&mut client).await;
            let prev = change["prev_change_id"].as_u64().expect("prev_change_id");
            if prev != last {
                assert_eq!(prev, last + 1, "exactly one change_id skipped");
                return;
            }
            last = change["change_id"].as_u64().expect("change_id");
        }
    })
    .await;

    // Subscribing again starts over with a fresh snapshot that changes chain on.
    client.result("public/subscribe", channels).await;
    let fresh = next_book(&mut client).await;
    assert_eq!(fresh["type"], "snapshot");
    let change = next_book(&mut client).await;
    assert_eq!(change["prev_change_id"], fresh["change_id"]);
}

#[tokio::test]
async fn market_channels_publish() {
    let simulator = DeribitSimulator::builder().market_data_interval(Duration::from_millis(10));
    let simulator = start(simulator).await;
    let mut client = Client::connect(&simulator).await;
    let channels =
        ["ticker.ETH-PERPETUAL.100ms", "trades.ETH-PERPETUAL.100ms", "deribit_price_index.eth_usd"];
    client.result("public/subscribe", json!({"channels": channels})).await;
    let mut seen = std::collections::BTreeMap::new();
    bounded(async {
        while seen.len() < channels.len() {
            let frame = client.next_notification().await;
            assert_eq!(frame["method"], "subscription");
            let channel = frame["params"]["channel"].as_str().expect("a channel").to_owned();
            seen.insert(channel, frame["params"]["data"].clone());
        }
    })
    .await;
    assert_eq!(seen["ticker.ETH-PERPETUAL.100ms"]["mark_price"], 3_000.0);
    assert!(seen["trades.ETH-PERPETUAL.100ms"].is_array(), "trades data is an array");
    assert_eq!(seen["deribit_price_index.eth_usd"]["index_name"], "eth_usd");
}

#[tokio::test]
async fn credits_run_out_with_10028_then_the_session_ends() {
    let simulator = start(DeribitSimulator::builder().credits(1_500, 0, 500)).await;
    let mut client = Client::connect(&simulator).await;
    for _ in 0..3 {
        client.result("public/test", json!({})).await;
    }
    let response = client.call("public/test", json!({})).await;
    assert_eq!(response["error"], json!({"code": 10028, "message": "too_many_requests"}));
    assert_eq!(client.ending().await, Ending::CloseFrame(1000));
    assert_eq!(simulator.close_reason(client.id), Some(CloseReason::RateLimited));
}

#[tokio::test]
async fn credits_run_out_with_10028_and_the_session_can_stay() {
    let simulator = DeribitSimulator::builder().credits(1_000, 0, 500).close_on_rate_limit(false);
    let simulator = start(simulator).await;
    let mut client = Client::connect(&simulator).await;
    client.result("public/get_time", json!({})).await;
    client.result("public/hello", json!({"client_name": "t", "client_version": "1"})).await;
    assert_eq!(client.error_code("public/test", json!({})).await, 10028);
    assert_eq!(client.error_code("public/test", json!({})).await, 10028);
    assert_eq!(simulator.close_reason(client.id), None);
    assert_eq!(simulator.requests_on(client.id).len(), 4, "refused requests are recorded too");
}

#[tokio::test]
async fn orders_and_account_methods() {
    let simulator = start(DeribitSimulator::builder()).await;
    let mut client = Client::connect(&simulator).await;
    let buy = json!({"instrument_name": "BTC-PERPETUAL", "amount": 10, "type": "market"});
    assert_eq!(client.error_code("private/buy", buy.clone()).await, 13009);
    client.login(&simulator).await;

    let filled = client.result("private/buy", buy).await;
    assert_eq!(filled["order"]["order_state"], "filled");
    assert_eq!(filled["order"]["average_price"], 60_000.0);
    assert_eq!(filled["trades"][0]["price"], 60_000.0);
    assert_eq!(filled["trades"][0]["amount"], 10.0);
    let resting = rest_order(&mut client, "private/sell", 65_000.0).await;
    let edit = json!({"order_id": resting, "amount": 20, "price": 64_000});
    let edited = client.result("private/edit", edit).await;
    assert_eq!(
        (edited["order"]["price"].as_f64(), edited["order"]["replaced"].as_bool()),
        (Some(64_000.0), Some(true))
    );
    let cancelled = client.result("private/cancel", json!({"order_id": resting})).await;
    assert_eq!(cancelled["order_state"], "cancelled");
    assert_eq!(client.error_code("private/cancel", json!({"order_id": resting})).await, 10004);
    rest_order(&mut client, "private/buy", 40_000.0).await;
    rest_order(&mut client, "private/buy", 41_000.0).await;
    assert_eq!(client.result("private/cancel_all", json!({})).await, 2);

    let positions = client.result("private/get_positions", json!({"currency": "BTC"})).await;
    assert_eq!(positions[0]["size"], 10.0);
    assert_eq!(positions[0]["direction"], "buy");
    let orders = simulator.orders();
    assert_eq!(orders.len(), 4);
    assert_eq!(
        (orders[0].order_type, orders[0].direction),
        (OrderType::Market, OrderDirection::Buy)
    );
    assert!(simulator.open_orders().is_empty());

    let unknown = json!({"instrument_name": "NOPE", "amount": 1, "type": "market"});
    assert_eq!(client.error_code("private/buy", unknown).await, -32602);
    assert_eq!(client.error_code("private/buy", json!({"amount": 1})).await, -32000);
    assert_eq!(client.error_code("public/no_such_method", json!({})).await, -32601);
    let exception = json!({"expected_result": "exception"});
    assert_eq!(client.error_code("public/test", exception).await, 11094);
    assert!(client.result("public/get_time", json!({})).await.as_u64() > Some(1_600_000_000_000));
}

#[tokio::test]
async fn tls_stop_and_restart() {
    let simulator = start(DeribitSimulator::builder().tls(true)).await;
    let connect = || async {
        let connector =
            tokio_rustls::TlsConnector::from(simulator.client_tls_config().expect("TLS"));
        let tcp = TcpStream::connect(simulator.addr()).await.expect("TCP connect");
        let name = rustls::pki_types::ServerName::IpAddress(simulator.addr().ip().into());
        let tls = connector.connect(name, tcp).await.expect("TLS handshake");
        Box::pin(tokio_tungstenite::client_async(simulator.url(), tls))
            .await
            .expect("WebSocket handshake")
            .0
    };
    let mut ws = bounded(connect()).await;
    bounded(ws.send(Message::text(r#"{"id":1,"method":"public/test"}"#))).await.expect("send");
    let answer = bounded(ws.next()).await.expect("a frame").expect("readable");
    assert!(answer.to_text().expect("text").contains("1.2.26"));

    bounded(simulator.restart()).await.expect("restart");
    let ended = bounded(async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => {}
                _ => return None,
            }
        }
    })
    .await;
    assert_eq!(ended, Some(1001), "stop closes with going away");
    assert_eq!(simulator.close_reason(ConnectionId::new(1)), Some(CloseReason::Stopped));
    let _again = bounded(connect()).await;
    bounded(simulator.wait_for_connections(1, WAIT)).await.expect("connected again");
    assert_eq!(simulator.total_connections(), 2);
}
