//! `ClientSupervisor`: the public face of a pool.

use std::{fmt, sync::Arc, time::Duration};

use serde::Serialize;
use serde_json::Value;
use tokio::sync::oneshot;
use zen_websocket_core::{Client, Message};

use crate::{
    BalanceOptions, Balanced, ClientId, ClientInfo, ClientSpec, PoolEvents, ShardOptions,
    ShardReport, SupervisorConfig,
    config::check_spec,
    error::{Error, Result},
    member::{Member, Phase, supervise},
    pool::Pool,
};

/// The longest `stop_client` waits for a client's task after asking it to close (the close
/// itself is bounded by the client's close timeout).
const STOP_BOUND: Duration = Duration::from_secs(60);

/// Many clients as one pool: fixed and dynamic clients restarted within limits, balanced
/// sends and requests that never send twice, channels sharded over connections, one merged
/// event stream, lifecycle hooks.
///
/// A cheap handle: clones share the pool. When the last handle is dropped the pool shuts
/// down (every client closed in the background); [`shutdown`](Self::shutdown) does it and
/// waits.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = zen_websocket_testing::MockServer::start().await?;
/// # let url = server.url();
/// use serde_json::json;
/// use zen_websocket_supervisor::{BalanceOptions, ClientSpec, ClientSupervisor, Restart, SupervisorConfig};
///
/// let config = SupervisorConfig::default()
///     .client(ClientSpec::new("orders-a", &url).tag("orders"))
///     .client(ClientSpec::new("orders-b", &url).tag("orders").restart(Restart::Transient));
/// let pool = ClientSupervisor::start(config).await?;
///
/// let answer = pool
///     .request_balanced("public/test", json!({}), &BalanceOptions::default().tag("orders"))
///     .await?;
/// println!("{} answered", answer.client);
/// assert_eq!(pool.list_clients().len(), 2);
/// pool.shutdown().await;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct ClientSupervisor {
    handle: Arc<Handle>,
}

struct Handle {
    pool: Arc<Pool>,
}

impl Drop for Handle {
    /// The last handle is gone: every client is closed in the background.
    fn drop(&mut self) {
        self.pool.cancel.cancel();
    }
}

