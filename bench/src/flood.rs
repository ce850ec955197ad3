//! Inbound flood throughput: the server writes `count` text messages as fast as it can, the
//! client counts them. zen (through one of its consumer paths), raw and — on the rows that
//! say so — the peers take turns against the same server.

use std::{
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Instant,
};

use anyhow::{Context, bail, ensure};
use futures_util::StreamExt;
use serde::Serialize;
use tokio::{runtime::Handle, sync::Notify};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use zen_websocket_core::{Config, Event};

use crate::{
    clients::{self, Contender},
    events, ez,
    scripts::{Peers, Script},
    servers,
};

/// How zen's side of a row takes its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Path {
    /// `client.recv()`, one event per call (the default path).
    Recv,
    /// `Config::message_handler`: the connection task calls a closure for each event.
    Handler,
    /// `client.events()` and `Events::recv_many`, a batch per call ([`crate::events`]).
    RecvMany,
}

/// One flood row.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Spec {
    /// The row's name in the table, after `flood `.
    pub(crate) label: &'static str,
    /// Payload bytes per message.
    pub(crate) size: usize,
    /// Messages per sample: a zen or raw sample takes from a third of a second to 1½ s on a
    /// 2-core machine (Python's 64 B sample about 13 s).
    pub(crate) count: usize,
    /// zen's consumer path.
    pub(crate) path: Path,
    /// Whether ezsockets, Python and Node join the row.
    pub(crate) peers: bool,
}

impl Spec {
    /// The same row with `count / divisor` messages (`--quick`).
    pub(crate) fn scaled(self, divisor: usize) -> Self {
        Self { count: (self.count / divisor).max(1), ..self }
    }

    /// Who takes part, in the first round's order.
    fn contenders(self) -> Vec<Contender> {
        let mut who = vec![Contender::Zen, Contender::Raw];
        if self.peers {
            who.extend(Contender::PEERS);
        }
        who
    }
}

/// Messages per 64 B sample.
const N64: usize = 3_000_000;

/// The `recv_many` row's name.
const RECV_MANY: &str = "64 B recv_many";

/// The flood rows on the multi-thread runtime.
pub(crate) const SPECS: [Spec; 4] = [
    Spec { label: "64 B", size: 64, count: N64, path: Path::Recv, peers: true },
    Spec { label: "64 B handler", size: 64, count: N64, path: Path::Handler, peers: false },
    Spec { label: RECV_MANY, size: 64, count: N64, path: Path::RecvMany, peers: false },
    Spec { label: "16 KiB", size: 16 << 10, count: 160_000, path: Path::Recv, peers: false },
];

/// The row on a `current_thread` runtime (clients and server on its one thread).
pub(crate) const CURRENT_THREAD: Spec =
    Spec { label: "64 B current_thread", size: 64, count: N64, path: Path::Recv, peers: false };

/// The recording row: zen with [`Config::record_to`] against zen without it, on a 64 B flood
/// (smaller, so the file stays around 50 MB).
pub(crate) const RECORDING: Spec =
    Spec { label: "64 B", size: 64, count: 300_000, path: Path::Recv, peers: false };

/// Every sample of one flood row, in seconds per `count` messages.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct FloodResult {
    /// The row's name.
    pub(crate) label: &'static str,
    /// Payload bytes per message.
    pub(crate) size: usize,
    /// Messages per sample.
    pub(crate) count: usize,
    /// zen's consumer path.
    pub(crate) path: Path,
    /// The samples of each contender.
    pub(crate) secs: BTreeMap<Contender, Vec<f64>>,
}

/// The recording row's samples, in seconds per `count` messages, `close()` included.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RecordingResult {
    /// The row's name.
    pub(crate) label: &'static str,
    /// Messages per sample.
    pub(crate) count: usize,
    /// zen with `record_to`.
    pub(crate) on_secs: Vec<f64>,
    /// zen without it.
    pub(crate) off_secs: Vec<f64>,
}

/// Runs `repeats` rounds against one flood server (on `server`); each round every contender
/// takes one sample, and each goes first in turn.
///
/// # Errors
///
/// When a client fails or receives something other than the flood.
pub(crate) async fn run(
    spec: Spec,
    repeats: usize,
    server: &Handle,
    peers: &Peers,
) -> anyhow::Result<FloodResult> {
    let payload = Utf8Bytes::from(payload(spec.size));
    let (port, server) = servers::spawn_flood(server, payload, spec.count)?;
    let mut secs: BTreeMap<Contender, Vec<f64>> = BTreeMap::new();
    for round in 0..repeats {
        for who in clients::rotated(&spec.contenders(), round) {
            let took = Box::pin(sample(who, port, spec, peers)).await?;
            secs.entry(who).or_default().push(took);
        }
    }
    server.abort();
    Ok(FloodResult { label: spec.label, size: spec.size, count: spec.count, path: spec.path, secs })
}

