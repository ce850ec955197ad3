//! A busy reader does the connection's work on its own thread, and nothing the connection owes
//! anyone waits on that reader: replies, closes and reconnections go on when it stops reading,
//! every message reaches exactly one reader in order, and a reader on another runtime works.

mod support;

use std::{future::Future, task::Poll, time::Duration};

use serde_json::json;
use support::{connect_with, next_event, within};
use zen_websocket_core::{Client, Config, DisconnectReason, Error, Event, HeartbeatConfig};
use zen_websocket_testing::{
    Direction, DisconnectKind, Fault, FaultProxy, MockServer, Reply, RpcReply,
};

/// `count` numbered notifications starting at `from`.
fn numbered(from: usize, count: usize) -> Reply {
    let one = |n: usize| Reply::Json(json!({"method": "subscription", "params": {"n": n}}));
    Reply::Many((from..from + count).map(one).collect())
}

fn number(event: Event) -> u64 {
    match event {
        Event::Message(message) => message.json().unwrap()["params"]["n"].as_u64().unwrap(),
        other => panic!("expected a message, got {other:?}"),
    }
}

async fn read_numbers(client: &Client, from: usize, count: usize) {
    for expected in from..from + count {
        assert_eq!(number(next_event(client).await), expected as u64, "out of order");
    }
}

/// A client whose requests would wait far longer than any bound below if their replies were
/// held back.
async fn patient_client(server: &MockServer) -> Client {
    connect_with(server, |config| config.request_timeout(Duration::from_secs(60))).await
}

/// A patient client sent `sent` numbered messages, of which it has read the first `read`:
/// busy enough to have taken the connection's work over.
async fn busy_client(sent: usize, read: usize) -> (MockServer, Client) {
    let server = MockServer::start().await.unwrap();
    let client = patient_client(&server).await;
    within(server.inject(numbered(0, sent))).await;
    read_numbers(&client, 0, read).await;
    (server, client)
}

/// A request the mock server answers, answered in time.
async fn assert_answered(client: &Client) {
    let answer = within(client.request("public/test", json!({}))).await;
    assert_eq!(answer.unwrap()["version"], "1.2.26");
}

#[tokio::test]
async fn a_reader_that_stops_mid_flood_holds_back_no_reply() {
    let (_server, client) = busy_client(20_000, 5_000).await;
    // Nobody reads now; the reply behind the unread notifications still comes back.
    assert_answered(&client).await;
    read_numbers(&client, 5_000, 15_000).await;
}

#[tokio::test]
async fn a_busy_reader_that_goes_idle_is_woken_by_the_next_message() {
    let (server, client) = busy_client(2_000, 2_000).await;

    let waiting = tokio::spawn({
        let client = client.clone();
        async move { number(next_event(&client).await) }
    });
    tokio::task::yield_now().await;
    within(server.inject(numbered(2_000, 1))).await;
    assert_eq!(within(waiting).await.unwrap(), 2_000);
    // And a request answered afterwards, the connection idle and the reader gone.
    assert_answered(&client).await;
}

#[tokio::test]
async fn two_readers_share_a_flood_each_message_once_and_in_order() {
    const TOTAL: usize = 30_000;
    let server = MockServer::start().await.unwrap();
    let client = patient_client(&server).await;
    let by_recv = tokio::spawn({
        let client = client.clone();
        async move {
            let mut seen = Vec::new();
            while let Ok(Some(event)) =
                tokio::time::timeout(Duration::from_millis(500), client.recv()).await
            {
                seen.push(number(event));
            }
            seen
        }
    });
    let by_events = tokio::spawn({
        let mut events = client.events();
        async move {
            let (mut seen, mut batch) = (Vec::new(), Vec::new());
            while let Ok(read) =
                tokio::time::timeout(Duration::from_millis(500), events.recv_many(&mut batch, 100))
                    .await
            {
                assert!(read > 0, "the inbox closed");
                seen.extend(batch.drain(..).map(number));
            }
            seen
        }
    });
    within(server.inject(numbered(0, TOTAL))).await;
    let (a, b) = (within(by_recv).await.unwrap(), within(by_events).await.unwrap());
    for seen in [&a, &b] {
        assert!(seen.windows(2).all(|pair| pair[0] < pair[1]), "each reader's share is in order");
    }
    let mut all: Vec<u64> = a.iter().chain(&b).copied().collect();
    all.sort_unstable();
    assert_eq!(all, (0..TOTAL as u64).collect::<Vec<_>>(), "every message exactly once");
}

