//! State shared by the simulator handle, the accept loop, the market data task and every
//! session: connections and their per-socket state, requests, orders, market, credits.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::auth::Login;
use super::builder::Config;
use super::cod;
use super::heartbeat::Heartbeat;
use super::market::Market;
use super::observe::DeribitRequest;
use super::orders::Orders;
use super::rate_limit::Credits;
use super::session::CloseReason;
use crate::message::ConnectionId;
use crate::state::lock;
use crate::tls::TlsMaterial;

/// What a session task is asked to write or do, in order.
#[derive(Debug)]
pub(crate) enum Outgoing {
    /// A text frame: a response, a notification or a heartbeat notice.
    Frame(String),
    /// End the session this way (after the frames queued before it).
    Close(CloseReason),
}

/// The sending end of a session's queue.
#[derive(Debug, Clone)]
pub(crate) struct Outbox(mpsc::UnboundedSender<Outgoing>);

impl Outbox {
    pub(crate) fn new(sender: mpsc::UnboundedSender<Outgoing>) -> Self {
        Self(sender)
    }

    /// Queues a frame; a session that already ended drops it.
    pub(crate) fn send(&self, frame: String) {
        let _ = self.0.send(Outgoing::Frame(frame));
    }

    /// Asks the session to end, after the frames queued before.
    pub(crate) fn close(&self, reason: CloseReason) {
        let _ = self.0.send(Outgoing::Close(reason));
    }
}

/// One open connection's state.
#[derive(Debug)]
pub(crate) struct Conn {
    outbox: Outbox,
    pub(crate) login: Option<Login>,
    pub(crate) heartbeat: Option<Heartbeat>,
    pub(crate) subscriptions: BTreeSet<String>,
    /// Cancel-on-disconnect with connection scope.
    pub(crate) cod: bool,
}

impl Conn {
    pub(crate) fn new(outbox: Outbox, cod: bool) -> Self {
        Self { outbox, login: None, heartbeat: None, subscriptions: BTreeSet::new(), cod }
    }

    /// Queues a frame; a session that already ended drops it.
    pub(crate) fn send(&self, frame: String) {
        self.outbox.send(frame);
    }

    /// Asks the session to end.
    pub(crate) fn close(&self, reason: CloseReason) {
        self.outbox.close(reason);
    }

    /// A handle on the connection's queue that does not borrow the state.
    pub(crate) fn clone_sender(&self) -> Outbox {
        self.outbox.clone()
    }
}

/// Everything that changes while the simulator runs, under one lock.
#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) next_connection: u64,
    pub(crate) connections: BTreeMap<ConnectionId, Conn>,
    pub(crate) closed: BTreeMap<ConnectionId, CloseReason>,
    pub(crate) requests: Vec<DeribitRequest>,
    pub(crate) orders: Orders,
    pub(crate) market: Market,
    pub(crate) credits: Credits,
    pub(crate) refuse_auth: bool,
    pub(crate) heartbeats_paused: bool,
    /// Cancel-on-disconnect with account scope: new connections start with it on.
    pub(crate) account_cod: bool,
    /// Tokens issued so far, to make each one unique.
    pub(crate) tokens_issued: u64,
}

pub(crate) struct Sim {
    pub(crate) config: Config,
    pub(crate) tls: Option<TlsMaterial>,
    inner: Mutex<Inner>,
    /// Bumped after every change; waits watch it.
    version: watch::Sender<u64>,
    /// Session tasks, so stop and drop can end them.
    tasks: crate::tasks::Tasks,
}

impl Sim {
    pub(crate) fn new(config: Config, tls: Option<TlsMaterial>) -> Self {
        let inner = Inner {
            next_connection: 1,
            connections: BTreeMap::new(),
            closed: BTreeMap::new(),
            requests: Vec::new(),
            orders: Orders::default(),
            market: Market::new(&config.instruments),
            credits: Credits::new(config.credits),
            refuse_auth: false,
            heartbeats_paused: false,
            account_cod: false,
            tokens_issued: 0,
        };
        Self {
            config,
            tls,
            inner: Mutex::new(inner),
            version: watch::Sender::new(0),
            tasks: crate::tasks::Tasks::default(),
        }
    }

    /// Reads the state under its lock.
    pub(crate) fn read<T>(&self, read: impl FnOnce(&Inner) -> T) -> T {
        read(&lock(&self.inner))
    }

    /// Changes the state under its lock, then wakes every wait.
    pub(crate) fn with<T>(&self, change: impl FnOnce(&mut Inner) -> T) -> T {
        let result = change(&mut lock(&self.inner));
        crate::wait::bump(&self.version);
        result
    }

    /// Registers an upgraded connection; it starts with cancel-on-disconnect on when account
    /// scope has it on.
    pub(crate) fn register(&self, outbox: Outbox) -> ConnectionId {
        self.with(|inner| {
            let id = ConnectionId::new(inner.next_connection);
            inner.next_connection += 1;
            inner.connections.insert(id, Conn::new(outbox, inner.account_cod));
            id
        })
    }

    /// Forgets a connection that ended (its tokens die with it) and, unless it logged out,
    /// cancels the orders it created when it had cancel-on-disconnect on. A second call is a
    /// no-op.
    pub(crate) fn finish(&self, id: ConnectionId, reason: CloseReason) {
        self.with(|inner| {
            let Some(conn) = inner.connections.remove(&id) else {
                return;
            };
            if conn.cod && reason.cancels_orders() {
                cod::on_disconnect(inner, id);
            }
            inner.closed.insert(id, reason);
        });
    }

    /// Runs `task` in the simulator's task set (aborted by `stop` and `Drop`).
    pub(crate) fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        self.tasks.spawn(task);
    }

    /// Takes every spawned task out of the set.
    pub(crate) fn take_tasks(&self) -> JoinSet<()> {
        self.tasks.take()
    }

    /// Aborts every spawned task without waiting.
    pub(crate) fn abort_tasks(&self) {
        self.tasks.abort();
    }

    /// Waits until `check` returns `Some`, re-checking after every change; `None` when
    /// `timeout` passes first.
    pub(crate) async fn wait_for<T>(
        &self,
        timeout: Duration,
        mut check: impl FnMut(&Inner) -> Option<T>,
    ) -> Option<T> {
        crate::wait::wait_until(&self.version, timeout, || self.read(&mut check)).await
    }
}

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (open, total) = self.read(|inner| (inner.connections.len(), inner.next_connection - 1));
        f.debug_struct("Sim")
            .field("open_connections", &open)
            .field("total_connections", &total)
            .field("tls", &self.tls.is_some())
            .finish_non_exhaustive()
    }
}
