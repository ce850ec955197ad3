//! `DeribitSimulatorBuilder`: credentials, timings, credits and instruments, set before starting.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use super::rate_limit::CreditSettings;
use super::server::DeribitSimulator;
use super::state::Sim;
use crate::tls::TlsMaterial;

/// The client id the simulator accepts unless [`credentials`](DeribitSimulatorBuilder::credentials)
/// says otherwise.
pub(crate) const DEFAULT_CLIENT_ID: &str = "simulator-client";
/// The client secret that goes with [`DEFAULT_CLIENT_ID`].
pub(crate) const DEFAULT_CLIENT_SECRET: &str = "simulator-secret";

/// Everything fixed when the simulator starts.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    pub(crate) expires_in: Duration,
    pub(crate) min_heartbeat_interval: Duration,
    pub(crate) market_data_interval: Duration,
    pub(crate) credits: CreditSettings,
    pub(crate) close_on_rate_limit: bool,
    /// Instrument names and their fixed mark prices, in order.
    pub(crate) instruments: Vec<(String, f64)>,
}

/// Configures a [`DeribitSimulator`] before it starts; from [`DeribitSimulator::builder`].
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// use std::time::Duration;
/// use zen_websocket_testing::DeribitSimulator;
///
/// let simulator = DeribitSimulator::builder()
///     .tls(true)
///     .credentials("my-id", "my-secret")
///     .expires_in(Duration::from_secs(60))
///     .min_heartbeat_interval(Duration::from_millis(100))
///     .market_data_interval(Duration::from_millis(20))
///     .credits(5_000, 1_000, 500)
///     .close_on_rate_limit(false)
///     .instrument("SOL-PERPETUAL", 150.0)
///     .start()
///     .await?;
/// assert!(simulator.url().starts_with("wss://127.0.0.1:"));
/// # Ok(())
/// # }
/// ```
#[must_use = "a builder does nothing until `start` is awaited"]
#[derive(Debug)]
pub struct DeribitSimulatorBuilder {
    tls: bool,
    port: u16,
    config: Config,
}

impl Default for DeribitSimulatorBuilder {
    fn default() -> Self {
        Self {
            tls: false,
            port: 0,
            config: Config {
                client_id: DEFAULT_CLIENT_ID.to_owned(),
                client_secret: DEFAULT_CLIENT_SECRET.to_owned(),
                expires_in: Duration::from_secs(900),
                min_heartbeat_interval: Duration::from_secs(10),
                market_data_interval: Duration::from_millis(100),
                credits: CreditSettings::default(),
                close_on_rate_limit: true,
                instruments: vec![
                    ("BTC-PERPETUAL".to_owned(), 60_000.0),
                    ("ETH-PERPETUAL".to_owned(), 3_000.0),
                ],
            },
        }
    }
}

impl DeribitSimulatorBuilder {
    /// Serves `wss://` with a freshly generated CA and a certificate for `127.0.0.1`,
    /// `localhost` and `::1` (the same TLS support as [`MockServer`](crate::MockServer)); trust
    /// it with [`DeribitSimulator::ca_certificate`] or [`DeribitSimulator::client_tls_config`].
    ///
    /// Default is `false` (plain `ws://`).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::DeribitSimulator;
    /// let simulator = DeribitSimulator::builder().tls(true).start().await?;
    /// assert!(simulator.ca_certificate().is_some());
    /// # Ok(())
    /// # }
    /// ```
    pub fn tls(mut self, enabled: bool) -> Self {
        self.tls = enabled;
        self
    }

    /// Listens on this port of 127.0.0.1.
    ///
    /// Default is `0`: an ephemeral port (read it back with [`DeribitSimulator::addr`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::DeribitSimulator;
    /// let simulator = DeribitSimulator::builder().port(0).start().await?;
    /// assert_ne!(simulator.addr().port(), 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// The API key `public/auth` accepts: `client_credentials` must send exactly these, and
    /// `client_signature` must send this `client_id` and sign with this secret.
    ///
    /// Default is `("simulator-client", "simulator-secret")`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::DeribitSimulator;
    /// let simulator = DeribitSimulator::builder().credentials("id", "secret").start().await?;
    /// assert_eq!(simulator.client_id(), "id");
    /// # Ok(())
    /// # }
    /// ```
    pub fn credentials(mut self, client_id: impl Into<String>, secret: impl Into<String>) -> Self {
        self.config.client_id = client_id.into();
        self.config.client_secret = secret.into();
        self
    }

    /// How long an access token (and so a connection's login) lasts. `public/auth` reports it
    /// as `expires_in` in whole seconds; the login really ends after exactly this duration, so
    /// sub-second values work for fast expiry tests (reported as `0`).
    ///
    /// Default is 900 seconds.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use std::time::Duration;
    /// # use zen_websocket_testing::DeribitSimulator;
    /// let simulator = DeribitSimulator::builder().expires_in(Duration::from_secs(30)).start().await?;
    /// # drop(simulator);
    /// # Ok(())
    /// # }
    /// ```
    pub fn expires_in(mut self, lifetime: Duration) -> Self {
        self.config.expires_in = lifetime;
        self
    }

