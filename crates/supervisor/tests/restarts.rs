//! Restarts within the intensity, per restart type; past it a client fails alone.

mod support;

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use support::{eventually, pool_config, quick, server, spec, wait_for, within};
use zen_websocket_core::Ending;
use zen_websocket_supervisor::{
    BalanceOptions, Cause, ClientSpec, ClientStatus, ClientSupervisor, Failure, PoolEvent, Restart,
    RestartIntensity,
};
use zen_websocket_testing::FaultProxy;

#[tokio::test]
async fn a_client_whose_server_rejects_every_handshake_fails_after_max_restarts_and_others_carry_on()
 {
    let (good, bad) = (server().await, server().await);
    bad.reject_handshake(Some(503));
    // The proxy counts every dial, rejected or not.
    let dials = FaultProxy::start(bad.addr()).await.unwrap();
    let failures = Arc::new(AtomicUsize::new(0));
    let told = Arc::clone(&failures);
    let config = pool_config()
        .intensity(RestartIntensity::new(3, Duration::from_secs(60)))
        .on_failed(move |_: Failure| {
            told.fetch_add(1, Ordering::SeqCst);
            async {}
        })
        .client(spec("good", &good))
        .client(ClientSpec::new("bad", dials.url("ws")).config(quick()));
    let pool = Arc::new(within(ClientSupervisor::start(config)).await.unwrap());
    let events = pool.events();
    let ids: Vec<_> = pool.list_clients().iter().map(|info| info.id).collect();
    let (good_id, bad_id) = (ids[0], ids[1]);

    // Traffic on the good client all along.
    let stop = Arc::new(AtomicBool::new(false));
    let traffic = tokio::spawn({
        let (pool, stop) = (Arc::clone(&pool), Arc::clone(&stop));
        async move {
            let mut sent = 0;
            while !stop.load(Ordering::SeqCst) {
                let result = pool.send_balanced("tick", &BalanceOptions::default()).await;
                assert_eq!(
                    result.expect("no caller error while the bad client restarts").client,
                    good_id
                );
                sent += 1;
                tokio::task::yield_now().await;
            }
            sent
        }
    });

    let failed = wait_for(&events, "the bad client to fail", |event| {
        matches!(event, PoolEvent::Failed { .. })
    })
    .await;
    let PoolEvent::Failed { client, restarts, cause: Cause::ConnectFailed(why) } = failed else {
        panic!("unexpected {failed:?}")
    };
    assert_eq!((client, restarts), (bad_id, 3));
    assert!(why.contains("503"), "{why}");
    assert_eq!(dials.total_accepted(), 4, "the first attempt and three restarts, no more");
    let info = pool.client_info(bad_id).unwrap();
    assert_eq!((info.status, info.restarts, info.health), (ClientStatus::Failed, 3, 0));
    assert_eq!(pool.client_info(good_id).unwrap().status, ClientStatus::Connected);
    eventually("the on_failed hook", || failures.load(Ordering::SeqCst) == 1).await;

    stop.store(true, Ordering::SeqCst);
    let sent = within(traffic).await.unwrap();
    assert!(sent > 0);
    assert_eq!(good.connection_count(), 1, "the good client never dropped");
}

#[tokio::test]
async fn a_permanent_client_is_restarted_after_the_core_gives_up_and_holds_its_id() {
    let server = server().await;
    let config = pool_config()
        .intensity(RestartIntensity::new(1_000, Duration::from_secs(60)))
        .client(spec("main", &server).config(quick().retry_count(1)));
    let pool = within(ClientSupervisor::start(config)).await.unwrap();
    let events = pool.events();
    let id = pool.list_clients()[0].id;

    server.stop().await;
    let restarting =
        wait_for(&events, "a restart", |event| matches!(event, PoolEvent::Restarting { .. })).await;
    assert!(
        matches!(restarting, PoolEvent::Restarting { client, restarts: 1, cause: Cause::Ended(Ending::GaveUp), .. } if client == id),
        "{restarting:?}"
    );
    server.restart().await.unwrap();
    let started =
        wait_for(&events, "the fresh client", |event| matches!(event, PoolEvent::Started { .. }))
            .await;
    assert!(
        matches!(started, PoolEvent::Started { client, restarts } if client == id && restarts >= 1),
        "{started:?}"
    );
    let info = pool.client_info(id).unwrap();
    assert_eq!(info.status, ClientStatus::Connected);
    within(pool.send_balanced("back", &BalanceOptions::default())).await.unwrap();
}

#[tokio::test]
async fn a_temporary_client_leaves_the_pool_when_it_ends() {
    let server = server().await;
    let config = pool_config()
        .client(spec("once", &server).config(quick().retry_count(0)).restart(Restart::Temporary));
    let pool = within(ClientSupervisor::start(config)).await.unwrap();
    let events = pool.events();
    let id = pool.list_clients()[0].id;

    server.stop().await;
    let left = wait_for(&events, "the client to leave", |event| {
        matches!(event, PoolEvent::Left { .. } | PoolEvent::Restarting { .. })
    })
    .await;
    assert!(matches!(left, PoolEvent::Left { client } if client == id), "{left:?}");
    assert!(pool.list_clients().is_empty());
    assert!(pool.client(id).is_none());
}

#[tokio::test]
async fn a_fixed_client_whose_venue_is_down_at_start_is_restarted_until_it_comes_up() {
    let server = server().await;
    server.reject_handshake(Some(503));
    let config = pool_config()
        .intensity(RestartIntensity::new(1_000, Duration::from_secs(60)))
        .client(spec("late", &server));
    let pool = within(ClientSupervisor::start(config)).await.unwrap();
    let events = pool.events();
    let id = pool.list_clients()[0].id;
    assert!(matches!(
        pool.client_info(id).unwrap().status,
        ClientStatus::Restarting | ClientStatus::Starting
    ));

    server.reject_handshake(None);
    let started = wait_for(&events, "the client to start", |event| {
        matches!(event, PoolEvent::Started { .. })
    })
    .await;
    assert!(
        matches!(started, PoolEvent::Started { client, restarts } if client == id && restarts >= 1)
    );
    within(pool.send_balanced("hello", &BalanceOptions::default())).await.unwrap();
}
