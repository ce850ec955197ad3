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

/// Waits until `condition` holds, checking every few milliseconds, for state that has no event
/// to await (a monitor's figure); fails the test after [`WAIT`].
pub async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !condition() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Events delivered to a message handler, each with the client's state at that instant.
#[derive(Clone, Default)]
pub struct EventLog {
    client: std::sync::Arc<std::sync::OnceLock<Client>>,
    seen: std::sync::Arc<std::sync::Mutex<Vec<Seen>>>,
    changed: std::sync::Arc<tokio::sync::Notify>,
}

impl EventLog {
    /// Installs the log as `config`'s message handler.
    pub fn install(&self, config: Config) -> Config {
        let log = self.clone();
        config.message_handler(move |event| {
            let client = log.client.get();
            let state = client.map(Client::get_state);
            let state = state.unwrap_or(zen_websocket_core::ConnectionState::Connected);
            let failures = client.map_or(0, |client| client.get_heartbeat_health().failures);
            log.seen.lock().unwrap().push(Seen { event: describe(&event), state, failures });
            log.changed.notify_waiters();
        })
    }

    /// Connects to `server` with the log installed (plus `tweak`).
    pub async fn connect(
        &self,
        server: &MockServer,
        tweak: impl FnOnce(Config) -> Config,
    ) -> Client {
        let client = connect_with(server, |config| self.install(tweak(config))).await;
        let _ = self.client.set(client.clone());
        client
    }

    /// Every event so far, described, with the state seen at delivery.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Waits until an event whose description starts with `prefix` has been seen; returns
    /// every event up to and including it.
    pub async fn wait_for(&self, prefix: &str) -> Vec<Seen> {
        within(async {
            loop {
                let changed = self.changed.notified();
                let seen = self.seen();
                if let Some(at) = seen.iter().position(|seen| seen.event.starts_with(prefix)) {
                    return seen[..=at].to_vec();
                }
                changed.await;
            }
        })
        .await
    }
}

/// One event seen by an [`EventLog`], with what the client reported at that instant.
#[derive(Debug, Clone)]
pub struct Seen {
    /// The event, described by [`describe`].
    pub event: String,
    /// `get_state()` when the event was delivered.
    pub state: zen_websocket_core::ConnectionState,
    /// `get_heartbeat_health().failures` when the event was delivered.
    pub failures: u32,
}

/// A short, stable description of an event: its variant name, then details.
pub fn describe(event: &Event) -> String {
    match event {
        Event::Message(message) => format!("Message {}", message.as_text().unwrap_or("<binary>")),
        other => format!("{other:?}"),
    }
}
