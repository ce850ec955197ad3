//! Spreading channels over the pool's clients, and moving them when a client is gone.

use std::{
    collections::{BTreeMap, HashSet},
    sync::{Arc, PoisonError, atomic::Ordering},
};

use futures_util::future::join_all;
use zen_websocket_core::{Client, SubscriptionId};

use crate::{
    ClientId, ClientSpec, ShardOptions,
    error::{Error, Result},
    events::PoolEvent,
    member::Member,
    pool::Pool,
    shard::{Placement, place},
    telemetry,
};

/// Channels per subscribe request: large sets go out as several requests in parallel.
const CHUNK: usize = 100;

/// What [`subscribe_sharded`](crate::ClientSupervisor::subscribe_sharded) did: where the new
/// channels went, and which ones the pool already held.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = zen_websocket_testing::MockServer::start().await?;
/// use zen_websocket_supervisor::{ClientSpec, ClientSupervisor, ShardOptions, SupervisorConfig};
///
/// let config = SupervisorConfig::default().template(ClientSpec::new("data", server.url()));
/// let pool = ClientSupervisor::start(config).await?;
/// let report = pool.subscribe_sharded(["trades.BTC", "trades.ETH", "trades.BTC"], &ShardOptions::default()).await?;
/// assert_eq!(report.placed.iter().map(|(_, n)| n).sum::<usize>(), 2);
/// assert_eq!(report.duplicates, ["trades.BTC"]);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShardReport {
    /// Clients that took new channels, and how many each, confirmed by the server.
    pub placed: Vec<(ClientId, usize)>,
    /// Clients opened from the template for them.
    pub opened: Vec<ClientId>,
    /// Channels asked for that the pool already holds (or asked for twice): skipped.
    pub duplicates: Vec<String>,
}

/// Who holds a shard channel, and under which tag it was asked for (moves keep to it).
#[derive(Debug, Clone)]
pub(crate) struct Owner {
    pub(crate) client: ClientId,
    /// The client's subscription (one per subscribe request) the channel belongs to.
    subscription: SubscriptionId,
    tag: Option<Arc<str>>,
}

/// Channels bound for one client.
struct Target {
    member: Arc<Member>,
    client: Client,
    channels: Vec<String>,
}

impl Pool {
    pub(crate) async fn subscribe_sharded(
        self: &Arc<Self>,
        channels: Vec<String>,
        options: &ShardOptions,
    ) -> Result<ShardReport> {
        let _placing = self.placing.lock().await;
        if self.cancel.is_cancelled() {
            return Err(Error::ShutDown);
        }
        let (fresh, duplicates) = self.fresh_channels(channels);
        let mut report = ShardReport { duplicates, ..ShardReport::default() };
        if fresh.is_empty() {
            return Ok(report);
        }
        let tag: Option<Arc<str>> = options.tag.as_deref().map(Arc::from);
        let placement = self.plan(fresh, tag.as_deref(), None)?;
        let targets = self.targets(placement, &mut report.opened).await?;
        let results =
            join_all(targets.into_iter().map(|target| self.subscribe_on(target, tag.clone())))
                .await;
        let mut failure = None;
        for result in results {
            match result {
                Ok((client, confirmed)) => report.placed.push((client, confirmed)),
                Err(error) => failure = failure.or(Some(error)),
            }
        }
        failure.map_or(Ok(report), Err)
    }

    /// The channel list in order without repeats or channels the pool holds; and those skipped.
    fn fresh_channels(&self, channels: Vec<String>) -> (Vec<String>, Vec<String>) {
        let owners = self.owners.lock().unwrap_or_else(PoisonError::into_inner);
        let mut seen = HashSet::new();
        let (mut fresh, mut duplicates) = (Vec::new(), Vec::new());
        for channel in channels {
            if owners.contains_key(&channel) || !seen.insert(channel.clone()) {
                duplicates.push(channel);
            } else {
                fresh.push(channel);
            }
        }
        (fresh, duplicates)
    }

