//! One client of a pool: its record, and the task that supervises it — connect, live, restart
//! within the intensity or give up — plus the task that forwards its events.

use std::{
    sync::{
        Arc, Mutex, MutexGuard, PoisonError,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use tokio::{sync::oneshot, time::Instant};
use tokio_util::sync::CancellationToken;
use zen_websocket_core::{Client, ConnectionState, DisconnectReason, Ending, Event, Events};

use crate::{
    BalanceOptions, ClientId, ClientSpec, Restart,
    balance::Scores,
    events::{Cause, PoolEvent},
    hooks::{Connect, Disconnect, Failure},
    info::{ClientInfo, ClientStatus, health_score},
    intensity::RestartWindow,
    pool::Pool,
    telemetry,
};

/// Most events forwarded per wake-up.
const FORWARD_BATCH: usize = 64;

/// Where a member is in its life, as the supervisor sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Starting,
    /// A client runs; the core's state says whether it is connected.
    Live,
    Restarting,
    Failed,
    /// Owned elsewhere, found by discovery.
    Discovered,
}

#[derive(Debug)]
struct Slot {
    client: Option<Client>,
    phase: Phase,
    restarts: u32,
    /// Set by `mark_authenticated`: the socket it holds for, by the core's reconnect count.
    authenticated_at: Option<u64>,
}

/// A client of the pool.
#[derive(Debug)]
pub(crate) struct Member {
    pub(crate) id: ClientId,
    pub(crate) spec: ClientSpec,
    slot: Mutex<Slot>,
    pub(crate) scores: Scores,
    /// Balanced sends and requests under way on this member.
    pub(crate) in_flight: AtomicUsize,
    /// Shard channels it holds.
    pub(crate) shard_count: AtomicUsize,
    /// Cancelled by `stop_client` and by the pool's shutdown.
    pub(crate) stop: CancellationToken,
    /// The supervising task, for `stop_client` to wait on.
    pub(crate) task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Member {
    pub(crate) fn new(
        id: ClientId,
        spec: ClientSpec,
        phase: Phase,
        stop: CancellationToken,
    ) -> Self {
        let slot = Slot { client: None, phase, restarts: 0, authenticated_at: None };
        Self {
            id,
            spec,
            slot: Mutex::new(slot),
            scores: Scores::default(),
            in_flight: AtomicUsize::new(0),
            shard_count: AtomicUsize::new(0),
            stop,
            task: Mutex::new(None),
        }
    }

    fn slot(&self) -> MutexGuard<'_, Slot> {
        self.slot.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn client(&self) -> Option<Client> {
        self.slot().client.clone()
    }

    pub(crate) fn phase(&self) -> Phase {
        self.slot().phase
    }

    pub(crate) fn is_discovered(&self) -> bool {
        self.phase() == Phase::Discovered
    }

    pub(crate) fn set_live(&self, client: Client) {
        let mut slot = self.slot();
        slot.client = Some(client);
        if slot.phase != Phase::Discovered {
            slot.phase = Phase::Live;
        }
        slot.authenticated_at = None;
    }

    fn set_phase(&self, phase: Phase) {
        let mut slot = self.slot();
        slot.phase = phase;
        slot.client = None;
        slot.authenticated_at = None;
    }

    fn count_restart(&self) -> u32 {
        let mut slot = self.slot();
        slot.restarts += 1;
        slot.restarts
    }

    pub(crate) fn restarts(&self) -> u32 {
        self.slot().restarts
    }

    /// Marks the current socket authenticated; `false` when no client is connected.
    pub(crate) fn mark_authenticated(&self) -> bool {
        let mut slot = self.slot();
        let Some(client) = &slot.client else { return false };
        if client.get_state() != ConnectionState::Connected {
            return false;
        }
        slot.authenticated_at = Some(client.get_state_metrics().reconnects);
        true
    }

    fn authenticated(&self, slot: &Slot, client: &Client) -> bool {
        self.spec.authenticated
            || slot.authenticated_at == Some(client.get_state_metrics().reconnects)
    }

    pub(crate) fn matches(&self, options: &BalanceOptions) -> bool {
        options.name.as_ref().is_none_or(|name| *name == self.spec.name)
            && options.tag.as_ref().is_none_or(|tag| self.spec.tags.contains(tag))
    }

    /// The client's pending requests, when it may take balanced traffic: running, connected,
    /// its heartbeat answered, authenticated when asked.
    pub(crate) fn eligible_pending(&self, authenticated: bool) -> Option<usize> {
        let slot = self.slot();
        if !matches!(slot.phase, Phase::Live | Phase::Discovered) {
            return None;
        }
        let client = slot.client.as_ref()?;
        let usable = client.get_state() == ConnectionState::Connected
            && client.get_heartbeat_health().failures == 0
            && (!authenticated || self.authenticated(&slot, client));
        usable.then(|| client.get_state_metrics().pending_requests)
    }

    /// The client when it is running and connected (for shard placement).
    pub(crate) fn connected(&self) -> Option<Client> {
        let slot = self.slot();
        let client = slot.client.as_ref().filter(|_| slot.phase == Phase::Live)?;
        (client.get_state() == ConnectionState::Connected).then(|| client.clone())
    }

    pub(crate) fn status(&self) -> ClientStatus {
        let slot = self.slot();
        let state = slot.client.as_ref().map_or(ConnectionState::Disconnected, Client::get_state);
        match slot.phase {
            Phase::Starting => ClientStatus::Starting,
            Phase::Restarting => ClientStatus::Restarting,
            Phase::Failed => ClientStatus::Failed,
            Phase::Discovered => ClientStatus::Discovered,
            Phase::Live => match state {
                ConnectionState::Connected => ClientStatus::Connected,
                ConnectionState::Disconnected => ClientStatus::Restarting,
                _ => ClientStatus::Reconnecting,
            },
        }
    }

    pub(crate) fn info(&self) -> ClientInfo {
        let status = self.status();
        let slot = self.slot();
        let client = slot.client.as_ref();
        let state = client.map_or(ConnectionState::Disconnected, Client::get_state);
        let metrics = client.map(Client::get_state_metrics).unwrap_or_default();
        let heartbeat = client.map(Client::get_heartbeat_health).unwrap_or_default();
        let errors = self.scores.recent_errors(Instant::now());
        ClientInfo {
            id: self.id,
            name: self.spec.name.clone(),
            url: redact(&self.spec.url),
            status,
            state,
            health: health_score(state, &heartbeat, &metrics, errors),
            restarts: slot.restarts,
            shard_channels: self.shard_count.load(Ordering::Relaxed),
            subscriptions: metrics.subscriptions,
            pending: metrics.pending_requests,
            authenticated: client.is_some_and(|client| {
                state == ConnectionState::Connected && self.authenticated(&slot, client)
            }),
            latency: client.map(Client::get_latency_stats).unwrap_or_default(),
            tags: self.spec.tags.iter().cloned().collect(),
        }
    }
}

fn redact(url: &str) -> String {
    zen_websocket_core::recorder::Redaction::default().redact_url(url)
}

/// Supervises `member` until it is stopped, fails, or leaves: `first` is its already connected
/// client (from `start_client`), or `None` to connect here. `settled` is told once the first
/// connection attempt is over.
pub(crate) async fn supervise(
    pool: Arc<Pool>,
    member: Arc<Member>,
    mut first: Option<Client>,
    mut settled: Option<oneshot::Sender<()>>,
) {
    let mut window = RestartWindow::new(pool.config.intensity);
    loop {
        // A client handed in was just started: it holds no shard channels yet.
        let fresh = first.is_some();
        let client = match first.take() {
            Some(client) => client,
            None => {
                let attempt = member.stop.run_until_cancelled(pool.connect(&member.spec)).await;
                settled.take().map(|tell| tell.send(()));
                match attempt {
                    None => break,
                    Some(Ok(client)) => client,
                    Some(Err(error)) => {
                        let cause = Cause::ConnectFailed(error.to_string());
                        if member.spec.restart == Restart::Temporary {
                            pool.leave(&member, Some(cause));
                            break;
                        }
                        match restart_or_fail(&pool, &member, &mut window, cause).await {
                            true => continue,
                            false => break,
                        }
                    }
                }
            }
        };
        settled.take().map(|tell| tell.send(()));
        let Some(ending) = live(&pool, &member, client, !fresh).await else { break };
        if !restarts_after(member.spec.restart, ending) {
            pool.leave(&member, Some(Cause::Ended(ending)));
            break;
        }
        if !restart_or_fail(&pool, &member, &mut window, Cause::Ended(ending)).await {
            break;
        }
    }
}

/// OTP's rule: permanent always, transient after an abnormal end, temporary never.
fn restarts_after(restart: Restart, ending: Ending) -> bool {
    match restart {
        Restart::Permanent => true,
        Restart::Transient => !ending.is_normal(),
        Restart::Temporary => false,
    }
}

/// Runs `client` until it ends for good (`Some(ending)`) or the member is stopped (`None`,
/// after closing it within its close timeout).
async fn live(
    pool: &Arc<Pool>,
    member: &Arc<Member>,
    client: Client,
    resubscribe: bool,
) -> Option<Ending> {
    if resubscribe {
        pool.resubscribe_shard(member, &client).await;
    }
    member.set_live(client.clone());
    pool.publish_counts();
    let restarts = member.restarts();
    pool.sink.notice(PoolEvent::Started { client: member.id, restarts });
    pool.hooks.connected(Connect {
        client: member.id,
        name: member.spec.name.clone(),
        handle: client.clone(),
    });
    pool.spawn(forward(Arc::clone(pool), Arc::clone(member), client.events()));
    tokio::select! {
        ending = client.closed() => {
            member.set_phase(Phase::Restarting);
            Some(ending)
        }
        () = member.stop.cancelled() => {
            if let Err(error) = client.close().await {
                tracing::debug!(client = %member.id, %error, "close on stop");
            }
            None
        }
    }
}

/// Counts a restart and waits its delay (`true`), or marks the member failed (`false`).
async fn restart_or_fail(
    pool: &Arc<Pool>,
    member: &Arc<Member>,
    window: &mut RestartWindow,
    cause: Cause,
) -> bool {
    if member.stop.is_cancelled() {
        return false;
    }
    if !window.try_restart(Instant::now()) {
        fail(pool, member, cause);
        return false;
    }
    let restarts = member.count_restart();
    member.set_phase(Phase::Restarting);
    pool.publish_counts();
    telemetry::restarted(&pool.name, member.id, &member.spec.name);
    let delay = restart_delay(pool, window.in_window());
    tracing::warn!(pool = %pool.name, client = %member.id, %cause, ?delay, restarts, "restarting client");
    pool.sink.notice(PoolEvent::Restarting { client: member.id, restarts, delay, cause });
    member.stop.run_until_cancelled(tokio::time::sleep(delay)).await.is_some()
}

/// The initial delay doubled for each earlier restart in the window, capped.
fn restart_delay(pool: &Pool, in_window: usize) -> Duration {
    let doublings = in_window.saturating_sub(1).min(20) as u32;
    pool.config.restart_delay.saturating_mul(1 << doublings).min(pool.config.max_restart_delay)
}

fn fail(pool: &Arc<Pool>, member: &Arc<Member>, cause: Cause) {
    member.set_phase(Phase::Failed);
    pool.publish_counts();
    telemetry::failed(&pool.name, member.id, &member.spec.name);
    let restarts = member.restarts();
    tracing::error!(pool = %pool.name, client = %member.id, %cause, restarts, "client failed past its restart intensity");
    pool.sink.notice(PoolEvent::Failed { client: member.id, restarts, cause: cause.clone() });
    pool.hooks.failed(Failure {
        client: member.id,
        name: member.spec.name.clone(),
        restarts,
        cause,
    });
    pool.rehome_from(Arc::clone(member));
}

/// Forwards the events of one client into the pool's stream, running hooks on the way, until
/// the client's events end or the pool shuts down.
pub(crate) async fn forward(pool: Arc<Pool>, member: Arc<Member>, mut events: Events) {
    let mut batch = Vec::with_capacity(FORWARD_BATCH);
    loop {
        let got = tokio::select! {
            got = events.recv_many(&mut batch, FORWARD_BATCH) => got,
            () = pool.cancel.cancelled() => 0,
        };
        if got == 0 {
            return;
        }
        for event in batch.drain(..) {
            observe(&pool, &member, &event);
            let forwarded = tokio::select! {
                sent = pool.sink.forward(member.id, event) => sent,
                () = pool.cancel.cancelled() => false,
            };
            if !forwarded {
                return;
            }
        }
    }
}

/// Hooks and gauges for lifecycle events; shard channels a reconnect lost move elsewhere.
fn observe(pool: &Arc<Pool>, member: &Member, event: &Event) {
    match event {
        Event::SubscriptionLost { channels, .. } => {
            let lost = pool.release_channels(member, Some(channels));
            if !lost.is_empty() {
                tracing::warn!(pool = %pool.name, client = %member.id, count = lost.len(), "shard channels lost on reconnect; moving them");
                pool.rehome(member.id, lost);
            }
        }
        Event::Connected => {
            pool.publish_counts();
            if let Some(handle) = member.client() {
                pool.hooks.connected(Connect {
                    client: member.id,
                    name: member.spec.name.clone(),
                    handle,
                });
            }
        }
        Event::Disconnected { reason, will_retry, .. } => {
            pool.publish_counts();
            pool.hooks.disconnected(Disconnect {
                client: member.id,
                name: member.spec.name.clone(),
                code: reason.close_code(),
                reason: describe(reason),
                will_retry: *will_retry,
            });
        }
        _ => {}
    }
}

fn describe(reason: &DisconnectReason) -> String {
    match reason {
        DisconnectReason::ServerClosed { code, reason } => {
            format!("server closed ({code} {reason})")
        }
        DisconnectReason::ClientClosed => "closed by the client".to_owned(),
        DisconnectReason::Error(error) => error.to_string(),
        _ => format!("{reason:?}"),
    }
}
