//! The client's record of subscriptions matches what the server confirmed, whatever happens
//! to the subscribe call: cancelled, timed out, partly refused, refused on restore.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::{EventLog, connect_with, within};
use zen_websocket_core::{ConnectionState, Error};
use zen_websocket_testing::{DisconnectKind, Matcher, MockServer, RpcReply, RpcRequest};

fn fast(config: zen_websocket_core::Config) -> zen_websocket_core::Config {
    config.retry_delay(Duration::from_millis(20)).max_backoff(Duration::from_millis(100))
}

fn unsubscribe_of(channels: &[&str]) -> Matcher {
    Matcher::json(json!({"method": "public/unsubscribe", "params": {"channels": channels}}))
}

/// An rpc handler that confirms only the channels not named `refused`.
fn refusing(refused: &'static str) -> impl Fn(&RpcRequest) -> RpcReply {
    move |request| {
        if request.method != "public/subscribe" {
            return RpcReply::Default;
        }
        let asked = request.params["channels"].as_array().cloned().unwrap_or_default();
        let accepted: Vec<Value> = asked.into_iter().filter(|c| c != refused).collect();
        RpcReply::Result(Value::Array(accepted))
    }
}

#[tokio::test]
async fn a_subscribe_abandoned_after_hand_off_is_undone_when_confirmed() {
    let server = MockServer::builder()
        .rpc_handler(|request| match request.method.as_str() {
            "public/subscribe" => {
                RpcReply::Delayed(Duration::from_millis(300), Box::new(RpcReply::Default))
            }
            _ => RpcReply::Default,
        })
        .start()
        .await
        .unwrap();
    let client = connect_with(&server, |config| config).await;
    let abandoned =
        tokio::time::timeout(Duration::from_millis(50), client.subscribe(["ticker.x.100ms"])).await;
    assert!(abandoned.is_err(), "the caller gave up before the confirmation");
    // The late confirmation leaves nothing live that nobody holds.
    within(server.assert_message_sent(unsubscribe_of(&["ticker.x.100ms"]), support::WAIT))
        .await
        .unwrap();
    assert_eq!(client.get_state_metrics().subscriptions, 0);
}

#[tokio::test]
async fn a_subscribe_that_timed_out_is_undone() {
    let server = MockServer::builder()
        .rpc_handler(|request| match request.method.as_str() {
            "public/subscribe" => RpcReply::None,
            _ => RpcReply::Default,
        })
        .start()
        .await
        .unwrap();
    let client =
        connect_with(&server, |config| config.request_timeout(Duration::from_millis(100))).await;
    let err = within(client.subscribe(["ticker.y.100ms"])).await.unwrap_err();
    assert!(matches!(err, Error::RequestTimeout { .. }), "{err:?}");
    within(server.assert_message_sent(unsubscribe_of(&["ticker.y.100ms"]), support::WAIT))
        .await
        .unwrap();
    assert_eq!(client.get_state_metrics().subscriptions, 0);
}

#[tokio::test]
async fn a_partly_refused_subscribe_undoes_what_was_accepted() {
    let server = MockServer::builder().rpc_handler(refusing("bad.channel")).start().await.unwrap();
    let client = connect_with(&server, |config| config).await;
    let err = within(client.subscribe(["ok.channel", "bad.channel"])).await.unwrap_err();
    match err {
        Error::SubscriptionRejected { channels } => assert_eq!(channels, ["bad.channel"]),
        other => panic!("expected SubscriptionRejected, got {other:?}"),
    }
    within(server.assert_message_sent(unsubscribe_of(&["ok.channel"]), support::WAIT))
        .await
        .unwrap();
    assert_eq!(client.get_state_metrics().subscriptions, 0);
}

