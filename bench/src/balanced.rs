//! Balanced sends: `ClientSupervisor::send_balanced` over a pool of [`CLIENTS`] clients
//! against `Client::send_message` on one client of the same pool, both sending the same 64 B
//! text frame, one send at a time, to a server that reads and discards. The difference is the
//! pick: ranking every client of the pool and taking the next in turn.

use std::time::Instant;

use anyhow::{Context, ensure};
use serde::Serialize;
use tokio::runtime::Handle;
use zen_websocket_core::{Client, Message};
use zen_websocket_supervisor::{
    BalanceOptions, ClientId, ClientSpec, ClientSupervisor, SupervisorConfig,
};

use crate::{clients, flood, servers};

/// Clients in the pool.
pub(crate) const CLIENTS: usize = 100;
/// Sends per sample and side: a direct sample takes about a quarter of a second on a 2-core
/// machine, a balanced one about two thirds.
pub(crate) const SENDS: usize = 20_000;
/// Sends per side before the first sample.
pub(crate) const WARMUP: usize = 2_000;
/// Payload bytes per frame.
const SIZE: usize = 64;

/// The row's name (what `--only` matches).
pub(crate) fn name(clients: usize) -> String {
    format!("send_balanced ÷ send_message ({clients} clients)")
}

/// Every sample of the row, in seconds per `sends` sends.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct BalancedResult {
    /// Clients in the pool.
    pub(crate) clients: usize,
    /// Sends per side before the first sample.
    pub(crate) warmup: usize,
    /// Sends per sample.
    pub(crate) sends: usize,
    /// `pool.send_balanced(frame, &BalanceOptions::default())`.
    pub(crate) balanced_secs: Vec<f64>,
    /// `client.send_message(frame)` on one client of the pool.
    pub(crate) direct_secs: Vec<f64>,
}

/// Starts a pool of [`CLIENTS`] clients against one sink server (on `server`), then runs
/// `repeats` rounds of `sends` balanced sends and `sends` direct sends, each side going first
/// in turn, after `warmup` sends of each.
///
/// # Errors
///
/// When a client cannot connect, a send fails, or the balanced sends did not reach every
/// client.
pub(crate) async fn run(
    repeats: usize,
    [warmup, sends]: [usize; 2],
    server: &Handle,
) -> anyhow::Result<BalancedResult> {
    let (port, server) = servers::spawn_sink(server)?;
    let (pool, ids) = Box::pin(start_pool(port, CLIENTS)).await?;
    let outcome = Box::pin(rounds(&pool, &ids, repeats, [warmup, sends])).await;
    pool.shutdown().await;
    server.abort();
    outcome
}

/// A pool without an opening limiter (the default would pace 100 opens over minutes) and
/// `count` clients of `127.0.0.1:{port}`, each connected.
async fn start_pool(port: u16, count: usize) -> anyhow::Result<(ClientSupervisor, Vec<ClientId>)> {
    let config = SupervisorConfig::default().open_limiter(None).max_clients(count);
    let pool = ClientSupervisor::start(config).await.context("starting the pool")?;
    let url = clients::url(false, port);
    let mut ids = Vec::with_capacity(count);
    for index in 0..count {
        let spec = ClientSpec::new(format!("bench-{index}"), &url).config(clients::zen_config());
        ids.push(
            pool.start_client(spec).await.with_context(|| format!("starting client {index}"))?,
        );
    }
    Ok((pool, ids))
}

/// The warm-up and the samples; checks afterwards that the balanced sends reached every client.
async fn rounds(
    pool: &ClientSupervisor,
    ids: &[ClientId],
    repeats: usize,
    [warmup, sends]: [usize; 2],
) -> anyhow::Result<BalancedResult> {
    let message = Message::from(flood::payload(SIZE));
    let direct = ids.first().and_then(|id| pool.client(*id)).context("the pool has no client")?;
    balanced(pool, &message, warmup).await?;
    send_direct(&direct, &message, warmup).await?;
    let mut result = BalancedResult {
        clients: ids.len(),
        warmup,
        sends,
        balanced_secs: Vec::with_capacity(repeats),
        direct_secs: Vec::with_capacity(repeats),
    };
    for round in 0..repeats {
        if round % 2 == 0 {
            result.balanced_secs.push(balanced(pool, &message, sends).await?);
            result.direct_secs.push(send_direct(&direct, &message, sends).await?);
        } else {
            result.direct_secs.push(send_direct(&direct, &message, sends).await?);
            result.balanced_secs.push(balanced(pool, &message, sends).await?);
        }
    }
    check_spread(pool, ids, (warmup + sends * repeats) / ids.len().max(1))?;
    Ok(result)
}

/// `sends` sequential `send_balanced` calls with the default options, in seconds.
async fn balanced(pool: &ClientSupervisor, message: &Message, sends: usize) -> anyhow::Result<f64> {
    let options = BalanceOptions::default();
    let started = Instant::now();
    for _ in 0..sends {
        pool.send_balanced(message.clone(), &options).await?;
    }
    Ok(started.elapsed().as_secs_f64())
}

/// `sends` sequential `send_message` calls on `client`, in seconds.
async fn send_direct(client: &Client, message: &Message, sends: usize) -> anyhow::Result<f64> {
    let started = Instant::now();
    for _ in 0..sends {
        client.send_message(message.clone()).await?;
    }
    Ok(started.elapsed().as_secs_f64())
}

/// Every client wrote at least half its fair share of the `share` balanced sends each should
/// have taken: the picks went round the pool, not to one client.
fn check_spread(pool: &ClientSupervisor, ids: &[ClientId], share: usize) -> anyhow::Result<()> {
    for id in ids {
        let client = pool.client(*id).with_context(|| format!("client {id} left the pool"))?;
        let sent = client.get_state_metrics().messages_out;
        ensure!(sent as usize >= share / 2, "client {id} wrote {sent} frames, fair share {share}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_says_the_pool_size() {
        assert_eq!(name(CLIENTS), "send_balanced ÷ send_message (100 clients)");
        assert!(name(CLIENTS).contains("balanced"));
    }
}
