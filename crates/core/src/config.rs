//! Every option of a connection, its default, and the validation that runs before dialling.

use std::{fmt, path::PathBuf, sync::Arc, time::Duration};

use tokio_tungstenite::tungstenite::{
    http::HeaderName, http::HeaderValue, protocol::WebSocketConfig,
};
use zen_websocket_rate_limiter::RateLimiter;
use zen_websocket_recorder::{RecorderConfig, Redaction};

use crate::{
    error::{Error, Result},
    event::Event,
    heartbeat::{HeartbeatConfig, HeartbeatKind},
    subscription::{JsonRpcSubscriptions, SharedProtocol, SubscriptionProtocol},
    transport::tls::TlsConfig,
};

/// The callback type behind [`Config::message_handler`].
pub(crate) type MessageHandler = Arc<dyn Fn(Event) + Send + Sync + 'static>;

/// How a [`Client`](crate::Client) connects, reconnects and behaves; every field has a default.
///
/// Build it with the consuming setters below, each of which names its default. Values are
/// checked by [`Config::validate`], which [`Client::connect`](crate::Client::connect) calls
/// before it opens any socket, so a bad value is an [`Error::InvalidConfig`] naming the field.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use zen_websocket_core::Config;
///
/// let config = Config::default()
///     .timeout(Duration::from_secs(3))
///     .request_timeout(Duration::from_secs(10))
///     .header("User-Agent", "my-bot/1.0");
/// assert!(config.validate().is_ok());
/// ```
#[derive(Clone)]
#[must_use]
pub struct Config {
    pub(crate) timeout: Duration,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) subprotocols: Vec<String>,
    pub(crate) debug: bool,
    pub(crate) retry_count: u32,
    pub(crate) retry_delay: Duration,
    pub(crate) max_backoff: Duration,
    pub(crate) reconnect_on_error: bool,
    pub(crate) restore_subscriptions: bool,
    pub(crate) retry_jitter: bool,
    pub(crate) backoff_reset_after: Duration,
    pub(crate) heartbeat: Option<HeartbeatConfig>,
    pub(crate) write_timeout: Duration,
    pub(crate) tcp_keepalive: Option<Duration>,
    pub(crate) latency_buffer_size: usize,
    pub(crate) request_timeout: Duration,
    pub(crate) close_timeout: Duration,
    pub(crate) message_handler: Option<MessageHandler>,
    pub(crate) session_setup: Option<crate::session::SessionSetup>,
    pub(crate) subscription_protocol: SharedProtocol,
    pub(crate) rate_limiter: Option<RateLimiter>,
    pub(crate) open_limiter: Option<RateLimiter>,
    pub(crate) record_to: Option<PathBuf>,
    pub(crate) recording: RecorderConfig,
    pub(crate) redaction: Redaction,
    pub(crate) tls: TlsConfig,
    pub(crate) max_message_size: usize,
    pub(crate) max_frame_size: usize,
    pub(crate) read_buffer_size: usize,
    pub(crate) write_buffer_size: usize,
    pub(crate) inbox_capacity: usize,
    pub(crate) inbox_max_bytes: usize,
    pub(crate) outbox_capacity: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(5),
            headers: Vec::new(),
            subprotocols: Vec::new(),
            debug: false,
            retry_count: 3,
            retry_delay: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            reconnect_on_error: true,
            restore_subscriptions: true,
            retry_jitter: false,
            backoff_reset_after: Duration::from_secs(10),
            heartbeat: Some(HeartbeatConfig::ping()),
            write_timeout: Duration::from_secs(10),
            tcp_keepalive: Some(Duration::from_secs(30)),
            latency_buffer_size: 100,
            request_timeout: Duration::from_secs(30),
            close_timeout: Duration::from_secs(2),
            message_handler: None,
            session_setup: None,
            subscription_protocol: Arc::new(JsonRpcSubscriptions),
            rate_limiter: None,
            open_limiter: None,
            record_to: None,
            recording: RecorderConfig::default(),
            redaction: default_redaction(),
            tls: TlsConfig::default(),
            max_message_size: 64 << 20,
            max_frame_size: 16 << 20,
            read_buffer_size: 2 << 10,
            write_buffer_size: 16 << 10,
            inbox_capacity: 1024,
            inbox_max_bytes: 8 << 20,
            outbox_capacity: 256,
        }
    }
}

