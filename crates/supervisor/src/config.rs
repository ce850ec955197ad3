//! How a pool behaves: restart limits, size, sharding, opening pace, hooks, fixed clients.

use std::{future::Future, time::Duration};

use zen_websocket_core::{RateLimiter, rate_limiter::RateLimiterConfig};

use crate::{
    ClientSpec, RestartIntensity, ShardStrategy,
    error::{Error, Result},
    hooks::{Connect, Disconnect, Failure, Hooks, hook},
};

/// Durations above a day are refused: they overflow timers and are never meant.
const MAX_DURATION: Duration = Duration::from_secs(24 * 60 * 60);
/// The most clients one pool holds.
const MAX_CLIENTS: usize = 65_536;
/// The most of any count option (queues, restarts, channels per client).
const MAX_COUNT: usize = 1 << 20;

/// The configuration of a [`ClientSupervisor`](crate::ClientSupervisor); every field has a
/// documented default.
///
/// | option | default |
/// |---|---|
/// | [`intensity`](Self::intensity) | 5 restarts in 60 s per client |
/// | [`restart_delay`](Self::restart_delay) | 250 ms, doubling per earlier restart in the window, at most 10 s |
/// | [`max_clients`](Self::max_clients) | 16 |
/// | [`max_subscriptions_per_client`](Self::max_subscriptions_per_client) | 200 |
/// | [`shard_strategy`](Self::shard_strategy) | first-fit |
/// | [`open_limiter`](Self::open_limiter) | 20 at once, then 14 per 15 s (never over 300 in 5 min) |
/// | [`events_capacity`](Self::events_capacity) | 4,096 client events |
/// | [`hook_queue`](Self::hook_queue) | 1,024 calls waiting, 64 running |
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use zen_websocket_supervisor::{ClientSpec, RestartIntensity, SupervisorConfig};
///
/// let config = SupervisorConfig::default()
///     .name("deribit")
///     .intensity(RestartIntensity::new(3, Duration::from_secs(30)))
///     .max_clients(8)
///     .max_subscriptions_per_client(500)
///     .template(ClientSpec::new("deribit-data", "wss://test.deribit.com/ws/api/v2"))
///     .client(ClientSpec::new("deribit-orders", "wss://test.deribit.com/ws/api/v2").tag("orders"));
/// assert!(config.validate().is_ok());
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct SupervisorConfig {
    pub(crate) name: String,
    pub(crate) intensity: RestartIntensity,
    pub(crate) restart_delay: Duration,
    pub(crate) max_restart_delay: Duration,
    pub(crate) max_clients: usize,
    pub(crate) per_client: usize,
    pub(crate) strategy: ShardStrategy,
    pub(crate) template: Option<ClientSpec>,
    pub(crate) open_limiter: Option<RateLimiter>,
    pub(crate) events_capacity: usize,
    pub(crate) hook_queue: usize,
    pub(crate) hook_concurrency: usize,
    pub(crate) hooks: Hooks,
    pub(crate) fixed: Vec<ClientSpec>,
}

impl Default for SupervisorConfig {
    fn default() -> Self {
        Self {
            name: "default".to_owned(),
            intensity: RestartIntensity::default(),
            restart_delay: Duration::from_millis(250),
            max_restart_delay: Duration::from_secs(10),
            max_clients: 16,
            per_client: 200,
            strategy: ShardStrategy::default(),
            template: None,
            open_limiter: Some(default_open_limiter()),
            events_capacity: 4_096,
            hook_queue: 1_024,
            hook_concurrency: 64,
            hooks: Hooks::default(),
            fixed: Vec::new(),
        }
    }
}

/// 20 opens at once, then 14 every 15 s: a bucket grants at most its capacity plus one
/// window's refill in any window, so never more than 20 + 280 = 300 in any 5 minutes —
/// Binance's limit per IP.
fn default_open_limiter() -> RateLimiter {
    let config = RateLimiterConfig::new()
        .name("pool-opens")
        .capacity(20)
        .refill_rate(14)
        .refill_interval(Duration::from_secs(15))
        .max_queue(4_096);
    RateLimiter::new(config).expect("the default opening limiter is valid")
}

impl SupervisorConfig {
    /// The pool's name: the `pool` label on its metrics and log events. Default `"default"`.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = zen_websocket_supervisor::SupervisorConfig::default().name("binance");
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// How many restarts per client within a window before it is `Failed`. Default 5 in 60 s.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use zen_websocket_supervisor::{RestartIntensity, SupervisorConfig};
    /// let config = SupervisorConfig::default().intensity(RestartIntensity::new(10, Duration::from_secs(300)));
    /// ```
    pub fn intensity(mut self, intensity: RestartIntensity) -> Self {
        self.intensity = intensity;
        self
    }