    /// Places `channels` on connected clients with `tag` (not `exclude`), and new template
    /// clients when the template carries the tag.
    fn plan(
        &self,
        channels: Vec<String>,
        tag: Option<&str>,
        exclude: Option<ClientId>,
    ) -> Result<Placement> {
        let cap = self.config.per_client;
        let tagged = |spec: &ClientSpec| tag.is_none_or(|tag| spec.has_tag(tag));
        let loads: Vec<(ClientId, usize)> = self.with_members(|members| {
            members
                .values()
                .filter(|member| Some(member.id) != exclude && tagged(&member.spec))
                .filter(|member| member.connected().is_some())
                .map(|member| (member.id, member.shard_count.load(Ordering::Acquire)))
                .collect()
        });
        let may_open = match &self.config.template {
            Some(template) if tagged(template) => self.room_for_clients(),
            _ => 0,
        };
        let requested = channels.len();
        place(channels, &loads, cap, may_open, self.config.strategy)
            .map_err(|shortfall| Error::PoolExhausted { requested, room: shortfall.room })
    }

    /// The clients of `placement`, opening the new ones.
    async fn targets(
        self: &Arc<Self>,
        placement: Placement,
        opened: &mut Vec<ClientId>,
    ) -> Result<Vec<Target>> {
        let mut targets = Vec::new();
        for (id, channels) in placement.existing {
            // Placing holds the lock, but a client may drop between planning and now.
            let connected = self.member(id).and_then(|member| Some((member.connected()?, member)));
            let Some((client, member)) = connected else {
                let state = zen_websocket_core::ConnectionState::Disconnected;
                let error = Arc::new(zen_websocket_core::Error::NotConnected(state));
                return Err(Error::Subscribe { client: id, channels, error });
            };
            targets.push(Target { member, client, channels });
        }
        for channels in placement.new_clients {
            let (member, client) = self.open_from_template().await?;
            opened.push(member.id);
            targets.push(Target { member, client, channels });
        }
        Ok(targets)
    }

    async fn open_from_template(self: &Arc<Self>) -> Result<(Arc<Member>, Client)> {
        let template = self.config.template.clone().ok_or(Error::MaxClients { max_clients: 0 })?;
        let name = template.name.clone();
        self.start_member(template, |spec, id| spec.name = format!("{name}-{}", id.get())).await
    }

    /// Subscribes `target`'s channels in parallel chunks and records the confirmed ones.
    async fn subscribe_on(
        &self,
        target: Target,
        tag: Option<Arc<str>>,
    ) -> Result<(ClientId, usize)> {
        let Target { member, client, channels } = target;
        let (confirmed, failed) = subscribe_chunks(&client, channels).await;
        let mut count = 0;
        {
            let mut owners = self.owners.lock().unwrap_or_else(PoisonError::into_inner);
            for (subscription, channels) in confirmed {
                count += channels.len();
                for channel in channels {
                    let owner = Owner { client: member.id, subscription, tag: tag.clone() };
                    owners.insert(channel, owner);
                }
            }
        }
        let held = member.shard_count.fetch_add(count, Ordering::AcqRel) + count;
        telemetry::shard_size(&self.name, member.id, held);
        match failed {
            None => Ok((member.id, count)),
            Some((channels, error)) => {
                Err(Error::Subscribe { client: member.id, channels, error: Arc::new(error) })
            }
        }
    }

    /// Subscribes the channels `member` holds on its fresh `client` (after a restart); those
    /// refused move elsewhere.
    pub(crate) async fn resubscribe_shard(self: &Arc<Self>, member: &Arc<Member>, client: &Client) {
        let held = self.channels_of(member.id);
        if held.is_empty() {
            return;
        }
        let (confirmed, failed) = subscribe_chunks(client, held).await;
        self.renumber(&confirmed);
        if let Some((channels, error)) = failed {
            tracing::warn!(pool = %self.name, client = %member.id, %error, count = channels.len(), "channels not restored on the restarted client; moving them");
            let moving = self.release_channels(member, Some(&channels));
            self.rehome(member.id, moving);
        }
    }

    /// Records the subscriptions channels now belong to.
    fn renumber(&self, confirmed: &[(SubscriptionId, Vec<String>)]) {
        let mut owners = self.owners.lock().unwrap_or_else(PoisonError::into_inner);
        for (subscription, channels) in confirmed {
            for channel in channels {
                if let Some(owner) = owners.get_mut(channel) {
                    owner.subscription = *subscription;
                }
            }
        }
    }

