//! The `Client` handle: the five functions, requests, events and monitors.

use std::{
    collections::VecDeque,
    fmt,
    future::Future,
    panic::AssertUnwindSafe,
    sync::{Arc, PoisonError},
    task::{Context, Poll},
};

use futures_util::FutureExt;
use serde::Serialize;
use serde_json::{Value, value::RawValue};
use tokio::{
    sync::oneshot,
    time::{Instant, timeout_at},
};

use crate::{
    config::Config,
    connection::{self, Command, ReplyClaim, RequestCommand, SubscribeCommand, UnsubscribeCommand},
    error::{Error, Result},
    event::{Ending, Event},
    events::Events,
    heartbeat::HeartbeatHealth,
    inbox::Delivered,
    message::Message,
    monitor::{LatencyStats, Shared, StateMetrics},
    rpc::{RequestId, encode_request},
    state::ConnectionState,
    subscription::SubscriptionId,
    telemetry::Telemetry,
    transport::{Endpoint, dial},
};

mod recording;

use recording::{open_recording, probe_recording};

/// How many fresh ids a request tries when generated ids collide with caller-supplied ones.
const ID_ATTEMPTS: usize = 8;

/// A WebSocket connection that stays connected, with JSON-RPC requests and confirmed
/// subscriptions.
///
/// `Client` is a cheap [`Clone`] handle: every clone talks to the same connection, which
/// one background task owns. The connection closes when [`close`](Self::close) is called or
/// when the last handle is dropped (a [`Config::message_handler`] that captures a handle keeps
/// one alive: call `close`).
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
    /// Events [`Client::recv`] took from the inbox and has not handed out yet, shared by
    /// every handle.
    taken: std::sync::Mutex<VecDeque<Delivered>>,
    shared: Arc<Shared>,
    endpoint: String,
}

