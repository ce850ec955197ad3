//! Dynamic clients leave nothing behind; hooks never hold up connections; the opening limiter
//! paces the whole pool; discovered clients join balancing; shutdown ends everything.

mod support;

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use support::{eventually, pool_config, quick, server, spec, wait_for, within};
use zen_websocket_core::{
    Client, ConnectionState, Error as ClientError, RateLimiter, rate_limiter::RateLimiterConfig,
};
use zen_websocket_supervisor::{
    BalanceOptions, Change, ClientStatus, ClientSupervisor, Connect, Disconnect, Error, PoolEvent,
};
use zen_websocket_testing::DisconnectKind;

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, Iterator::count)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_clients_started_and_stopped_leave_no_task_and_no_socket() {
    let server = server().await;
    let pool = within(ClientSupervisor::start(pool_config().max_clients(100))).await.unwrap();
    let runtime = tokio::runtime::Handle::current().metrics();
    let (tasks_before, fds_before) = (runtime.num_alive_tasks(), open_fds());

    // One at a time, then all hundred at once.
    for round in 0..100 {
        let id = within(pool.start_client(spec(&format!("c{round}"), &server))).await.unwrap();
        within(pool.send_balanced("hi", &BalanceOptions::default())).await.unwrap();
        within(pool.stop_client(id)).await.unwrap();
    }
    let mut ids = Vec::new();
    for round in 0..100 {
        ids.push(within(pool.start_client(spec(&format!("d{round}"), &server))).await.unwrap());
    }
    assert_eq!(server.connection_count(), 100);
    let err = within(pool.start_client(spec("one-too-many", &server))).await.unwrap_err();
    assert!(matches!(err, Error::MaxClients { max_clients: 100 }), "{err:?}");
    for id in ids {
        within(pool.stop_client(id)).await.unwrap();
    }

    assert!(pool.list_clients().is_empty());
    eventually("the server to see every socket closed", || server.connection_count() == 0).await;
    assert_eq!(server.total_connections(), 200);
    eventually("every task of the clients to end", || runtime.num_alive_tasks() <= tasks_before)
        .await;
    eventually("every socket to be closed on our side", || open_fds() <= fds_before).await;
}

#[tokio::test]
async fn a_panicking_hook_and_a_sleeping_hook_hold_up_nothing() {
    let servers = [server().await, server().await];
    let sleeping = Arc::new(AtomicUsize::new(0));
    let asleep = Arc::clone(&sleeping);
    let config = pool_config()
        .on_connect(|_: Connect| async { panic!("a hook that panics") })
        .on_disconnect(move |_: Disconnect| {
            let asleep = Arc::clone(&asleep);
            async move {
                asleep.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        })
        .client(spec("a", &servers[0]))
        .client(spec("b", &servers[1]));
    let pool = within(ClientSupervisor::start(config)).await.unwrap();
    let ids: Vec<_> = pool.list_clients().iter().map(|info| info.id).collect();

    // Both drop, both reconnect (on_connect panics again), while on_disconnect sleeps 5 s.
    for server in &servers {
        server.simulate_disconnect(DisconnectKind::Abrupt).await;
    }
    eventually("both sleeping hooks to run", || sleeping.load(Ordering::SeqCst) == 2).await;
    // Well before the sleeping hooks wake up, both clients are back and balanced over.
    let back = tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            let redialled = servers.iter().all(|server| server.total_connections() == 2);
            let all_up = redialled
                && ids
                    .iter()
                    .all(|id| pool.client_info(*id).unwrap().status == ClientStatus::Connected);
            if all_up {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let mut seen = std::collections::HashSet::new();
        for _ in 0..4 {
            seen.insert(pool.send_balanced("x", &BalanceOptions::default()).await.unwrap().client);
        }
        seen.len()
    })
    .await;
    assert_eq!(back.expect("connections and balancing do not wait for hooks"), 2);
}