#[tokio::test]
async fn a_socket_lost_during_a_readers_turn_is_reconnected_by_the_task() {
    let (server, client) = busy_client(3_000, 3_000).await;

    // The reader holds the work and waits: it sees the socket end, the task reconnects.
    within(server.simulate_disconnect(DisconnectKind::GoingAway)).await;
    match next_event(&client).await {
        Event::Disconnected { will_retry: true, .. } => {}
        other => panic!("expected Disconnected, got {other:?}"),
    }
    expect_reconnection(&client).await;
    within(server.inject(numbered(3_000, 3_000))).await;
    read_numbers(&client, 3_000, 3_000).await;
}

/// The events that follow a lost socket, up to the reconnection.
async fn expect_reconnection(client: &Client) {
    loop {
        match next_event(client).await {
            Event::Reconnecting { .. } => {}
            Event::Connected => return,
            other => panic!("expected the reconnection, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_blackholed_peer_is_found_dead_while_a_busy_reader_waits() {
    let server = MockServer::start().await.unwrap();
    let proxy = FaultProxy::start(server.addr()).await.unwrap();
    let heartbeat = HeartbeatConfig::ping().interval(Duration::from_millis(50)).max_failures(2);
    let config = Config::default().heartbeat(heartbeat);
    let client = within(Client::connect(&proxy.url("ws"), config)).await.unwrap();
    within(server.inject(numbered(0, 2_000))).await;
    read_numbers(&client, 0, 2_000).await;

    // Nothing gets through any more, both TCP connections stay up: the heartbeat, served while
    // the reader holds the work and waits, finds the peer dead, and the task reconnects.
    proxy.apply_all(Fault::blackhole(Direction::Both));
    match next_event(&client).await {
        Event::Disconnected {
            reason: DisconnectReason::Error(Error::HeartbeatTimeout { .. }),
            will_retry: true,
            ..
        } => {}
        other => panic!("expected a heartbeat timeout, got {other:?}"),
    }
    expect_reconnection(&client).await;
    within(server.inject(numbered(2_000, 100))).await;
    read_numbers(&client, 2_000, 100).await;
}

/// Runs `future` on the calling thread with no runtime at all, as a non-tokio executor would.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = std::task::Waker::from(std::sync::Arc::new(Unpark(std::thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        std::thread::park();
    }
}

#[test]
fn a_reader_outside_any_runtime_reads_everything_and_sees_the_close() {
    const TOTAL: usize = 20_000;
    let home =
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let (server, client) = home.block_on(async {
        let server = MockServer::start().await.unwrap();
        let client = patient_client(&server).await;
        (server, client)
    });
    let (read_all, all_read) = std::sync::mpsc::channel();
    let reader = std::thread::spawn({
        let mut events = client.events();
        move || {
            let (mut next, mut batch) = (0, Vec::new());
            while next < TOTAL {
                assert!(block_on(events.recv_many(&mut batch, 256)) > 0, "the inbox closed");
                for event in batch.drain(..) {
                    assert_eq!(number(event), next as u64, "out of order");
                    next += 1;
                }
            }
            read_all.send(()).unwrap();
            // Waiting, and holding the work, when the client is closed: the close is this
            // thread's turn to start, its timer on the connection's runtime.
            let mut rest = Vec::new();
            while block_on(events.recv_many(&mut batch, 256)) > 0 {
                rest.append(&mut batch);
            }
            rest
        }
    });
    home.block_on(async {
        within(server.inject(numbered(0, TOTAL))).await;
        for _ in 0..20 {
            assert_answered(&client).await;
        }
    });
    all_read.recv_timeout(support::WAIT).expect("the reader read every message in order");
    home.block_on(within(client.close())).unwrap();
    let rest = reader.join().expect("the reader saw the end");
    assert!(
        matches!(
            rest.as_slice(),
            [Event::Disconnected {
                reason: zen_websocket_core::DisconnectReason::ClientClosed,
                will_retry: false,
                ..
            }]
        ),
        "{rest:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_goes_out_from_the_callers_thread_while_the_connection_task_cannot_run() {
    let server = MockServer::start().await.unwrap();
    let url = server.url();
    let (hand_over, handed) = tokio::sync::oneshot::channel();
    let (release, released) = std::sync::mpsc::channel::<()>();
    // The connection's runtime runs on a thread of its own, which then stops driving it: the
    // connection task cannot be scheduled until that thread is released.
    let home = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let client = runtime.block_on(async {
            let client = Client::connect(&url, Config::default()).await.unwrap();
            // Answered: the task is serving the socket.
            assert_answered(&client).await;
            client
        });
        hand_over.send(client.clone()).expect("the test waits");
        released.recv_timeout(support::WAIT * 2).expect("released");
        runtime.block_on(within(client.close())).unwrap();
    });
    let client = within(handed).await.expect("connected");
    within(client.send_message("written by the caller")).await.unwrap();
    let sent = server.assert_message_sent("written by the caller", support::WAIT).await;
    release.send(()).unwrap();
    home.join().expect("the connection closed once its runtime ran again");
    sent.expect("the caller wrote its message itself");
}

