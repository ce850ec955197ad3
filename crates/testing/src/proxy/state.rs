//! State shared by the `FaultProxy` handle, its accept loop and every connection task.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

use super::connection::{ProxyConnection, ProxyConnectionId, Traffic};
use super::fault::{Admission, Faults, Side};
use super::socket::SocketOptions;
use crate::state::lock;
use crate::wait::{bump, wait_until};

/// How a connection ends when the proxy ends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ending {
    /// FIN both sides, after what was already forwarded.
    Close,
    /// RST both sides (`SO_LINGER` 0, then close).
    Reset,
}

/// What the test wants from one connection right now; watched by its task.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Control {
    /// The faults in force (`close_after` counted in total bytes passed, see `Lane`).
    pub(super) faults: Faults,
    /// Set when the test asks the connection to end.
    pub(super) end: Option<Ending>,
}

/// Byte counters of one connection, per side.
#[derive(Debug, Default)]
pub(super) struct Counters {
    forwarded: [AtomicU64; 2],
    discarded: [AtomicU64; 2],
    /// Bytes accepted for forwarding (forwarded or still queued): the base of `close_after`.
    passed: [AtomicU64; 2],
}

impl Counters {
    pub(super) fn forward(&self, side: Side, bytes: usize) {
        self.forwarded[side.index()].fetch_add(bytes as u64, Ordering::Relaxed);
    }

    pub(super) fn discard(&self, side: Side, bytes: usize) {
        self.discarded[side.index()].fetch_add(bytes as u64, Ordering::Relaxed);
    }

    pub(super) fn pass(&self, side: Side, bytes: usize) {
        self.passed[side.index()].fetch_add(bytes as u64, Ordering::Relaxed);
    }

    pub(super) fn passed(&self, side: Side) -> u64 {
        self.passed[side.index()].load(Ordering::Relaxed)
    }

    fn traffic(&self, side: Side) -> Traffic {
        let i = side.index();
        Traffic {
            forwarded: self.forwarded[i].load(Ordering::Relaxed),
            discarded: self.discarded[i].load(Ordering::Relaxed),
        }
    }
}

/// How many closed connections the table keeps for listing; older ones are forgotten, so a
/// long soak through the proxy does not grow it without end.
pub(super) const KEPT_CLOSED: usize = 1024;

/// One accepted connection's entry in the proxy's table (kept after it closes, for listing).
struct Link {
    client: SocketAddr,
    counters: Arc<Counters>,
    control: watch::Sender<Control>,
    open: bool,
}

pub(super) struct ProxyShared {
    pub(super) upstream: SocketAddr,
    /// Options for every socket the proxy opens.
    pub(super) sockets: SocketOptions,
    defaults: Mutex<Faults>,
    admission: Mutex<Admission>,
    links: Mutex<BTreeMap<ProxyConnectionId, Link>>,
    /// Bumped whenever a connection opens or closes; waiters watch it.
    version: watch::Sender<u64>,
    /// Every connection task, so stop and drop can end them all.
    tasks: Mutex<JoinSet<()>>,
    next_id: AtomicU64,
}

impl ProxyShared {
    pub(super) fn new(upstream: SocketAddr, sockets: SocketOptions, defaults: Faults) -> Self {
        Self {
            upstream,
            sockets,
            defaults: Mutex::new(defaults),
            admission: Mutex::default(),
            links: Mutex::default(),
            version: watch::Sender::new(0),
            tasks: Mutex::default(),
            next_id: AtomicU64::new(1),
        }
    }

    pub(super) fn defaults(&self) -> Faults {
        *lock(&self.defaults)
    }

    pub(super) fn set_defaults(&self, faults: Faults) {
        *lock(&self.defaults) = faults;
    }

    pub(super) fn admission(&self) -> Admission {
        *lock(&self.admission)
    }

    pub(super) fn set_admission(&self, admission: Admission) {
        *lock(&self.admission) = admission;
    }

