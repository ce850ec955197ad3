//! State shared by the `MockServer` handle, the accept loop and every connection task.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use crate::connection::Command;
use crate::event::{HandshakeRequest, ServerEvent};
use crate::message::{ConnectionId, ReceivedMessage};
use crate::reply::Handler;
use crate::rpc::RpcHandler;
use crate::tls::TlsMaterial;

/// Settings that can change while the server runs.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) handler: Option<Handler>,
    pub(crate) rpc_handler: Option<RpcHandler>,
    pub(crate) auto_pong: bool,
    pub(crate) reject: Option<u16>,
    pub(crate) stall: bool,
    /// Subprotocols the server accepts, in its order of preference.
    pub(crate) subprotocols: Vec<String>,
    /// A recording every new connection is sent.
    pub(crate) replay: Option<crate::replay::Replay>,
}

/// Everything the server recorded.
#[derive(Debug, Default)]
pub(crate) struct Log {
    pub(crate) received: Vec<ReceivedMessage>,
    /// How many received messages were cleared so far: `received[i]` is message number
    /// `received_cleared + i`.
    pub(crate) received_cleared: usize,
    pub(crate) events: Vec<ServerEvent>,
    /// Like `received_cleared`, for events.
    pub(crate) events_cleared: usize,
    pub(crate) handshakes: Vec<HandshakeRequest>,
}

/// Finds the first item matching `wanted` that a previous call has not looked at; `scanned` is
/// the running count of items looked at, `cleared` how many items were removed from the front.
pub(crate) fn scan<T: Clone>(
    items: &[T],
    cleared: usize,
    scanned: &mut usize,
    wanted: impl Fn(&T) -> bool,
) -> Option<T> {
    let start = scanned.saturating_sub(cleared).min(items.len());
    *scanned = cleared + items.len();
    items[start..].iter().find(|item| wanted(item)).cloned()
}

/// The items at or after absolute position `position`, `cleared` being how many items were
/// removed from the front.
pub(crate) fn since<T: Clone>(items: &[T], cleared: usize, position: usize) -> Vec<T> {
    let start = position.saturating_sub(cleared).min(items.len());
    items[start..].to_vec()
}

pub(crate) struct Shared {
    settings: Mutex<Settings>,
    log: Mutex<Log>,
    /// Bumped on every change to `log` or `connections`; waiters watch it.
    version: watch::Sender<u64>,
    connections: Mutex<BTreeMap<ConnectionId, mpsc::UnboundedSender<Command>>>,
    /// Every task the server spawned, so stop and drop can end them all.
    tasks: crate::tasks::Tasks,
    next_id: AtomicU64,
    pub(crate) tls: Option<TlsMaterial>,
}

/// Locks `mutex`, ignoring poisoning: the data stays usable for assertions after a panic.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    pub(crate) fn new(settings: Settings, tls: Option<TlsMaterial>) -> Self {
        Self {
            settings: Mutex::new(settings),
            log: Mutex::default(),
            version: watch::Sender::new(0),
            connections: Mutex::default(),
            tasks: crate::tasks::Tasks::default(),
            next_id: AtomicU64::new(1),
            tls,
        }
    }

    pub(crate) fn settings(&self) -> Settings {
        lock(&self.settings).clone()
    }

    pub(crate) fn update_settings(&self, change: impl FnOnce(&mut Settings)) {
        change(&mut lock(&self.settings));
    }

    /// Reads the log under its lock.
    pub(crate) fn read_log<T>(&self, read: impl FnOnce(&Log) -> T) -> T {
        read(&lock(&self.log))
    }

    /// Changes the log under its lock and wakes every waiter.
    pub(crate) fn write_log(&self, write: impl FnOnce(&mut Log)) {
        write(&mut lock(&self.log));
        self.bump();
    }

    pub(crate) fn record_event(&self, event: ServerEvent) {
        tracing::debug!(?event, "mock server event");
        self.write_log(|log| log.events.push(event));
    }

    fn bump(&self) {
        crate::wait::bump(&self.version);
    }

    /// Registers an accepted connection; returns its id.
    pub(crate) fn register(&self, commands: mpsc::UnboundedSender<Command>) -> ConnectionId {
        let id = ConnectionId::new(self.next_id.fetch_add(1, Ordering::Relaxed));
        lock(&self.connections).insert(id, commands);
        self.bump();
        id
    }

    pub(crate) fn unregister(&self, id: ConnectionId) {
        lock(&self.connections).remove(&id);
        self.bump();
    }

    pub(crate) fn open_connections(&self) -> usize {
        lock(&self.connections).len()
    }

    /// The ids of the open connections, in ascending order.
    pub(crate) fn open_connection_ids(&self) -> Vec<ConnectionId> {
        lock(&self.connections).keys().copied().collect()
    }

    /// Accepted upgrades since the server was built.
    pub(crate) fn total_connections(&self) -> usize {
        (self.next_id.load(Ordering::Relaxed) - 1) as usize
    }

    /// The command channels of the open connections (all, or just `only`).
    pub(crate) fn senders(
        &self,
        only: Option<ConnectionId>,
    ) -> Vec<(ConnectionId, mpsc::UnboundedSender<Command>)> {
        let connections = lock(&self.connections);
        let selected = connections.iter().filter(|(id, _)| only.is_none_or(|only| **id == only));
        selected.map(|(id, tx)| (*id, tx.clone())).collect()
    }

    /// Runs `task` in the server's task set (aborted by `stop` and `Drop`).
    pub(crate) fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        self.tasks.spawn(task);
    }

    /// Takes every spawned task out of the server's set.
    pub(crate) fn take_tasks(&self) -> JoinSet<()> {
        self.tasks.take()
    }

    /// Aborts every spawned task without waiting.
    pub(crate) fn abort_tasks(&self) {
        self.tasks.abort();
    }

    /// Waits until `check` returns `Some`, re-checking after every recorded change; `None` when
    /// `timeout` passes first.
    pub(crate) async fn wait_for<T>(
        &self,
        timeout: Duration,
        mut check: impl FnMut(&Self) -> Option<T>,
    ) -> Option<T> {
        crate::wait::wait_until(&self.version, timeout, || check(self)).await
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("settings", &self.settings())
            .field("open_connections", &self.open_connections())
            .field("total_connections", &self.total_connections())
            .field("tls", &self.tls.is_some())
            .finish_non_exhaustive()
    }
}
