//! Request/response round trips: sequential JSON-RPC `echo` requests, zen through
//! `Client::request`; raw, ezsockets and the Python and Node peers by sending the same text and
//! awaiting the next frame. All take turns against the same echo server.

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use anyhow::{Context, bail, ensure};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::runtime::Handle;
use tokio_tungstenite::tungstenite::Message;

use crate::{
    clients::{self, Contender},
    ez,
    scripts::{Peers, Script},
    servers,
};

/// Requests sent before recording starts.
pub(crate) const WARMUP: usize = 500;
/// Requests recorded per sample.
pub(crate) const REQUESTS: usize = 5_000;

/// Percentiles of one sample, in microseconds.
#[derive(Debug, Clone, Copy, Serialize)]
pub(crate) struct Percentiles {
    /// The median round trip.
    pub(crate) p50_us: f64,
    /// The 99th percentile.
    pub(crate) p99_us: f64,
}

/// Every sample of the round-trip rows.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RttResult {
    /// Requests before recording.
    pub(crate) warmup: usize,
    /// Requests recorded per sample.
    pub(crate) requests: usize,
    /// The samples of each contender.
    pub(crate) samples: BTreeMap<Contender, Vec<Percentiles>>,
}

/// The request frame, field for field what zen writes.
#[derive(Serialize)]
struct Request<'a> {
    jsonrpc: &'static str,
    id: u64,
    method: &'static str,
    params: &'a Value,
}

/// Runs `repeats` rounds against one echo server (on `server`), `warmup` + `requests`
/// requests per sample; every contender takes one sample a round and each goes first in turn.
///
/// # Errors
///
/// When a client fails or a reply does not match its request.
pub(crate) async fn run(
    repeats: usize,
    [warmup, requests]: [usize; 2],
    server: &Handle,
    peers: &Peers,
) -> anyhow::Result<RttResult> {
    let (port, server) = servers::spawn_echo(server)?;
    let mut samples: BTreeMap<Contender, Vec<Percentiles>> = BTreeMap::new();
    for round in 0..repeats {
        for who in clients::rotated(&Contender::ALL, round) {
            let sample = match who {
                Contender::Zen => Box::pin(zen(port, warmup, requests)).await?,
                Contender::Raw => raw(port, warmup, requests).await?,
                Contender::Ezsockets => Box::pin(ez::rtt(port, warmup, requests)).await?,
                Contender::Python => peers.rtt(Script::Python, port, warmup, requests).await?,
                Contender::Node => peers.rtt(Script::Node, port, warmup, requests).await?,
            };
            samples.entry(who).or_default().push(sample);
        }
    }
    server.abort();
    Ok(RttResult { warmup, requests, samples })
}

/// `profile-rtt CLIENT [--count N]`: one client's round trips (`N` after a tenth as many
/// warm-up requests; 5,000 by default) against the echo server, on the bench's multi-thread
/// runtime (the client on the calling thread, as in the rtt rows), alone in the process: for
/// `perf` and for comparing two builds. Prints p50 and p99.
///
/// # Errors
///
/// An unknown client or option, or a failed round trip.
pub(crate) fn profile(args: &[String]) -> anyhow::Result<()> {
    let (client, rest) = args.split_first().context("profile-rtt needs a client")?;
    let requests = match rest {
        [] => REQUESTS,
        [flag, count] if flag == "--count" => count.parse().context("--count")?,
        other => bail!("profile-rtt takes [--count N], not `{}`", other.join(" ")),
    };
    let warmup = requests / 10;
    let runtime = crate::runtime()?;
    let sample = runtime.block_on(async {
        let (port, server) = servers::spawn_echo(&Handle::current())?;
        let sample = match client.as_str() {
            "zen" => Box::pin(zen(port, warmup, requests)).await,
            "raw" => raw(port, warmup, requests).await,
            other => Err(anyhow::anyhow!("unknown client `{other}`: zen or raw")),
        };
        server.abort();
        sample
    })?;
    println!("{client}: p50 {:.1} µs p99 {:.1} µs", sample.p50_us, sample.p99_us);
    Ok(())
}

/// The parameters of request number `seq`.
fn params(seq: usize) -> Value {
    json!({"instrument_name": "BTC-PERPETUAL", "depth": 10, "seq": seq})
}

/// Request number `seq` with id `id`, serialized: the frame every client but zen sends.
///
/// # Errors
///
/// Never in practice (serializing a `Value` does not fail).
pub(crate) fn request_text(id: u64, seq: usize) -> anyhow::Result<String> {
    let params = params(seq);
    let request = Request { jsonrpc: "2.0", id, method: "echo", params: &params };
    Ok(serde_json::to_string(&request)?)
}

async fn zen(port: u16, warmup: usize, requests: usize) -> anyhow::Result<Percentiles> {
    let client = clients::zen(&clients::url(false, port), clients::zen_config()).await?;
    let mut histogram = histogram()?;
    for seq in 0..warmup + requests {
        let started = Instant::now();
        let result = client.request("echo", params(seq)).await?;
        let took = started.elapsed();
        ensure!(result["seq"] == seq, "zen: reply {result} to request {seq}");
        if seq >= warmup {
            histogram.record(nanos(took))?;
        }
    }
    client.close().await?;
    Ok(percentiles(&histogram))
}

async fn raw(port: u16, warmup: usize, requests: usize) -> anyhow::Result<Percentiles> {
    let mut ws = clients::raw_plain(port).await?;
    let mut histogram = histogram()?;
    for seq in 0..warmup + requests {
        let id = seq as u64 + 1;
        let started = Instant::now();
        ws.send(Message::text(request_text(id, seq)?)).await?;
        let reply = match ws.next().await {
            Some(Ok(Message::Text(reply))) => reply,
            other => bail!("raw: got {other:?} for request {seq}"),
        };
        let took = started.elapsed();
        let reply: Value = serde_json::from_str(reply.as_str()).context("raw: reply")?;
        ensure!(reply["id"] == id, "raw: reply {reply} to request {id}");
        if seq >= warmup {
            histogram.record(nanos(took))?;
        }
    }
    let _ = ws.close(None).await;
    Ok(percentiles(&histogram))
}

/// Nanoseconds from 1 ns to one minute, three significant digits.
///
/// # Errors
///
/// Never with these bounds.
pub(crate) fn histogram() -> anyhow::Result<Histogram<u64>> {
    Ok(Histogram::new_with_bounds(1, 60_000_000_000, 3)?)
}

/// `duration` in nanoseconds, saturating.
pub(crate) fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// The median and the 99th percentile, in microseconds.
pub(crate) fn percentiles(histogram: &Histogram<u64>) -> Percentiles {
    let micros = |quantile| histogram.value_at_quantile(quantile) as f64 / 1_000.0;
    Percentiles { p50_us: micros(0.50), p99_us: micros(0.99) }
}
