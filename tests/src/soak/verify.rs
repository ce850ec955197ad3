//! After each recovery: does the server hold, on the client's current connection, exactly the
//! subscriptions the client believes it holds — the ones it started with?
//!
//! The client sends a `soak/hello` request padded to [`PAD`] bytes. The server's answer names
//! the server connection it arrived on; the proxy connection whose upload grew by at least the
//! pad during the call is the client's link (the other traffic is a few hundred bytes at most),
//! which is how single-client faults find their target on the one shared proxy.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::LazyLock,
    time::Duration,
};

use serde_json::json;
use tokio::time::Instant;
use zen_websocket::{
    ConnectionState,
    testing::{ConnectionId, ProxyConnectionId},
};

use super::{fleet::SoakClient, ledger::HELLO, world::World};

/// Bytes of padding in the probe: far above the background traffic of one connection.
const PAD_BYTES: usize = 4096;
/// The padding itself.
static PAD: LazyLock<String> = LazyLock::new(|| "x".repeat(PAD_BYTES));
/// Attempts at the probe (a connection lost meanwhile is waited for and tried again).
const ATTEMPTS: usize = 3;
/// Bound on one probe, and on waiting for a lost connection to come back before the next try.
const PROBE_LIMIT: Duration = Duration::from_secs(5);

/// What one verification of one client found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// Expected channels missing on the server's side or the client's (each counted once).
    pub(crate) lost: usize,
    /// Channels on either side that were never subscribed to.
    pub(crate) extra: usize,
    /// Channels the server was asked for more than once on the same connection.
    pub(crate) repeated: usize,
    /// What went wrong, in words: mismatches, or a probe that could not be made.
    pub(crate) problems: Vec<String>,
    /// Whether `get_state_metrics().subscriptions` disagreed with the subscriptions held.
    pub(crate) gauge_off: bool,
    /// Whether the probe itself failed (the check could not be made).
    pub(crate) unverified: bool,
}

impl Verdict {
    /// Whether the client and the server disagreed, or the check could not be made.
    pub(crate) fn failed(&self) -> bool {
        self.lost > 0 || self.extra > 0 || self.gauge_off || self.unverified
    }
}

/// Verifies `soak` against the server's ledger and updates its known connections.
pub(crate) async fn verify(world: &World, soak: &mut SoakClient) -> Verdict {
    let mut verdict = Verdict::default();
    let Some((connection, link)) = probe(world, soak, &mut verdict).await else {
        verdict.unverified = true;
        return verdict;
    };
    soak.connection = Some(connection);
    soak.link = link;
    let server: BTreeMap<String, u32> = match world.channels(connection).await {
        Ok(channels) => channels,
        Err(err) => {
            verdict.unverified = true;
            verdict.problems.push(format!("client {}: asking the server: {err:#}", soak.index));
            return verdict;
        }
    };
    compare(soak, connection, &server, &mut verdict);
    verdict
}

/// Compares what the server holds on `connection` (`server`), what the client believes it
/// holds, and what it started with.
fn compare(
    soak: &SoakClient,
    connection: ConnectionId,
    server: &BTreeMap<String, u32>,
    verdict: &mut Verdict,
) {
    let client: BTreeSet<String> =
        soak.client.subscriptions().into_iter().flat_map(|(_, channels)| channels).collect();
    let expected: BTreeSet<&String> = soak.channels.iter().collect();
    let index = soak.index;
    for channel in &soak.channels {
        let (on_server, on_client) = (server.contains_key(channel), client.contains(channel));
        if !(on_server && on_client) {
            verdict.lost += 1;
            verdict.problems.push(format!(
                "client {index}: {channel} held by server connection {connection}: {on_server}, \
                 by the client: {on_client}"
            ));
        }
    }
    let strays = server.keys().chain(&client).filter(|ch| !expected.contains(ch));
    for channel in strays.collect::<BTreeSet<_>>() {
        verdict.extra += 1;
        verdict.problems.push(format!("client {index}: unexpected channel {channel}"));
    }
    verdict.repeated = server.values().filter(|times| **times > 1).count();
    let held = soak.client.get_state_metrics().subscriptions;
    if held != soak.channels.len() {
        verdict.gauge_off = true;
        verdict.problems.push(format!(
            "client {index}: get_state_metrics().subscriptions is {held}, expected {}",
            soak.channels.len()
        ));
    }
}

/// Sends the probe; the server connection that answered it and the proxy link that carried it.
async fn probe(
    world: &World,
    soak: &SoakClient,
    verdict: &mut Verdict,
) -> Option<(ConnectionId, Option<ProxyConnectionId>)> {
    let index = soak.index;
    for attempt in 1..=ATTEMPTS {
        if soak.client.get_state() != ConnectionState::Connected {
            let seen = soak.tracker.connections().count;
            let deadline = Instant::now() + PROBE_LIMIT;
            let back = soak.tracker.connected_after(seen, deadline).await;
            if back.is_none() && soak.client.get_state() != ConnectionState::Connected {
                verdict.problems.push(format!(
                    "client {index}: not connected for {PROBE_LIMIT:?} while verifying (state {:?})",
                    soak.client.get_state()
                ));
                continue;
            }
        }
        let before = world.uploads().await;
        let hello = soak.client.request(HELLO, json!({"client": index, "pad": *PAD}));
        let answer = tokio::time::timeout(PROBE_LIMIT, hello).await;
        let after = world.uploads().await;
        match answer {
            Ok(Ok(answer)) => {
                let Some(connection) = answer["connection"].as_u64().map(ConnectionId::new) else {
                    verdict.problems.push(format!("client {index}: odd probe answer {answer}"));
                    return None;
                };
                return Some((connection, carrier(&before, &after)));
            }
            Ok(Err(err)) => {
                verdict.problems.push(format!("client {index}: probe {attempt} failed: {err}"))
            }
            Err(_) => verdict
                .problems
                .push(format!("client {index}: probe {attempt} unanswered after {PROBE_LIMIT:?}")),
        }
    }
    None
}

/// The one link whose upload grew by at least the pad between `before` and `after`.
fn carrier(
    before: &[(ProxyConnectionId, u64)],
    after: &[(ProxyConnectionId, u64)],
) -> Option<ProxyConnectionId> {
    let grew = after.iter().filter(|(id, now)| {
        let then = before.iter().find(|(old, _)| old == id).map_or(0, |(_, bytes)| *bytes);
        now.saturating_sub(then) >= PAD_BYTES as u64
    });
    let mut grew = grew.map(|(id, _)| *id);
    match (grew.next(), grew.next()) {
        (Some(id), None) => Some(id),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_carrier_is_the_one_link_that_grew_by_the_pad() {
        let id = ProxyConnectionId::new;
        let before = [(id(1), 100), (id(2), 5000)];
        let after = [(id(1), 300), (id(2), 5000 + PAD_BYTES as u64 + 40), (id(3), 10)];
        assert_eq!(carrier(&before, &after), Some(id(2)));
        let two = [(id(1), 100 + PAD_BYTES as u64), (id(2), 5000 + PAD_BYTES as u64)];
        assert_eq!(carrier(&before, &two), None);
        assert_eq!(carrier(&before, &before), None);
    }
}
