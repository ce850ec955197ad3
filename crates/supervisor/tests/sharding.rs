//! Channels spread over clients under the cap, confirmed once each, moved when a client is
//! gone, refused as a whole when they do not fit.

mod support;

use std::{collections::HashMap, time::Duration};

use serde_json::Value;
use support::{WAIT, pool_config, quick, server, spec, wait_for, within};
use zen_websocket_core::Event;
use zen_websocket_supervisor::{
    ClientSpec, ClientSupervisor, Error, PoolEvent, RestartIntensity, ShardOptions, ShardStrategy,
};
use zen_websocket_testing::MockServer;

fn channels(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("trades.INSTR-{i}.100ms")).collect()
}

/// How many times each channel was asked for in `public/subscribe` requests `server` read.
fn subscribed(servers: &[&MockServer]) -> HashMap<String, usize> {
    let mut asked = HashMap::new();
    for server in servers {
        for frame in server.received() {
            let Some(request) = frame.json() else { continue };
            if request["method"] != "public/subscribe" {
                continue;
            }
            for channel in request["params"]["channels"].as_array().into_iter().flatten() {
                *asked.entry(channel.as_str().unwrap().to_owned()).or_default() += 1;
            }
        }
    }
    asked
}

#[tokio::test]
async fn three_thousand_channels_fill_three_clients_move_off_a_dead_server_and_then_the_pool_is_exhausted()
 {
    let servers = [server().await, server().await, server().await];
    let dies_fast = quick().retry_count(1);
    let config = pool_config()
        .max_subscriptions_per_client(1_000)
        .max_clients(4)
        .intensity(RestartIntensity::new(1, Duration::from_secs(60)))
        .client(spec("data-a", &servers[0]))
        .client(spec("data-b", &servers[1]))
        .client(spec("data-c", &servers[2]).config(dies_fast))
        .template(spec("spare", &servers[0]));
    let pool = within(ClientSupervisor::start(config)).await.unwrap();
    let events = pool.events();

    let all = channels(0..3_000);
    let report = tokio::time::timeout(
        WAIT * 3,
        pool.subscribe_sharded(all.clone(), &ShardOptions::default()),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(report.opened.is_empty() && report.duplicates.is_empty(), "{report:?}");
    let ids: Vec<_> = pool.list_clients().iter().map(|info| info.id).collect();
    assert_eq!(report.placed.iter().map(|(_, n)| *n).collect::<Vec<_>>(), [1_000; 3]);
    assert_eq!(
        pool.shards().iter().map(|(id, held)| (*id, held.len())).collect::<Vec<_>>(),
        ids.iter().map(|id| (*id, 1_000)).collect::<Vec<_>>()
    );
    let asked = subscribed(&[&servers[0], &servers[1], &servers[2]]);
    assert_eq!(asked.len(), 3_000);
    assert!(asked.values().all(|&n| n == 1), "every channel confirmed once");
    for (info, server) in pool.list_clients().iter().zip(&servers) {
        assert_eq!((info.shard_channels, info.subscriptions), (1_000, 10), "{info:?}");
        assert_eq!(subscribed(&[server]).len(), 1_000);
    }
    let on_c: Vec<String> = pool.shards()[2].1.clone();

    // Asking again for held channels adds nothing.
    let again =
        within(pool.subscribe_sharded(all[..5].to_vec(), &ShardOptions::default())).await.unwrap();
    assert_eq!((again.placed.len(), again.duplicates.len()), (0, 5));

    servers[2].stop().await;
    servers[0].clear_received();
    let moved = wait_for(&events, "c's channels to move", |event| {
        matches!(event, PoolEvent::ChannelsMoved { .. })
    })
    .await;
    let PoolEvent::ChannelsMoved { from, to, channels: mut moved } = moved else { unreachable!() };
    assert_eq!(from, ids[2]);
    assert!(!ids.contains(&to), "a new client from the template takes them");
    moved.sort();
    let mut expected = on_c.clone();
    expected.sort();
    assert_eq!(moved, expected);
    let asked = subscribed(&[&servers[0]]);
    assert_eq!(asked.len(), 1_000, "confirmed on the spare's server");
    assert!(on_c.iter().all(|channel| asked.get(channel) == Some(&1)));
    let shards = pool.shards();
    assert_eq!(
        shards.iter().map(|(id, held)| (*id, held.len())).collect::<Vec<_>>(),
        [(ids[0], 1_000), (ids[1], 1_000), (to, 1_000)]
    );

    // Four clients (the failed one counts until stopped), all full: nothing more fits.
    let err = within(pool.subscribe_sharded(channels(3_000..3_001), &ShardOptions::default()))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::PoolExhausted { requested: 1, room: 0 }), "{err:?}");
    assert!(err.explain().suggestion.contains("max_clients"));
    pool.stop_client(ids[2]).await.unwrap();
    let report = within(pool.subscribe_sharded(channels(3_000..3_001), &ShardOptions::default()))
        .await
        .unwrap();
    assert_eq!(report.opened.len(), 1, "stopping the failed client freed its place");
}