#[tokio::test]
async fn the_opening_limiter_paces_every_client_of_the_pool() {
    let server = server().await;
    // Two opens, then none: a third dial by any client of the pool is refused.
    let two_opens = RateLimiter::new(
        RateLimiterConfig::new()
            .capacity(2)
            .refill_rate(1)
            .refill_interval(Duration::from_secs(86_400))
            .max_queue(0),
    )
    .unwrap();
    let pool =
        within(ClientSupervisor::start(pool_config().open_limiter(Some(two_opens)))).await.unwrap();
    within(pool.start_client(spec("one", &server))).await.unwrap();
    within(pool.start_client(spec("two", &server))).await.unwrap();
    let err = within(pool.start_client(spec("three", &server))).await.unwrap_err();
    assert!(
        matches!(&err, Error::StartFailed { error: ClientError::RateLimited(_), .. }),
        "the pool's limiter refused the third open: {err:?}"
    );
    assert_eq!(server.total_connections(), 2);
    assert_eq!(pool.list_clients().len(), 2, "nothing left of the refused start");
}

#[tokio::test]
async fn discovered_clients_join_and_leave_balancing() {
    let (own, elsewhere) = (server().await, server().await);
    let pool =
        within(ClientSupervisor::start(pool_config().client(spec("own", &own)))).await.unwrap();
    let found = within(Client::connect(&elsewhere.url(), quick())).await.unwrap();
    let (changes, receiver) = tokio::sync::mpsc::unbounded_channel();
    let mut receiver = receiver;
    pool.discover(futures_util::stream::poll_fn(move |cx| receiver.poll_recv(cx)));

    changes.send(Change::Insert("node-b".into(), found.clone())).unwrap();
    eventually("the discovered client", || pool.list_clients().len() == 2).await;
    let info = pool.list_clients().into_iter().find(|info| info.name == "node-b").unwrap();
    assert_eq!(info.status, ClientStatus::Discovered);
    let sent = within(pool.send_balanced("via-b", &BalanceOptions::default().name("node-b")))
        .await
        .unwrap();
    assert_eq!(sent.client, info.id);
    eventually("the frame on the other node's server", || {
        elsewhere.received().iter().any(|frame| frame.text() == Some("via-b"))
    })
    .await;

    changes.send(Change::Remove("node-b".into())).unwrap();
    eventually("the discovered client to go", || pool.list_clients().len() == 1).await;
    let err = within(pool.send_balanced("x", &BalanceOptions::default().name("node-b")))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NoEligibleClient { .. }), "{err:?}");
    assert_eq!(
        found.get_state(),
        ConnectionState::Connected,
        "the pool never closes what it does not own"
    );
}

#[tokio::test]
async fn shutdown_closes_every_client_and_ends_the_event_stream() {
    let server = server().await;
    let pool = within(ClientSupervisor::start(
        pool_config().client(spec("a", &server)).client(spec("b", &server)),
    ))
    .await
    .unwrap();
    let events = pool.events();
    wait_for(&events, "a start", |event| matches!(event, PoolEvent::Started { .. })).await;
    within(pool.shutdown()).await;
    assert!(pool.list_clients().is_empty());
    eventually("both sockets closed", || server.connection_count() == 0).await;
    let err = within(pool.send_balanced("x", &BalanceOptions::default())).await.unwrap_err();
    assert!(matches!(err, Error::ShutDown), "{err:?}");
    let rest = within(async {
        let mut rest = 0;
        while events.recv().await.is_some() {
            rest += 1;
        }
        rest
    })
    .await;
    assert!(rest <= 4, "the stream ends after what was left: {rest}");
}

#[tokio::test]
async fn dropping_the_last_handle_closes_the_clients() {
    let server = server().await;
    let pool =
        within(ClientSupervisor::start(pool_config().client(spec("a", &server)))).await.unwrap();
    assert_eq!(server.connection_count(), 1);
    drop(pool);
    eventually("the client to close", || server.connection_count() == 0).await;
}