/// Most events [`Client::recv`] takes from the inbox at once.
const RECV_BATCH: usize = 64;

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
        // Boxed: the steps of connecting are large, and callers' futures should not carry them.
        Box::pin(Self::open(url, config)).await
    }

    async fn open(url: &str, config: Config) -> Result<Self> {
        config.validate()?;
        let endpoint = Endpoint::parse(url, &config.redaction)?;
        let probe = probe_recording(&config).await?;
        let started = Instant::now();
        let dialled = dial(&endpoint, &config).await;
        let (ws, subprotocol) = match dialled {
            Ok(upgraded) => upgraded,
            Err(err) => {
                probe.abandon().await;
                return Err(err);
            }
        };
        let recorder = open_recording(&config, probe).await?;
        let telemetry = Telemetry::new(format!("{}:{}", endpoint.host, endpoint.port));
        telemetry.upgraded(started.elapsed());
        let shown = config.redaction.redact_url(endpoint.url.as_str());
        tracing::info!(url = %shown, took = ?started.elapsed(), "connected");
        let shared = Arc::new(Shared::new(&config));
        shared.set_subprotocol(subprotocol);
        let (opened, set_up) = match config.session_setup {
            Some(_) => {
                shared.state.set(ConnectionState::Connecting);
                let (opened, set_up) = oneshot::channel();
                (Some(opened), Some(set_up))
            }
            None => (None, None),
        };
        let config = Arc::new(config);
        connection::spawn(
            ws,
            endpoint,
            Arc::clone(&config),
            Arc::clone(&shared),
            telemetry,
            recorder,
            opened,
        );
        let taken = std::sync::Mutex::default();
        let inner = Inner { config, taken, shared, endpoint: shown };
        let client = Self { inner: Arc::new(inner) };
        if let Some(set_up) = set_up {
            // The task bounds the set-up by `request_timeout`.
            set_up.await.unwrap_or(Err(Error::ConnectionTaskEnded))?;
        }
        Ok(client)
    }

    /// Sends a text frame (`&str`, `String`, [`serde_json::Value`]) or a binary frame
    /// (`Vec<u8>`, `&[u8]`, [`bytes::Bytes`]).
    ///
    /// Returns once the frame is written to the socket. While the connection is down the
    /// send fails at once: nothing is queued behind your back. While a reconnected socket
    /// restores its subscriptions, the send waits for it to be reported open.
    ///
    /// # Errors
    ///
    /// [`Error::NotConnected`] while connecting or after close, or when the socket broke
    /// while the frame still waited in the outbox — it was never written;
    /// [`Error::Disconnected`] when the socket broke after the frame was handed to it (also
    /// after a write that made no progress for [`Config::write_timeout`]) — it may have
    /// reached the server.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a frame whose future is dropped before it reaches the socket is not
    /// written.
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
    /// [`Error::RequestTimeout`] after [`Config::request_timeout`], counted from the call
    /// (waiting for the rate limiter and the outbox included); [`Error::Disconnected`] when
    /// the connection is lost after the request was written (it may have reached the server);
    /// [`Error::NotConnected`] when there is no connection or it was lost before the request
    /// was written (it was not sent);
    /// [`Error::Json`] when `params` cannot be serialized.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a call dropped before its request is written never sends it; a dropped
    /// call's response is discarded when it arrives.
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
        let deadline = self.deadline();
        let mut last = Error::Disconnected;
        for _ in 0..ID_ATTEMPTS {
            let id = self.inner.shared.next_request_id();
            match self.send_request(id, method, &params, deadline).await {
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
        let params = serde_json::value::to_raw_value(&params)?;
        self.send_request(id.into(), method, &params, self.deadline()).await
    }

    async fn send_request(
        &self,
        id: RequestId,
        method: &str,
        params: &RawValue,
        deadline: Instant,
    ) -> Result<Value> {
        let frame = encode_request(&id, method, params)?;
        let call = async {
            self.throttle_text(&frame).await?;
            let (reply, answer) = oneshot::channel();
            let request = RequestCommand { id: id.clone(), frame, reply, deadline };
            self.request_reply(Command::Request(Box::new(request)), answer).await
        };
        self.bounded(id.clone(), deadline, call).await
    }

    /// When a call started now runs out of [`Config::request_timeout`].
    fn deadline(&self) -> Instant {
        Instant::now() + self.inner.config.request_timeout
    }

    /// Runs `call` until `deadline`: past it, the call is dropped (so a request not yet
    /// written never will be) and fails with [`Error::RequestTimeout`].
    async fn bounded<T>(
        &self,
        id: RequestId,
        deadline: Instant,
        call: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        match timeout_at(deadline, call).await {
            Ok(result) => result,
            Err(_) => Err(Error::RequestTimeout { id, after: self.inner.config.request_timeout }),
        }
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
    /// [`Error::JsonRpc`] or [`Error::SubscriptionRejected`] (naming the refused channels)
    /// when the server refuses any of them; [`Error::CallbackPanicked`] when the configured
    /// [`SubscriptionProtocol`](crate::SubscriptionProtocol) panics;
    /// [`Error::RequestTimeout`], [`Error::Disconnected`], [`Error::NotConnected`] as for
    /// requests.
    ///
    /// A subscription whose confirmation comes when nobody waits for it any more (the call
    /// was cancelled or timed out), or which the server confirms only in part, is undone:
    /// the client unsubscribes the channels it accepted, so the server never holds a
    /// subscription the client does not track.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: cancelled before the request is written, nothing is sent; after, the
    /// subscription is undone as above.
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
        let mut unique: Vec<String> = Vec::new();
        for channel in channels.into_iter().map(Into::into) {
            // A channel named twice is one channel: counting it twice would keep it held.
            if !unique.contains(&channel) {
                unique.push(channel);
            }
        }
        let channels = unique;
        if channels.is_empty() {
            let reason = "name at least one channel to subscribe to".to_owned();
            return Err(Error::InvalidArgument { name: "channels", reason });
        }
        let deadline = self.deadline();
        let mut last = Error::Disconnected;
        for _ in 0..ID_ATTEMPTS {
            let id = self.inner.shared.next_request_id();
            match self.send_subscribe(id, channels.clone(), deadline).await {
                // A caller-supplied id took the generated one: draw another.
                Err(err @ Error::DuplicateRequestId(_)) => last = err,
                other => return other,
            }
        }
        Err(last)
    }

    async fn send_subscribe(
        &self,
        id: RequestId,
        channels: Vec<String>,
        deadline: Instant,
    ) -> Result<SubscriptionId> {
        let protocol = &self.inner.config.subscription_protocol;
        let frame = contained("SubscriptionProtocol::subscribe_message", || {
            protocol.subscribe_message(&id, &channels).to_string()
        })?;
        let call = async {
            self.throttle_text(&frame).await?;
            let (reply, answer) = oneshot::channel();
            let subscribe = SubscribeCommand { id: id.clone(), frame, channels, reply, deadline };
            self.request_reply(Command::Subscribe(Box::new(subscribe)), answer).await
        };
        self.bounded(id.clone(), deadline, call).await
    }

    /// Unsubscribes a confirmed subscription; it will not be restored after a reconnect.
    ///
    /// Only the channels no other subscription (or subscribe on its way) holds are unsubscribed
    /// on the server: two subscriptions sharing a channel keep it until both are gone. While
    /// disconnected, the subscription is just forgotten (the new socket has nothing to drop).
    /// When the server does not answer in time the call fails with
    /// [`Error::RequestTimeout`], yet the subscription ends all the same: the client forgets it
    /// and asks the server again, so the record never lists what may not be streaming.
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
        let deadline = self.deadline();
        let call = async {
            if self.inner.config.rate_limiter.is_some() {
                // Priced by its method: the channels live with the connection task.
                let protocol = &self.inner.config.subscription_protocol;
                let probe = contained("SubscriptionProtocol::unsubscribe_message", || {
                    protocol.unsubscribe_message(&RequestId::Number(0), &[]).to_string()
                })?;
                self.throttle_text(&probe).await?;
            }
            let (reply, answer) = oneshot::channel();
            let unsubscribe = UnsubscribeCommand { id, reply, deadline };
            self.request_reply(Command::Unsubscribe(Box::new(unsubscribe)), answer).await
        };
        self.bounded(RequestId::Number(0), deadline, call).await
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

    /// Closes the connection: writes the frames already handed over, sends close code 1000,
    /// waits for the server's close frame, flushes the recording, and ends the connection
    /// task — all within [`Config::close_timeout`], in every state (a peer that stopped
    /// reading, a reconnection in progress, a wedged disk). Afterwards
    /// [`get_state`](Self::get_state) reads `Disconnected`.
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
    /// Once called, the connection closes even if the future is dropped.
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
        let shared = &self.inner.shared;
        shared.close.request();
        let bound = self.inner.config.close_timeout + CLOSE_SLACK;
        if tokio::time::timeout(bound, shared.ended()).await.is_err() {
            // The task is past its own deadline and about to end; say what it will say.
            tracing::debug!("the connection task outlived close_timeout");
            shared.state.set(ConnectionState::Disconnected);
        }
        Ok(())
    }

    /// The next inbound message or lifecycle event; `None` once the connection has ended
    /// and every event was read.
    ///
    /// With a [`Config::message_handler`] events go to the handler instead and this returns
    /// `None` at once. Clones share one inbox: each event reaches one caller.
    ///
    /// A busy reader (one whose last take brought 16 events or more) that runs out of events
    /// reads and parses the next ones itself, on its own thread, instead of waiting for the
    /// connection task to hand them over; the task takes the work back within about 2 ms when
    /// the reader stops reading, so replies and heartbeats never wait on it (see
    /// `docs/architecture.md`).
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
    #[inline]
    pub fn recv(&self) -> impl Future<Output = Option<Event>> + Send + '_ {
        // A plain poll function, not an `async fn`, inlined into the caller's loop: the event
        // is written once, into the caller's frame.
        std::future::poll_fn(move |cx| self.poll_recv(cx))
    }

    #[inline]
    fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        let mut taken = self.inner.taken.lock().unwrap_or_else(PoisonError::into_inner);
        if taken.is_empty() && !std::task::ready!(self.refill(cx, &mut taken)) {
            return Poll::Ready(None);
        }
        Poll::Ready(taken.pop_front().map(Delivered::into_event))
    }

    /// Takes the next batch from the inbox into `taken`; `Ready(false)` once the connection
    /// has ended and every event was read (or events go to a handler).
    #[inline(never)]
    fn refill(&self, cx: &mut Context<'_>, taken: &mut VecDeque<Delivered>) -> Poll<bool> {
        let taking = self.inner.shared.poll_take(cx, taken, RECV_BATCH);
        Poll::Ready(std::task::ready!(taking) > 0)
    }

    /// An owned stream of this connection's events that takes them from the inbox a batch at
    /// a time: the fast way to read a busy connection.
    ///
    /// [`Events::recv_many`] moves everything that has arrived (up to a limit) in one step;
    /// [`Events`] is also a [`Stream`](futures_util::Stream) of [`Event`]s. Each event reaches
    /// one reader: several `Events` (and [`recv`](Self::recv)) share the inbox. With a
    /// [`Config::message_handler`] the stream ends at once.
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
    /// let mut events = client.events();
    /// client.send_message("one").await?;
    /// client.send_message("two").await?;
    /// let mut batch = Vec::new();
    /// while batch.len() < 2 {
    ///     events.recv_many(&mut batch, 64).await;
    /// }
    /// assert!(matches!(&batch[1], Event::Message(m) if m.as_text() == Some("two")));
    /// # Ok(())
    /// # }
    /// ```
    pub fn events(&self) -> Events {
        Events::new(Arc::clone(&self.inner.shared))
    }

    /// Waits until the connection has ended for good — closed, given up after its
    /// reconnection attempts, or its task gone — and says how. Reconnections in between do
    /// not count: this is the moment [`get_state`](Self::get_state) turns `Disconnected` for
    /// ever. It does not take events from the inbox, so it never waits behind unread data.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = zen_websocket_testing::MockServer::start().await?;
    /// use zen_websocket_core::{Client, Config, Ending};
    ///
    /// let client = Client::connect(&server.url(), Config::default()).await?;
    /// client.close().await?;
    /// assert_eq!(client.closed().await, Ending::Closed);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn closed(&self) -> Ending {
        self.inner.shared.ended().await;
        self.inner.shared.ending().unwrap_or(Ending::TaskEnded)
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

    /// The confirmed subscriptions and their channels, oldest first: what is restored after a
    /// reconnect. Channels lost on a restore (see [`Event::SubscriptionLost`]) are gone from
    /// here by the time the event is delivered.
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
    /// assert_eq!(client.subscriptions(), [(id, vec!["book.BTC-PERPETUAL.100ms".to_owned()])]);
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn subscriptions(&self) -> Vec<(SubscriptionId, Vec<String>)> {
        self.inner.shared.subscriptions()
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
                Some(limiter) => limited(limiter.acquire_for(&bytes[..])).await,
                None => Ok(()),
            },
        }
    }

    async fn throttle_text(&self, text: &str) -> Result<()> {
        match &self.inner.config.rate_limiter {
            Some(limiter) => limited(limiter.acquire_for(text)).await,
            None => Ok(()),
        }
    }

    async fn command(&self, command: Command) -> Result<()> {
        let shared = &self.inner.shared;
        // The caller writes its command itself when it can; with a message handler every event
        // (even a pass's rare lifecycle one) is delivered on the connection task: the task
        // writes too.
        let write_now = || shared.inbox.is_some() && shared.drive.write_now();
        self.queue(command, write_now).await
    }

    /// Queues a call the server answers (a request, a subscribe, an unsubscribe) and waits for
    /// its answer. Without a message handler, when nobody else is working on the socket, the
    /// caller holds the work until the answer comes: it writes the call and reads the answer on
    /// its own thread, as a plain socket would.
    async fn request_reply<T>(
        &self,
        command: Command,
        mut answer: oneshot::Receiver<Result<T>>,
    ) -> Result<T> {
        let shared = &self.inner.shared;
        if shared.inbox.is_none() {
            self.command(command).await?;
            return answer.await.unwrap_or(Err(Error::Disconnected));
        }
        let mut claim = ReplyClaim::new(&shared.drive);
        self.queue(command, || claim.write_now()).await?;
        let reply = std::future::poll_fn(|cx| claim.poll(cx, &mut answer)).await;
        reply.unwrap_or(Err(Error::Disconnected))
    }

    /// Queues `command`; `write_now` writes it when it can (`true`), or the task is woken.
    async fn queue(&self, command: Command, write_now: impl FnOnce() -> bool) -> Result<()> {
        let sent = self.inner.shared.commands.send(command, write_now).await;
        sent.map_err(|_| Error::NotConnected(self.get_state()))?;
        Ok(())
    }
}

impl Drop for Inner {
    /// The last handle is gone: the connection task closes the connection.
    fn drop(&mut self) {
        self.shared.commands.senders_gone();
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

/// How much longer than `close_timeout` [`Client::close`] waits for the task to end.
const CLOSE_SLACK: std::time::Duration = std::time::Duration::from_millis(250);

/// Runs a callback of the user's, turning a panic into [`Error::CallbackPanicked`].
fn contained<T>(callback: &'static str, run: impl FnOnce() -> T) -> Result<T> {
    std::panic::catch_unwind(AssertUnwindSafe(run))
        .map_err(|_| Error::CallbackPanicked { callback })
}

/// Waits for a rate limiter's permit, a panic in its cost function contained.
async fn limited<E>(acquire: impl Future<Output = std::result::Result<(), E>>) -> Result<()>
where
    Error: From<E>,
{
    match AssertUnwindSafe(acquire).catch_unwind().await {
        Ok(permit) => Ok(permit?),
        Err(_) => Err(Error::CallbackPanicked { callback: "rate limiter cost function" }),
    }
}