#[tokio::test]
async fn unsubscribing_keeps_channels_another_subscription_holds() {
    let server = MockServer::start().await.unwrap();
    let client = connect_with(&server, |config| config).await;
    let first = within(client.subscribe(["shared.channel"])).await.unwrap();
    let second = within(client.subscribe(["shared.channel", "own.channel"])).await.unwrap();
    within(client.unsubscribe(first)).await.unwrap();
    within(client.unsubscribe(second)).await.unwrap();
    // Only the last holder's unsubscribe tells the server, and it names both channels.
    let sent: Vec<Value> = server
        .received()
        .iter()
        .filter_map(|message| message.json())
        .filter(|value| value["method"] == "public/unsubscribe")
        .map(|value| value["params"]["channels"].clone())
        .collect();
    assert_eq!(sent, [json!(["shared.channel", "own.channel"])]);
}

#[tokio::test]
async fn connected_is_reported_once_the_restores_are_confirmed() {
    let server = std::sync::Arc::new(MockServer::start().await.unwrap());
    let log = EventLog::default();
    let client = log.connect(&server, fast).await;
    within(client.subscribe(["ticker.z.100ms"])).await.unwrap();
    // Restores are answered late: Connected must wait for them.
    server.set_rpc_handler(|request| match request.method.as_str() {
        "public/subscribe" => {
            RpcReply::Delayed(Duration::from_millis(200), Box::new(RpcReply::Default))
        }
        _ => RpcReply::Default,
    });
    let mark = server.received().len();
    within(server.simulate_disconnect(DisconnectKind::Abrupt)).await;
    let seen = log.wait_for("Connected").await;
    assert_eq!(seen.last().unwrap().state, ConnectionState::Connected, "{seen:?}");
    let restored = server.received()[mark..]
        .iter()
        .any(|message| message.json().is_some_and(|value| value["method"] == "public/subscribe"));
    assert!(restored, "Connected came before the restore was even sent: {seen:?}");
    // And by then the confirmation is in: a request issued now finds the record complete.
    assert_eq!(client.get_state_metrics().subscriptions, 1);
    assert_eq!(client.get_state(), ConnectionState::Connected);
}

#[tokio::test]
async fn restores_the_server_refuses_are_reported_lost_before_connected() {
    let server = MockServer::start().await.unwrap();
    let log = EventLog::default();
    let client = log.connect(&server, fast).await;
    let kept = within(client.subscribe(["keep.channel"])).await.unwrap();
    let partly = within(client.subscribe(["raw.channel", "also.kept"])).await.unwrap();
    let gone = within(client.subscribe(["gone.channel"])).await.unwrap();
    server.set_rpc_handler(|request| {
        let channels = request.params["channels"].to_string();
        match request.method.as_str() {
            "public/subscribe" if channels.contains("gone.channel") => {
                RpcReply::error(13778, "raw_subscriptions_not_available_for_unauthorized")
            }
            "public/subscribe" => refusing("raw.channel")(request),
            _ => RpcReply::Default,
        }
    });
    within(server.simulate_disconnect(DisconnectKind::Abrupt)).await;
    let seen = log.wait_for("Connected").await;
    let lost: Vec<&str> = seen
        .iter()
        .filter(|one| one.event.starts_with("SubscriptionLost"))
        .map(|one| one.event.as_str())
        .collect();
    assert_eq!(lost.len(), 2, "{seen:?}");
    assert!(
        lost.iter().any(|e| e.contains(&format!("{partly:?}")) && e.contains("[\"raw.channel\"]"))
    );
    assert!(lost.iter().any(|e| e.contains(&format!("{gone:?}")) && e.contains("13778")));
    assert_eq!(client.get_state_metrics().subscriptions, 2, "kept and the rest of partly");
    let record = client.subscriptions();
    let expected =
        [(kept, vec!["keep.channel".to_owned()]), (partly, vec!["also.kept".to_owned()])];
    assert_eq!(record, expected);
    let err = within(client.unsubscribe(gone)).await.unwrap_err();
    assert!(matches!(err, Error::UnknownSubscription(_)), "{err:?}");
    within(client.unsubscribe(kept)).await.unwrap();
    within(client.unsubscribe(partly)).await.unwrap();
    let last = server.received().last().and_then(|message| message.json()).unwrap();
    assert_eq!(last["params"]["channels"], json!(["also.kept"]), "only what is left is dropped");
}

