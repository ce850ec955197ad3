//! The ezsockets peer (the other reconnecting Rust client), written the way its guide shows:
//! a [`ClientExt`] whose `on_text` handles each message, `ezsockets::connect` with a
//! [`ClientConfig`] left at its defaults except that it does not re-dial (like zen's rows).

use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use async_trait::async_trait;
use ezsockets::{
    ClientConfig, ClientExt, CloseFrame, Utf8Bytes,
    client::{Client, ClientCloseMode},
};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use crate::{
    clients,
    flood::Spec,
    rtt::{self, Percentiles},
};

/// How long closing may take before the client's task is left behind.
const CLOSE_LIMIT: Duration = Duration::from_secs(5);

/// Counts a flood; reports `(messages, bytes)` at the `target`th message or when the
/// connection ends, whichever comes first.
struct Counter {
    target: usize,
    received: usize,
    bytes: usize,
    done: Option<oneshot::Sender<(usize, usize)>>,
}

impl Counter {
    fn report(&mut self) {
        if let Some(done) = self.done.take() {
            let _ = done.send((self.received, self.bytes));
        }
    }
}

#[async_trait]
impl ClientExt for Counter {
    type Call = ();

    async fn on_text(&mut self, text: Utf8Bytes) -> Result<(), ezsockets::Error> {
        self.received += 1;
        self.bytes += text.len();
        if self.received == self.target {
            self.report();
        }
        Ok(())
    }

    async fn on_binary(&mut self, _bytes: ezsockets::Bytes) -> Result<(), ezsockets::Error> {
        Err("the flood is text".into())
    }

    async fn on_call(&mut self, (): ()) -> Result<(), ezsockets::Error> {
        Ok(())
    }

    async fn on_close(
        &mut self,
        _frame: Option<CloseFrame>,
    ) -> Result<ClientCloseMode, ezsockets::Error> {
        self.report();
        Ok(ClientCloseMode::Close)
    }

    async fn on_disconnect(&mut self) -> Result<ClientCloseMode, ezsockets::Error> {
        self.report();
        Ok(ClientCloseMode::Close)
    }
}

/// Hands every text message to the measuring task, and says when the socket is open.
struct Forwarder {
    connected: Option<oneshot::Sender<()>>,
    replies: mpsc::UnboundedSender<Utf8Bytes>,
}

#[async_trait]
impl ClientExt for Forwarder {
    type Call = ();

    async fn on_text(&mut self, text: Utf8Bytes) -> Result<(), ezsockets::Error> {
        Ok(self.replies.send(text)?)
    }

    async fn on_binary(&mut self, _bytes: ezsockets::Bytes) -> Result<(), ezsockets::Error> {
        Err("the echo is text".into())
    }

    async fn on_call(&mut self, (): ()) -> Result<(), ezsockets::Error> {
        Ok(())
    }

    async fn on_connect(&mut self) -> Result<(), ezsockets::Error> {
        if let Some(connected) = self.connected.take() {
            let _ = connected.send(());
        }
        Ok(())
    }

    async fn on_close(
        &mut self,
        _frame: Option<CloseFrame>,
    ) -> Result<ClientCloseMode, ezsockets::Error> {
        Ok(ClientCloseMode::Close)
    }

    async fn on_disconnect(&mut self) -> Result<ClientCloseMode, ezsockets::Error> {
        Ok(ClientCloseMode::Close)
    }
}

/// ezsockets' defaults, one connection attempt, no re-dial.
fn config(port: u16) -> ClientConfig {
    ClientConfig::new(clients::url(false, port).as_str())
        .max_initial_connect_attempts(1)
        .max_reconnect_attempts(0)
}

/// One flood sample: connect, then count `spec.count` messages in `on_text`; returns seconds.
///
/// # Errors
///
/// When the connection ends early or the byte count is wrong.
pub(crate) async fn flood(port: u16, spec: Spec) -> anyhow::Result<f64> {
    let (done, finished) = oneshot::channel();
    let started = Instant::now();
    let counter = Counter { target: spec.count, received: 0, bytes: 0, done: Some(done) };
    let (client, future) = ezsockets::connect(|_| counter, config(port)).await;
    let task = tokio::spawn(future);
    let (received, bytes) = finished.await.context("ezsockets: the client ended")?;
    let elapsed = started.elapsed();
    close(&client, task).await;
    ensure!(received == spec.count, "ezsockets: the connection ended after {received} messages");
    ensure!(bytes == spec.count * spec.size, "ezsockets: {bytes} bytes received");
    Ok(elapsed.as_secs_f64())
}

/// One round-trip sample: the same frames as raw's, sent with `client.text`, each reply taken
/// from `on_text` through a channel.
///
/// # Errors
///
/// When the connection fails or a reply does not match its request.
pub(crate) async fn rtt(port: u16, warmup: usize, requests: usize) -> anyhow::Result<Percentiles> {
    let (connected, opened) = oneshot::channel();
    let (replies, mut inbox) = mpsc::unbounded_channel();
    let forwarder = Forwarder { connected: Some(connected), replies };
    let (client, future) = ezsockets::connect(|_| forwarder, config(port)).await;
    let task = tokio::spawn(future);
    opened.await.context("ezsockets: could not connect")?;
    let mut histogram = rtt::histogram()?;
    for seq in 0..warmup + requests {
        let id = seq as u64 + 1;
        let started = Instant::now();
        client.text(rtt::request_text(id, seq)?)?;
        let Some(reply) = inbox.recv().await else {
            bail!("ezsockets: the connection ended at request {seq}");
        };
        let took = started.elapsed();
        let reply: Value = serde_json::from_str(reply.as_str()).context("ezsockets: reply")?;
        ensure!(reply["id"] == id, "ezsockets: reply {reply} to request {id}");
        if seq >= warmup {
            histogram.record(rtt::nanos(took))?;
        }
    }
    close(&client, task).await;
    Ok(rtt::percentiles(&histogram))
}

/// Asks the client to close and waits (a bounded time) for its task.
async fn close<E: ClientExt>(
    client: &Client<E>,
    task: tokio::task::JoinHandle<Result<(), ezsockets::Error>>,
) {
    // Refused when the client already stopped (the server closed first): nothing to do.
    let _ = client.close(None);
    let _ = tokio::time::timeout(CLOSE_LIMIT, task).await;
}