#[tokio::test]
async fn a_pool_that_cannot_fit_them_all_subscribes_nothing() {
    let server = server().await;
    let config = pool_config()
        .max_subscriptions_per_client(10)
        .max_clients(2)
        .template(spec("data", &server));
    let pool = within(ClientSupervisor::start(config)).await.unwrap();
    let err = within(pool.subscribe_sharded(channels(0..21), &ShardOptions::default()))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::PoolExhausted { requested: 21, room: 20 }), "{err:?}");
    assert!(pool.list_clients().is_empty(), "no client opened");
    assert!(subscribed(&[&server]).is_empty(), "nothing subscribed");
}

#[tokio::test]
async fn least_loaded_evens_out_and_tags_choose_the_clients() {
    let server = server().await;
    let config = pool_config()
        .max_subscriptions_per_client(100)
        .shard_strategy(ShardStrategy::LeastLoaded)
        .client(spec("orders", &server).tag("orders"))
        .client(spec("data-1", &server).tag("data"))
        .client(spec("data-2", &server).tag("data"));
    let pool = within(ClientSupervisor::start(config)).await.unwrap();
    let ids: Vec<_> = pool.list_clients().iter().map(|info| info.id).collect();
    within(pool.subscribe_sharded(channels(0..30), &ShardOptions::default().tag("data")))
        .await
        .unwrap();
    within(pool.subscribe_sharded(channels(30..40), &ShardOptions::default().tag("data")))
        .await
        .unwrap();
    let sizes: Vec<_> = pool.shards().iter().map(|(id, held)| (*id, held.len())).collect();
    assert_eq!(sizes, [(ids[1], 20), (ids[2], 20)], "none on the orders client, even load");
    let err =
        within(pool.subscribe_sharded(channels(40..41), &ShardOptions::default().tag("nope")))
            .await
            .unwrap_err();
    assert!(matches!(err, Error::PoolExhausted { room: 0, .. }), "{err:?}");
}

