//! How a Deribit client behaves: where, who, heartbeat, cancel-on-disconnect, pacing, retries.

use std::time::Duration;

use zen_websocket_core::{Config, rate_limiter::DeribitTier};

use crate::{
    Credentials, Environment, Grant,
    error::{Error, Result},
};

/// Deribit's smallest heartbeat interval.
const MIN_HEARTBEAT: Duration = Duration::from_secs(10);
/// Deribit's largest subscribe request.
pub(crate) const MAX_CHANNELS_PER_REQUEST: usize = 500;

/// The configuration of a [`DeribitClient`](crate::DeribitClient); every field has a default.
///
/// | option | default |
/// |---|---|
/// | [`environment`](Self::environment) | testnet |
/// | [`credentials`](Self::credentials) | none (public data only) |
/// | [`grant`](Self::grant) | `client_signature` (the secret never leaves the process) |
/// | [`heartbeat`](Self::heartbeat) | Deribit heartbeat every 30 s |
/// | [`cancel_on_disconnect`](Self::cancel_on_disconnect) | off |
/// | [`tier`](Self::tier) | `Tier4` credit model (where every account starts) |
/// | [`busy_retries`](Self::busy_retries) | 8 attempts, 250 ms doubling to 5 s |
/// | [`client_config`](Self::client_config) | `Config::default()` |
///
/// # Examples
///
/// ```
/// use zen_websocket_deribit::{Credentials, DeribitConfig, Environment};
///
/// let config = DeribitConfig::default()
///     .environment(Environment::Testnet)
///     .credentials(Credentials::new("client-id", "client-secret"))
///     .cancel_on_disconnect(true);
/// assert!(config.validate().is_ok());
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct DeribitConfig {
    pub(crate) environment: Environment,
    pub(crate) credentials: Option<Credentials>,
    pub(crate) grant: Grant,
    pub(crate) heartbeat: Duration,
    pub(crate) cancel_on_disconnect: bool,
    pub(crate) tier: Option<DeribitTier>,
    pub(crate) busy_attempts: u32,
    pub(crate) busy_delay: Duration,
    pub(crate) busy_max_delay: Duration,
    pub(crate) client: Config,
}

impl Default for DeribitConfig {
    fn default() -> Self {
        Self {
            environment: Environment::default(),
            credentials: None,
            grant: Grant::default(),
            heartbeat: Duration::from_secs(30),
            cancel_on_disconnect: false,
            tier: Some(DeribitTier::default()),
            busy_attempts: 8,
            busy_delay: Duration::from_millis(250),
            busy_max_delay: Duration::from_secs(5),
            client: Config::default(),
        }
    }
}

impl DeribitConfig {
    /// Where to connect. Default [`Environment::Testnet`].
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_deribit::{DeribitConfig, Environment};
    /// let config = DeribitConfig::default().environment(Environment::Production);
    /// ```
    pub fn environment(mut self, environment: Environment) -> Self {
        self.environment = environment;
        self
    }

    /// The API key to log in with on every socket. Default none: public methods and
    /// channels only.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_deribit::{Credentials, DeribitConfig};
    /// let config = DeribitConfig::default().credentials(Credentials::new("id", "secret"));
    /// ```
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// How to log in. Default [`Grant::ClientSignature`].
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_deribit::{DeribitConfig, Grant};
    /// let config = DeribitConfig::default().grant(Grant::ClientCredentials);
    /// ```
    pub fn grant(mut self, grant: Grant) -> Self {
        self.grant = grant;
        self
    }

    /// The Deribit heartbeat interval (`public/set_heartbeat`): the server sends a
    /// `test_request` each interval, the client answers it, and a missed answer makes the
    /// server close the socket. At least 10 s; default 30 s.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let config = zen_websocket_deribit::DeribitConfig::default().heartbeat(Duration::from_secs(15));
    /// ```
    pub fn heartbeat(mut self, interval: Duration) -> Self {
        self.heartbeat = interval;
        self
    }

    /// Cancel-on-disconnect for each connection: when the socket drops (not after a graceful
    /// [`close`](crate::DeribitClient::close)), Deribit cancels the orders it created. Enabled
    /// on every socket right after login. Needs credentials. Default off.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_deribit::{Credentials, DeribitConfig};
    /// let config = DeribitConfig::default().credentials(Credentials::new("id", "s")).cancel_on_disconnect(true);
    /// ```
    pub fn cancel_on_disconnect(mut self, enabled: bool) -> Self {
        self.cancel_on_disconnect = enabled;
        self
    }

    /// The account's rate-limit tier: requests are paced by Deribit's credit model (50,000
    /// credits, 10,000 a second, 500 a request, and the tier's matching-engine bucket for
    /// orders) before they are sent. `None` sends without pacing. Default
    /// `Some(DeribitTier::Tier4)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_core::rate_limiter::DeribitTier;
    /// let config = zen_websocket_deribit::DeribitConfig::default().tier(Some(DeribitTier::Tier2));
    /// ```
    pub fn tier(mut self, tier: Option<DeribitTier>) -> Self {
        self.tier = tier;
        self
    }

    /// How calls answered with a "busy" code (10028 `too_many_requests` and the other codes of
    /// [`codes::is_retryable`](crate::codes::is_retryable) — the venue did not execute them),
    /// or refused while the client reconnects (never written; Deribit ends the session after a
    /// 10028), are retried: up to `attempts` in all, waiting `initial` doubling to `max`. Default 8
    /// attempts, 250 ms to 5 s.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let config = zen_websocket_deribit::DeribitConfig::default()
    ///     .busy_retries(4, Duration::from_millis(100), Duration::from_secs(1));
    /// ```
    pub fn busy_retries(mut self, attempts: u32, initial: Duration, max: Duration) -> Self {
        self.busy_attempts = attempts;
        self.busy_delay = initial;
        self.busy_max_delay = max;
        self
    }

    /// The client configuration underneath (reconnection, timeouts, TLS, recording…). The
    /// adapter sets its heartbeat, rate limiter and session set-up.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_core::Config;
    /// let config = zen_websocket_deribit::DeribitConfig::default().client_config(Config::default().retry_count(10));
    /// ```
    pub fn client_config(mut self, config: Config) -> Self {
        self.client = config;
        self
    }

    /// Checks the options.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] naming the option.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_deribit::{DeribitConfig, Error};
    /// let err = DeribitConfig::default().cancel_on_disconnect(true).validate().unwrap_err();
    /// assert!(matches!(err, Error::InvalidConfig { field: "cancel_on_disconnect", .. }));
    /// ```
    pub fn validate(&self) -> Result<()> {
        if self.heartbeat < MIN_HEARTBEAT {
            return Err(invalid(
                "heartbeat",
                format!("is {:?}; Deribit's minimum is 10 s", self.heartbeat),
            ));
        }
        if self.cancel_on_disconnect && self.credentials.is_none() {
            return Err(invalid(
                "cancel_on_disconnect",
                "needs credentials: it is a private method",
            ));
        }
        if self.busy_attempts == 0 {
            return Err(invalid("busy_retries", "attempts must be at least 1"));
        }
        if self.busy_delay > self.busy_max_delay {
            return Err(invalid("busy_retries", "the initial wait is longer than the maximum"));
        }
        Ok(())
    }
}

fn invalid(field: &'static str, problem: impl Into<String>) -> Error {
    Error::InvalidConfig { field, problem: problem.into() }
}
