//! Session set-up: the requests a venue needs on every new socket go out first — before
//! restores and before any request of the user's — and a failed set-up never opens the socket.

mod support;

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use serde_json::json;
use support::{WAIT, eventually, next_event, within};
use zen_websocket_core::{
    Client, Config, ConnectStage, ConnectionState, Error, ErrorHandler, Event, HeartbeatConfig,
    Session,
};
use zen_websocket_testing::{ConnectionId, DisconnectKind, MockServer, RpcReply};

/// The JSON-RPC methods (or `text:…` for other frames) a connection sent, in order.
fn methods(server: &MockServer, connection: ConnectionId) -> Vec<String> {
    server
        .received_by(connection)
        .iter()
        .map(|frame| match frame.json() {
            Some(value) if value["method"].is_string() => {
                value["method"].as_str().unwrap().to_owned()
            }
            _ => format!("text:{}", frame.text().unwrap_or_default()),
        })
        .collect()
}

/// A set-up that logs in, counting its runs.
fn login(
    runs: &Arc<AtomicUsize>,
) -> impl Fn(
    Session,
) -> std::pin::Pin<
    Box<dyn std::future::Future<Output = zen_websocket_core::Result<()>> + Send>,
> + Send
+ Sync
+ 'static {
    let runs = Arc::clone(runs);
    move |session: Session| {
        let runs = Arc::clone(&runs);
        Box::pin(async move {
            session.request("public/auth", json!({"grant_type": "client_credentials"})).await?;
            runs.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
    }
}

#[tokio::test]
async fn connect_returns_once_the_set_up_is_done_and_the_users_frames_follow_it() {
    let server = MockServer::builder()
        .rpc_handler(|request| match request.method.as_str() {
            "public/auth" => RpcReply::delayed(Duration::from_millis(100), RpcReply::Default),
            _ => RpcReply::Default,
        })
        .start()
        .await
        .unwrap();
    let first = Arc::new(AtomicBool::new(false));
    let seen = Arc::clone(&first);
    let runs = Arc::new(AtomicUsize::new(0));
    let log_in = login(&runs);
    let config = Config::default().heartbeat(HeartbeatConfig::deribit()).session_setup(
        move |session: Session| {
            seen.store(!session.is_reconnect(), Ordering::SeqCst);
            log_in(session)
        },
    );
    let client = within(Client::connect(&server.url(), config)).await.unwrap();
    assert_eq!(runs.load(Ordering::SeqCst), 1, "connect returned after the set-up finished");
    assert!(first.load(Ordering::SeqCst), "the first socket is not a reconnect");
    assert_eq!(client.get_state(), ConnectionState::Connected);

    client.send_message("hello").await.unwrap();
    let connection = server.open_connection_ids()[0];
    eventually("the frame to arrive", || methods(&server, connection).len() == 3).await;
    assert_eq!(methods(&server, connection), ["public/set_heartbeat", "public/auth", "text:hello"]);
}

#[tokio::test]
async fn after_a_reconnect_the_set_up_runs_before_restores_and_before_the_users_requests() {
    let auths = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&auths);
    let server = MockServer::builder()
        .rpc_handler(move |request| match request.method.as_str() {
            // The second login is slow: the user's request is made while it is under way.
            "public/auth" if counted.fetch_add(1, Ordering::SeqCst) == 1 => {
                RpcReply::delayed(Duration::from_millis(300), RpcReply::Default)
            }
            _ => RpcReply::Default,
        })
        .start()
        .await
        .unwrap();
    let runs = Arc::new(AtomicUsize::new(0));
    let config =
        Config::default().retry_delay(Duration::from_millis(10)).session_setup(login(&runs));
    let client = within(Client::connect(&server.url(), config)).await.unwrap();
    client.subscribe(["trades.BTC-PERPETUAL.raw"]).await.unwrap();

    server.simulate_disconnect(DisconnectKind::Abrupt).await;
    eventually("the second login to arrive", || auths.load(Ordering::SeqCst) == 2).await;
    let second = *server.open_connection_ids().last().unwrap();
    let answer = within(client.request("private/get_positions", json!({}))).await.unwrap();
    assert!(answer.is_object() || answer.is_array() || answer.is_null() || answer.is_string());
    assert_eq!(
        methods(&server, second),
        ["public/auth", "public/subscribe", "private/get_positions"],
        "login, then the restore, then the user's request"
    );
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    assert!(matches!(next_event(&client).await, Event::Disconnected { will_retry: true, .. }));
    assert!(matches!(next_event(&client).await, Event::Reconnecting { attempt: 1, .. }));
    assert!(matches!(next_event(&client).await, Event::Connected));
}