impl Config {
    /// The same as [`Config::default`].
    ///
    /// # Examples
    ///
    /// ```
    /// let config = zen_websocket_core::Config::new();
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Bound on connecting: name resolution, TCP, TLS and the upgrade together.
    ///
    /// Default is 5 s.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = zen_websocket_core::Config::default().timeout(std::time::Duration::from_secs(2));
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Adds an HTTP header to the upgrade request (e.g. `Authorization`, `User-Agent`).
    ///
    /// Default is no extra headers. Header values never appear in `Debug` output.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = zen_websocket_core::Config::default().header("Authorization", "Bearer t0ken");
    /// assert!(!format!("{config:?}").contains("t0ken"));
    /// ```
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Offers a WebSocket subprotocol (`Sec-WebSocket-Protocol`); repeat for several, in order
    /// of preference. The server's choice is [`Client::subprotocol`](crate::Client::subprotocol);
    /// a server that picks one not offered fails the upgrade.
    ///
    /// Default is none offered.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = zen_websocket_core::Config::default().subprotocol("graphql-transport-ws");
    /// ```
    pub fn subprotocol(mut self, name: impl Into<String>) -> Self {
        self.subprotocols.push(name.into());
        self
    }

    /// Logs every frame in and out at `tracing`'s DEBUG level (text cut to 512 bytes), with
    /// the secrets named by [`redaction`](Self::redaction) blanked.
    ///
    /// Default is `false`.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = zen_websocket_core::Config::default().debug(true);
    /// ```
    pub fn debug(mut self, enabled: bool) -> Self {
        self.debug = enabled;
        self
    }

    /// How many reconnection attempts follow a lost connection before giving up with
    /// [`Event::ReconnectFailed`](crate::Event::ReconnectFailed).
    ///
    /// Default is 3. The count restarts only once a connection has stayed up for
    /// [`backoff_reset_after`](Self::backoff_reset_after): a server that accepts and at once
    /// closes uses up the attempts instead of being re-dialled forever. An error that retrying
    /// cannot fix (HTTP 4xx other than 408/429, an untrusted certificate) ends reconnection at
    /// once.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = zen_websocket_core::Config::default().retry_count(10);
    /// ```
    pub fn retry_count(mut self, attempts: u32) -> Self {
        self.retry_count = attempts;
        self
    }

    /// The first reconnection delay; attempt `n` waits `min(retry_delay * 2^(n-1), max_backoff)`
    /// (1 s, 2 s, 4 s … by default), or longer when the server's answer carried a `Retry-After`
    /// (honoured up to `max_backoff`).
    ///
    /// Default is 1 s.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = zen_websocket_core::Config::default().retry_delay(std::time::Duration::from_millis(250));
    /// ```
    pub fn retry_delay(mut self, delay: Duration) -> Self {
        self.retry_delay = delay;
        self
    }

    /// The longest reconnection delay.
    ///
    /// Default is 30 s. Must not be shorter than [`retry_delay`](Self::retry_delay).
    ///
    /// # Examples
    ///
    /// ```
    /// let config = zen_websocket_core::Config::default().max_backoff(std::time::Duration::from_secs(10));
    /// ```
    pub fn max_backoff(mut self, max: Duration) -> Self {
        self.max_backoff = max;
        self
    }

    /// Whether a connection lost without [`Client::close`](crate::Client::close) is re-dialled.
    ///
    /// Default is `true`.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = zen_websocket_core::Config::default().reconnect_on_error(false);
    /// ```
    pub fn reconnect_on_error(mut self, enabled: bool) -> Self {
        self.reconnect_on_error = enabled;
        self
    }

    /// Whether confirmed subscriptions are sent again (and confirmed again) after a reconnect.
    ///
    /// Default is `true`.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = zen_websocket_core::Config::default().restore_subscriptions(false);
    /// ```
    pub fn restore_subscriptions(mut self, enabled: bool) -> Self {
        self.restore_subscriptions = enabled;
        self
    }

    /// How long a connection must stay up before the reconnection back-off and attempt count
    /// start again from the first step.
    ///
    /// Default is 10 s.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = zen_websocket_core::Config::default().backoff_reset_after(std::time::Duration::from_secs(30));
    /// ```
    pub fn backoff_reset_after(mut self, stable: Duration) -> Self {
        self.backoff_reset_after = stable;
        self
    }

    /// Spreads reconnection delays randomly between 50 % and 100 % of the back-off, so many
    /// clients dropped at once do not all re-dial at the same instant.
    ///
    /// Default is `false` (exact delays).
    ///
    /// # Examples
    ///
    /// ```
    /// let config = zen_websocket_core::Config::default().retry_jitter(true);
    /// ```
    pub fn retry_jitter(mut self, enabled: bool) -> Self {
        self.retry_jitter = enabled;
        self
    }

    /// Keeps a heartbeat so a half-open connection is noticed and replaced.
    ///
    /// Default is [`HeartbeatConfig::ping`]: a WebSocket ping every 30 s, and the connection is
    /// replaced after 2 pings in a row go unanswered — a dead peer is noticed within 90 s. See
    /// [`HeartbeatConfig`] for the other kinds (server ping, Deribit's `test_request`, a custom
    /// message), and [`no_heartbeat`](Self::no_heartbeat) to turn it off.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_core::{Config, HeartbeatConfig};
    ///
    /// let config = Config::default().heartbeat(HeartbeatConfig::pong());
    /// ```
    pub fn heartbeat(mut self, heartbeat: HeartbeatConfig) -> Self {
        self.heartbeat = Some(heartbeat);
        self
    }

