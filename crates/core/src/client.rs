//! The `Client` handle: the five functions, requests, events and monitors.

use std::{collections::VecDeque, fmt, sync::Arc, time::Instant};

use serde::Serialize;
use serde_json::{Value, value::RawValue};
use tokio::sync::{Mutex, mpsc, oneshot};
use zen_websocket_recorder::Recorder;

use crate::{
    config::Config,
    connection::{self, Command, Delivered, Inbox, RequestCommand, SubscribeCommand},
    error::{Error, Result},
    event::Event,
    heartbeat::HeartbeatHealth,
    message::Message,
    monitor::{LatencyStats, Shared, StateMetrics},
    rpc::{RequestId, encode_request},
    state::ConnectionState,
    subscription::SubscriptionId,
    telemetry::Telemetry,
    transport::{Endpoint, dial},
};

/// How many fresh ids a request tries when generated ids collide with caller-supplied ones.
const ID_ATTEMPTS: usize = 8;

/// A WebSocket connection that stays connected, with JSON-RPC requests and confirmed
/// subscriptions.
///
/// `Client` is a cheap [`Clone`] handle: every clone talks to the same connection, which
/// one background task owns. The connection closes when [`close`](Self::close) is called or
/// when the last handle is dropped.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = zen_websocket_testing::MockServer::start().await?;
/// # let url = server.url();
/// use serde_json::json;
/// use zen_websocket_core::{Client, Config, ConnectionState, Event};
///
/// let client = Client::connect(&url, Config::default()).await?;
/// client.send_message("hello").await?;
/// if let Some(Event::Message(echo)) = client.recv().await {
///     assert_eq!(echo.as_text(), Some("hello"));
/// }
/// let answer = client.request("public/test", json!({})).await?;
/// let subscription = client.subscribe(["trades.BTC-PERPETUAL.100ms"]).await?;
/// assert_eq!(client.get_state(), ConnectionState::Connected);
/// client.close().await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    config: Arc<Config>,
    commands: mpsc::Sender<Command>,
    inbox: Option<Mutex<InboxReader>>,
    shared: Arc<Shared>,
    endpoint: String,
}

/// The reading end of the inbox, shared by every handle: events are taken from the channel a
/// batch at a time.
struct InboxReader {
    receiver: Inbox,
    batch: VecDeque<Delivered>,
    refill: Vec<Delivered>,
}

/// Most events moved from the channel per refill of a reader's batch.
const RECV_BATCH: usize = 64;

impl InboxReader {
    async fn next(&mut self) -> Option<Delivered> {
        if self.batch.is_empty() {
            if self.receiver.recv_many(&mut self.refill, RECV_BATCH).await == 0 {
                return None;
            }
            self.batch.extend(self.refill.drain(..));
        }
        self.batch.pop_front()
    }
}

impl Client {
    /// Validates `config`, dials `url` (`ws://` or `wss://`), and completes the WebSocket
    /// upgrade.
    ///
    /// On success the connection is open and owned by a background task. On failure nothing
    /// is left running.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] or [`Error::InvalidUrl`] before any socket opens;
    /// [`Error::Resolve`], [`Error::Io`] (e.g. connection refused), [`Error::Tls`],
    /// [`Error::HandshakeRejected`] or [`Error::Timeout`] when dialling fails.
    ///
    /// # Cancel safety
    ///
    /// Cancelling drops the half-open socket; nothing is left behind.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use zen_websocket_core::{Client, Config, Error};
    ///
    /// let err = Client::connect("http://example.com", Config::default()).await.unwrap_err();
    /// assert!(matches!(err, Error::InvalidUrl { .. }));
    /// # }
    /// ```
    pub async fn connect(url: &str, config: Config) -> Result<Self> {
        config.validate()?;
        let endpoint = Endpoint::parse(url)?;
        let recorder = match &config.record_to {
            Some(path) => Some(Recorder::create(path, config.recording.clone())?),
            None => None,
        };
        let started = Instant::now();
        let (ws, subprotocol) = Box::pin(dial(&endpoint, &config)).await?;
        let telemetry = Telemetry::new(format!("{}:{}", endpoint.host, endpoint.port));
        telemetry.upgraded(started.elapsed());
        tracing::info!(url = %redacted(&endpoint), took = ?started.elapsed(), "connected");
        let shared = Arc::new(Shared::new(&config));
        shared.set_subprotocol(subprotocol);
        let shown = redacted(&endpoint);
        let config = Arc::new(config);
        let (commands, inbox) = connection::spawn(
            ws,
            endpoint,
            Arc::clone(&config),
            Arc::clone(&shared),
            telemetry,
            recorder,
        );
        let inbox = inbox.map(|receiver| {
            Mutex::new(InboxReader { receiver, batch: VecDeque::new(), refill: Vec::new() })
        });
        let inner = Inner { config, commands, inbox, shared, endpoint: shown };
        Ok(Self { inner: Arc::new(inner) })
    }