    /// Unsubscribes shard channels: each client keeps the other channels of the subscriptions
    /// they shared (subscribed again under a new subscription before the old one goes, so they
    /// never lapse). Channels the pool does not hold are skipped. Returns how many were dropped.
    pub(crate) async fn unsubscribe_sharded(
        self: &Arc<Self>,
        channels: Vec<String>,
    ) -> Result<usize> {
        let _placing = self.placing.lock().await;
        let mut dropped = 0;
        for ((client_id, subscription), leaving) in self.group_by_subscription(channels) {
            let member = self.member(client_id).ok_or(Error::UnknownClient(client_id))?;
            let client = member.connected().ok_or_else(|| Error::Subscribe {
                client: client_id,
                channels: leaving.clone(),
                error: Arc::new(zen_websocket_core::Error::NotConnected(
                    zen_websocket_core::ConnectionState::Disconnected,
                )),
            })?;
            let staying = self.others_in(client_id, subscription, &leaving);
            let failed = |error| Error::Client { client: client_id, error };
            if !staying.is_empty() {
                let renewed = client.subscribe(staying.iter().cloned()).await.map_err(failed)?;
                self.renumber(&[(renewed, staying)]);
            }
            client.unsubscribe(subscription).await.map_err(failed)?;
            dropped += self.release_channels(&member, Some(&leaving)).len();
        }
        Ok(dropped)
    }

    /// The held channels among `channels`, by the client and subscription holding them.
    fn group_by_subscription(
        &self,
        channels: Vec<String>,
    ) -> BTreeMap<(ClientId, SubscriptionId), Vec<String>> {
        let owners = self.owners.lock().unwrap_or_else(PoisonError::into_inner);
        let mut groups: BTreeMap<(ClientId, SubscriptionId), Vec<String>> = BTreeMap::new();
        for channel in channels {
            if let Some(owner) = owners.get(&channel) {
                let group = groups.entry((owner.client, owner.subscription)).or_default();
                if !group.contains(&channel) {
                    group.push(channel);
                }
            }
        }
        groups
    }

    /// The other channels of `subscription` on `client`, beside `leaving`.
    fn others_in(
        &self,
        client: ClientId,
        subscription: SubscriptionId,
        leaving: &[String],
    ) -> Vec<String> {
        let owners = self.owners.lock().unwrap_or_else(PoisonError::into_inner);
        let mut others: Vec<String> = owners
            .iter()
            .filter(|(channel, owner)| {
                owner.client == client
                    && owner.subscription == subscription
                    && !leaving.contains(channel)
            })
            .map(|(channel, _)| channel.clone())
            .collect();
        others.sort();
        others
    }

    /// The shard channels `client` holds.
    fn channels_of(&self, client: ClientId) -> Vec<String> {
        let owners = self.owners.lock().unwrap_or_else(PoisonError::into_inner);
        owners
            .iter()
            .filter(|(_, owner)| owner.client == client)
            .map(|(channel, _)| channel.clone())
            .collect()
    }