    /// Turns the heartbeat off: a half-open connection is then noticed only by
    /// [`tcp_keepalive`](Self::tcp_keepalive) (when on) or by a write that stalls.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = zen_websocket_core::Config::default().no_heartbeat();
    /// ```
    pub fn no_heartbeat(mut self) -> Self {
        self.heartbeat = None;
        self
    }

    /// Bound on a write that makes no progress: when the socket accepts no byte of pending
    /// frames for this long (the peer stopped reading, or the path is dead), the connection is
    /// failed with [`Error::WriteTimeout`] and replaced. A slow but moving write is never cut.
    ///
    /// Default is 10 s.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = zen_websocket_core::Config::default().write_timeout(std::time::Duration::from_secs(5));
    /// ```
    pub fn write_timeout(mut self, timeout: Duration) -> Self {
        self.write_timeout = timeout;
        self
    }

    /// TCP keepalive: after `idle` without traffic the kernel probes the peer every 10 s and
    /// drops the connection after 3 unanswered probes. `None` turns it off.
    ///
    /// Default is `Some(30 s)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let config = zen_websocket_core::Config::default().tcp_keepalive(Some(Duration::from_secs(60)));
    /// let off = zen_websocket_core::Config::default().tcp_keepalive(None);
    /// ```
    pub fn tcp_keepalive(mut self, idle: Option<Duration>) -> Self {
        self.tcp_keepalive = idle;
        self
    }

    /// How many recent round-trip samples [`Client::get_latency_stats`](crate::Client::get_latency_stats)
    /// summarises.
    ///
    /// Default is 100.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = zen_websocket_core::Config::default().latency_buffer_size(1000);
    /// ```
    pub fn latency_buffer_size(mut self, samples: usize) -> Self {
        self.latency_buffer_size = samples;
        self
    }

    /// Bound on a whole [`Client::request`](crate::Client::request),
    /// [`subscribe`](crate::Client::subscribe) or [`unsubscribe`](crate::Client::unsubscribe)
    /// call: the wait for the rate limiter and for room in the outbox counts, not only the wait
    /// for the response. A request whose caller has given up is never written.
    ///
    /// Default is 30 s.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = zen_websocket_core::Config::default().request_timeout(std::time::Duration::from_secs(5));
    /// ```
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Bound on [`Client::close`](crate::Client::close): writing what is queued, the close
    /// handshake and flushing the recording together.
    ///
    /// Default is 2 s.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = zen_websocket_core::Config::default().close_timeout(std::time::Duration::from_millis(500));
    /// ```
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// Runs `setup` on every new socket — the first and each after a reconnect — before it
    /// counts as open: after the Deribit heartbeat request (when
    /// [`HeartbeatConfig::deribit`](crate::HeartbeatConfig::deribit) is set), before
    /// subscriptions are restored, and before any frame of the user's is written. Requests and
    /// sends made through its [`Session`](crate::Session) go out first; the user's wait.
    /// This is where a venue's login, cancel-on-disconnect or account selection belongs.
    ///
    /// [`Client::connect`](crate::Client::connect) returns once the set-up finished; when it
    /// fails (an error returned, a panic, or longer than [`request_timeout`](Self::request_timeout)
    /// in all) `connect` fails with [`Error::SessionSetup`](crate::Error::SessionSetup) and
    /// nothing is left running. After a loss, a failed set-up drops the new socket and the
    /// client re-dials like after any failed attempt.
    ///
    /// Default is none.
    ///
    /// # Examples
    ///
    /// ```
    /// use serde_json::json;
    /// use zen_websocket_core::{Config, Session};
    ///
    /// let config = Config::default().session_setup(|session: Session| async move {
    ///     session.request("public/auth", json!({"grant_type": "client_credentials"})).await?;
    ///     session.request("private/enable_cancel_on_disconnect", json!({"scope": "connection"})).await?;
    ///     Ok(())
    /// });
    /// ```
    pub fn session_setup<F, Fut>(mut self, setup: F) -> Self
    where
        F: Fn(crate::Session) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = crate::Result<()>> + Send + 'static,
    {
        self.session_setup = Some(Arc::new(move |session| Box::pin(setup(session))));
        self
    }

