//! Inbound flood throughput: the server writes `count` text messages as fast as it can, the
//! client counts them. zen and raw take turns against the same server.

use std::time::{Duration, Instant};

use anyhow::{bail, ensure};
use futures_util::StreamExt;
use serde::Serialize;
use tokio::runtime::Handle;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use zen_websocket_core::Event;

use crate::{clients, servers};

/// One flood row: message size and how many messages a sample receives.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Spec {
    /// The row's name in the table.
    pub(crate) label: &'static str,
    /// Payload bytes per message.
    pub(crate) size: usize,
    /// Messages per sample, chosen so that a zen sample takes 2–5 s on a 2-core machine (raw,
    /// faster, takes less).
    pub(crate) count: usize,
}

/// The flood rows.
pub(crate) const SPECS: [Spec; 2] = [
    Spec { label: "64 B", size: 64, count: 3_000_000 },
    Spec { label: "16 KiB", size: 16 << 10, count: 160_000 },
];

/// The recording row: zen with [`Config::record_to`](zen_websocket_core::Config::record_to)
/// against zen without it, on a 64 B flood (smaller, so the file stays around 50 MB).
pub(crate) const RECORDING: Spec = Spec { label: "64 B", size: 64, count: 300_000 };

/// Every sample of one flood row, in seconds per `count` messages.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct FloodResult {
    /// The row's name.
    pub(crate) label: &'static str,
    /// Payload bytes per message.
    pub(crate) size: usize,
    /// Messages per sample.
    pub(crate) count: usize,
    /// zen's samples.
    pub(crate) zen_secs: Vec<f64>,
    /// Raw tokio-tungstenite's samples.
    pub(crate) raw_secs: Vec<f64>,
}

impl FloodResult {
    /// A result for `spec` with no samples yet.
    fn empty(spec: Spec) -> Self {
        Self {
            label: spec.label,
            size: spec.size,
            count: spec.count,
            zen_secs: Vec::new(),
            raw_secs: Vec::new(),
        }
    }
}

/// Runs `repeats` samples of each client against one flood server (on `server`), alternating
/// which goes first.
///
/// # Errors
///
/// When a client fails or receives something other than the flood.
pub(crate) async fn run(
    spec: Spec,
    repeats: usize,
    server: &Handle,
) -> anyhow::Result<FloodResult> {
    let payload = Utf8Bytes::from(payload(spec.size));
    let (port, server) = servers::spawn_flood(server, payload, spec.count)?;
    let mut result = FloodResult::empty(spec);
    for round in 0..repeats {
        if round % 2 == 0 {
            result.zen_secs.push(zen(port, spec).await?.as_secs_f64());
            result.raw_secs.push(raw(port, spec).await?.as_secs_f64());
        } else {
            result.raw_secs.push(raw(port, spec).await?.as_secs_f64());
            result.zen_secs.push(zen(port, spec).await?.as_secs_f64());
        }
    }
    server.abort();
    Ok(result)
}

/// Runs `repeats` samples of zen recording into `file` and of zen not recording, against one
/// flood server; the result's `zen_secs` are the recording samples, `raw_secs` the others.
///
/// # Errors
///
/// When a client fails or receives something other than the flood.
pub(crate) async fn run_recording(
    spec: Spec,
    repeats: usize,
    server: &Handle,
    file: &std::path::Path,
) -> anyhow::Result<FloodResult> {
    let payload = Utf8Bytes::from(payload(spec.size));
    let (port, server) = servers::spawn_flood(server, payload, spec.count)?;
    let recording = || clients::zen_config().record_to(file);
    let mut result = FloodResult::empty(spec);
    for _ in 0..repeats {
        result.raw_secs.push(zen_with(port, spec, clients::zen_config()).await?.as_secs_f64());
        result.zen_secs.push(zen_with(port, spec, recording()).await?.as_secs_f64());
    }
    server.abort();
    let _ = std::fs::remove_file(file);
    Ok(result)
}

/// A JSON-looking text payload of exactly `size` bytes (at least 35).
pub(crate) fn payload(size: usize) -> String {
    let (head, tail) = (r#"{"channel":"bench.flood","data":""#, r#""}"#);
    let fill = size.saturating_sub(head.len() + tail.len());
    format!("{head}{}{tail}", "x".repeat(fill))
}

/// One zen sample: connect, then receive `count` messages.
async fn zen(port: u16, spec: Spec) -> anyhow::Result<Duration> {
    zen_with(port, spec, clients::zen_config()).await
}

/// One zen sample with `config`; the time includes closing (which writes out a recording).
async fn zen_with(
    port: u16,
    spec: Spec,
    config: zen_websocket_core::Config,
) -> anyhow::Result<Duration> {
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
    client.close().await?;
    let elapsed = started.elapsed();
    ensure!(bytes == spec.count * spec.size, "zen: {bytes} bytes received");
    Ok(elapsed)
}

/// One raw sample: connect, then receive `count` messages.
async fn raw(port: u16, spec: Spec) -> anyhow::Result<Duration> {
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
    Ok(elapsed)
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
}
