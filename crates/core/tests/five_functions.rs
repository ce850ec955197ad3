//! The five functions and requests, over ws and wss, against a real local server.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::{connect, connect_with, next_message, server, within};
use zen_websocket_core::{ConnectionState, Error, Message};
use zen_websocket_testing::{Matcher, MockServer, RpcReply};

async fn text_binary_and_json_round_trip(tls: bool) {
    let server = server(tls).await;
    let client = connect(&server).await;
    assert_eq!(client.get_state(), ConnectionState::Connected);

    within(client.send_message("hello")).await.unwrap();
    assert_eq!(next_message(&client).await.as_text(), Some("hello"));

    within(client.send_message(vec![0u8, 159, 146, 150])).await.unwrap();
    let binary = next_message(&client).await;
    assert!(binary.is_binary());
    assert_eq!(binary.as_bytes(), [0u8, 159, 146, 150]);

    within(client.send_message(json!({"kind": "note", "n": 3}))).await.unwrap();
    assert_eq!(next_message(&client).await.json().unwrap(), json!({"kind": "note", "n": 3}));

    within(client.close()).await.unwrap();
    assert_eq!(client.get_state(), ConnectionState::Disconnected);
}
on_ws_and_wss!(text_binary_and_json_round_trip);

async fn server_pushes_arrive_in_order(tls: bool) {
    let server = server(tls).await;
    let client = connect(&server).await;
    within(server.wait_for_connections(1, support::WAIT)).await.unwrap();
    for n in 0..20 {
        server.inject_message(format!("push {n}")).await;
    }
    server.inject_binary(vec![7u8; 3]).await;
    for n in 0..20 {
        assert_eq!(next_message(&client).await.as_text(), Some(format!("push {n}").as_str()));
    }
    assert_eq!(next_message(&client).await, Message::from(vec![7u8; 3]));
}
on_ws_and_wss!(server_pushes_arrive_in_order);

async fn request_returns_the_result(tls: bool) {
    let server = server(tls).await;
    let client = connect(&server).await;
    let version = within(client.request("public/test", json!({}))).await.unwrap();
    assert_eq!(version, json!({"version": "1.2.26"}));
    let sent = within(server.assert_message_sent(
        Matcher::json(json!({"jsonrpc": "2.0", "method": "public/test"})),
        support::WAIT,
    ))
    .await
    .unwrap();
    assert!(sent.json().unwrap()["id"].is_u64());
    assert_eq!(client.get_latency_stats().count, 1);
}
on_ws_and_wss!(request_returns_the_result);

async fn subscribe_is_confirmed_then_unsubscribed(tls: bool) {
    let server = server(tls).await;
    let client = connect(&server).await;
    let channels = ["trades.BTC-PERPETUAL.100ms", "deribit_price_index.btc_usd"];
    let id = within(client.subscribe(channels)).await.unwrap();
    within(server.assert_message_sent(
        Matcher::json(json!({"method": "public/subscribe", "params": {"channels": channels}})),
        support::WAIT,
    ))
    .await
    .unwrap();
    within(client.unsubscribe(id)).await.unwrap();
    within(server.assert_message_sent(
        Matcher::json(json!({"method": "public/unsubscribe"})),
        support::WAIT,
    ))
    .await
    .unwrap();
    let again = within(client.unsubscribe(id)).await.unwrap_err();
    assert!(matches!(again, Error::UnknownSubscription(same) if same == id));
}
on_ws_and_wss!(subscribe_is_confirmed_then_unsubscribed);

#[tokio::test]
async fn a_hundred_concurrent_requests_each_get_their_own_answer() {
    // Answers come back out of order: later requests are answered sooner.
    let server = MockServer::builder()
        .rpc_handler(|request| {
            let n = request.params["n"].as_u64().unwrap_or(0);
            RpcReply::delayed(
                Duration::from_millis(100 - n),
                RpcReply::Result(request.params.clone()),
            )
        })
        .start()
        .await
        .unwrap();
    let client = connect(&server).await;
    let calls = (0..100u64).map(|n| {
        let client = client.clone();
        async move { (n, client.request("public/echo", json!({"n": n})).await) }
    });
    let answers = within(futures_util::future::join_all(calls)).await;
    for (n, answer) in answers {
        assert_eq!(answer.unwrap(), json!({"n": n}));
    }
    assert_eq!(client.get_latency_stats().count, 100);
}

#[tokio::test]
async fn an_unanswered_request_times_out() {
    let server = MockServer::builder().rpc_handler(|_| RpcReply::None).start().await.unwrap();
    let client =
        connect_with(&server, |config| config.request_timeout(Duration::from_millis(200))).await;
    let started = std::time::Instant::now();
    let err = within(client.request("public/never", json!({}))).await.unwrap_err();
    assert!(
        matches!(err, Error::RequestTimeout { after, .. } if after == Duration::from_millis(200))
    );
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert!(err.is_recoverable());
}

#[tokio::test]
async fn a_caller_id_already_in_flight_is_refused() {
    let server = MockServer::builder()
        .rpc_handler(|request| {
            RpcReply::delayed(Duration::from_millis(300), RpcReply::Result(request.params.clone()))
        })
        .start()
        .await
        .unwrap();
    let client = connect(&server).await;
    let first = client.request_with_id("order-1", "private/buy", json!({"n": 1}));
    let second = async {
        // Let the first request register before the second one reuses its id.
        within(server.assert_message_sent(Matcher::json(json!({"id": "order-1"})), support::WAIT))
            .await
            .unwrap();
        client.request_with_id("order-1", "private/buy", json!({"n": 2})).await
    };
    let (first, second) = Box::pin(within(async { tokio::join!(first, second) })).await;
    assert_eq!(first.unwrap(), json!({"n": 1}));
    assert!(
        matches!(second.unwrap_err(), Error::DuplicateRequestId(id) if id.to_string() == "\"order-1\"")
    );
}