    /// Sends a text frame (`&str`, `String`, [`serde_json::Value`]) or a binary frame
    /// (`Vec<u8>`, `&[u8]`, [`bytes::Bytes`]).
    ///
    /// Returns once the frame is written to the socket. While the connection is down the
    /// send fails at once: nothing is queued behind your back.
    ///
    /// # Errors
    ///
    /// [`Error::NotConnected`] while connecting or after close; [`Error::Disconnected`] when
    /// the socket broke while writing.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe while waiting for room in the outbox; once handed over, the frame is
    /// written even if the future is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = zen_websocket_testing::MockServer::start().await?;
    /// use serde_json::json;
    /// use zen_websocket_core::{Client, Config};
    ///
    /// let client = Client::connect(&server.url(), Config::default()).await?;
    /// client.send_message("text").await?;
    /// client.send_message(vec![0u8, 1, 2]).await?;
    /// client.send_message(json!({"method": "public/test"})).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn send_message(&self, message: impl Into<Message>) -> Result<()> {
        let message = message.into();
        self.throttle(&message).await?;
        let (ack, answer) = oneshot::channel();
        self.command(Command::Send { message, ack }).await?;
        answer.await.unwrap_or(Err(Error::Disconnected))
    }

    /// Sends a JSON-RPC 2.0 request with a generated id and returns its `result`.
    ///
    /// Generated ids are numbers counting up from 1 (subscriptions draw from the same
    /// counter). If you also write JSON-RPC frames yourself with
    /// [`send_message`](Self::send_message), give those string ids so their responses can
    /// never be taken for the answer to a generated id.
    ///
    /// # Errors
    ///
    /// [`Error::JsonRpc`] when the server answers with an error object;
    /// [`Error::RequestTimeout`] after [`Config::request_timeout`];
    /// [`Error::Disconnected`] when the connection is lost first; [`Error::NotConnected`]
    /// when there is no connection; [`Error::Json`] when `params` cannot be serialized.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped call's response is discarded when it arrives.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = zen_websocket_testing::MockServer::start().await?;
    /// use serde_json::json;
    /// use zen_websocket_core::{Client, Config};
    ///
    /// let client = Client::connect(&server.url(), Config::default()).await?;
    /// let result = client.request("public/get_time", json!({})).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn request<P: Serialize>(&self, method: &str, params: P) -> Result<Value> {
        // Serialized once, spliced into every attempt's frame as it is.
        let params = serde_json::value::to_raw_value(&params)?;
        let mut last = Error::Disconnected;
        for _ in 0..ID_ATTEMPTS {
            let id = self.inner.shared.next_request_id();
            match self.send_request(id, method, &params).await {
                // A caller-supplied id took the generated one: draw another.
                Err(err @ Error::DuplicateRequestId(_)) => last = err,
                other => return other,
            }
        }
        Err(last)
    }

    /// Sends a JSON-RPC 2.0 request with your own `id` and returns its `result`.
    ///
    /// # Errors
    ///
    /// [`Error::DuplicateRequestId`] when a request with the same id is still waiting; the
    /// rest as for [`request`](Self::request).
    ///
    /// # Cancel safety
    ///
    /// As for [`request`](Self::request).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = zen_websocket_testing::MockServer::start().await?;
    /// use serde_json::json;
    /// use zen_websocket_core::{Client, Config};
    ///
    /// let client = Client::connect(&server.url(), Config::default()).await?;
    /// let echoed = client.request_with_id("auth-1", "public/echo", json!({"n": 1})).await?;
    /// assert_eq!(echoed["n"], 1);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn request_with_id<P: Serialize>(
        &self,
        id: impl Into<RequestId>,
        method: &str,
        params: P,
    ) -> Result<Value> {
        self.send_request(id.into(), method, &serde_json::value::to_raw_value(&params)?).await
    }

    async fn send_request(&self, id: RequestId, method: &str, params: &RawValue) -> Result<Value> {
        let frame = encode_request(&id, method, params)?;
        self.throttle_text(&frame).await?;
        let (reply, answer) = oneshot::channel();
        self.command(Command::Request(Box::new(RequestCommand { id, frame, reply }))).await?;
        answer.await.unwrap_or(Err(Error::Disconnected))
    }

    /// Subscribes to `channels` with the configured
    /// [`SubscriptionProtocol`](crate::SubscriptionProtocol) and returns once the server
    /// confirms every channel.
    ///
    /// Confirmed subscriptions are restored after a reconnect (see
    /// [`Config::restore_subscriptions`]). Data on the channels arrives as
    /// [`Event::Message`].
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for an empty channel list;
    /// [`Error::JsonRpc`] or [`Error::SubscriptionRejected`] when the server refuses;
    /// [`Error::RequestTimeout`], [`Error::Disconnected`], [`Error::NotConnected`] as for
    /// requests.
    ///
    /// # Cancel safety
    ///
    /// Cancelling after the request is sent leaves the server-side subscription unconfirmed
    /// and unrecorded; subscribe again to track it.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = zen_websocket_testing::MockServer::start().await?;
    /// use zen_websocket_core::{Client, Config};
    ///
    /// let client = Client::connect(&server.url(), Config::default()).await?;
    /// let id = client.subscribe(["ticker.BTC-PERPETUAL.100ms", "deribit_price_index.btc_usd"]).await?;
    /// client.unsubscribe(id).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn subscribe<I>(&self, channels: I) -> Result<SubscriptionId>
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let channels: Vec<String> = channels.into_iter().map(Into::into).collect();
        if channels.is_empty() {
            let reason = "name at least one channel to subscribe to".to_owned();
            return Err(Error::InvalidArgument { name: "channels", reason });
        }
        let id = self.inner.shared.next_request_id();
        let protocol = &self.inner.config.subscription_protocol;
        let frame = protocol.subscribe_message(&id, &channels).to_string();
        self.throttle_text(&frame).await?;
        let (reply, answer) = oneshot::channel();
        let subscribe = SubscribeCommand { id, frame, channels, reply };
        self.command(Command::Subscribe(Box::new(subscribe))).await?;
        answer.await.unwrap_or(Err(Error::Disconnected))
    }

    /// Unsubscribes a confirmed subscription; it will not be restored after a reconnect.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownSubscription`] when `id` is not active; [`Error::JsonRpc`] when the
    /// server refuses; otherwise as for requests.
    ///
    /// # Cancel safety
    ///
    /// As for [`subscribe`](Self::subscribe).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = zen_websocket_testing::MockServer::start().await?;
    /// use zen_websocket_core::{Client, Config};
    ///
    /// let client = Client::connect(&server.url(), Config::default()).await?;
    /// let id = client.subscribe(["book.BTC-PERPETUAL.100ms"]).await?;
    /// client.unsubscribe(id).await?;
    /// assert!(client.unsubscribe(id).await.is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn unsubscribe(&self, id: SubscriptionId) -> Result<()> {
        if self.inner.config.rate_limiter.is_some() {
            // Priced by its method: the channels live with the connection task.
            let protocol = &self.inner.config.subscription_protocol;
            let probe = protocol.unsubscribe_message(&RequestId::Number(0), &[]).to_string();
            self.throttle_text(&probe).await?;
        }
        let (reply, answer) = oneshot::channel();
        self.command(Command::Unsubscribe { id, reply }).await?;
        answer.await.unwrap_or(Err(Error::Disconnected))
    }

    /// The connection state right now. Never blocks, never fails.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = zen_websocket_testing::MockServer::start().await?;
    /// use zen_websocket_core::{Client, Config, ConnectionState};
    ///
    /// let client = Client::connect(&server.url(), Config::default()).await?;
    /// assert_eq!(client.get_state(), ConnectionState::Connected);
    /// client.close().await?;
    /// assert_eq!(client.get_state(), ConnectionState::Disconnected);
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn get_state(&self) -> ConnectionState {
        self.inner.shared.state.get()
    }

    /// Closes the connection: sends close code 1000, waits (at most
    /// [`Config::close_timeout`]) for the server's close frame, and ends the connection task.
    ///
    /// Messages that arrive during the closing handshake are still delivered. Pending
    /// requests fail with [`Error::Disconnected`]. Closing a closed client does nothing.
    ///
    /// # Errors
    ///
    /// None today; the `Result` leaves room for failures worth reporting.
    ///
    /// # Cancel safety
    ///
    /// Once the close command is handed over, the connection closes even if the future is
    /// dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = zen_websocket_testing::MockServer::start().await?;
    /// use zen_websocket_core::{Client, Config};
    ///
    /// let client = Client::connect(&server.url(), Config::default()).await?;
    /// client.close().await?;
    /// client.close().await?; // already closed: still Ok
    /// # Ok(())
    /// # }
    /// ```
    pub async fn close(&self) -> Result<()> {
        let (done, finished) = oneshot::channel();
        if self.inner.commands.send(Command::Close { done }).await.is_ok() {
            // An error here means the task already ended: the connection is closed either way.
            drop(finished.await);
        }
        Ok(())
    }

    /// The next inbound message or lifecycle event; `None` once the connection has ended
    /// and every event was read.
    ///
    /// With a [`Config::message_handler`] events go to the handler instead and this returns
    /// `None` at once. Clones share one inbox: each event reaches one caller.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: an event is never lost by dropping this future.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = zen_websocket_testing::MockServer::start().await?;
    /// use zen_websocket_core::{Client, Config, Event};
    ///
    /// let client = Client::connect(&server.url(), Config::default()).await?;
    /// client.send_message("ping me back").await?;
    /// match client.recv().await {
    ///     Some(Event::Message(message)) => assert_eq!(message.as_text(), Some("ping me back")),
    ///     other => panic!("unexpected {other:?}"),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn recv(&self) -> Option<Event> {
        let inbox = self.inner.inbox.as_ref()?;
        let (event, holds_slot) = inbox.lock().await.next().await?.into_event();
        if holds_slot && let Some(gauge) = &self.inner.shared.inbox {
            gauge.release();
        }
        Some(event)
    }

    /// Round-trip times of recent requests and subscriptions, in milliseconds.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = zen_websocket_testing::MockServer::start().await?;
    /// use serde_json::json;
    /// use zen_websocket_core::{Client, Config};
    ///
    /// let client = Client::connect(&server.url(), Config::default()).await?;
    /// client.request("public/test", json!({})).await?;
    /// let stats = client.get_latency_stats();
    /// assert_eq!(stats.count, 1);
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn get_latency_stats(&self) -> LatencyStats {
        self.inner.shared.latency_stats()
    }

    /// The subprotocol the server chose from [`Config::subprotocol`]'s offers, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = zen_websocket_testing::MockServer::start().await?;
    /// use zen_websocket_core::{Client, Config};
    ///
    /// let client = Client::connect(&server.url(), Config::default()).await?;
    /// assert_eq!(client.subprotocol(), None); // none offered, none chosen
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn subprotocol(&self) -> Option<String> {
        self.inner.shared.subprotocol()
    }

    /// How the heartbeat is doing: consecutive failures, the last success, its round trip.
    ///
    /// All zero / `None` without a [`Config::heartbeat`].
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = zen_websocket_testing::MockServer::start().await?;
    /// use zen_websocket_core::{Client, Config, HeartbeatConfig};
    ///
    /// let client = Client::connect(&server.url(), Config::default().heartbeat(HeartbeatConfig::ping())).await?;
    /// assert_eq!(client.get_heartbeat_health().failures, 0);
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn get_heartbeat_health(&self) -> HeartbeatHealth {
        self.inner.shared.heartbeat_health()
    }

    /// Counters and gauges of the connection (they survive reconnects).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = zen_websocket_testing::MockServer::start().await?;
    /// use zen_websocket_core::{Client, Config};
    ///
    /// let client = Client::connect(&server.url(), Config::default()).await?;
    /// client.send_message("hi").await?;
    /// let metrics = client.get_state_metrics();
    /// assert_eq!((metrics.messages_out, metrics.bytes_out), (1, 2));
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn get_state_metrics(&self) -> StateMetrics {
        self.inner.shared.state_metrics()
    }

    /// Waits for the rate limiter (if any) to let `message` through.
    async fn throttle(&self, message: &Message) -> Result<()> {
        match message {
            Message::Text(text) => self.throttle_text(text.as_str()).await,
            Message::Binary(bytes) => match &self.inner.config.rate_limiter {
                Some(limiter) => Ok(limiter.acquire_for(&bytes[..]).await?),
                None => Ok(()),
            },
        }
    }

    async fn throttle_text(&self, text: &str) -> Result<()> {
        match &self.inner.config.rate_limiter {
            Some(limiter) => Ok(limiter.acquire_for(text).await?),
            None => Ok(()),
        }
    }

    async fn command(&self, command: Command) -> Result<()> {
        self.inner.commands.send(command).await.map_err(|_| Error::NotConnected(self.get_state()))
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.inner.endpoint)
            .field("state", &self.get_state())
            .finish_non_exhaustive()
    }
}

/// The endpoint without user info, query or fragment, which may carry credentials.
fn redacted(endpoint: &Endpoint) -> String {
    let mut url = endpoint.url.clone();
    url.set_query(None);
    url.set_fragment(None);
    // Both fail only for URLs that cannot have credentials; nothing to remove then.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.to_string()
}