#[tokio::test]
async fn a_restore_that_times_out_is_reported_lost_and_undone() {
    let server = MockServer::start().await.unwrap();
    let log = EventLog::default();
    let client = log
        .connect(&server, |config| fast(config).request_timeout(Duration::from_millis(200)))
        .await;
    within(client.subscribe(["slow.channel"])).await.unwrap();
    server.set_rpc_handler(|request| match request.method.as_str() {
        "public/subscribe" => RpcReply::None,
        _ => RpcReply::Default,
    });
    server.clear_received();
    within(server.simulate_disconnect(DisconnectKind::Abrupt)).await;
    let seen = log.wait_for("Connected").await;
    let lost = seen.iter().find(|one| one.event.starts_with("SubscriptionLost"));
    assert!(lost.is_some_and(|one| one.event.contains("RequestTimeout")), "{seen:?}");
    within(server.assert_message_sent(unsubscribe_of(&["slow.channel"]), support::WAIT))
        .await
        .unwrap();
    assert_eq!(client.get_state_metrics().subscriptions, 0);
}

#[tokio::test]
async fn unsubscribing_keeps_a_channel_a_subscribe_on_its_way_will_hold() {
    let server = MockServer::start().await.unwrap();
    let client = connect_with(&server, |config| config).await;
    let first = within(client.subscribe(["shared.channel"])).await.unwrap();
    // The next subscribe is answered late: it is still on its way when `first` goes.
    server.set_rpc_handler(|request| match request.method.as_str() {
        "public/subscribe" => {
            RpcReply::Delayed(Duration::from_millis(300), Box::new(RpcReply::Default))
        }
        _ => RpcReply::Default,
    });
    let mark = server.mark();
    let second = tokio::spawn({
        let client = client.clone();
        async move { client.subscribe(["shared.channel"]).await }
    });
    let sent = Matcher::json(json!({"method": "public/subscribe"}));
    within(server.assert_message_sent_since(mark, sent, support::WAIT)).await.unwrap();
    within(client.unsubscribe(first)).await.unwrap();
    let second = within(second).await.unwrap().unwrap();
    assert_eq!(client.subscriptions(), [(second, vec!["shared.channel".to_owned()])]);
    let dropped = server.assert_message_sent_since(
        mark,
        unsubscribe_of(&["shared.channel"]),
        Duration::from_millis(100),
    );
    assert!(dropped.await.is_err(), "the channel the second subscription holds was dropped");
}

#[tokio::test]
async fn a_channel_named_twice_is_one_channel() {
    let server = MockServer::start().await.unwrap();
    let client = connect_with(&server, |config| config).await;
    let id = within(client.subscribe(["twice.channel", "twice.channel"])).await.unwrap();
    assert_eq!(client.subscriptions(), [(id, vec!["twice.channel".to_owned()])]);
    within(client.unsubscribe(id)).await.unwrap();
    within(server.assert_message_sent(unsubscribe_of(&["twice.channel"]), support::WAIT))
        .await
        .unwrap();
}

#[tokio::test]
async fn an_unsubscribe_that_times_out_still_ends_the_subscription() {
    let server = MockServer::start().await.unwrap();
    let client =
        connect_with(&server, |config| config.request_timeout(Duration::from_millis(200))).await;
    let id = within(client.subscribe(["quiet.channel"])).await.unwrap();
    server.set_rpc_handler(|request| match request.method.as_str() {
        "public/unsubscribe" => RpcReply::None,
        _ => RpcReply::Default,
    });
    let mark = server.mark();
    let err = within(client.unsubscribe(id)).await.unwrap_err();
    assert!(matches!(err, Error::RequestTimeout { .. }), "{err:?}");
    // The task's own deadline is the same instant as the caller's: the record follows at once.
    support::eventually("the subscription forgotten", || client.subscriptions().is_empty()).await;
    // Asked twice: the call, then again once it timed out.
    let asked = || {
        let received = server.received_since(mark);
        received
            .iter()
            .filter(|m| m.json().is_some_and(|v| v["method"] == "public/unsubscribe"))
            .count()
    };
    support::eventually("a second unsubscribe", || asked() == 2).await;
}
