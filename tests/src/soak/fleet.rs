//! The soak's clients: their configuration (fast reconnects, a short heartbeat), their
//! channels, and the two tasks each one runs (the event reader and the request loop).

use std::{
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use anyhow::Context;
use tokio::{sync::watch, task::JoinHandle, time::Instant};
use zen_websocket::{
    Client, Config, HeartbeatConfig,
    testing::{ConnectionId, ProxyConnectionId},
};

use super::{
    requests::{self, RequestTally},
    tracker::{self, Tracker},
};

/// The first reconnection delay.
pub(crate) const RETRY_DELAY: Duration = Duration::from_millis(25);
/// The longest reconnection delay (and so the longest `Retry-After` honoured).
pub(crate) const MAX_BACKOFF: Duration = Duration::from_millis(200);
/// How long a connection must stay up for the back-off to start again from `RETRY_DELAY`.
pub(crate) const BACKOFF_RESET_AFTER: Duration = Duration::from_millis(300);
/// The WebSocket ping interval; two missed pongs end the connection.
pub(crate) const HEARTBEAT: Duration = Duration::from_millis(200);
/// Consecutive missed pongs that end a connection.
pub(crate) const HEARTBEAT_FAILURES: u32 = 2;
/// A write that makes no progress for this long fails the connection.
pub(crate) const WRITE_TIMEOUT: Duration = Duration::from_secs(1);
/// Bound on each request (and subscription).
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);
/// Reconnection attempts before giving up: never reached while every failure recovers.
pub(crate) const RETRY_COUNT: u32 = 10_000;

/// The configuration every soak client uses.
pub(crate) fn config() -> Config {
    Config::default()
        .timeout(Duration::from_secs(2))
        .retry_count(RETRY_COUNT)
        .retry_delay(RETRY_DELAY)
        .max_backoff(MAX_BACKOFF)
        .retry_jitter(true)
        .backoff_reset_after(BACKOFF_RESET_AFTER)
        .heartbeat(HeartbeatConfig::ping().interval(HEARTBEAT).max_failures(HEARTBEAT_FAILURES))
        .write_timeout(WRITE_TIMEOUT)
        .request_timeout(REQUEST_TIMEOUT)
        .close_timeout(Duration::from_secs(1))
}

/// The channels of client `index`: `ticker.c{index}.s{n}.100ms`, unique per client.
pub(crate) fn channels(index: usize, count: usize) -> Vec<String> {
    (0..count).map(|n| format!("ticker.c{index}.s{n}.100ms")).collect()
}

/// One client of the soak and what the soak knows about it.
#[derive(Debug)]
pub(crate) struct SoakClient {
    /// Its position in the fleet.
    pub(crate) index: usize,
    /// The client.
    pub(crate) client: Client,
    /// The channels it subscribed to, one subscription each.
    pub(crate) channels: Vec<String>,
    /// Its events.
    pub(crate) tracker: Arc<Tracker>,
    /// Its requests.
    pub(crate) requests: Arc<Mutex<RequestTally>>,
    /// Its connection through the proxy, as of the last verification.
    pub(crate) link: Option<ProxyConnectionId>,
    /// Its connection on the server, as of the last verification.
    pub(crate) connection: Option<ConnectionId>,
    /// Failures forced on it.
    pub(crate) failures: u64,
    /// The event reader task.
    reader: Option<JoinHandle<()>>,
    /// The request loop task.
    requester: Option<JoinHandle<()>>,
}

impl SoakClient {
    /// Connects client `index` to `url`, subscribes to its channels one at a time, and starts
    /// its reader and request loop.
    ///
    /// # Errors
    ///
    /// When connecting or any subscription fails.
    pub(crate) async fn start(
        index: usize,
        url: &str,
        subscriptions: usize,
        epoch: Instant,
        stop: watch::Receiver<bool>,
    ) -> anyhow::Result<Self> {
        let client = Client::connect(url, config())
            .await
            .with_context(|| format!("client {index} could not connect to {url}"))?;
        let channels = channels(index, subscriptions);
        for channel in &channels {
            client
                .subscribe([channel.as_str()])
                .await
                .with_context(|| format!("client {index} could not subscribe to {channel}"))?;
        }
        let tracker = Arc::new(Tracker::new(epoch));
        let reader = tokio::spawn(tracker::read_events(client.clone(), Arc::clone(&tracker)));
        let tally = Arc::new(Mutex::new(RequestTally::default()));
        let issue =
            requests::issue(client.clone(), index, REQUEST_TIMEOUT, Arc::clone(&tally), stop);
        let requester = tokio::spawn(issue);
        Ok(Self {
            index,
            client,
            channels,
            tracker,
            requests: tally,
            link: None,
            connection: None,
            failures: 0,
            reader: Some(reader),
            requester: Some(requester),
        })
    }

    /// This client's request tally so far.
    pub(crate) fn tally(&self) -> RequestTally {
        self.requests.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Waits (bounded) for the request loop to end after `stop`; a loop still running then has
    /// a request that never resolved, which is counted before the task is aborted.
    pub(crate) async fn stop_requests(&mut self) {
        let Some(mut requester) = self.requester.take() else { return };
        let bound = REQUEST_TIMEOUT + requests::SLACK + Duration::from_secs(1);
        if tokio::time::timeout(bound, &mut requester).await.is_err() {
            requester.abort();
            let mut tally = self.requests.lock().unwrap_or_else(PoisonError::into_inner);
            tally.unresolved += 1;
            tally
                .examples
                .push(format!("client {}: a request still pending at the end", self.index));
        }
    }

    /// Closes the client and waits (bounded) for its reader to read the last event; returns
    /// whether the reader ended.
    pub(crate) async fn close(&mut self) -> bool {
        // `close` has its own bound (close_timeout plus a little).
        let _ = self.client.close().await;
        let Some(mut reader) = self.reader.take() else { return true };
        match tokio::time::timeout(Duration::from_secs(5), &mut reader).await {
            Ok(_) => true,
            Err(_) => {
                reader.abort();
                false
            }
        }
    }
}