/// Runs `repeats` samples of zen recording into `file` and of zen not recording, against one
/// flood server.
///
/// # Errors
///
/// When a client fails or receives something other than the flood.
pub(crate) async fn run_recording(
    spec: Spec,
    repeats: usize,
    server: &Handle,
    file: &std::path::Path,
) -> anyhow::Result<RecordingResult> {
    let payload = Utf8Bytes::from(payload(spec.size));
    let (port, server) = servers::spawn_flood(server, payload, spec.count)?;
    let recording = || clients::zen_config().record_to(file);
    let mut result =
        RecordingResult { label: spec.label, count: spec.count, on_secs: vec![], off_secs: vec![] };
    for _ in 0..repeats {
        result.off_secs.push(zen_recv(port, spec, clients::zen_config(), true).await?);
        result.on_secs.push(zen_recv(port, spec, recording(), true).await?);
    }
    server.abort();
    let _ = std::fs::remove_file(file);
    Ok(result)
}

/// `profile CLIENT [--count N] [--size BYTES] [--multi-thread]`: one client's flood
/// (3,000,000 × 64 B by default) against the flood server, alone in the process. By default
/// both run on one `current_thread` runtime, so every CPU cycle is either the server's (the
/// same for every client) or the client's, and two clients' rates compare their costs per
/// message; with `--multi-thread`, on the bench's multi-thread runtime (the client on the
/// calling thread, as in the flood rows), for `perf record` or a thread's CPU time of one
/// client at a time. Prints `msgs/s`.
///
/// # Errors
///
/// An unknown client or option, or a failed flood.
pub(crate) fn profile(args: &[String]) -> anyhow::Result<()> {
    let (client, rest) = args.split_first().context("profile needs a client")?;
    let (zen_side, path) = match client.as_str() {
        "zen" => (true, Path::Recv),
        "zen-handler" => (true, Path::Handler),
        "zen-recv-many" => (true, Path::RecvMany),
        "raw" => (false, Path::Recv),
        other => bail!("unknown client `{other}`: zen, zen-handler, zen-recv-many or raw"),
    };
    let number = |name: &str, default: usize| -> anyhow::Result<usize> {
        match rest.iter().position(|arg| arg == name) {
            Some(at) => rest.get(at + 1).context("a value")?.parse().context(name.to_owned()),
            None => Ok(default),
        }
    };
    let spec = Spec {
        label: "profile",
        size: number("--size", 64)?,
        count: number("--count", N64)?,
        path,
        peers: false,
    };
    let runtime = if rest.iter().any(|arg| arg == "--multi-thread") {
        crate::runtime()?
    } else {
        tokio::runtime::Builder::new_current_thread().enable_all().build()?
    };
    let took = runtime.block_on(async {
        let payload = Utf8Bytes::from(payload(spec.size));
        let (port, server) = servers::spawn_flood(&Handle::current(), payload, spec.count)?;
        let took = if zen_side { Box::pin(zen(port, spec)).await } else { raw(port, spec).await };
        server.abort();
        took
    })?;
    println!("{client}: {:.0} msgs/s", spec.count as f64 / took);
    Ok(())
}

