//! `DeribitClient`: the core client with Deribit's session on every socket, busy answers
//! retried, typed calls, and notifications with the order-book sequence checked.

use std::{
    fmt,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use serde::{Serialize, de::DeserializeOwned};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use zen_websocket_core::{
    Client, ConnectionState, Error as ClientError, Event, Events, HeartbeatConfig, RateLimiter,
    SubscriptionId,
};

use crate::{
    DeribitConfig, codes,
    config::MAX_CHANNELS_PER_REQUEST,
    error::{Error, Result},
    notification::{Books, Notification, Sequence},
    setup::Setup,
    token::{self, TokenState},
    types::{
        AccountSummary, Instrument, OrderBook, OrderRequest, OrderResponse, Position, Ticker,
        Trade, UserOrder,
    },
};

/// What [`DeribitClient::recv`] yields.
///
/// # Examples
///
/// ```
/// use zen_websocket_deribit::DeribitEvent;
///
/// fn show(event: DeribitEvent) {
///     match event {
///         DeribitEvent::Notification(notification) => println!("{}: {}", notification.channel, notification.data),
///         DeribitEvent::BookGap { channel } => println!("{channel}: gap, a fresh snapshot follows"),
///         DeribitEvent::Client(event) => println!("{event:?}"),
///         _ => {}
///     }
/// }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum DeribitEvent {
    /// A notification of a subscribed channel, in order.
    Notification(Notification),
    /// A book change skipped a `change_id`: the channel is subscribed again, its changes are
    /// dropped until the fresh snapshot, which comes as a [`Notification`](Self::Notification).
    BookGap {
        /// The book channel.
        channel: String,
    },
    /// Anything else the client reports: lifecycle events, other messages.
    Client(Event),
}

/// How busy answers are retried.
#[derive(Debug, Clone, Copy)]
struct Busy {
    attempts: u32,
    delay: Duration,
    max_delay: Duration,
}

struct Inner {
    tokens: Arc<TokenState>,
    logs_in: bool,
    busy: Busy,
    stop: CancellationToken,
    books: Mutex<Books>,
    events: tokio::sync::Mutex<Events>,
}

impl Drop for Inner {
    /// The last handle is gone: the token refresh stops (the connection closes with its
    /// client).
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// A Deribit client: on every socket — the first and each after a reconnect — it asks for
/// Deribit's heartbeat, logs in, enables cancel-on-disconnect when asked, and only then has
/// the subscriptions restored and lets your requests out. Busy answers (10028 and friends) are
/// retried with back-off; requests are paced by Deribit's credit model.
///
/// A cheap handle: clones share the connection.
///
/// # Examples
///
/// ```no_run
/// # #[tokio::main]
/// # async fn main() -> Result<(), zen_websocket_deribit::Error> {
/// use zen_websocket_deribit::{Credentials, DeribitClient, DeribitConfig, DeribitEvent, OrderRequest};
///
/// let config = DeribitConfig::default().credentials(Credentials::from_env()?).cancel_on_disconnect(true);
/// let deribit = DeribitClient::connect(config).await?;
/// deribit.subscribe(["ticker.BTC-PERPETUAL.100ms", "user.orders.BTC-PERPETUAL.raw"]).await?;
/// let placed = deribit.buy(OrderRequest::limit("BTC-PERPETUAL", 10.0, 50_000.0).post_only()).await?;
/// while let Some(event) = deribit.recv().await {
///     if let DeribitEvent::Notification(notification) = event {
///         println!("{}", notification.channel);
///     }
/// }
/// deribit.close().await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct DeribitClient {
    client: Client,
    inner: Arc<Inner>,
}

impl fmt::Debug for DeribitClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeribitClient")
            .field("client", &self.client)
            .field("tokens", &self.inner.tokens)
            .finish_non_exhaustive()
    }
}

/// Whether `error` says the call was not executed and may simply be made again later.
fn retryable(error: &ClientError) -> bool {
    match error {
        ClientError::JsonRpc { code, .. } => codes::is_retryable(*code),
        ClientError::NotConnected(state) => *state == ConnectionState::Connecting,
        _ => false,
    }
}