    /// Registers an accepted connection with the default faults; it counts as open until the
    /// returned registration is dropped.
    pub(super) fn register(self: &Arc<Self>, client: SocketAddr) -> Registration {
        let id = ProxyConnectionId::new(self.next_id.fetch_add(1, Ordering::Relaxed));
        let counters = Arc::new(Counters::default());
        let control = watch::Sender::new(Control { faults: self.defaults(), end: None });
        let receiver = control.subscribe();
        let link = Link { client, counters: Arc::clone(&counters), control, open: true };
        lock(&self.links).insert(id, link);
        bump(&self.version);
        Registration { shared: Arc::clone(self), id, control: receiver, counters }
    }

    fn unregister(&self, id: ProxyConnectionId) {
        let mut links = lock(&self.links);
        if let Some(link) = links.get_mut(&id) {
            link.open = false;
        }
        let closed = links.values().filter(|link| !link.open).count();
        if closed > KEPT_CLOSED {
            let oldest = links.iter().find(|(_, link)| !link.open).map(|(id, _)| *id);
            if let Some(oldest) = oldest {
                links.remove(&oldest);
            }
        }
        drop(links);
        bump(&self.version);
    }

    /// Changes the control of the open connections (all, or just `only`); returns their ids.
    pub(super) fn control(
        &self,
        only: Option<ProxyConnectionId>,
        change: impl Fn(&mut Control, &Counters),
    ) -> Vec<ProxyConnectionId> {
        let links = lock(&self.links);
        let open = links.iter().filter(|(id, link)| link.open && only.is_none_or(|o| **id == o));
        open.map(|(id, link)| {
            link.control.send_modify(|control| change(control, &link.counters));
            *id
        })
        .collect()
    }

    /// Snapshots of the open connections and the last [`KEPT_CLOSED`] closed ones, in id order.
    pub(super) fn snapshot(&self) -> Vec<ProxyConnection> {
        let links = lock(&self.links);
        links.iter().map(|(id, link)| snapshot(*id, link)).collect()
    }

    pub(super) fn is_open(&self, id: ProxyConnectionId) -> bool {
        lock(&self.links).get(&id).is_some_and(|link| link.open)
    }

    pub(super) fn open_count(&self) -> usize {
        lock(&self.links).values().filter(|link| link.open).count()
    }

    /// Connections accepted since the proxy started, forgotten ones included.
    pub(super) fn accepted(&self) -> usize {
        (self.next_id.load(Ordering::Relaxed) - 1) as usize
    }

    /// Runs `task` in the proxy's task set (aborted by `Drop`).
    pub(super) fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        let mut tasks = lock(&self.tasks);
        while tasks.try_join_next().is_some() {}
        tasks.spawn(task);
    }

    /// Takes every spawned task out of the proxy's set.
    pub(super) fn take_tasks(&self) -> JoinSet<()> {
        std::mem::take(&mut *lock(&self.tasks))
    }

    /// Aborts every spawned task without waiting.
    pub(super) fn abort_tasks(&self) {
        lock(&self.tasks).abort_all();
    }

    /// Waits until `check` returns `Some`, re-checking whenever a connection opens or closes;
    /// `None` when `timeout` passes first.
    pub(super) async fn wait_for<T>(
        &self,
        timeout: Duration,
        mut check: impl FnMut(&Self) -> Option<T>,
    ) -> Option<T> {
        wait_until(&self.version, timeout, || check(self)).await
    }
}

fn snapshot(id: ProxyConnectionId, link: &Link) -> ProxyConnection {
    ProxyConnection {
        id,
        client: link.client,
        client_to_server: link.counters.traffic(Side::ClientToServer),
        server_to_client: link.counters.traffic(Side::ServerToClient),
        open: link.open,
    }
}

impl std::fmt::Debug for ProxyShared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyShared")
            .field("upstream", &self.upstream)
            .field("sockets", &self.sockets)
            .field("defaults", &self.defaults())
            .field("admission", &self.admission())
            .field("open_connections", &self.open_count())
            .field("accepted", &self.accepted())
            .finish_non_exhaustive()
    }
}

/// A connection task's handle on its table entry; marks the connection closed when dropped.
pub(super) struct Registration {
    shared: Arc<ProxyShared>,
    pub(super) id: ProxyConnectionId,
    pub(super) control: watch::Receiver<Control>,
    pub(super) counters: Arc<Counters>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.shared.unregister(self.id);
    }
}