    /// Forgets the channels `member` holds (those in `only`, or all), returning them with
    /// their tags.
    pub(crate) fn release_channels(
        &self,
        member: &Member,
        only: Option<&[String]>,
    ) -> Vec<(String, Option<Arc<str>>)> {
        let mut owners = self.owners.lock().unwrap_or_else(PoisonError::into_inner);
        let wanted: Option<HashSet<&String>> = only.map(|only| only.iter().collect());
        let mut released = Vec::new();
        owners.retain(|channel, owner| {
            let leaving = owner.client == member.id
                && wanted.as_ref().is_none_or(|set| set.contains(channel));
            if leaving {
                released.push((channel.clone(), owner.tag.clone()));
            }
            !leaving
        });
        let count = released.len();
        let before = member
            .shard_count
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                Some(held.saturating_sub(count))
            })
            .unwrap_or_else(|held| held);
        telemetry::shard_size(&self.name, member.id, before.saturating_sub(count));
        released
    }

    /// Moves every shard channel of `member` (gone: failed, stopped or left) to other clients.
    pub(crate) fn rehome_from(self: &Arc<Self>, member: Arc<Member>) {
        let pool = Arc::clone(self);
        self.spawn(async move {
            let _placing = pool.placing.lock().await;
            let channels = pool.release_channels(&member, None);
            pool.move_channels(member.id, channels).await;
        });
    }

    /// Moves `channels` (already released) off `from`.
    pub(crate) fn rehome(
        self: &Arc<Self>,
        from: ClientId,
        channels: Vec<(String, Option<Arc<str>>)>,
    ) {
        let pool = Arc::clone(self);
        self.spawn(async move {
            let _placing = pool.placing.lock().await;
            pool.move_channels(from, channels).await;
        });
    }

    async fn move_channels(
        self: &Arc<Self>,
        from: ClientId,
        channels: Vec<(String, Option<Arc<str>>)>,
    ) {
        if channels.is_empty() || self.cancel.is_cancelled() {
            return;
        }
        let mut by_tag: BTreeMap<Option<Arc<str>>, Vec<String>> = BTreeMap::new();
        for (channel, tag) in channels {
            by_tag.entry(tag).or_default().push(channel);
        }
        for (tag, channels) in by_tag {
            self.move_group(from, channels, tag).await;
        }
    }

    async fn move_group(
        self: &Arc<Self>,
        from: ClientId,
        channels: Vec<String>,
        tag: Option<Arc<str>>,
    ) {
        let targets = match self.plan(channels.clone(), tag.as_deref(), Some(from)) {
            Ok(placement) => self.targets(placement, &mut Vec::new()).await,
            Err(error) => Err(error),
        };
        let targets = match targets {
            Ok(targets) => targets,
            Err(error) => return self.unplaced(from, channels, error.to_string()),
        };
        let moves = targets.into_iter().map(|target| {
            let to = target.member.id;
            let sent = target.channels.clone();
            let subscribed = self.subscribe_on(target, tag.clone());
            async move { (to, sent, subscribed.await) }
        });
        for (to, sent, result) in join_all(moves).await {
            match result {
                Ok(_) => {
                    telemetry::channels_moved(&self.name, sent.len());
                    tracing::info!(pool = %self.name, %from, %to, count = sent.len(), "shard channels moved");
                    self.sink.notice(PoolEvent::ChannelsMoved { from, to, channels: sent });
                }
                Err(Error::Subscribe { channels: refused, error, .. }) => {
                    let moved: Vec<String> =
                        sent.into_iter().filter(|channel| !refused.contains(channel)).collect();
                    if !moved.is_empty() {
                        telemetry::channels_moved(&self.name, moved.len());
                        self.sink.notice(PoolEvent::ChannelsMoved { from, to, channels: moved });
                    }
                    self.unplaced(from, refused, format!("{to}: {error}"));
                }
                Err(error) => self.unplaced(from, sent, error.to_string()),
            }
        }
    }

    fn unplaced(&self, from: ClientId, channels: Vec<String>, error: String) {
        telemetry::channels_unplaced(&self.name, channels.len());
        tracing::error!(pool = %self.name, %from, %error, count = channels.len(), "shard channels could not be moved");
        self.sink.notice(PoolEvent::ChannelsUnplaced { from, channels, error });
    }
}

/// Subscribes `channels` on `client` in parallel chunks: the confirmed ones, and the refused
/// ones with the first error.
async fn subscribe_chunks(
    client: &Client,
    channels: Vec<String>,
) -> (Vec<(SubscriptionId, Vec<String>)>, Option<(Vec<String>, zen_websocket_core::Error)>) {
    let chunks: Vec<Vec<String>> = channels.chunks(CHUNK).map(<[String]>::to_vec).collect();
    let results =
        join_all(chunks.iter().map(|chunk| client.subscribe(chunk.iter().cloned()))).await;
    let mut confirmed = Vec::new();
    let mut failed: Option<(Vec<String>, zen_websocket_core::Error)> = None;
    for (chunk, result) in chunks.into_iter().zip(results) {
        match (result, &mut failed) {
            (Ok(subscription), _) => confirmed.push((subscription, chunk)),
            (Err(_), Some((refused, _))) => refused.extend(chunk),
            (Err(error), slot @ None) => *slot = Some((chunk, error)),
        }
    }
    (confirmed, failed)
}
