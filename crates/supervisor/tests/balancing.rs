//! Balanced sends and requests against real servers: traffic follows health, fails over only
//! while nothing was written, and never re-sends a frame that may have been written.

mod support;

use std::{collections::HashMap, sync::Arc, time::Duration};

use serde_json::json;
use support::{WAIT, eventually, pool_config, quick, server, spec, within};
use zen_websocket_core::{ConnectionState, Error as ClientError};
use zen_websocket_supervisor::{BalanceOptions, ClientId, ClientStatus, ClientSupervisor, Error};
use zen_websocket_testing::{Direction, Fault, FaultProxy, MockServer, RpcReply};

/// Sends `count` frames `{prefix}-{n}` one by one; the client each went to.
async fn send_many(
    pool: &ClientSupervisor,
    prefix: &str,
    count: usize,
) -> HashMap<ClientId, usize> {
    let mut spread = HashMap::new();
    for n in 0..count {
        let sent = within(pool.send_balanced(format!("{prefix}-{n}"), &BalanceOptions::default()))
            .await
            .unwrap_or_else(|error| panic!("send {prefix}-{n} failed: {error}"));
        *spread.entry(sent.client).or_default() += 1;
    }
    spread
}

/// Frames starting with `prefix` that `server` received.
fn received(server: &MockServer, prefix: &str) -> usize {
    server
        .received()
        .iter()
        .filter(|frame| frame.text().is_some_and(|text| text.starts_with(prefix)))
        .count()
}

fn ids(pool: &ClientSupervisor) -> Vec<ClientId> {
    pool.list_clients().iter().map(|info| info.id).collect()
}

#[tokio::test]
async fn traffic_leaves_a_stopped_server_without_caller_errors_and_returns_after_its_restart() {
    let servers = [server().await, server().await, server().await];
    let mut config = pool_config();
    for (name, server) in ["a", "b", "c"].into_iter().zip(&servers) {
        config = config.client(spec(name, server).config(quick().retry_count(10_000)));
    }
    let pool = within(ClientSupervisor::start(config)).await.unwrap();
    let [a, b, c] = ids(&pool)[..] else { panic!("three clients") };

    let before = send_many(&pool, "before", 30).await;
    assert_eq!((before[&a], before[&b], before[&c]), (10, 10, 10), "ties take turns");

    servers[2].stop().await;
    eventually("c to notice its server is gone", || {
        pool.client_info(c).unwrap().status != ClientStatus::Connected
    })
    .await;
    let during = send_many(&pool, "during", 60).await;
    assert_eq!(during.get(&c), None, "nothing goes to the client whose server is down");
    assert!(during[&a] > 0 && during[&b] > 0, "{during:?}");
    eventually("a and b to read every frame", || {
        received(&servers[0], "during") + received(&servers[1], "during") == 60
    })
    .await;

    servers[2].restart().await.unwrap();
    eventually("c to reconnect", || pool.client_info(c).unwrap().status == ClientStatus::Connected)
        .await;
    let after = send_many(&pool, "after", 30).await;
    assert!(after.get(&c).is_some_and(|&n| n > 0), "c takes traffic again: {after:?}");
    eventually("c's server to read its share", || received(&servers[2], "after") == after[&c])
        .await;
}

#[tokio::test]
async fn a_client_refusing_before_writing_fails_over_and_nothing_is_sent_twice() {
    let (limited, open) = (server().await, server().await);
    // One token, never refilled, nobody may wait: every send after the first is refused
    // before anything is written.
    let one_token = support::one_token();
    let config = pool_config()
        .client(spec("limited", &limited).config(quick().rate_limiter(one_token)))
        .client(spec("open", &open));
    let pool = within(ClientSupervisor::start(config)).await.unwrap();
    let [limited_id, open_id] = ids(&pool)[..] else { panic!("two clients") };

    let spread = send_many(&pool, "order", 10).await;
    assert_eq!((spread.get(&limited_id), spread[&open_id]), (Some(&1), 9));
    eventually("every frame read", || received(&limited, "order") + received(&open, "order") == 10)
        .await;
    assert_eq!(received(&limited, "order"), 1);

    // Only the limited client is eligible: it refuses, nothing else to try.
    let only_limited = BalanceOptions::default().name("limited");
    match within(pool.send_balanced("refused", &only_limited)).await {
        Err(Error::AttemptsExhausted { attempts }) => {
            assert_eq!(attempts.len(), 1);
            assert!(matches!(attempts[0], (id, ClientError::RateLimited(_)) if id == limited_id));
        }
        other => panic!("expected AttemptsExhausted, got {other:?}"),
    }
}

#[tokio::test]
async fn a_request_that_timed_out_after_being_written_is_outcome_unknown_and_not_retried() {
    let silent_on_buy = || {
        MockServer::builder().rpc_handler(|request| match request.method.as_str() {
            "private/buy" => RpcReply::None,
            _ => RpcReply::Default,
        })
    };
    let servers = [silent_on_buy().start().await.unwrap(), silent_on_buy().start().await.unwrap()];
    let short = quick().request_timeout(Duration::from_millis(300));
    let config = pool_config()
        .client(spec("a", &servers[0]).config(short.clone()))
        .client(spec("b", &servers[1]).config(short));
    let pool = within(ClientSupervisor::start(config)).await.unwrap();

    let order = json!({"instrument_name": "BTC-PERPETUAL", "amount": 10});
    let options = BalanceOptions::default().max_attempts(2);
    let error = within(pool.request_balanced("private/buy", order, &options)).await.unwrap_err();
    let Error::OutcomeUnknown { client, error: ClientError::RequestTimeout { .. } } = &error else {
        panic!("expected OutcomeUnknown after a timeout, got {error:?}");
    };
    assert!(error.explain().suggestion.contains("before sending it again"));

    // A later request on each connection is answered only after everything sent before it was
    // read: had the order been retried, its server would have it by now.
    for id in ids(&pool) {
        within(pool.client(id).unwrap().request("public/test", json!({}))).await.unwrap();
    }
    let buys = |server: &MockServer| {
        server
            .received()
            .iter()
            .filter(|frame| frame.text().is_some_and(|text| text.contains("private/buy")))
            .count()
    };
    assert_eq!(buys(&servers[0]) + buys(&servers[1]), 1, "written once, on {client}, never again");
}

