//! `Client::closed` waits for the end of the connection for good and says how it ended,
//! without reading the inbox.

mod support;

use std::time::Duration;

use support::within;
use zen_websocket_core::{Client, Config, Ending};
use zen_websocket_testing::{DisconnectKind, MockServer};

async fn connect(server: &MockServer, config: Config) -> Client {
    within(Client::connect(&server.url(), config.no_heartbeat())).await.unwrap()
}

fn no_reconnect() -> Config {
    Config::default().reconnect_on_error(false)
}

#[tokio::test]
async fn close_ends_it_as_closed() {
    let server = MockServer::start().await.unwrap();
    let client = connect(&server, Config::default()).await;
    let closed = tokio::spawn({
        let client = client.clone();
        async move { client.closed().await }
    });
    within(client.close()).await.unwrap();
    assert_eq!(within(closed).await.unwrap(), Ending::Closed);
    assert!(Ending::Closed.is_normal());
}

#[tokio::test]
async fn a_server_close_without_reconnection_keeps_its_code() {
    let server = MockServer::start().await.unwrap();
    let client = connect(&server, no_reconnect()).await;
    within(server.simulate_disconnect(DisconnectKind::Code(1001, "bye".into()))).await;
    assert_eq!(within(client.closed()).await, Ending::ServerClosed { code: 1001 });
}

#[tokio::test]
async fn a_reset_without_reconnection_is_lost() {
    let server = MockServer::start().await.unwrap();
    let client = connect(&server, no_reconnect()).await;
    within(server.simulate_disconnect(DisconnectKind::Abrupt)).await;
    let ending = within(client.closed()).await;
    assert_eq!(ending, Ending::Lost);
    assert!(!ending.is_normal());
}

#[tokio::test]
async fn reconnection_that_runs_out_gave_up() {
    let server = MockServer::start().await.unwrap();
    let config = Config::default().retry_count(2).retry_delay(Duration::from_millis(10));
    let client = connect(&server, config).await;
    within(server.stop()).await;
    assert_eq!(within(client.closed()).await, Ending::GaveUp);
}

#[tokio::test]
async fn closed_does_not_wait_behind_unread_events() {
    let server = MockServer::start().await.unwrap();
    let client = connect(&server, no_reconnect().inbox_capacity(4)).await;
    for n in 0..50 {
        within(server.inject_message(format!("unread {n}"))).await;
    }
    support::eventually("a full inbox", || client.get_state_metrics().inbox_len >= 4).await;
    let closer = client.clone();
    tokio::spawn(async move { closer.close().await });
    // Nobody reads the inbox: the end is reported all the same.
    assert_eq!(within(client.closed()).await, Ending::Closed);
    assert!(client.get_state_metrics().inbox_len >= 4, "the events are still there to read");
}

#[test]
fn a_dropped_runtime_ends_the_task() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (server, client) = runtime.block_on(async {
        let server = MockServer::start().await.unwrap();
        let client = connect(&server, Config::default()).await;
        (server, client)
    });
    drop(runtime);
    let other = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    assert_eq!(other.block_on(within(client.closed())), Ending::TaskEnded);
    drop(server);
}
