//! The state every handle and task of one supervisor shares: its clients, its event stream,
//! its hooks, its shard table.

use std::{
    collections::{BTreeMap, HashMap},
    future::Future,
    sync::{
        Arc, Mutex, PoisonError, RwLock,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
};

use tokio_util::{sync::CancellationToken, task::TaskTracker};
use zen_websocket_core::Client;

use crate::{
    ClientId, ClientSpec, SupervisorConfig,
    error::{Error, Result},
    events::{Cause, EventSink, PoolEvent, PoolEvents},
    hooks::HookQueue,
    info::ClientStatus,
    member::{Member, Phase},
    sharding::Owner,
    telemetry,
};

#[derive(Debug)]
pub(crate) struct Pool {
    pub(crate) name: Arc<str>,
    pub(crate) config: SupervisorConfig,
    members: RwLock<BTreeMap<ClientId, Arc<Member>>>,
    next_id: AtomicU64,
    /// Clients opened by the pool (not discovered ones), for `max_clients`.
    opened: AtomicUsize,
    pub(crate) turn: AtomicUsize,
    pub(crate) sink: EventSink,
    pub(crate) stream: PoolEvents,
    pub(crate) hooks: HookQueue,
    /// Held while channels are being placed, so two placements never overfill a client.
    pub(crate) placing: tokio::sync::Mutex<()>,
    /// Which client holds each shard channel.
    pub(crate) owners: Mutex<HashMap<String, Owner>>,
    /// Discovered clients by their key.
    pub(crate) discovered: Mutex<HashMap<String, ClientId>>,
    pub(crate) cancel: CancellationToken,
    pub(crate) tasks: TaskTracker,
}

impl Pool {
    pub(crate) fn new(mut config: SupervisorConfig) -> Self {
        config.fixed.clear();
        let name: Arc<str> = Arc::from(config.name.as_str());
        let cancel = CancellationToken::new();
        let (sink, stream) =
            crate::events::channel(config.events_capacity, Arc::clone(&name), cancel.clone());
        let hooks = HookQueue::start(
            config.hooks.clone(),
            config.hook_queue,
            config.hook_concurrency,
            Arc::clone(&name),
        );
        Self {
            name,
            config,
            members: RwLock::default(),
            next_id: AtomicU64::new(1),
            opened: AtomicUsize::new(0),
            turn: AtomicUsize::new(0),
            sink,
            stream,
            hooks,
            placing: tokio::sync::Mutex::new(()),
            owners: Mutex::default(),
            discovered: Mutex::default(),
            cancel,
            tasks: TaskTracker::new(),
        }
    }

    pub(crate) fn spawn(
        &self,
        task: impl Future<Output = ()> + Send + 'static,
    ) -> tokio::task::JoinHandle<()> {
        self.tasks.spawn(task)
    }

    /// Dials `spec` with the pool's opening limiter.
    pub(crate) async fn connect(&self, spec: &ClientSpec) -> zen_websocket_core::Result<Client> {
        let mut config = spec.config.clone();
        if let Some(limiter) = &self.config.open_limiter {
            config = config.open_limiter(limiter.clone());
        }
        Client::connect(&spec.url, config).await
    }

    /// Takes a place for a client the pool opens, within `max_clients`.
    pub(crate) fn reserve(&self) -> Result<()> {
        let max_clients = self.config.max_clients;
        self.opened
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |opened| {
                (opened < max_clients).then_some(opened + 1)
            })
            .map(drop)
            .map_err(|_| Error::MaxClients { max_clients })
    }

    pub(crate) fn release(&self) {
        self.opened.fetch_sub(1, Ordering::AcqRel);
    }

    pub(crate) fn room_for_clients(&self) -> usize {
        self.config.max_clients.saturating_sub(self.opened.load(Ordering::Acquire))
    }

    /// A new member with a fresh id (`rename` may name its spec after it), registered.
    pub(crate) fn register(
        &self,
        mut spec: ClientSpec,
        phase: Phase,
        rename: impl FnOnce(&mut ClientSpec, ClientId),
    ) -> Arc<Member> {
        let id = ClientId(self.next_id.fetch_add(1, Ordering::Relaxed));
        rename(&mut spec, id);
        let member = Arc::new(Member::new(id, spec, phase, self.cancel.child_token()));
        self.members_mut().insert(id, Arc::clone(&member));
        member
    }

    pub(crate) fn member(&self, id: ClientId) -> Option<Arc<Member>> {
        self.members().get(&id).cloned()
    }

    /// A snapshot of every member, oldest first.
    pub(crate) fn all(&self) -> Vec<Arc<Member>> {
        self.members().values().cloned().collect()
    }

    pub(crate) fn with_members<T>(
        &self,
        read: impl FnOnce(&BTreeMap<ClientId, Arc<Member>>) -> T,
    ) -> T {
        read(&self.members())
    }

    fn members(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<ClientId, Arc<Member>>> {
        self.members.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn members_mut(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<ClientId, Arc<Member>>> {
        self.members.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Removes `member` from the pool (its place freed, its shard channels moved).
    pub(crate) fn remove(&self, member: &Member) -> bool {
        let removed = self.members_mut().remove(&member.id).is_some();
        if removed && !member.is_discovered() {
            self.release();
        }
        removed
    }

    /// `member` ended without a restart: out of the pool, its channels moved elsewhere.
    pub(crate) fn leave(self: &Arc<Self>, member: &Arc<Member>, cause: Option<Cause>) {
        if self.remove(member) {
            if let Some(cause) = cause {
                tracing::info!(pool = %self.name, client = %member.id, %cause, "client left the pool");
            }
            self.sink.notice(PoolEvent::Left { client: member.id });
            self.rehome_from(Arc::clone(member));
            self.publish_counts();
        }
    }

    /// The shard channels each client holds, by client.
    pub(crate) fn shards(&self) -> Vec<(ClientId, Vec<String>)> {
        let owners = self.owners.lock().unwrap_or_else(PoisonError::into_inner);
        let mut by_client: BTreeMap<ClientId, Vec<String>> = BTreeMap::new();
        for (channel, owner) in owners.iter() {
            by_client.entry(owner.client).or_default().push(channel.clone());
        }
        drop(owners);
        by_client.values_mut().for_each(|channels| channels.sort());
        by_client.into_iter().collect()
    }

    /// Publishes the clients-by-state gauges.
    pub(crate) fn publish_counts(&self) {
        let mut counts: Vec<(ClientStatus, usize)> =
            ClientStatus::ALL.iter().map(|status| (*status, 0)).collect();
        for member in self.members().values() {
            let status = member.status();
            if let Some(entry) = counts.iter_mut().find(|(known, _)| *known == status) {
                entry.1 += 1;
            }
        }
        telemetry::clients(&self.name, &counts);
    }
}