    /// The wait before a restart: `initial`, doubling for each restart in the window, at most
    /// `max`. Default 250 ms up to 10 s.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let config = zen_websocket_supervisor::SupervisorConfig::default()
    ///     .restart_delay(Duration::from_secs(1), Duration::from_secs(30));
    /// ```
    pub fn restart_delay(mut self, initial: Duration, max: Duration) -> Self {
        self.restart_delay = initial;
        self.max_restart_delay = max;
        self
    }

    /// The most clients the pool opens and holds (fixed, dynamic and opened for shards;
    /// failed ones count until stopped; discovered ones do not). Default 16: Deribit allows
    /// 32 connections per IP, HTTP included.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = zen_websocket_supervisor::SupervisorConfig::default().max_clients(4);
    /// ```
    pub fn max_clients(mut self, clients: usize) -> Self {
        self.max_clients = clients;
        self
    }

    /// The most channels [`subscribe_sharded`](crate::ClientSupervisor::subscribe_sharded)
    /// puts on one client. Default 200 (common futures set-ups); Binance spot allows 1,024
    /// streams per connection.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = zen_websocket_supervisor::SupervisorConfig::default().max_subscriptions_per_client(1_000);
    /// ```
    pub fn max_subscriptions_per_client(mut self, channels: usize) -> Self {
        self.per_client = channels;
        self
    }

    /// How shards are filled. Default [`ShardStrategy::FirstFit`].
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_supervisor::{ShardStrategy, SupervisorConfig};
    /// let config = SupervisorConfig::default().shard_strategy(ShardStrategy::LeastLoaded);
    /// ```
    pub fn shard_strategy(mut self, strategy: ShardStrategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// The spec of clients opened when every client is full of shard channels; they are named
    /// `"{name}-{id}"`. Default none: sharding uses the clients started, and says
    /// [`PoolExhausted`](crate::Error::PoolExhausted) when they are full.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_supervisor::{ClientSpec, SupervisorConfig};
    /// let config = SupervisorConfig::default().template(ClientSpec::new("data", "wss://stream.binance.com:9443/ws"));
    /// ```
    pub fn template(mut self, spec: ClientSpec) -> Self {
        self.template = Some(spec);
        self
    }

    /// The pool-wide pace of new connections: every dial and re-dial of every client takes a
    /// token, so twenty clients losing a venue together do not open twenty sockets in the same
    /// second. Replaces the clients' own [`Config::open_limiter`](zen_websocket_core::Config::open_limiter).
    /// Default: 20 at once, then 14 every 15 s — never more than 300 in any 5 minutes,
    /// Binance's limit per IP.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use zen_websocket_core::{RateLimiter, rate_limiter::RateLimiterConfig};
    /// use zen_websocket_supervisor::SupervisorConfig;
    ///
    /// let opens = RateLimiter::new(RateLimiterConfig::new().capacity(5).refill_rate(1).refill_interval(Duration::from_secs(2)))?;
    /// let config = SupervisorConfig::default().open_limiter(Some(opens));
    /// # Ok::<(), zen_websocket_core::rate_limiter::Error>(())
    /// ```
    pub fn open_limiter(mut self, limiter: Option<RateLimiter>) -> Self {
        self.open_limiter = limiter;
        self
    }

    /// How many client events the merged stream holds before forwarding waits. Default 4,096.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = zen_websocket_supervisor::SupervisorConfig::default().events_capacity(65_536);
    /// ```
    pub fn events_capacity(mut self, events: usize) -> Self {
        self.events_capacity = events;
        self
    }

    /// How many hook calls may wait (more are dropped and counted) and how many run at once.
    /// Default 1,024 and 64.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = zen_websocket_supervisor::SupervisorConfig::default().hook_queue(4_096, 16);
    /// ```
    pub fn hook_queue(mut self, waiting: usize, running: usize) -> Self {
        self.hook_queue = waiting;
        self.hook_concurrency = running;
        self
    }

    /// Runs `hook` whenever a client's socket opens (start, reconnect, restart). Hooks run on
    /// their own tasks: a slow one never stalls a connection, a panicking one is caught and
    /// logged.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_supervisor::{Connect, SupervisorConfig};
    /// let config = SupervisorConfig::default().on_connect(|up: Connect| async move {
    ///     println!("{} up", up.client);
    /// });
    /// ```
    pub fn on_connect<F, Fut>(mut self, hook_fn: F) -> Self
    where
        F: Fn(Connect) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.hooks.on_connect = Some(hook(hook_fn));
        self
    }