    /// Delivers every [`Event`] to `handler` instead of [`Client::recv`](crate::Client::recv).
    ///
    /// Default is none (events wait in the inbox for `recv`). The handler runs on the
    /// connection task: keep it short and hand heavy work to a channel or a spawned task. A
    /// panic in the handler is caught and logged; the connection carries on. A handler that
    /// captures a [`Client`](crate::Client) keeps the connection alive after your own handles
    /// are dropped: end it with [`Client::close`](crate::Client::close).
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_core::{Config, Event};
    ///
    /// let config = Config::default().message_handler(|event| {
    ///     if let Event::Message(message) = event {
    ///         println!("{:?}", message.as_text());
    ///     }
    /// });
    /// ```
    pub fn message_handler(mut self, handler: impl Fn(Event) + Send + Sync + 'static) -> Self {
        self.message_handler = Some(Arc::new(handler));
        self
    }

    /// The venue dialect [`Client::subscribe`](crate::Client::subscribe) speaks.
    ///
    /// Default is [`JsonRpcSubscriptions`] (Deribit's `public/subscribe`).
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_core::{Config, JsonRpcSubscriptions};
    ///
    /// let config = Config::default().subscription_protocol(JsonRpcSubscriptions);
    /// ```
    pub fn subscription_protocol(mut self, protocol: impl SubscriptionProtocol) -> Self {
        self.subscription_protocol = Arc::new(protocol);
        self
    }

    /// Passes every [`send_message`](crate::Client::send_message),
    /// [`request`](crate::Client::request), [`subscribe`](crate::Client::subscribe) and
    /// [`unsubscribe`](crate::Client::unsubscribe) through `limiter` before it is written: each
    /// message is priced by the limiter's cost model and waits its turn (FIFO). Clone one
    /// limiter into several clients' configs to share a venue's account limit.
    ///
    /// Frames the client sends on its own — heartbeats, restored subscriptions after a
    /// reconnect — take their tokens when available but never wait, so a busy limiter cannot
    /// starve the heartbeat into a false timeout.
    ///
    /// Default is none (no limit).
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_core::{Config, RateLimiter, rate_limiter::DeribitTier};
    ///
    /// let config = Config::default().rate_limiter(RateLimiter::deribit(DeribitTier::Tier4));
    /// ```
    pub fn rate_limiter(mut self, limiter: RateLimiter) -> Self {
        self.rate_limiter = Some(limiter);
        self
    }

    /// Paces opening connections: every dial — [`Client::connect`](crate::Client::connect)
    /// and every re-dial after a drop — first takes one token from `limiter` (waiting its
    /// turn, FIFO). Clone one limiter into several clients' configs so that twenty clients
    /// losing a venue at once do not re-dial it twenty times in the same second; venues ban
    /// addresses that open too many connections (Binance: 300 per 5 minutes per IP; Deribit
    /// counts connections per IP).
    ///
    /// The wait for a token happens before [`Config::timeout`] starts for that dial. A
    /// limiter whose queue is full fails the dial with [`Error::RateLimited`](crate::Error::RateLimited)
    /// (for a re-dial: one failed attempt).
    ///
    /// Default is none (no pacing).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use zen_websocket_core::{Config, RateLimiter, rate_limiter::RateLimiterConfig};
    ///
    /// // At most 300 new connections per 5 minutes, in bursts of up to 10.
    /// let opens = RateLimiter::new(
    ///     RateLimiterConfig::new()
    ///         .name("binance-opens")
    ///         .capacity(10)
    ///         .refill_rate(1)
    ///         .refill_interval(Duration::from_secs(1)),
    /// )?;
    /// let config = Config::default().open_limiter(opens.clone());
    /// # Ok::<(), zen_websocket_core::rate_limiter::Error>(())
    /// ```
    pub fn open_limiter(mut self, limiter: RateLimiter) -> Self {
        self.open_limiter = Some(limiter);
        self
    }

    /// Records every data frame and close frame, in and out, to `path` as JSON Lines (see the
    /// `zen-websocket-recorder` crate for the format, `metadata` and `replay`).
    ///
    /// Writes happen on a background thread, batched (every 100 entries or second, and on
    /// close); when the disk cannot keep up, entries beyond the recorder's queue bound are
    /// skipped and marked in the file, never waited for. Recording continues across reconnects
    /// into the same file. Secrets named by [`redaction`](Self::redaction) are blanked before
    /// anything reaches the file. An unwritable path fails
    /// [`Client::connect`](crate::Client::connect) with [`Error::Recording`] before any socket
    /// opens; an existing file is truncated only once the connection is up, so a failed
    /// connect leaves it as it was.
    ///
    /// Default is none (no recording).
    ///
    /// # Examples
    ///
    /// ```
    /// let config = zen_websocket_core::Config::default().record_to("/tmp/session.jsonl");
    /// ```
    pub fn record_to(mut self, path: impl Into<PathBuf>) -> Self {
        self.record_to = Some(path.into());
        self
    }