impl ClientSupervisor {
    /// Validates `config`, starts its fixed clients and waits for each one's first
    /// connection attempt (those that fail are restarted in the background, per their
    /// [`Restart`](crate::Restart) type).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] before anything starts.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use zen_websocket_supervisor::{ClientSupervisor, SupervisorConfig};
    ///
    /// let pool = ClientSupervisor::start(SupervisorConfig::default()).await?;
    /// assert!(pool.list_clients().is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn start(config: SupervisorConfig) -> Result<Self> {
        config.validate()?;
        let fixed = config.fixed.clone();
        let pool = Arc::new(Pool::new(config));
        let mut settled = Vec::with_capacity(fixed.len());
        for spec in fixed {
            pool.reserve()?;
            let member = pool.register(spec, Phase::Starting, |_, _| {});
            let (tell, told) = oneshot::channel();
            let task =
                pool.spawn(supervise(Arc::clone(&pool), Arc::clone(&member), None, Some(tell)));
            *member.task.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(task);
            settled.push(told);
        }
        for told in settled {
            let _ = told.await;
        }
        pool.publish_counts();
        Ok(Self { handle: Arc::new(Handle { pool }) })
    }

    fn pool(&self) -> &Arc<Pool> {
        &self.handle.pool
    }

    pub(crate) fn pool_ref(&self) -> &Arc<Pool> {
        &self.handle.pool
    }

    /// Starts a client from `spec` and returns once it is connected. It is then supervised
    /// per its [`Restart`](crate::Restart) type.
    ///
    /// # Errors
    ///
    /// [`Error::StartFailed`] when the first connection fails (nothing is left running);
    /// [`Error::MaxClients`] when the pool is full; [`Error::InvalidConfig`] for a bad spec;
    /// [`Error::ShutDown`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a start whose future is dropped leaves nothing behind.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = zen_websocket_testing::MockServer::start().await?;
    /// use zen_websocket_supervisor::{ClientSpec, ClientSupervisor, Restart, SupervisorConfig};
    ///
    /// let pool = ClientSupervisor::start(SupervisorConfig::default()).await?;
    /// let id = pool.start_client(ClientSpec::new("feed", server.url()).restart(Restart::Transient)).await?;
    /// pool.client(id).unwrap().send_message("hello").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn start_client(&self, spec: ClientSpec) -> Result<ClientId> {
        check_spec(&spec)?;
        // Boxed: connecting is large, and callers' futures should not carry it.
        let (member, _) = Box::pin(self.pool().start_member(spec, |_, _| {})).await?;
        Ok(member.id)
    }

    /// Stops a client: closes it with code 1000 (pending requests answered or failed within
    /// its close timeout), removes it from the pool, and moves its shard channels to other
    /// clients. A discovered client is only removed (it is owned elsewhere).
    ///
    /// # Errors
    ///
    /// [`Error::UnknownClient`].
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = zen_websocket_testing::MockServer::start().await?;
    /// use zen_websocket_supervisor::{ClientSpec, ClientSupervisor, SupervisorConfig};
    ///
    /// let pool = ClientSupervisor::start(SupervisorConfig::default()).await?;
    /// let id = pool.start_client(ClientSpec::new("feed", server.url())).await?;
    /// pool.stop_client(id).await?;
    /// assert!(pool.client(id).is_none());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn stop_client(&self, id: ClientId) -> Result<()> {
        let pool = self.pool();
        let member = pool.member(id).ok_or(Error::UnknownClient(id))?;
        member.stop.cancel();
        let task = member.task.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        if let Some(mut task) = task
            && tokio::time::timeout(STOP_BOUND, &mut task).await.is_err()
        {
            task.abort();
        }
        pool.leave(&member, None);
        Ok(())
    }

    /// The client with this id, while it runs (`None` while it restarts, after it failed or
    /// left). Its events belong to the pool's stream: read them with
    /// [`events`](Self::events), not with [`Client::recv`].
    ///
    /// # Examples
    ///
    /// See [`start_client`](Self::start_client).
    #[must_use]
    pub fn client(&self, id: ClientId) -> Option<Client> {
        self.pool().member(id)?.client()
    }

    /// A snapshot of every client, oldest first.
    ///
    /// # Examples
    ///
    /// See [`ClientInfo`].
    #[must_use]
    pub fn list_clients(&self) -> Vec<ClientInfo> {
        self.pool().all().iter().map(|member| member.info()).collect()
    }

    /// A snapshot of one client.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = zen_websocket_testing::MockServer::start().await?;
    /// use zen_websocket_supervisor::{ClientSpec, ClientSupervisor, SupervisorConfig};
    ///
    /// let pool = ClientSupervisor::start(SupervisorConfig::default()).await?;
    /// let id = pool.start_client(ClientSpec::new("feed", server.url())).await?;
    /// assert_eq!(pool.client_info(id).unwrap().restarts, 0);
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn client_info(&self, id: ClientId) -> Option<ClientInfo> {
        Some(self.pool().member(id)?.info())
    }

    /// Marks a client's current socket as authenticated, for
    /// [`BalanceOptions::authenticated`]. The mark holds until that socket drops (a reconnect
    /// or restart clears it). Returns `false` when the client is not connected.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownClient`].
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = zen_websocket_testing::MockServer::start().await?;
    /// use zen_websocket_supervisor::{BalanceOptions, ClientSpec, ClientSupervisor, SupervisorConfig};
    ///
    /// let pool = ClientSupervisor::start(SupervisorConfig::default()).await?;
    /// let id = pool.start_client(ClientSpec::new("orders", server.url())).await?;
    /// // ... log in on pool.client(id) ...
    /// assert!(pool.mark_authenticated(id)?);
    /// pool.send_balanced("order", &BalanceOptions::default().authenticated()).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn mark_authenticated(&self, id: ClientId) -> Result<bool> {
        let member = self.pool().member(id).ok_or(Error::UnknownClient(id))?;
        Ok(member.mark_authenticated())
    }

    /// Sends a frame on the healthiest eligible client: connected, heartbeat answered, then
    /// fewest pending requests, lowest recent latency, fewest recent errors; ties take turns.
    /// When a client refuses the frame before writing it (not connected, rate limited) the
    /// next one is tried, up to [`BalanceOptions::max_attempts`]. A frame that may have been
    /// written is never sent again.
    ///
    /// # Errors
    ///
    /// [`Error::NoEligibleClient`]; [`Error::AttemptsExhausted`] when every client tried
    /// refused (nothing was sent); [`Error::OutcomeUnknown`] when the socket broke after the
    /// frame was handed to it.
    ///
    /// # Cancel safety
    ///
    /// As [`Client::send_message`]: a frame whose future is dropped before it reaches a
    /// socket is not written.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = zen_websocket_testing::MockServer::start().await?;
    /// use zen_websocket_supervisor::{BalanceOptions, ClientSpec, ClientSupervisor, SupervisorConfig};
    ///
    /// let pool = ClientSupervisor::start(SupervisorConfig::default().client(ClientSpec::new("a", server.url()))).await?;
    /// let sent = pool.send_balanced("ping", &BalanceOptions::default()).await?;
    /// println!("sent on {}", sent.client);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn send_balanced(
        &self,
        message: impl Into<Message>,
        options: &BalanceOptions,
    ) -> Result<Balanced<()>> {
        let message = message.into();
        let send = |client: Client| {
            let message = message.clone();
            async move { client.send_message(message).await }
        };
        self.pool().balanced(options, false, send).await
    }

    /// A JSON-RPC request on the healthiest eligible client (chosen as for
    /// [`send_balanced`](Self::send_balanced)); its round trip feeds the client's latency
    /// score.
    ///
    /// # Errors
    ///
    /// As [`send_balanced`](Self::send_balanced); a request that timed out or lost its socket
    /// after being written is [`Error::OutcomeUnknown`] and is not retried; an error answer
    /// from the server is [`Error::Client`].
    ///
    /// # Cancel safety
    ///
    /// As [`Client::request`].
    ///
    /// # Examples
    ///
    /// See [`Balanced`].
    pub async fn request_balanced<P: Serialize>(
        &self,
        method: &str,
        params: P,
        options: &BalanceOptions,
    ) -> Result<Balanced<Value>> {
        let params = serde_json::to_value(params).map_err(Error::InvalidParams)?;
        let request = |client: Client| {
            let params = params.clone();
            async move { client.request(method, params).await }
        };
        // Boxed: a request's steps are large, and callers' futures should not carry them.
        Box::pin(self.pool().balanced(options, true, request)).await
    }

    /// Subscribes `channels` spread over the pool's connected clients (those with the
    /// options' tag), at most [`SupervisorConfig::max_subscriptions_per_client`] each, opening
    /// clients from the [`template`](SupervisorConfig::template) while every one is full, up
    /// to [`SupervisorConfig::max_clients`]. Channels the pool already holds are skipped.
    /// Returns once the server confirmed every new channel. The pool keeps them: restored by
    /// each client on reconnect, subscribed again after a restart, moved to other clients
    /// when their client fails or is stopped ([`PoolEvent::ChannelsMoved`](crate::PoolEvent::ChannelsMoved)).
    ///
    /// # Errors
    ///
    /// [`Error::PoolExhausted`] when they do not all fit — nothing is subscribed;
    /// [`Error::StartFailed`] when a new client could not connect (nothing subscribed);
    /// [`Error::Subscribe`] naming the channels a server refused (the others are held).
    ///
    /// # Examples
    ///
    /// See [`ShardReport`].
    pub async fn subscribe_sharded<I>(
        &self,
        channels: I,
        options: &ShardOptions,
    ) -> Result<ShardReport>
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let channels = channels.into_iter().map(Into::into).collect();
        // Boxed: placing may open clients, and callers' futures should not carry that.
        Box::pin(self.pool().subscribe_sharded(channels, options)).await
    }

    /// Unsubscribes channels held by [`subscribe_sharded`](Self::subscribe_sharded). Other
    /// channels that went out in the same subscribe request stay subscribed without a gap
    /// (subscribed again on their own before the shared subscription ends). Channels the pool
    /// does not hold are skipped. Returns how many were unsubscribed.
    ///
    /// # Errors
    ///
    /// [`Error::Subscribe`] when the client holding some of them is not connected (they stay
    /// held: its restart or restore brings them back, unsubscribe again then);
    /// [`Error::Client`] when the server refused or did not answer.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = zen_websocket_testing::MockServer::start().await?;
    /// use zen_websocket_supervisor::{ClientSpec, ClientSupervisor, ShardOptions, SupervisorConfig};
    ///
    /// let pool = ClientSupervisor::start(SupervisorConfig::default().template(ClientSpec::new("data", server.url()))).await?;
    /// pool.subscribe_sharded(["a", "b", "c"], &ShardOptions::default()).await?;
    /// assert_eq!(pool.unsubscribe_sharded(["b", "not-held"]).await?, 1);
    /// assert_eq!(pool.shards()[0].1, ["a", "c"]);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn unsubscribe_sharded<I>(&self, channels: I) -> Result<usize>
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let channels = channels.into_iter().map(Into::into).collect();
        Box::pin(self.pool().unsubscribe_sharded(channels)).await
    }

    /// The shard channels each client holds, by client.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = zen_websocket_testing::MockServer::start().await?;
    /// use zen_websocket_supervisor::{ClientSpec, ClientSupervisor, ShardOptions, SupervisorConfig};
    ///
    /// let pool = ClientSupervisor::start(SupervisorConfig::default().template(ClientSpec::new("data", server.url()))).await?;
    /// pool.subscribe_sharded(["a", "b"], &ShardOptions::default()).await?;
    /// let shards = pool.shards();
    /// assert_eq!(shards.len(), 1);
    /// assert_eq!(shards[0].1, ["a", "b"]);
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn shards(&self) -> Vec<(ClientId, Vec<String>)> {
        self.pool().shards()
    }

    /// The pool's merged event stream (shared by every handle and every call).
    ///
    /// # Examples
    ///
    /// See [`PoolEvents`].
    #[must_use]
    pub fn events(&self) -> PoolEvents {
        self.pool().stream.clone()
    }

    /// Closes every client (code 1000, each within its close timeout) and waits for the
    /// pool's tasks to end. Afterwards every call fails with [`Error::ShutDown`] and the event
    /// stream ends.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = zen_websocket_testing::MockServer::start().await?;
    /// use zen_websocket_supervisor::{ClientSpec, ClientSupervisor, SupervisorConfig};
    ///
    /// let pool = ClientSupervisor::start(SupervisorConfig::default().client(ClientSpec::new("a", server.url()))).await?;
    /// pool.shutdown().await;
    /// assert!(pool.list_clients().is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn shutdown(&self) {
        let pool = self.pool();
        pool.cancel.cancel();
        pool.tasks.close();
        pool.tasks.wait().await;
        for member in pool.all() {
            pool.remove(&member);
        }
        pool.publish_counts();
    }
}