#[tokio::test]
async fn a_refused_login_fails_connect_with_an_explained_error_and_leaves_nothing_running() {
    let server = MockServer::builder()
        .rpc_handler(|request| match request.method.as_str() {
            "public/auth" => RpcReply::error(13004, "invalid_credentials"),
            _ => RpcReply::Default,
        })
        .start()
        .await
        .unwrap();
    let config = Config::default().session_setup(login(&Arc::new(AtomicUsize::new(0))));
    let err = within(Client::connect(&server.url(), config)).await.unwrap_err();
    let Error::SessionSetup(inner) = &err else { panic!("expected SessionSetup, got {err:?}") };
    assert!(matches!(**inner, Error::JsonRpc { code: 13004, .. }), "{inner:?}");
    let explanation = ErrorHandler::explain(&err);
    assert!(explanation.message.contains("13004"), "{}", explanation.message);
    assert!(explanation.suggestion.contains("session_setup"), "{}", explanation.suggestion);
    assert!(explanation.docs_url.ends_with("#sessionsetup"));
    server.wait_for_connection_count(0, WAIT).await.unwrap();
}

#[tokio::test]
async fn a_set_up_that_fails_after_a_reconnect_is_one_failed_attempt_and_never_reported_open() {
    let auths = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&auths);
    let server = MockServer::builder()
        .rpc_handler(move |request| match request.method.as_str() {
            "public/auth" if counted.fetch_add(1, Ordering::SeqCst) == 1 => {
                RpcReply::error(10028, "too_many_requests")
            }
            _ => RpcReply::Default,
        })
        .start()
        .await
        .unwrap();
    let config = Config::default()
        .retry_delay(Duration::from_millis(10))
        .session_setup(login(&Arc::new(AtomicUsize::new(0))));
    let client = within(Client::connect(&server.url(), config)).await.unwrap();

    server.simulate_disconnect(DisconnectKind::Abrupt).await;
    assert!(matches!(next_event(&client).await, Event::Disconnected { will_retry: true, .. }));
    assert!(matches!(next_event(&client).await, Event::Reconnecting { attempt: 1, .. }));
    // The refused socket is dropped without a Disconnected: it was never open.
    assert!(matches!(next_event(&client).await, Event::Reconnecting { attempt: 2, .. }));
    assert!(matches!(next_event(&client).await, Event::Connected));
    assert_eq!(auths.load(Ordering::SeqCst), 3);
    assert_eq!(client.get_state(), ConnectionState::Connected);
    assert_eq!(server.total_connections(), 3);
}

#[tokio::test]
async fn a_panicking_set_up_and_one_that_never_ends_fail_connect_within_bounds() {
    let server = MockServer::start().await.unwrap();
    let config = Config::default().session_setup(|_: Session| async { panic!("set-up bug") });
    let err = within(Client::connect(&server.url(), config)).await.unwrap_err();
    assert!(
        matches!(&err, Error::SessionSetup(inner) if matches!(**inner, Error::CallbackPanicked { callback: "session set-up" })),
        "{err:?}"
    );

    let config = Config::default()
        .request_timeout(Duration::from_millis(300))
        .session_setup(|_: Session| std::future::pending::<zen_websocket_core::Result<()>>());
    let err = within(Client::connect(&server.url(), config)).await.unwrap_err();
    assert!(
        matches!(&err, Error::SessionSetup(inner) if matches!(**inner, Error::Timeout { stage: ConnectStage::Session, .. })),
        "{err:?}"
    );
    server.wait_for_connection_count(0, WAIT).await.unwrap();
}

#[tokio::test]
async fn a_session_outliving_its_set_up_is_refused() {
    let server = MockServer::start().await.unwrap();
    let (keep, kept) = tokio::sync::oneshot::channel();
    let keep = std::sync::Mutex::new(Some(keep));
    let config = Config::default().session_setup(move |session: Session| {
        if let Some(keep) = keep.lock().unwrap().take() {
            let _ = keep.send(session);
        }
        async { Ok(()) }
    });
    let _client = within(Client::connect(&server.url(), config)).await.unwrap();
    let session = kept.await.unwrap();
    let err = within(session.request("public/test", json!({}))).await.unwrap_err();
    assert!(matches!(err, Error::NotConnected(_)), "{err:?}");
}