#[tokio::test]
async fn a_restarted_client_subscribes_its_channels_again_and_messages_arrive_tagged() {
    let server = server().await;
    let config = pool_config()
        .intensity(RestartIntensity::new(1_000, Duration::from_secs(60)))
        .client(ClientSpec::new("data", server.url()).config(quick().retry_count(0)));
    let pool = within(ClientSupervisor::start(config)).await.unwrap();
    let events = pool.events();
    let id = pool.list_clients()[0].id;
    within(pool.subscribe_sharded(channels(0..50), &ShardOptions::default())).await.unwrap();

    server.stop().await;
    wait_for(&events, "a restart", |event| matches!(event, PoolEvent::Restarting { .. })).await;
    server.clear_received();
    server.restart().await.unwrap();
    wait_for(&events, "the fresh client", |event| matches!(event, PoolEvent::Started { .. })).await;
    let asked = subscribed(&[&server]);
    assert_eq!(asked.len(), 50, "every channel subscribed again on the fresh socket");
    assert_eq!(pool.client_info(id).unwrap().subscriptions, 1);

    server.inject_message(r#"{"jsonrpc":"2.0","method":"subscription","params":{"channel":"trades.INSTR-7.100ms","data":[]}}"#).await;
    let tagged = wait_for(&events, "the notification", |event| {
        matches!(event, PoolEvent::Client { event: Event::Message(_), .. })
    })
    .await;
    let PoolEvent::Client { client, event: Event::Message(message) } = tagged else {
        unreachable!()
    };
    assert_eq!(client, id);
    let value: Value = serde_json::from_str(message.as_text().unwrap()).unwrap();
    assert_eq!(value["params"]["channel"], "trades.INSTR-7.100ms");
}

#[tokio::test]
async fn channels_a_reconnect_could_not_restore_move_to_another_client() {
    let (refusing, healthy) = (server().await, server().await);
    let config = pool_config().client(spec("first", &refusing)).client(spec("second", &healthy));
    let pool = within(ClientSupervisor::start(config)).await.unwrap();
    let events = pool.events();
    let ids: Vec<_> = pool.list_clients().iter().map(|info| info.id).collect();
    within(pool.subscribe_sharded(channels(0..3), &ShardOptions::default())).await.unwrap();
    assert_eq!(pool.shards()[0].0, ids[0], "first-fit: all on the first client");

    refusing.set_rpc_handler(|request| match request.method.as_str() {
        "public/subscribe" => zen_websocket_testing::RpcReply::error(10_000, "not today"),
        _ => zen_websocket_testing::RpcReply::Default,
    });
    refusing.simulate_disconnect(zen_websocket_testing::DisconnectKind::Abrupt).await;
    let moved = wait_for(&events, "the lost channels to move", |event| {
        matches!(event, PoolEvent::ChannelsMoved { .. })
    })
    .await;
    let PoolEvent::ChannelsMoved { from, to, channels: mut moved } = moved else { unreachable!() };
    moved.sort();
    assert_eq!((from, to, moved), (ids[0], ids[1], channels(0..3)));
    assert_eq!(subscribed(&[&healthy]).len(), 3, "confirmed on the healthy client's server");
    assert_eq!(pool.shards(), [(ids[1], channels(0..3))]);
}

/// The channels of every `public/unsubscribe` request `server` read.
fn unsubscribed(server: &MockServer) -> Vec<String> {
    let mut asked: Vec<String> = server
        .received()
        .iter()
        .filter_map(|frame| frame.json())
        .filter(|request| request["method"] == "public/unsubscribe")
        .flat_map(|request| {
            let channels = request["params"]["channels"].as_array().cloned().unwrap_or_default();
            channels.into_iter().map(|channel| channel.as_str().unwrap().to_owned())
        })
        .collect();
    asked.sort();
    asked
}

#[tokio::test]
async fn unsubscribing_some_channels_keeps_the_rest_of_their_request_subscribed() {
    let server = server().await;
    let config = pool_config().template(spec("data", &server));
    let pool = within(ClientSupervisor::start(config)).await.unwrap();
    // 150 channels: two subscribe requests (100 + 50).
    within(pool.subscribe_sharded(channels(0..150), &ShardOptions::default())).await.unwrap();
    let id = pool.shards()[0].0;
    assert_eq!(pool.client_info(id).unwrap().subscriptions, 2);

    let leaving = [channels(10..12), channels(120..121), vec!["not-held".to_owned()]].concat();
    let dropped = within(pool.unsubscribe_sharded(leaving)).await.unwrap();
    assert_eq!(dropped, 3);
    let mut expected = [channels(10..12), channels(120..121)].concat();
    expected.sort();
    assert_eq!(unsubscribed(&server), expected, "the server is asked to drop those three only");
    let mut kept = [channels(0..10), channels(12..120), channels(121..150)].concat();
    kept.sort();
    assert_eq!(pool.shards(), [(id, kept.clone())]);
    let mut restored: Vec<String> =
        pool.client(id).unwrap().subscriptions().into_iter().flat_map(|(_, held)| held).collect();
    restored.sort();
    assert_eq!(restored, kept, "the client's own record (what a reconnect restores) agrees");

    // Unsubscribing a whole request's channels ends it; the room is there again.
    let dropped = within(pool.unsubscribe_sharded(channels(121..150))).await.unwrap();
    assert_eq!(dropped, 29);
    assert_eq!(pool.client_info(id).unwrap().shard_channels, 118);
}