impl DeribitClient {
    /// Connects and sets the session up (heartbeat, login, cancel-on-disconnect); returns once
    /// it is ready.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`]; [`Error::Client`] when dialling fails or the set-up is
    /// refused (a refused login is `SessionSetup(JsonRpc { code: 13004, .. })`, see
    /// [`Error::code`]).
    ///
    /// # Examples
    ///
    /// See [`DeribitClient`].
    pub async fn connect(config: DeribitConfig) -> Result<Self> {
        config.validate()?;
        let tokens = Arc::new(TokenState::default());
        let setup = Setup {
            credentials: config.credentials.clone(),
            grant: config.grant,
            cancel_on_disconnect: config.cancel_on_disconnect,
            tokens: Arc::clone(&tokens),
        };
        let mut core = config
            .client
            .clone()
            .heartbeat(HeartbeatConfig::deribit().interval(config.heartbeat))
            .session_setup(move |session| setup.clone().run(session));
        if let Some(tier) = config.tier {
            core = core.rate_limiter(RateLimiter::deribit(tier));
        }
        let client = Box::pin(Client::connect(config.environment.url(), core)).await?;
        let stop = CancellationToken::new();
        let logs_in = config.credentials.is_some();
        if logs_in {
            tokio::spawn(token::refresh(client.clone(), Arc::clone(&tokens), stop.clone()));
        }
        let busy = Busy {
            attempts: config.busy_attempts,
            delay: config.busy_delay,
            max_delay: config.busy_max_delay,
        };
        let events = tokio::sync::Mutex::new(client.events());
        let inner = Inner { tokens, logs_in, busy, stop, books: Mutex::default(), events };
        Ok(Self { client, inner: Arc::new(inner) })
    }

    /// The client underneath (state, monitors, raw sends).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn f(deribit: zen_websocket_deribit::DeribitClient) {
    /// println!("p50 {} ms", deribit.client().get_latency_stats().p50);
    /// # }
    /// ```
    #[must_use]
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The scope Deribit granted the current login (`None` while not logged in). Deribit may
    /// grant less than asked: check it before trading.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn f(deribit: zen_websocket_deribit::DeribitClient) {
    /// assert!(deribit.scope().is_some_and(|scope| scope.contains("trade:read_write")));
    /// # }
    /// ```
    #[must_use]
    pub fn scope(&self) -> Option<String> {
        self.inner.tokens.scope()
    }