#[tokio::test]
async fn a_json_rpc_error_body_is_an_error() {
    let server = MockServer::builder()
        .rpc_handler(|_| RpcReply::Error {
            code: -32601,
            message: "Method not found".into(),
            data: Some(json!({"reason": "no such method"})),
        })
        .start()
        .await
        .unwrap();
    let client = connect(&server).await;
    let err = within(client.request("public/nope", json!({}))).await.unwrap_err();
    match err {
        Error::JsonRpc { code, message, data } => {
            assert_eq!((code, message.as_str()), (-32601, "Method not found"));
            assert_eq!(data, Some(json!({"reason": "no such method"})));
        }
        other => panic!("expected JsonRpc, got {other:?}"),
    }
}

#[tokio::test]
async fn a_rejected_subscription_is_an_error() {
    let server = MockServer::builder()
        .rpc_handler(|request| match request.params["channels"][0].as_str() {
            Some("trades.BTC-PERPETUAL.raw") => RpcReply::Error {
                code: 13778,
                message: "raw_subscriptions_not_available_for_unauthorized".into(),
                data: None,
            },
            // Confirms only the first channel it was asked for.
            _ => RpcReply::Result(json!([request.params["channels"][0]])),
        })
        .start()
        .await
        .unwrap();
    let client = connect(&server).await;
    let refused = within(client.subscribe(["trades.BTC-PERPETUAL.raw"])).await.unwrap_err();
    assert!(matches!(refused, Error::JsonRpc { code: 13778, .. }));
    let partial = within(client.subscribe(["ticker.a.100ms", "ticker.b.100ms"])).await.unwrap_err();
    assert!(
        matches!(partial, Error::SubscriptionRejected { channels } if channels == ["ticker.b.100ms"])
    );
    let empty = within(client.subscribe(Vec::<String>::new())).await.unwrap_err();
    assert!(matches!(empty, Error::InvalidArgument { name: "channels", .. }));
}

#[tokio::test]
async fn a_message_handler_receives_events_instead_of_recv() {
    let server = MockServer::start().await.unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let client = connect_with(&server, |config| {
        config.message_handler(move |event| {
            if let zen_websocket_core::Event::Message(message) = event {
                tx.send(message.as_text().map(str::to_owned)).unwrap();
            }
        })
    })
    .await;
    within(client.send_message("via handler")).await.unwrap();
    assert_eq!(within(rx.recv()).await.unwrap().as_deref(), Some("via handler"));
    assert!(within(client.recv()).await.is_none());
}

#[tokio::test]
async fn a_panicking_handler_does_not_kill_the_connection() {
    let server = MockServer::start().await.unwrap();
    let client =
        connect_with(&server, |config| config.message_handler(|_| panic!("handler bug"))).await;
    within(client.send_message("boom")).await.unwrap();
    within(server.assert_message_sent("boom", support::WAIT)).await.unwrap();
    let answer: Value = within(client.request("public/test", json!({}))).await.unwrap();
    assert_eq!(answer["version"], "1.2.26");
    assert_eq!(client.get_state(), ConnectionState::Connected);
}

#[tokio::test]
async fn a_subprotocol_is_negotiated_and_visible() {
    let server = MockServer::start().await.unwrap();
    server.set_subprotocols(["v2.json", "v1.json"]);
    let client =
        connect_with(&server, |config| config.subprotocol("v1.json").subprotocol("v2.json")).await;
    // The server prefers nothing over the client's order: the first offer it accepts wins.
    assert_eq!(client.subprotocol().as_deref(), Some("v1.json"));
    let offered = server.handshakes()[0].header("sec-websocket-protocol").map(str::to_owned);
    assert_eq!(offered.as_deref(), Some("v1.json, v2.json"));

    // A server that accepts none of the offers fails the upgrade (RFC 6455 §4.1).
    server.set_subprotocols(["other"]);
    let err = within(zen_websocket_core::Client::connect(
        &server.url(),
        zen_websocket_core::Config::default().subprotocol("v1.json"),
    ))
    .await
    .unwrap_err();
    assert!(matches!(err, Error::WebSocket(_)), "{err:?}");
}

#[tokio::test]
async fn data_that_carries_a_pending_id_is_not_taken_for_the_answer() {
    let server = MockServer::builder()
        .rpc_handler(|_| {
            zen_websocket_testing::RpcReply::Delayed(
                Duration::from_millis(200),
                Box::new(zen_websocket_testing::RpcReply::Default),
            )
        })
        .start()
        .await
        .unwrap();
    let client = connect(&server).await;
    let asking = tokio::spawn({
        let client = client.clone();
        async move { client.request_with_id("r-1", "public/echo", json!({"n": 1})).await }
    });
    within(server.assert_message_sent(Matcher::json(json!({"id": "r-1"})), support::WAIT))
        .await
        .unwrap();
    // A data message that happens to carry the same id, but no result or error.
    server.inject_json(&json!({"id": "r-1", "price": 101.5})).await;
    let data = support::next_message(&client).await.json().unwrap();
    assert_eq!(data["price"], 101.5);
    let answer = within(asking).await.unwrap().unwrap();
    assert_eq!(answer["n"], 1, "the real answer resolved the request");
}