    /// The shortest interval `public/set_heartbeat` accepts; shorter ones get `-32602 Invalid
    /// params`. Lower it for fast heartbeat tests: `interval` may then be fractional seconds
    /// (`{"interval": 0.2}`).
    ///
    /// Default is 10 seconds, as on Deribit.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use std::time::Duration;
    /// # use zen_websocket_testing::DeribitSimulator;
    /// let simulator = DeribitSimulator::builder()
    ///     .min_heartbeat_interval(Duration::from_millis(50))
    ///     .start()
    ///     .await?;
    /// # drop(simulator);
    /// # Ok(())
    /// # }
    /// ```
    pub fn min_heartbeat_interval(mut self, interval: Duration) -> Self {
        self.config.min_heartbeat_interval = interval;
        self
    }

    /// How often market data goes out to subscribed channels (whatever interval — `raw`,
    /// `100ms`, `agg2` — a channel names). A zero duration is taken as 1 ms.
    ///
    /// Default is 100 ms.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use std::time::Duration;
    /// # use zen_websocket_testing::DeribitSimulator;
    /// let simulator = DeribitSimulator::builder()
    ///     .market_data_interval(Duration::from_millis(10))
    ///     .start()
    ///     .await?;
    /// # drop(simulator);
    /// # Ok(())
    /// # }
    /// ```
    pub fn market_data_interval(mut self, interval: Duration) -> Self {
        self.config.market_data_interval = interval.max(Duration::from_millis(1));
        self
    }

    /// The credit bucket every request draws on: one bucket for the whole simulator (Deribit
    /// keeps one per sub-account, and the simulator has one account), starting full with
    /// `capacity` credits, refilled continuously at `refill_per_second` (`0`: never), each
    /// request costing `cost_per_request`. A request that finds too few credits is answered
    /// `10028 too_many_requests` and not carried out.
    ///
    /// Default is `(50_000, 10_000, 500)`: Deribit's non-matching-engine limits, a burst of 100
    /// requests and 20 a second sustained.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::DeribitSimulator;
    /// // Three requests, then 10028 for good.
    /// let simulator = DeribitSimulator::builder().credits(1_500, 0, 500).start().await?;
    /// # drop(simulator);
    /// # Ok(())
    /// # }
    /// ```
    pub fn credits(mut self, capacity: u64, refill_per_second: u64, cost_per_request: u64) -> Self {
        self.config.credits =
            CreditSettings { capacity, refill_per_second, cost: cost_per_request };
        self
    }

    /// Whether the simulator ends the session after answering `10028 too_many_requests`, as
    /// Deribit's current docs say it does: it sends a close frame (1000) right after the error,
    /// and cancel-on-disconnect fires. With `false` the socket stays open and later requests
    /// succeed again once credits have refilled.
    ///
    /// Default is `true`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::DeribitSimulator;
    /// let simulator = DeribitSimulator::builder().close_on_rate_limit(false).start().await?;
    /// # drop(simulator);
    /// # Ok(())
    /// # }
    /// ```
    pub fn close_on_rate_limit(mut self, close: bool) -> Self {
        self.config.close_on_rate_limit = close;
        self
    }

    /// Adds an instrument (or changes the mark price of one already listed). Only listed
    /// instruments can be traded or subscribed to; market orders fill at `mark_price`, and the
    /// generated book, ticker and trades stay around it. Price indexes (`btc_usd`, …) exist for
    /// the listed instruments' currencies, at the first such instrument's price.
    ///
    /// Default is `BTC-PERPETUAL` at 60,000 and `ETH-PERPETUAL` at 3,000.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::DeribitSimulator;
    /// let simulator = DeribitSimulator::builder()
    ///     .instrument("BTC-PERPETUAL", 50_000.0)
    ///     .instrument("BTC-27DEC24", 51_000.0)
    ///     .start()
    ///     .await?;
    /// assert_eq!(simulator.instruments(), ["BTC-PERPETUAL", "ETH-PERPETUAL", "BTC-27DEC24"]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn instrument(mut self, name: impl Into<String>, mark_price: f64) -> Self {
        let name = name.into();
        match self.config.instruments.iter_mut().find(|(listed, _)| *listed == name) {
            Some((_, price)) => *price = mark_price,
            None => self.config.instruments.push((name, mark_price)),
        }
        self
    }

    /// Binds 127.0.0.1 and starts accepting connections and publishing market data.
    ///
    /// # Errors
    ///
    /// The port cannot be bound, or generating the TLS material failed.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future before it completes starts nothing.
    ///
    /// # Panics
    ///
    /// When polled outside a Tokio runtime (the simulator runs on Tokio tasks).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// # use zen_websocket_testing::DeribitSimulator;
    /// let simulator = DeribitSimulator::builder().start().await?;
    /// assert!(simulator.url().starts_with("ws://127.0.0.1:"));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn start(self) -> io::Result<DeribitSimulator> {
        let tls = if self.tls {
            // Key generation is CPU work: keep it off the async workers.
            let generated = tokio::task::spawn_blocking(TlsMaterial::generate).await;
            Some(generated.map_err(io::Error::other)??)
        } else {
            None
        };
        let sim = Arc::new(Sim::new(self.config, tls));
        DeribitSimulator::launch(sim, SocketAddr::from((Ipv4Addr::LOCALHOST, self.port)))
    }
}