    /// How [`record_to`](Self::record_to) records: append or truncate, flush cadence, queue
    /// bounds. What is redacted is [`redaction`](Self::redaction)'s business: leave
    /// `RecorderConfig`'s own redaction at its default (a different one is refused by
    /// [`validate`](Self::validate)).
    ///
    /// Default truncates the file and flushes every 100 entries or second.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_core::{Config, recorder::RecorderConfig};
    ///
    /// let config = Config::default()
    ///     .record_to("/tmp/session.jsonl")
    ///     .recording(RecorderConfig::default().append(true));
    /// ```
    pub fn recording(mut self, options: RecorderConfig) -> Self {
        self.recording = options;
        self
    }

    /// The one redaction policy of the client: the secrets it names never reach a log line
    /// ([`debug`](Self::debug)), an error message or a recording. URLs in errors and logs
    /// always lose their user info and query values.
    ///
    /// Default is [`Redaction::default`] plus `password` and `api_key`: the values of
    /// `client_secret`, `access_token`, `refresh_token`, `signature`, `password` and `api_key`
    /// members, and the `Authorization`, `Proxy-Authorization`, `Cookie` and `Set-Cookie`
    /// headers.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_core::{Config, recorder::Redaction};
    ///
    /// let config = Config::default().redaction(Redaction::default().field("passphrase"));
    /// ```
    pub fn redaction(mut self, redaction: Redaction) -> Self {
        self.redaction = redaction;
        self
    }

    /// Which servers `wss://` connections trust.
    ///
    /// Default is [`TlsConfig::default`]: the Mozilla roots from `webpki-roots`.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_core::{Config, TlsConfig};
    ///
    /// let config = Config::default().tls(TlsConfig::default().webpki_roots(false));
    /// ```
    pub fn tls(mut self, tls: TlsConfig) -> Self {
        self.tls = tls;
        self
    }