/// A JSON-looking text payload of exactly `size` bytes (at least 35).
pub(crate) fn payload(size: usize) -> String {
    let (head, tail) = (r#"{"channel":"bench.flood","data":""#, r#""}"#);
    let fill = size.saturating_sub(head.len() + tail.len());
    format!("{head}{}{tail}", "x".repeat(fill))
}

/// One sample of `who`, in seconds.
async fn sample(who: Contender, port: u16, spec: Spec, peers: &Peers) -> anyhow::Result<f64> {
    match who {
        Contender::Zen => zen(port, spec).await,
        Contender::Raw if matches!(spec.path, Path::Handler) => raw_on_worker(port, spec).await,
        Contender::Raw => raw(port, spec).await,
        Contender::Ezsockets => ez::flood(port, spec).await,
        Contender::Python => peers.flood(Script::Python, port, spec).await,
        Contender::Node => peers.flood(Script::Node, port, spec).await,
    }
}

/// One sample of zen through `spec`'s consumer path, in seconds.
async fn zen(port: u16, spec: Spec) -> anyhow::Result<f64> {
    match spec.path {
        Path::Recv => zen_recv(port, spec, clients::zen_config(), false).await,
        Path::Handler => zen_handler(port, spec).await,
        Path::RecvMany => zen_recv_many(port, spec).await,
    }
}

/// zen through `recv()`: connect, then receive `count` messages. With `include_close` the
/// clock also runs through `close()` (which writes out a recording).
async fn zen_recv(
    port: u16,
    spec: Spec,
    config: Config,
    include_close: bool,
) -> anyhow::Result<f64> {
    let started = Instant::now();
    let client = clients::zen(&clients::url(false, port), config).await?;
    let (mut received, mut bytes) = (0, 0);
    while received < spec.count {
        match client.recv().await {
            Some(Event::Message(message)) => {
                received += 1;
                bytes += message.len();
            }
            other => bail!("zen: got {other:?} after {received} messages"),
        }
    }
    let mut elapsed = started.elapsed();
    client.close().await?;
    if include_close {
        elapsed = started.elapsed();
    }
    ensure!(bytes == spec.count * spec.size, "zen: {bytes} bytes received");
    Ok(elapsed.as_secs_f64())
}

/// What the message handler has counted; `done` is notified at the `target`th message and
/// when the connection ends.
#[derive(Debug, Default)]
struct Tally {
    received: AtomicUsize,
    bytes: AtomicUsize,
    done: Notify,
}

impl Tally {
    fn count(&self, event: Event, target: usize) {
        match event {
            Event::Message(message) => {
                // Only the connection task writes: a load and a store, no locked instruction,
                // so the count costs what raw's local counters cost.
                bump(&self.bytes, message.len());
                if bump(&self.received, 1) == target {
                    self.done.notify_one();
                }
            }
            Event::Disconnected { .. } | Event::ReconnectFailed { .. } => self.done.notify_one(),
            _ => {}
        }
    }
}

/// Adds `by` to a counter with one writer; returns the new value.
fn bump(counter: &AtomicUsize, by: usize) -> usize {
    let value = counter.load(Ordering::Relaxed) + by;
    counter.store(value, Ordering::Relaxed);
    value
}

/// zen through `Config::message_handler`: a closure that counts, and wakes the measuring task
/// at the `count`th message.
async fn zen_handler(port: u16, spec: Spec) -> anyhow::Result<f64> {
    let tally = Arc::new(Tally::default());
    let counting = Arc::clone(&tally);
    let target = spec.count;
    let config = clients::zen_config().message_handler(move |event| counting.count(event, target));
    let started = Instant::now();
    let client = clients::zen(&clients::url(false, port), config).await?;
    tally.done.notified().await;
    let elapsed = started.elapsed();
    client.close().await?;
    let received = tally.received.load(Ordering::Relaxed);
    ensure!(received == spec.count, "zen: the connection ended after {received} messages");
    let bytes = tally.bytes.load(Ordering::Relaxed);
    ensure!(bytes == spec.count * spec.size, "zen: {bytes} bytes received");
    Ok(elapsed.as_secs_f64())
}

/// zen through `client.events()`: `recv_many` into a reused buffer.
async fn zen_recv_many(port: u16, spec: Spec) -> anyhow::Result<f64> {
    let started = Instant::now();
    let client = clients::zen(&clients::url(false, port), clients::zen_config()).await?;
    let mut reader = events::reader(&client);
    let mut batch = Vec::with_capacity(events::BATCH);
    let (mut received, mut bytes) = (0, 0);
    while received < spec.count {
        if events::recv_many(&mut reader, &mut batch, events::BATCH).await == 0 {
            bail!("zen: the events ended after {received} messages");
        }
        for event in batch.drain(..) {
            match event {
                Event::Message(message) => {
                    received += 1;
                    bytes += message.len();
                }
                // The server closes right after the last message: its event may share the batch.
                _ if received == spec.count => {}
                other => bail!("zen: got {other:?} after {received} messages"),
            }
        }
    }
    let elapsed = started.elapsed();
    drop(reader);
    client.close().await?;
    ensure!(bytes == spec.count * spec.size, "zen: {bytes} bytes received");
    Ok(elapsed.as_secs_f64())
}

/// Raw's loop as a task of the runtime, where zen's handler runs (on its connection task): the
/// handler row compares processing each message on a runtime worker.
async fn raw_on_worker(port: u16, spec: Spec) -> anyhow::Result<f64> {
    tokio::spawn(raw(port, spec)).await.context("raw's task")?
}

/// Raw: connect, then receive `count` messages.
async fn raw(port: u16, spec: Spec) -> anyhow::Result<f64> {
    let started = Instant::now();
    let mut ws = clients::raw_plain(port).await?;
    let (mut received, mut bytes) = (0, 0);
    while received < spec.count {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => {
                received += 1;
                bytes += text.len();
            }
            other => bail!("raw: got {other:?} after {received} messages"),
        }
    }
    let elapsed = started.elapsed();
    // The server closed after the last message; answering is enough.
    let _ = ws.close(None).await;
    ensure!(bytes == spec.count * spec.size, "raw: {bytes} bytes received");
    Ok(elapsed.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_have_the_exact_size() {
        for size in [64, 16 << 10] {
            let text = payload(size);
            assert_eq!(text.len(), size);
            assert!(serde_json::from_str::<serde_json::Value>(&text).is_ok());
        }
    }

    #[test]
    fn quick_rows_take_a_tenth() {
        let quick = SPECS[0].scaled(10);
        assert_eq!((quick.count, quick.size, quick.peers), (300_000, 64, true));
        assert_eq!(SPECS[0].contenders().len(), 5);
        assert_eq!(SPECS[3].contenders(), [Contender::Zen, Contender::Raw]);
    }
}