/// A server that echoes every request's params as its result, and never answers
/// `public/never`.
async fn echo_server() -> MockServer {
    MockServer::builder()
        .rpc_handler(|request| match request.method.as_str() {
            "public/never" => RpcReply::None,
            _ => RpcReply::Result(request.params.clone()),
        })
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_caller_that_stops_polling_its_request_holds_back_no_reply() {
    let server = echo_server().await;
    let client = patient_client(&server).await;
    // Answered: the task is serving the socket.
    let answer = within(client.request("public/echo", json!({"n": 0}))).await.unwrap();
    assert_eq!(answer, json!({"n": 0}));
    let mut stalled = Box::pin(client.request("public/echo", json!({"n": 1})));
    // Polled once: the request is written, and its caller holds the connection's work while
    // it waits — then is not polled again.
    let first = std::future::poll_fn(|cx| Poll::Ready(stalled.as_mut().poll(cx))).await;
    assert!(first.is_pending());
    // Other callers' replies and the messages still come.
    let answer = within(client.request("public/echo", json!({"n": 2}))).await.unwrap();
    assert_eq!(answer, json!({"n": 2}));
    within(server.inject(numbered(0, 10))).await;
    read_numbers(&client, 0, 10).await;
    // And the stalled call has its own answer when it is polled again.
    assert_eq!(within(stalled).await.unwrap(), json!({"n": 1}));
}

#[tokio::test]
async fn a_socket_lost_while_a_caller_waits_for_its_reply_fails_the_call_and_reconnects() {
    let server = echo_server().await;
    let proxy = FaultProxy::start(server.addr()).await.unwrap();
    let config = Config::default().request_timeout(Duration::from_secs(60));
    let client = within(Client::connect(&proxy.url("ws"), config)).await.unwrap();
    let waiting = tokio::spawn({
        let client = client.clone();
        async move { client.request("public/never", json!({})).await }
    });
    let asked = server.assert_message_sent(json!({"method": "public/never"}), support::WAIT);
    asked.await.unwrap();
    proxy.reset_all().await;
    let err = within(waiting).await.unwrap().unwrap_err();
    assert!(matches!(err, Error::Disconnected), "{err:?}");
    match next_event(&client).await {
        Event::Disconnected { will_retry: true, .. } => {}
        other => panic!("expected Disconnected, got {other:?}"),
    }
    expect_reconnection(&client).await;
    let answer = within(client.request("public/echo", json!({"n": 3}))).await.unwrap();
    assert_eq!(answer, json!({"n": 3}));
}

#[test]
fn callers_on_other_runtimes_and_on_the_connections_each_get_their_own_replies_in_a_flood() {
    const TOTAL: usize = 20_000;
    const PER_CALLER: u64 = 200;
    let home =
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let (server, client) = home.block_on(async {
        let server = echo_server().await;
        let client = patient_client(&server).await;
        (server, client)
    });
    let call = |client: Client, caller: u64| async move {
        for n in 0..PER_CALLER {
            let params = json!({"caller": caller, "n": n});
            let answer = client.request("public/echo", params.clone()).await.unwrap();
            assert_eq!(answer, params, "a reply reached the wrong caller");
        }
    };
    // Three callers on threads of their own, each with a runtime of its own, two as tasks of
    // the connection's runtime, and a reader taking a flood meanwhile.
    let threads: Vec<_> = (0..3)
        .map(|caller| {
            let client = client.clone();
            std::thread::spawn(move || {
                let own = tokio::runtime::Builder::new_current_thread().enable_all().build();
                own.unwrap().block_on(within(call(client, caller)));
            })
        })
        .collect();
    home.block_on(async {
        let tasks: Vec<_> =
            (3..5).map(|caller| tokio::spawn(call(client.clone(), caller))).collect();
        within(server.inject(numbered(0, TOTAL))).await;
        read_numbers(&client, 0, TOTAL).await;
        for task in tasks {
            within(task).await.unwrap();
        }
    });
    for thread in threads {
        thread.join().expect("every caller on another runtime had its replies");
    }
}