    /// The largest inbound message (all its frames together); a bigger one ends the connection.
    ///
    /// Default is 64 MiB.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = zen_websocket_core::Config::default().max_message_size(1 << 20);
    /// ```
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// The largest single inbound frame payload.
    ///
    /// Default is 16 MiB. Must not exceed [`max_message_size`](Self::max_message_size).
    ///
    /// # Examples
    ///
    /// ```
    /// let config = zen_websocket_core::Config::default().max_frame_size(1 << 20).max_message_size(4 << 20);
    /// ```
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.max_frame_size = bytes;
        self
    }

    /// Size of the read buffer each connection allocates up front (tungstenite's frame buffer;
    /// it grows to hold a larger frame when one arrives).
    ///
    /// Default is 2 KiB (between 256 bytes and 64 MiB): small, so ten thousand idle
    /// connections stay cheap. It does not set the system calls a fast stream costs: while a
    /// burst lasts the client reads ahead from the socket in 64 KiB chunks (freed again when
    /// the socket runs dry) and tungstenite's reads are served from them. It is, though, the
    /// most tungstenite takes per read: a 16 KiB frame takes eight with the default, and a
    /// connection that only streams large messages gains from a larger buffer.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = zen_websocket_core::Config::default().read_buffer_size(64 << 10);
    /// ```
    pub fn read_buffer_size(mut self, bytes: usize) -> Self {
        self.read_buffer_size = bytes;
        self
    }

    /// Outgoing bytes gathered before they are written to the socket within one batch.
    ///
    /// Default is 16 KiB; at most 64 MiB. The buffer is allocated only when something is sent; every batch
    /// is flushed at its end whatever its size, so this never delays a message.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = zen_websocket_core::Config::default().write_buffer_size(64 << 10);
    /// ```
    pub fn write_buffer_size(mut self, bytes: usize) -> Self {
        self.write_buffer_size = bytes;
        self
    }

    /// How many events may wait for [`Client::recv`](crate::Client::recv).
    ///
    /// Default is 1024. When the inbox is full the client stops reading from the socket
    /// (the server then feels TCP back-pressure) until there is room again: nothing is
    /// dropped and memory stays bounded. One exception keeps replies from being stuck behind
    /// unread data: while a response or a heartbeat is awaited, the client reads on past this
    /// count, up to [`inbox_max_bytes`](Self::inbox_max_bytes). (With the `Pong` and `Deribit`
    /// heartbeats the server's beat is always awaited, so there only the byte bound holds.)
    ///
    /// # Examples
    ///
    /// ```
    /// let config = zen_websocket_core::Config::default().inbox_capacity(64);
    /// ```
    pub fn inbox_capacity(mut self, events: usize) -> Self {
        self.inbox_capacity = events;
        self
    }

    /// The most memory unread events may take (payloads plus a per-event overhead of 64
    /// bytes). Reading stops when it is reached, even while a reply is awaited: a reply behind
    /// that much unread data waits for the reader (and its request may time out); the
    /// heartbeat counts no misses meanwhile. A single message larger than the bound is still
    /// delivered into an empty inbox. Reconnection also waits while lifecycle events have
    /// pushed the inbox over this bound, so a reader that stopped reading never piles up an
    /// unbounded history.
    ///
    /// Default is 8 MiB.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = zen_websocket_core::Config::default().inbox_max_bytes(64 << 20);
    /// ```
    pub fn inbox_max_bytes(mut self, bytes: usize) -> Self {
        self.inbox_max_bytes = bytes;
        self
    }

    /// How many sends, requests and other commands may queue for the connection task.
    ///
    /// Default is 256. When the queue is full, [`Client::send_message`](crate::Client::send_message)
    /// and friends wait for room (they are cancel safe while waiting).
    ///
    /// # Examples
    ///
    /// ```
    /// let config = zen_websocket_core::Config::default().outbox_capacity(1024);
    /// ```
    pub fn outbox_capacity(mut self, commands: usize) -> Self {
        self.outbox_capacity = commands;
        self
    }

    /// Checks every value; [`Client::connect`](crate::Client::connect) runs this first.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] naming the first field out of range.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use zen_websocket_core::{Config, Error};
    ///
    /// let err = Config::default()
    ///     .retry_delay(Duration::from_secs(60))
    ///     .max_backoff(Duration::from_secs(30))
    ///     .validate()
    ///     .unwrap_err();
    /// assert!(matches!(err, Error::InvalidConfig { field: "retry_delay", .. }));
    /// ```
    pub fn validate(&self) -> Result<()> {
        bounded("timeout", self.timeout)?;
        bounded("request_timeout", self.request_timeout)?;
        bounded("close_timeout", self.close_timeout)?;
        bounded("retry_delay", self.retry_delay)?;
        bounded("max_backoff", self.max_backoff)?;
        bounded("write_timeout", self.write_timeout)?;
        bounded("backoff_reset_after", self.backoff_reset_after)?;
        if let Some(idle) = self.tcp_keepalive {
            bounded("tcp_keepalive", idle)?;
            if idle < Duration::from_secs(1) {
                let reason =
                    format!("is {idle:?}; TCP keepalive counts whole seconds, use at least 1 s");
                return Err(Error::InvalidConfig { field: "tcp_keepalive", reason });
            }
        }
        if self.retry_delay > self.max_backoff {
            let reason = format!(
                "({:?}) must not exceed `max_backoff` ({:?}); raise max_backoff or lower retry_delay",
                self.retry_delay, self.max_backoff
            );
            return Err(Error::InvalidConfig { field: "retry_delay", reason });
        }
        within("latency_buffer_size", self.latency_buffer_size, 1, MAX_ENTRIES)?;
        at_least("max_message_size", self.max_message_size, 1)?;
        at_least("max_frame_size", self.max_frame_size, 1)?;
        if self.max_frame_size > self.max_message_size {
            let reason = "must not exceed `max_message_size`".to_owned();
            return Err(Error::InvalidConfig { field: "max_frame_size", reason });
        }
        within("read_buffer_size", self.read_buffer_size, 256, MAX_BUFFER)?;
        within("write_buffer_size", self.write_buffer_size, 0, MAX_BUFFER)?;
        within("inbox_capacity", self.inbox_capacity, 1, MAX_ENTRIES)?;
        at_least("inbox_max_bytes", self.inbox_max_bytes, 1)?;
        within("outbox_capacity", self.outbox_capacity, 1, MAX_ENTRIES)?;
        self.validate_recording()?;
        self.validate_headers()?;
        self.validate_subprotocols()?;
        self.validate_heartbeat()?;
        self.tls.client_config().map(drop)
    }

    fn validate_subprotocols(&self) -> Result<()> {
        let is_token_char = |c: char| c.is_ascii_graphic() && !"()<>@,;:\\\"/[]?={}".contains(c);
        match self
            .subprotocols
            .iter()
            .find(|name| name.is_empty() || !name.chars().all(is_token_char))
        {
            Some(bad) => Err(Error::InvalidConfig {
                field: "subprotocols",
                reason: format!(
                    "contains {bad:?}, which is not an HTTP token (letters, digits, - . _ ~ …)"
                ),
            }),
            None => Ok(()),
        }
    }

    fn validate_heartbeat(&self) -> Result<()> {
        let Some(heartbeat) = &self.heartbeat else {
            return Ok(());
        };
        bounded("heartbeat.interval", heartbeat.interval)?;
        if heartbeat.max_failures == 0 {
            let reason = "must be at least 1".to_owned();
            return Err(Error::InvalidConfig { field: "heartbeat.max_failures", reason });
        }
        let minimum = HeartbeatConfig::DERIBIT_MIN_INTERVAL;
        if heartbeat.kind == HeartbeatKind::Deribit && heartbeat.interval < minimum {
            let reason = format!(
                "is {:?}, below Deribit's minimum of {minimum:?} for public/set_heartbeat",
                heartbeat.interval
            );
            return Err(Error::InvalidConfig { field: "heartbeat.interval", reason });
        }
        Ok(())
    }

    fn validate_recording(&self) -> Result<()> {
        if let Err(err) = self.recording.validate() {
            let reason = format!("is invalid: {err}");
            return Err(Error::InvalidConfig { field: "recording", reason });
        }
        if *self.recording.redaction_policy() == Redaction::default() {
            return Ok(());
        }
        let reason = "sets its own redaction; set the policy with `Config::redaction`, which \
                      applies to logs, errors and the recording alike"
            .to_owned();
        Err(Error::InvalidConfig { field: "recording", reason })
    }

    fn validate_headers(&self) -> Result<()> {
        for (name, value) in &self.headers {
            let invalid = |reason: String| Error::InvalidConfig { field: "headers", reason };
            HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| invalid(format!("contains an invalid header name {name:?}")))?;
            HeaderValue::from_str(value)
                .map_err(|_| invalid(format!("contains an invalid value for header {name:?}")))?;
        }
        Ok(())
    }

    /// The tungstenite settings this config implies.
    pub(crate) fn websocket_config(&self) -> WebSocketConfig {
        WebSocketConfig::default()
            .read_buffer_size(self.read_buffer_size)
            .write_buffer_size(self.write_buffer_size)
            .max_message_size(Some(self.max_message_size))
            .max_frame_size(Some(self.max_frame_size))
    }

    /// The back-off before reconnection attempt `attempt` (1-based).
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        let delay = self.retry_delay.saturating_mul(factor).min(self.max_backoff);
        if !self.retry_jitter {
            return delay;
        }
        // A random fraction in [0.5, 1.0], from std's randomly keyed hasher.
        let random = std::hash::BuildHasher::hash_one(&std::hash::RandomState::new(), attempt);
        let unit = (random >> 11) as f64 / (1u64 << 53) as f64;
        delay.mul_f64(0.5 + unit / 2.0)
    }
}