    /// Any JSON-RPC method; returns its `result`. Busy answers are retried (see
    /// [`DeribitConfig::busy_retries`]); nothing else is.
    ///
    /// # Errors
    ///
    /// [`Error::Client`]: Deribit's error answers as `JsonRpc` ([`Error::code`]), timeouts,
    /// lost connections.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn f(deribit: zen_websocket_deribit::DeribitClient) -> Result<(), zen_websocket_deribit::Error> {
    /// let time = deribit.request("public/get_time", serde_json::json!({})).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn request<P: Serialize>(&self, method: &str, params: P) -> Result<Value> {
        let params = serde_json::to_value(params).map_err(ClientError::from)?;
        // Boxed: a request's steps are large, and callers' futures should not carry them.
        Box::pin(self.busy_retried(method, || self.client.request(method, &params))).await
    }

    /// Runs `call` again while Deribit answers a busy code (it did not execute the call) or the
    /// client is reconnecting (the call was never written — Deribit closes the session after a
    /// 10028), up to the configured attempts, waiting longer each time.
    async fn busy_retried<T, F, Fut>(&self, what: &str, mut call: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = zen_websocket_core::Result<T>>,
    {
        let busy = self.inner.busy;
        let mut delay = busy.delay;
        let mut attempt = 1;
        loop {
            match call().await {
                Err(error) if retryable(&error) && attempt < busy.attempts => {
                    tracing::debug!(what, %error, attempt, ?delay, "Deribit busy or reconnecting; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(busy.max_delay);
                    attempt += 1;
                }
                other => return other.map_err(Error::from),
            }
        }
    }

    /// Subscribes channels — `public/subscribe`, or `private/subscribe` when a `user.*`
    /// channel is among them — at most 500 a request, busy answers retried. Restored on every
    /// new socket after the login. Returns one id per request.
    ///
    /// # Errors
    ///
    /// [`Error::Client`]: e.g. `JsonRpc { code: 13778 }` for a `.raw` channel without
    /// credentials ([`Error::explain`] says what to do). Requests before the failing one stay
    /// subscribed.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn f(deribit: zen_websocket_deribit::DeribitClient) -> Result<(), zen_websocket_deribit::Error> {
    /// let ids = deribit.subscribe(["book.BTC-PERPETUAL.100ms", "trades.BTC-PERPETUAL.100ms"]).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn subscribe<I>(&self, channels: I) -> Result<Vec<SubscriptionId>>
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let channels: Vec<String> = channels.into_iter().map(Into::into).collect();
        let mut ids = Vec::new();
        for chunk in channels.chunks(MAX_CHANNELS_PER_REQUEST) {
            ids.push(self.subscribe_chunk(chunk).await?);
        }
        Ok(ids)
    }

    async fn subscribe_chunk(&self, chunk: &[String]) -> Result<SubscriptionId> {
        let subscribe = || self.client.subscribe(chunk.iter().cloned());
        Box::pin(self.busy_retried("subscribe", subscribe)).await
    }

    /// Ends a subscription made by [`subscribe`](Self::subscribe).
    ///
    /// # Errors
    ///
    /// As [`Client::unsubscribe`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn f(deribit: zen_websocket_deribit::DeribitClient) -> Result<(), zen_websocket_deribit::Error> {
    /// for id in deribit.subscribe(["ticker.ETH-PERPETUAL.100ms"]).await? {
    ///     deribit.unsubscribe(id).await?;
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn unsubscribe(&self, id: SubscriptionId) -> Result<()> {
        Ok(self.client.unsubscribe(id).await?)
    }

    /// The next event: notifications (book changes checked for gaps), then everything else
    /// the client reports. `None` once the connection has ended and everything was read.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Examples
    ///
    /// See [`DeribitClient`].
    pub async fn recv(&self) -> Option<DeribitEvent> {
        loop {
            let event = self.inner.events.lock().await.recv().await?;
            let message = match event {
                Event::Message(message) => message,
                other => {
                    if matches!(other, Event::Connected | Event::Disconnected { .. }) {
                        *self.books() = Books::default();
                    }
                    return Some(DeribitEvent::Client(other));
                }
            };
            let Some(notification) = Notification::parse(&message) else {
                return Some(DeribitEvent::Client(Event::Message(message)));
            };
            let sequence = self.books().check(&notification);
            match sequence {
                Sequence::InOrder => return Some(DeribitEvent::Notification(notification)),
                Sequence::Resyncing => {}
                Sequence::Gap => {
                    let channel = notification.channel;
                    tracing::warn!(%channel, "order book gap; subscribing again for a fresh snapshot");
                    self.resubscribe(channel.clone());
                    return Some(DeribitEvent::BookGap { channel });
                }
            }
        }
    }

    fn books(&self) -> std::sync::MutexGuard<'_, Books> {
        self.inner.books.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Unsubscribes and subscribes `channel` again on the server (the client's record keeps
    /// it), so a fresh snapshot comes.
    fn resubscribe(&self, channel: String) {
        let deribit = self.clone();
        tokio::spawn(async move {
            let scope = if channel.starts_with("user.") { "private" } else { "public" };
            let channels = json!({"channels": [channel]});
            let again = async {
                deribit.request(&format!("{scope}/unsubscribe"), &channels).await?;
                deribit.request(&format!("{scope}/subscribe"), &channels).await
            };
            if let Err(error) = again.await {
                tracing::warn!(%error, "subscribing a book again after a gap failed");
            }
        });
    }

    /// Logs out (`private/logout`: the server closes the socket and, unlike a drop, does not
    /// cancel orders) and closes the client.
    ///
    /// # Errors
    ///
    /// As [`Client::close`].
    ///
    /// # Examples
    ///
    /// See [`DeribitClient`].
    pub async fn close(&self) -> Result<()> {
        self.inner.stop.cancel();
        if self.inner.logs_in && self.client.get_state() == ConnectionState::Connected {
            let logout = json!({"jsonrpc": "2.0", "id": "logout", "method": "private/logout", "params": {"invalidate_token": true}});
            if let Err(error) = self.client.send_message(logout).await {
                tracing::debug!(%error, "logout not sent");
            }
        }
        Ok(self.client.close().await?)
    }

    async fn call<T: DeserializeOwned>(&self, method: &str, params: Value) -> Result<T> {
        let result = self.request(method, params).await?;
        serde_json::from_value(result).map_err(|error| Error::InvalidResponse {
            method: method.to_owned(),
            detail: error.to_string(),
        })
    }

    /// `public/ticker`.
    ///
    /// # Errors
    ///
    /// As [`request`](Self::request); [`Error::InvalidResponse`] for an answer of another shape.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn f(deribit: zen_websocket_deribit::DeribitClient) -> Result<(), zen_websocket_deribit::Error> {
    /// let ticker = deribit.ticker("BTC-PERPETUAL").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn ticker(&self, instrument: &str) -> Result<Ticker> {
        self.call("public/ticker", json!({"instrument_name": instrument})).await
    }

    /// `public/get_order_book` to `depth` levels.
    ///
    /// # Errors
    ///
    /// As [`ticker`](Self::ticker).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn f(deribit: zen_websocket_deribit::DeribitClient) -> Result<(), zen_websocket_deribit::Error> {
    /// let book = deribit.order_book("BTC-PERPETUAL", 10).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn order_book(&self, instrument: &str, depth: u32) -> Result<OrderBook> {
        self.call("public/get_order_book", json!({"instrument_name": instrument, "depth": depth}))
            .await
    }

    /// The last `count` trades of an instrument (`public/get_last_trades_by_instrument`).
    ///
    /// # Errors
    ///
    /// As [`ticker`](Self::ticker).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn f(deribit: zen_websocket_deribit::DeribitClient) -> Result<(), zen_websocket_deribit::Error> {
    /// let trades = deribit.last_trades("BTC-PERPETUAL", 20).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn last_trades(&self, instrument: &str, count: u32) -> Result<Vec<Trade>> {
        #[derive(serde::Deserialize)]
        struct Trades {
            trades: Vec<Trade>,
        }
        let params = json!({"instrument_name": instrument, "count": count});
        let trades: Trades = self.call("public/get_last_trades_by_instrument", params).await?;
        Ok(trades.trades)
    }

    /// `public/get_instruments` of a currency and kind (`future`, `option`, `spot`…).
    ///
    /// # Errors
    ///
    /// As [`ticker`](Self::ticker).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn f(deribit: zen_websocket_deribit::DeribitClient) -> Result<(), zen_websocket_deribit::Error> {
    /// let futures = deribit.instruments("BTC", "future").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn instruments(&self, currency: &str, kind: &str) -> Result<Vec<Instrument>> {
        self.call("public/get_instruments", json!({"currency": currency, "kind": kind})).await
    }

    /// `private/buy`.
    ///
    /// # Errors
    ///
    /// As [`ticker`](Self::ticker). A timeout or a lost connection means the order may or may
    /// not be placed: check [`open_orders`](Self::open_orders) before sending it again.
    ///
    /// # Examples
    ///
    /// See [`DeribitClient`].
    pub async fn buy(&self, order: OrderRequest) -> Result<OrderResponse> {
        self.call("private/buy", json!(order)).await
    }

    /// `private/sell`.
    ///
    /// # Errors
    ///
    /// As [`buy`](Self::buy).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn f(deribit: zen_websocket_deribit::DeribitClient) -> Result<(), zen_websocket_deribit::Error> {
    /// use zen_websocket_deribit::OrderRequest;
    /// deribit.sell(OrderRequest::limit("BTC-PERPETUAL", 10.0, 80_000.0)).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn sell(&self, order: OrderRequest) -> Result<OrderResponse> {
        self.call("private/sell", json!(order)).await
    }

    /// `private/edit`: a new amount and price for an open order.
    ///
    /// # Errors
    ///
    /// As [`buy`](Self::buy).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn f(deribit: zen_websocket_deribit::DeribitClient) -> Result<(), zen_websocket_deribit::Error> {
    /// deribit.edit("1234", 20.0, 59_000.0).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn edit(&self, order_id: &str, amount: f64, price: f64) -> Result<OrderResponse> {
        self.call("private/edit", json!({"order_id": order_id, "amount": amount, "price": price}))
            .await
    }

    /// `private/cancel`: the cancelled order.
    ///
    /// # Errors
    ///
    /// As [`ticker`](Self::ticker).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn f(deribit: zen_websocket_deribit::DeribitClient) -> Result<(), zen_websocket_deribit::Error> {
    /// deribit.cancel("1234").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn cancel(&self, order_id: &str) -> Result<UserOrder> {
        self.call("private/cancel", json!({"order_id": order_id})).await
    }

    /// `private/cancel_all`: how many orders were cancelled.
    ///
    /// # Errors
    ///
    /// As [`ticker`](Self::ticker).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn f(deribit: zen_websocket_deribit::DeribitClient) -> Result<(), zen_websocket_deribit::Error> {
    /// let cancelled = deribit.cancel_all().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn cancel_all(&self) -> Result<u64> {
        self.call("private/cancel_all", json!({})).await
    }

    /// `private/get_open_orders_by_currency`.
    ///
    /// # Errors
    ///
    /// As [`ticker`](Self::ticker).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn f(deribit: zen_websocket_deribit::DeribitClient) -> Result<(), zen_websocket_deribit::Error> {
    /// let open = deribit.open_orders("BTC").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn open_orders(&self, currency: &str) -> Result<Vec<UserOrder>> {
        self.call("private/get_open_orders_by_currency", json!({"currency": currency})).await
    }

    /// `private/get_positions`.
    ///
    /// # Errors
    ///
    /// As [`ticker`](Self::ticker).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn f(deribit: zen_websocket_deribit::DeribitClient) -> Result<(), zen_websocket_deribit::Error> {
    /// let positions = deribit.positions("BTC").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn positions(&self, currency: &str) -> Result<Vec<Position>> {
        self.call("private/get_positions", json!({"currency": currency})).await
    }

    /// `private/get_account_summary`.
    ///
    /// # Errors
    ///
    /// As [`ticker`](Self::ticker).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn f(deribit: zen_websocket_deribit::DeribitClient) -> Result<(), zen_websocket_deribit::Error> {
    /// let summary = deribit.account_summary("BTC").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn account_summary(&self, currency: &str) -> Result<AccountSummary> {
        self.call("private/get_account_summary", json!({"currency": currency})).await
    }
}
