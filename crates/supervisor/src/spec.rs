//! What a supervised client is: where it connects, with which configuration, and when it is
//! restarted.

use std::collections::BTreeSet;

use zen_websocket_core::Config;

/// When a supervised client is replaced by a fresh one — OTP's restart types.
///
/// A *restart* replaces the [`Client`](zen_websocket_core::Client) after the core gave up
/// (its reconnection attempts failed), after its task ended abnormally, or after a connection
/// attempt of the supervisor failed. Ordinary drops stay the core's job: the client re-dials
/// and restores its subscriptions without the supervisor.
///
/// # Examples
///
/// ```
/// use zen_websocket_supervisor::{ClientSpec, Restart};
///
/// let orders = ClientSpec::new("orders", "wss://test.deribit.com/ws/api/v2").restart(Restart::Permanent);
/// assert_eq!(orders.restart_type(), Restart::Permanent);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Restart {
    /// Always restarted, whatever ended it (except [`stop_client`](crate::ClientSupervisor::stop_client)
    /// and [`shutdown`](crate::ClientSupervisor::shutdown)). The default.
    #[default]
    Permanent,
    /// Restarted only when it ended abnormally: not when it was closed, nor when the server
    /// closed it with code 1000 ([`Ending::is_normal`](zen_websocket_core::Ending::is_normal)).
    Transient,
    /// Never restarted: when it ends, it leaves the pool.
    Temporary,
}

/// One client of a pool: a name, a URL, its [`Config`], its [`Restart`] type and tags.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use zen_websocket_core::Config;
/// use zen_websocket_supervisor::{ClientSpec, Restart};
///
/// let spec = ClientSpec::new("orders-1", "wss://test.deribit.com/ws/api/v2")
///     .config(Config::default().request_timeout(Duration::from_secs(5)))
///     .restart(Restart::Transient)
///     .tag("orders");
/// assert!(spec.has_tag("orders"));
/// ```
#[derive(Clone)]
#[must_use]
pub struct ClientSpec {
    pub(crate) name: String,
    pub(crate) url: String,
    pub(crate) config: Config,
    pub(crate) restart: Restart,
    pub(crate) tags: BTreeSet<String>,
    pub(crate) authenticated: bool,
}

impl ClientSpec {
    /// A [`Permanent`](Restart::Permanent) client of `url` with the default [`Config`].
    ///
    /// # Examples
    ///
    /// ```
    /// let spec = zen_websocket_supervisor::ClientSpec::new("feed", "ws://127.0.0.1:9001");
    /// assert_eq!(spec.name(), "feed");
    /// ```
    pub fn new(name: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            url: url.into(),
            config: Config::default(),
            restart: Restart::default(),
            tags: BTreeSet::new(),
            authenticated: false,
        }
    }

    /// The client's configuration. The pool's opening limiter, when it has one, replaces
    /// [`Config::open_limiter`].
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_core::Config;
    /// let spec = zen_websocket_supervisor::ClientSpec::new("feed", "ws://127.0.0.1:9001")
    ///     .config(Config::default().retry_count(10));
    /// ```
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// When the client is restarted. Default is [`Restart::Permanent`].
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_supervisor::{ClientSpec, Restart};
    /// let spec = ClientSpec::new("feed", "ws://127.0.0.1:9001").restart(Restart::Temporary);
    /// ```
    pub fn restart(mut self, restart: Restart) -> Self {
        self.restart = restart;
        self
    }

    /// Adds a tag that [`BalanceOptions::tag`](crate::BalanceOptions::tag) and
    /// [`ShardOptions::tag`](crate::ShardOptions::tag) select by.
    ///
    /// # Examples
    ///
    /// ```
    /// let spec = zen_websocket_supervisor::ClientSpec::new("feed", "ws://127.0.0.1:9001").tag("market-data");
    /// assert!(spec.has_tag("market-data"));
    /// ```
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.insert(tag.into());
        self
    }

    /// Declares that every socket of this client is authenticated once it counts as open —
    /// its [`Config::session_setup`](zen_websocket_core::Config::session_setup) logs in, or
    /// its credentials travel in the URL or the upgrade headers — so it is eligible for
    /// [`BalanceOptions::authenticated`](crate::BalanceOptions::authenticated) whenever it is
    /// connected. Without it, call
    /// [`ClientSupervisor::mark_authenticated`](crate::ClientSupervisor::mark_authenticated)
    /// after logging in; that mark is cleared whenever the socket drops.
    ///
    /// # Examples
    ///
    /// ```
    /// let spec = zen_websocket_supervisor::ClientSpec::new("orders", "ws://127.0.0.1:9001")
    ///     .authenticated_on_connect();
    /// ```
    pub fn authenticated_on_connect(mut self) -> Self {
        self.authenticated = true;
        self
    }

    /// The client's name (several clients may share one).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(zen_websocket_supervisor::ClientSpec::new("feed", "ws://h").name(), "feed");
    /// ```
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The URL the client dials.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(zen_websocket_supervisor::ClientSpec::new("feed", "ws://h").url(), "ws://h");
    /// ```
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The restart type.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_supervisor::{ClientSpec, Restart};
    /// assert_eq!(ClientSpec::new("feed", "ws://h").restart_type(), Restart::Permanent);
    /// ```
    #[must_use]
    pub fn restart_type(&self) -> Restart {
        self.restart
    }

    /// Whether the spec carries `tag`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!zen_websocket_supervisor::ClientSpec::new("feed", "ws://h").has_tag("orders"));
    /// ```
    #[must_use]
    pub fn has_tag(&self, tag: &str) -> bool {
        self.tags.contains(tag)
    }
}

impl std::fmt::Debug for ClientSpec {
    /// The URL is left out: it may carry credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSpec")
            .field("name", &self.name)
            .field("restart", &self.restart)
            .field("tags", &self.tags)
            .field("authenticated_on_connect", &self.authenticated)
            .finish_non_exhaustive()
    }
}