/// The default policy: the recorder's default fields, plus `password` and `api_key` — built
/// once, shared by every default configuration.
fn default_redaction() -> Redaction {
    static DEFAULT: std::sync::OnceLock<Redaction> = std::sync::OnceLock::new();
    DEFAULT.get_or_init(|| Redaction::default().field("password").field("api_key")).clone()
}

/// The longest duration any option takes: longer ones overflow timers, and a day is already
/// far past any sensible timeout or interval.
pub(crate) const MAX_DURATION: Duration = Duration::from_secs(24 * 60 * 60);

/// The largest buffer size option.
const MAX_BUFFER: usize = 64 << 20;

/// The largest count option (queues, sample windows).
const MAX_ENTRIES: usize = 1 << 20;

/// Checks that a duration is above zero and at most [`MAX_DURATION`].
fn bounded(field: &'static str, value: Duration) -> Result<()> {
    let reason = if value.is_zero() {
        "must be greater than zero".to_owned()
    } else if value > MAX_DURATION {
        format!("is {value:?} but must be at most 1 day ({} s)", MAX_DURATION.as_secs())
    } else {
        return Ok(());
    };
    Err(Error::InvalidConfig { field, reason })
}

fn at_least(field: &'static str, value: usize, min: usize) -> Result<()> {
    within(field, value, min, usize::MAX)
}

