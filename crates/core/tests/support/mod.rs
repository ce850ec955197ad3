//! Helpers shared by the client's integration tests: bounded waits and servers to talk to.

#![allow(dead_code, unreachable_pub)] // Each test binary uses a different subset.

use std::{future::Future, time::Duration};

use zen_websocket_core::{Client, Config, Event, Message, TlsConfig};
use zen_websocket_testing::MockServer;

/// The bound on every wait in these tests.
pub const WAIT: Duration = Duration::from_secs(5);

/// Awaits `future`, failing the test if it takes longer than [`WAIT`].
pub async fn within<F: Future>(future: F) -> F::Output {
    tokio::time::timeout(WAIT, future).await.expect("timed out waiting")
}

/// A mock server, plain or TLS.
pub async fn server(tls: bool) -> MockServer {
    MockServer::builder().tls(tls).start().await.expect("mock server starts")
}

/// A config that trusts `server`'s CA when it serves TLS.
pub fn config_for(server: &MockServer) -> Config {
    let config = Config::default();
    match server.ca_certificate() {
        Some(ca) => config.tls(TlsConfig::default().webpki_roots(false).add_root_certificate(ca)),
        None => config,
    }
}

/// Connects to `server` with [`config_for`] plus `tweak`.
pub async fn connect_with(server: &MockServer, tweak: impl FnOnce(Config) -> Config) -> Client {
    within(Client::connect(&server.url(), tweak(config_for(server))))
        .await
        .expect("client connects")
}

/// Connects to `server` with the default settings.
pub async fn connect(server: &MockServer) -> Client {
    connect_with(server, |config| config).await
}

/// The next event, failing the test if none arrives in time.
pub async fn next_event(client: &Client) -> Event {
    within(client.recv()).await.expect("the inbox is open")
}

/// The next data message, failing on any other event.
pub async fn next_message(client: &Client) -> Message {
    match next_event(client).await {
        Event::Message(message) => message,
        other => panic!("expected a message, got {other:?}"),
    }
}

/// Declares one test per transport (ws and wss) running `$body(tls)`.
#[macro_export]
macro_rules! on_ws_and_wss {
    ($body:ident) => {
        mod $body {
            #[tokio::test]
            async fn ws() {
                super::$body(false).await;
            }

            #[tokio::test]
            async fn wss() {
                super::$body(true).await;
            }
        }
    };
}