    /// Runs `hook` whenever a client's socket drops, saying whether the client re-dials.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_supervisor::{Disconnect, SupervisorConfig};
    /// let config = SupervisorConfig::default().on_disconnect(|down: Disconnect| async move {
    ///     println!("{} down: {}", down.client, down.reason);
    /// });
    /// ```
    pub fn on_disconnect<F, Fut>(mut self, hook_fn: F) -> Self
    where
        F: Fn(Disconnect) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.hooks.on_disconnect = Some(hook(hook_fn));
        self
    }

    /// Runs `hook` when a client is given up on (past its restart intensity).
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_supervisor::{Failure, SupervisorConfig};
    /// let config = SupervisorConfig::default().on_failed(|failure: Failure| async move {
    ///     eprintln!("{} failed: {}", failure.client, failure.cause);
    /// });
    /// ```
    pub fn on_failed<F, Fut>(mut self, hook_fn: F) -> Self
    where
        F: Fn(Failure) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.hooks.on_failed = Some(hook(hook_fn));
        self
    }

    /// Adds a fixed client, started with the supervisor and supervised per its
    /// [`Restart`](crate::Restart) type. A fixed client whose first connection fails is
    /// restarted like any other (a venue down at start-up does not stop the application).
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_supervisor::{ClientSpec, SupervisorConfig};
    /// let config = SupervisorConfig::default().client(ClientSpec::new("main", "wss://test.deribit.com/ws/api/v2"));
    /// ```
    pub fn client(mut self, spec: ClientSpec) -> Self {
        self.fixed.push(spec);
        self
    }

    /// Checks every option (and every spec's [`Config`](zen_websocket_core::Config)).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] naming the first option out of bounds.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_supervisor::{Error, SupervisorConfig};
    /// let err = SupervisorConfig::default().max_clients(0).validate().unwrap_err();
    /// assert!(matches!(err, Error::InvalidConfig { field: "max_clients", .. }));
    /// ```
    pub fn validate(&self) -> Result<()> {
        check_range("max_clients", self.max_clients, 1, MAX_CLIENTS)?;
        check_range("max_subscriptions_per_client", self.per_client, 1, MAX_COUNT)?;
        check_range("events_capacity", self.events_capacity, 1, MAX_COUNT)?;
        check_range("hook_queue", self.hook_queue, 1, MAX_COUNT)?;
        check_range("hook_queue (running)", self.hook_concurrency, 1, MAX_COUNT)?;
        check_range(
            "intensity (max_restarts)",
            self.intensity.max_restarts() as usize,
            0,
            MAX_COUNT,
        )?;
        check_duration("intensity (max_window)", self.intensity.max_window())?;
        check_duration("restart_delay", self.max_restart_delay)?;
        if self.restart_delay > self.max_restart_delay {
            return Err(invalid(
                "restart_delay",
                "initial delay is longer than the maximum; swap them",
            ));
        }
        if self.fixed.len() > self.max_clients {
            let problem = format!(
                "holds {} clients, more than max_clients {}",
                self.fixed.len(),
                self.max_clients
            );
            return Err(invalid("client", problem));
        }
        self.fixed.iter().chain(&self.template).try_for_each(check_spec)
    }
}

/// A spec's own config must be valid too.
pub(crate) fn check_spec(spec: &ClientSpec) -> Result<()> {
    spec.config
        .validate()
        .map_err(|error| invalid("client", format!("spec {:?}: {error}", spec.name)))
}

fn check_range(field: &'static str, value: usize, min: usize, max: usize) -> Result<()> {
    if (min..=max).contains(&value) {
        return Ok(());
    }
    Err(invalid(field, format!("is {value}; it must be between {min} and {max}")))
}

fn check_duration(field: &'static str, value: Duration) -> Result<()> {
    if value.is_zero() || value > MAX_DURATION {
        return Err(invalid(
            field,
            format!("is {value:?}; it must be above zero and at most a day"),
        ));
    }
    Ok(())
}

fn invalid(field: &'static str, problem: impl Into<String>) -> Error {
    Error::InvalidConfig { field, problem: problem.into() }
}