fn within(field: &'static str, value: usize, min: usize, max: usize) -> Result<()> {
    let reason = if value < min {
        format!("is {value} but must be at least {min}")
    } else if value > max {
        format!("is {value} but must be at most {max}")
    } else {
        return Ok(());
    };
    Err(Error::InvalidConfig { field, reason })
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header_names: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("Config")
            .field("timeout", &self.timeout)
            .field("headers", &header_names)
            .field("subprotocols", &self.subprotocols)
            .field("debug", &self.debug)
            .field("retry_count", &self.retry_count)
            .field("retry_delay", &self.retry_delay)
            .field("max_backoff", &self.max_backoff)
            .field("reconnect_on_error", &self.reconnect_on_error)
            .field("restore_subscriptions", &self.restore_subscriptions)
            .field("retry_jitter", &self.retry_jitter)
            .field("backoff_reset_after", &self.backoff_reset_after)
            .field("heartbeat", &self.heartbeat)
            .field("write_timeout", &self.write_timeout)
            .field("tcp_keepalive", &self.tcp_keepalive)
            .field("latency_buffer_size", &self.latency_buffer_size)
            .field("request_timeout", &self.request_timeout)
            .field("close_timeout", &self.close_timeout)
            .field("message_handler", &self.message_handler.is_some())
            .field("session_setup", &self.session_setup.is_some())
            .field("subscription_protocol", &self.subscription_protocol)
            .field("rate_limiter", &self.rate_limiter)
            .field("open_limiter", &self.open_limiter)
            .field("record_to", &self.record_to)
            .field("redaction", &self.redaction)
            .field("tls", &self.tls)
            .field("max_message_size", &self.max_message_size)
            .field("max_frame_size", &self.max_frame_size)
            .field("read_buffer_size", &self.read_buffer_size)
            .field("write_buffer_size", &self.write_buffer_size)
            .field("inbox_capacity", &self.inbox_capacity)
            .field("inbox_max_bytes", &self.inbox_max_bytes)
            .field("outbox_capacity", &self.outbox_capacity)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected_field(config: Config) -> &'static str {
        match config.validate() {
            Err(Error::InvalidConfig { field, .. }) => field,
            other => panic!("expected InvalidConfig, got {other:?}"),
        }
    }

    #[test]
    fn defaults_are_valid() {
        Config::default().validate().unwrap();
    }

    #[test]
    fn the_defaults_notice_a_dead_connection() {
        let config = Config::default();
        assert_eq!(config.heartbeat, Some(HeartbeatConfig::ping()));
        let heartbeat = config.heartbeat.as_ref().unwrap();
        assert_eq!((heartbeat.interval, heartbeat.max_failures), (Duration::from_secs(30), 2));
        assert_eq!(config.tcp_keepalive, Some(Duration::from_secs(30)));
        assert_eq!(config.write_timeout, Duration::from_secs(10));
        assert_eq!(Config::default().no_heartbeat().heartbeat, None);
    }

    #[test]
    fn each_bad_value_names_its_field() {
        let zero = Duration::ZERO;
        assert_eq!(rejected_field(Config::default().timeout(zero)), "timeout");
        assert_eq!(rejected_field(Config::default().request_timeout(zero)), "request_timeout");
        assert_eq!(rejected_field(Config::default().latency_buffer_size(0)), "latency_buffer_size");
        assert_eq!(rejected_field(Config::default().inbox_capacity(0)), "inbox_capacity");
        assert_eq!(rejected_field(Config::default().read_buffer_size(10)), "read_buffer_size");
        assert_eq!(
            rejected_field(Config::default().max_frame_size(2 << 20).max_message_size(1 << 20)),
            "max_frame_size"
        );
        assert_eq!(rejected_field(Config::default().header("bad name", "v")), "headers");
        assert_eq!(rejected_field(Config::default().subprotocol("a b")), "subprotocols");
        assert_eq!(rejected_field(Config::default().subprotocol("")), "subprotocols");
        let offers = Config::default().subprotocol("graphql-transport-ws").subprotocol("v1.json");
        offers.validate().unwrap();
        assert_eq!(rejected_field(Config::default().header("X-Ok", "line\nbreak")), "headers");
        assert_eq!(rejected_field(Config::default().outbox_capacity(0)), "outbox_capacity");
        assert_eq!(rejected_field(Config::default().inbox_max_bytes(0)), "inbox_max_bytes");
        assert_eq!(rejected_field(Config::default().write_timeout(zero)), "write_timeout");
        let brief = Some(Duration::from_millis(500));
        assert_eq!(rejected_field(Config::default().tcp_keepalive(brief)), "tcp_keepalive");
        let own = RecorderConfig::default().redaction(Redaction::none());
        assert_eq!(rejected_field(Config::default().recording(own)), "recording");
        let bad_recorder = RecorderConfig::default().flush_entries(0);
        assert_eq!(rejected_field(Config::default().recording(bad_recorder)), "recording");
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let config = Config::default()
            .retry_delay(Duration::from_millis(100))
            .max_backoff(Duration::from_millis(500));
        let delays: Vec<u128> = (1..=5).map(|n| config.backoff(n).as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 500, 500]);
        assert_eq!(config.backoff(200), Duration::from_millis(500));
    }

    #[test]
    fn jitter_stays_between_half_and_all_of_the_backoff() {
        let config = Config::default().retry_delay(Duration::from_millis(1000)).retry_jitter(true);
        let delays: Vec<Duration> = (0..50).map(|_| config.backoff(1)).collect();
        assert!(delays.iter().all(|d| (500..=1000).contains(&d.as_millis())), "{delays:?}");
        assert!(delays.iter().any(|d| *d != delays[0]), "jitter varies: {delays:?}");
    }

    #[test]
    fn heartbeat_values_are_checked() {
        use crate::HeartbeatConfig;
        let zero = HeartbeatConfig::ping().interval(Duration::ZERO);
        assert_eq!(rejected_field(Config::default().heartbeat(zero)), "heartbeat.interval");
        let none = HeartbeatConfig::ping().max_failures(0);
        assert_eq!(rejected_field(Config::default().heartbeat(none)), "heartbeat.max_failures");
        let fast = HeartbeatConfig::deribit().interval(Duration::from_secs(5));
        assert_eq!(rejected_field(Config::default().heartbeat(fast)), "heartbeat.interval");
    }
}
