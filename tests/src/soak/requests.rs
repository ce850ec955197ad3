//! The request loop each client runs through the whole soak: one `public/test` in flight at a
//! time, each of which must resolve — with a result or an error — within its bound.

use std::{
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use serde_json::json;
use tokio::{sync::watch, time::Instant};
use zen_websocket::{Client, Error};

/// How long after `request_timeout` a request may still take before it counts as one that
/// never resolved.
pub(crate) const SLACK: Duration = Duration::from_secs(1);

/// The pause between one request's end and the next one's start.
const PAUSE: Duration = Duration::from_millis(50);

/// How the requests of one client (or of all, added up) ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RequestTally {
    /// Requests started.
    pub(crate) sent: u64,
    /// Answered with a result.
    pub(crate) ok: u64,
    /// Failed with `Disconnected`: the socket went away while they waited.
    pub(crate) disconnected: u64,
    /// Failed at once with `NotConnected`: sent while the client was reconnecting.
    pub(crate) not_connected: u64,
    /// Failed with `RequestTimeout` (resolved, but slowly: a sign of a stuck socket).
    pub(crate) timed_out: u64,
    /// Failed with any other error.
    pub(crate) other_errors: u64,
    /// Still unresolved `request_timeout` + [`SLACK`] after they started, or at the end.
    pub(crate) unresolved: u64,
    /// The slowest resolution, in microseconds.
    pub(crate) slowest_us: u64,
    /// The first unresolved requests and unexpected errors, described (capped).
    pub(crate) examples: Vec<String>,
}

/// How many problems are described in words.
const EXAMPLES: usize = 5;

impl RequestTally {
    /// Adds another tally (for the soak's totals).
    pub(crate) fn add(&mut self, other: &RequestTally) {
        self.sent += other.sent;
        self.ok += other.ok;
        self.disconnected += other.disconnected;
        self.not_connected += other.not_connected;
        self.timed_out += other.timed_out;
        self.other_errors += other.other_errors;
        self.unresolved += other.unresolved;
        self.slowest_us = self.slowest_us.max(other.slowest_us);
        for example in &other.examples {
            if self.examples.len() < EXAMPLES {
                self.examples.push(example.clone());
            }
        }
    }

    /// Requests that got an error (all of them resolved).
    pub(crate) fn errors(&self) -> u64 {
        self.disconnected + self.not_connected + self.timed_out + self.other_errors
    }

    fn example(&mut self, text: String) {
        if self.examples.len() < EXAMPLES {
            self.examples.push(text);
        }
    }

    fn resolved(
        &mut self,
        outcome: Result<zen_websocket::Result<serde_json::Value>, ()>,
        index: usize,
        n: u64,
    ) {
        match outcome {
            Ok(Ok(_)) => self.ok += 1,
            Ok(Err(Error::Disconnected)) => self.disconnected += 1,
            Ok(Err(Error::NotConnected(_))) => self.not_connected += 1,
            Ok(Err(Error::RequestTimeout { .. })) => self.timed_out += 1,
            Ok(Err(other)) => {
                self.other_errors += 1;
                self.example(format!("client {index} request {n}: unexpected error {other}"));
            }
            Err(()) => {
                self.unresolved += 1;
                self.example(format!("client {index} request {n}: unresolved after its bound"));
            }
        }
    }
}

/// Issues requests on `client` until `stop` turns `true`, tallying them in `tally`. A request
/// in flight when `stop` comes is still awaited (within its bound).
pub(crate) async fn issue(
    client: Client,
    index: usize,
    bound: Duration,
    tally: Arc<Mutex<RequestTally>>,
    mut stop: watch::Receiver<bool>,
) {
    for n in 0.. {
        tokio::select! {
            _ = stop.wait_for(|stop| *stop) => break,
            () = tokio::time::sleep(PAUSE) => {}
        }
        let started = Instant::now();
        let call = client.request("public/test", json!({"client": index, "n": n}));
        let outcome = tokio::time::timeout(bound + SLACK, call).await.map_err(|_| ());
        let took = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        let mut tally = tally.lock().unwrap_or_else(PoisonError::into_inner);
        tally.sent += 1;
        tally.slowest_us = tally.slowest_us.max(took);
        tally.resolved(outcome, index, n);
    }
}
