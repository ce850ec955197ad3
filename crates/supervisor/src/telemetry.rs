//! The pool's metrics (names listed in `docs/telemetry.md`), all labelled with the pool's name.

use metrics::{counter, gauge};

use crate::{ClientId, info::ClientStatus};

pub(crate) fn restarted(pool: &str, client: ClientId, name: &str) {
    let labels =
        [("pool", pool.to_owned()), ("client", client.to_string()), ("name", name.to_owned())];
    counter!("zen_websocket.pool.restarts", &labels).increment(1);
}

pub(crate) fn failed(pool: &str, client: ClientId, name: &str) {
    let labels =
        [("pool", pool.to_owned()), ("client", client.to_string()), ("name", name.to_owned())];
    counter!("zen_websocket.pool.failed", &labels).increment(1);
}

pub(crate) fn failover(pool: &str) {
    counter!("zen_websocket.pool.failovers", "pool" => pool.to_owned()).increment(1);
}

pub(crate) fn outcome_unknown(pool: &str) {
    counter!("zen_websocket.pool.outcome_unknown", "pool" => pool.to_owned()).increment(1);
}

pub(crate) fn balanced(pool: &str, client: ClientId) {
    counter!("zen_websocket.pool.balanced", "pool" => pool.to_owned(), "client" => client.to_string())
        .increment(1);
}

pub(crate) fn shard_size(pool: &str, client: ClientId, channels: usize) {
    gauge!("zen_websocket.pool.shard_channels", "pool" => pool.to_owned(), "client" => client.to_string())
        .set(channels as f64);
}

pub(crate) fn channels_moved(pool: &str, channels: usize) {
    counter!("zen_websocket.pool.channels_moved", "pool" => pool.to_owned())
        .increment(channels as u64);
}

pub(crate) fn channels_unplaced(pool: &str, channels: usize) {
    counter!("zen_websocket.pool.channels_unplaced", "pool" => pool.to_owned())
        .increment(channels as u64);
}

pub(crate) fn clients(pool: &str, counts: &[(ClientStatus, usize)]) {
    for (status, count) in counts {
        gauge!("zen_websocket.pool.clients", "pool" => pool.to_owned(), "state" => status.label())
            .set(*count as f64);
    }
}

pub(crate) fn hook_dropped(pool: &str) {
    counter!("zen_websocket.pool.hooks_dropped", "pool" => pool.to_owned()).increment(1);
}

pub(crate) fn hook_panicked(pool: &str) {
    counter!("zen_websocket.pool.hook_panics", "pool" => pool.to_owned()).increment(1);
}

pub(crate) fn notice_dropped(pool: &str) {
    counter!("zen_websocket.pool.notices_dropped", "pool" => pool.to_owned()).increment(1);
}