#[tokio::test]
async fn a_slow_server_gets_measurably_less_traffic() {
    let servers = [server().await, server().await, server().await];
    let proxy = FaultProxy::start(servers[2].addr()).await.unwrap();
    proxy.set_default(zen_websocket_testing::Faults::none().with(Fault::latency(
        Direction::Both,
        Duration::from_millis(20),
        Duration::ZERO,
    )));
    let config = pool_config()
        .client(spec("fast-1", &servers[0]))
        .client(spec("fast-2", &servers[1]))
        .client(zen_websocket_supervisor::ClientSpec::new("slow", proxy.url("ws")).config(quick()));
    let pool = Arc::new(within(ClientSupervisor::start(config)).await.unwrap());
    let [fast_1, fast_2, slow] = ids(&pool)[..] else { panic!("three clients") };

    // Two callers at a time: the slow client is measured, then passed over.
    let workers = (0..2).map(|_| {
        let pool = Arc::clone(&pool);
        tokio::spawn(async move {
            let mut spread: HashMap<ClientId, usize> = HashMap::new();
            for _ in 0..60 {
                let answer = pool
                    .request_balanced("public/test", json!({}), &BalanceOptions::default())
                    .await
                    .unwrap();
                *spread.entry(answer.client).or_default() += 1;
            }
            spread
        })
    });
    let mut total: HashMap<ClientId, usize> = HashMap::new();
    for worker in workers {
        for (id, n) in tokio::time::timeout(WAIT * 3, worker).await.unwrap().unwrap() {
            *total.entry(id).or_default() += n;
        }
    }
    let (slow_n, fast_n) =
        (total.get(&slow).copied().unwrap_or(0), total[&fast_1].min(total[&fast_2]));
    assert_eq!(total.values().sum::<usize>(), 120);
    assert!(
        slow_n * 4 < fast_n,
        "the slow client took {slow_n}, the fast ones at least {fast_n}: {total:?}"
    );
}

#[tokio::test]
async fn filters_pick_by_tag_name_and_authentication_which_a_reconnect_clears() {
    let (orders_server, data_server) = (server().await, server().await);
    let config = pool_config()
        .client(spec("orders", &orders_server).tag("orders"))
        .client(spec("data", &data_server));
    let pool = within(ClientSupervisor::start(config)).await.unwrap();
    let [orders, data] = ids(&pool)[..] else { panic!("two clients") };

    for _ in 0..4 {
        let sent = within(pool.send_balanced("x", &BalanceOptions::default().tag("orders")))
            .await
            .unwrap();
        assert_eq!(sent.client, orders);
        let sent =
            within(pool.send_balanced("x", &BalanceOptions::default().name("data"))).await.unwrap();
        assert_eq!(sent.client, data);
    }
    let authenticated = BalanceOptions::default().authenticated();
    let err = within(pool.send_balanced("x", &authenticated)).await.unwrap_err();
    assert!(matches!(&err, Error::NoEligibleClient { clients: 2, .. }), "{err:?}");

    assert!(pool.mark_authenticated(orders).unwrap());
    assert_eq!(within(pool.send_balanced("x", &authenticated)).await.unwrap().client, orders);
    assert!(pool.client_info(orders).unwrap().authenticated);

    orders_server.simulate_disconnect(zen_websocket_testing::DisconnectKind::Abrupt).await;
    let client = pool.client(orders).unwrap();
    eventually("the orders client to reconnect", || {
        client.get_state() == ConnectionState::Connected
            && client.get_state_metrics().reconnects == 1
    })
    .await;
    let err = within(pool.send_balanced("x", &authenticated)).await.unwrap_err();
    assert!(
        matches!(err, Error::NoEligibleClient { .. }),
        "a new socket is not logged in: {err:?}"
    );
    assert!(!pool.client_info(orders).unwrap().authenticated);
}

#[tokio::test]
async fn clients_authenticated_on_connect_are_eligible_whenever_connected() {
    let server = server().await;
    let config = pool_config().client(spec("orders", &server).authenticated_on_connect());
    let pool = within(ClientSupervisor::start(config)).await.unwrap();
    let sent =
        within(pool.send_balanced("x", &BalanceOptions::default().authenticated())).await.unwrap();
    assert_eq!(Some(sent.client), ids(&pool).first().copied());
}

#[tokio::test]
async fn an_empty_pool_says_no_eligible_client() {
    let pool = within(ClientSupervisor::start(pool_config())).await.unwrap();
    let err = within(pool.request_balanced(
        "public/test",
        json!({}),
        &BalanceOptions::default().tag("orders"),
    ))
    .await
    .unwrap_err();
    assert!(
        matches!(&err, Error::NoEligibleClient { filter, clients: 0 } if filter.contains("orders")),
        "{err:?}"
    );
    assert!(!err.explain().suggestion.is_empty());
}