impl fmt::Debug for ClientSupervisor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientSupervisor")
            .field("name", &self.pool().name)
            .field("clients", &self.pool().with_members(|members| members.len()))
            .finish_non_exhaustive()
    }
}

/// Removes a member whose start did not complete (failed or cancelled).
struct Unstarted<'a> {
    pool: &'a Pool,
    member: Option<Arc<Member>>,
}

impl Drop for Unstarted<'_> {
    fn drop(&mut self) {
        if let Some(member) = self.member.take() {
            self.pool.remove(&member);
        }
    }
}

impl Pool {
    /// Opens a client from `spec` (renamed by `rename` once its id is known), supervised from
    /// then on. Nothing is left behind when it fails or the future is dropped.
    pub(crate) async fn start_member(
        self: &Arc<Self>,
        spec: ClientSpec,
        rename: impl FnOnce(&mut ClientSpec, ClientId),
    ) -> Result<(Arc<Member>, Client)> {
        if self.cancel.is_cancelled() {
            return Err(Error::ShutDown);
        }
        self.reserve()?;
        let member = self.register(spec, Phase::Starting, rename);
        let mut unstarted = Unstarted { pool: self, member: Some(Arc::clone(&member)) };
        let connected = tokio::select! {
            connected = self.connect(&member.spec) => connected,
            () = self.cancel.cancelled() => return Err(Error::ShutDown),
        };
        let client = connected
            .map_err(|error| Error::StartFailed { name: member.spec.name.clone(), error })?;
        unstarted.member = None;
        member.set_live(client.clone());
        let task = self.spawn(supervise(
            Arc::clone(self),
            Arc::clone(&member),
            Some(client.clone()),
            None,
        ));
        *member.task.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(task);
        self.publish_counts();
        Ok((member, client))
    }
}
