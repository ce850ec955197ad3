//! Session set-up: the requests a venue needs on every new socket (a heartbeat request, a
//! login, cancel-on-disconnect…) before it counts as open — before subscriptions are restored
//! and before any request of the user's is written.

use std::{
    fmt,
    future::Future,
    panic::AssertUnwindSafe,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use futures_util::FutureExt;
use serde::Serialize;
use serde_json::Value;
use tokio::{
    sync::{mpsc, oneshot},
    task::JoinHandle,
    time::{Instant, Sleep, timeout_at},
};

use crate::{
    config::Config,
    connection::{Command, RequestCommand},
    error::{Error, Result},
    message::Message,
    rpc::encode_request,
    state::ConnectionState,
};

/// The user's set-up, as the config holds it.
pub(crate) type SessionSetup =
    Arc<dyn Fn(Session) -> Pin<Box<dyn Future<Output = Result<()>> + Send>> + Send + Sync>;

/// Set-up requests waiting for the connection task at once.
const LANE_CAPACITY: usize = 16;

/// What a [`Config::session_setup`](crate::Config::session_setup) function gets: requests
/// and sends on the new socket, written before anything else of the user's. Valid only while
/// the set-up runs; afterwards every call fails with [`Error::NotConnected`].
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = zen_websocket_testing::MockServer::start().await?;
/// use serde_json::json;
/// use zen_websocket_core::{Client, Config, Session};
///
/// let config = Config::default().session_setup(|session: Session| async move {
///     session.request("public/auth", json!({"grant_type": "client_credentials"})).await?;
///     Ok(())
/// });
/// let client = Client::connect(&server.url(), config).await?; // returns once logged in
/// # Ok(())
/// # }
/// ```
pub struct Session {
    lane: mpsc::Sender<Command>,
    config: Arc<Config>,
    next_id: Arc<dyn Fn() -> crate::rpc::RequestId + Send + Sync>,
    reconnect: bool,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session").field("reconnect", &self.reconnect).finish_non_exhaustive()
    }
}

impl Session {
    /// Whether this socket replaces a lost one (`false` for the first connection).
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_core::{Config, Session};
    ///
    /// let config = Config::default().session_setup(|session: Session| async move {
    ///     if session.is_reconnect() {
    ///         println!("logging in again");
    ///     }
    ///     Ok(())
    /// });
    /// ```
    #[must_use]
    pub fn is_reconnect(&self) -> bool {
        self.reconnect
    }

    /// A JSON-RPC 2.0 request on the new socket; returns its `result`. Paced by
    /// [`Config::rate_limiter`](crate::Config::rate_limiter) like any request.
    ///
    /// # Errors
    ///
    /// As [`Client::request`](crate::Client::request); [`Error::NotConnected`] once the
    /// set-up is over or the socket is gone.
    ///
    /// # Examples
    ///
    /// See [`Session`].
    pub async fn request<P: Serialize>(&self, method: &str, params: P) -> Result<Value> {
        let params = serde_json::value::to_raw_value(&params)?;
        let id = (self.next_id)();
        let frame = encode_request(&id, method, &params)?;
        let deadline = Instant::now() + self.config.request_timeout;
        let call = async {
            if let Some(limiter) = &self.config.rate_limiter {
                limiter.acquire_for(frame.as_str()).await?;
            }
            let (reply, answer) = oneshot::channel();
            let request = RequestCommand { id: id.clone(), frame, reply, deadline };
            self.lane(Command::Request(Box::new(request))).await?;
            answer.await.unwrap_or(Err(Error::Disconnected))
        };
        match timeout_at(deadline, call).await {
            Ok(result) => result,
            Err(_) => Err(Error::RequestTimeout { id, after: self.config.request_timeout }),
        }
    }

    /// Sends a frame on the new socket; returns once it is written.
    ///
    /// # Errors
    ///
    /// As [`Client::send_message`](crate::Client::send_message); [`Error::NotConnected`] once
    /// the set-up is over or the socket is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_core::{Config, Session};
    ///
    /// let config = Config::default().session_setup(|session: Session| async move {
    ///     session.send_message(r#"{"op":"login","key":"..."}"#).await
    /// });
    /// ```
    pub async fn send_message(&self, message: impl Into<Message>) -> Result<()> {
        let (ack, answer) = oneshot::channel();
        self.lane(Command::Send { message: message.into(), ack }).await?;
        answer.await.unwrap_or(Err(Error::Disconnected))
    }

    async fn lane(&self, command: Command) -> Result<()> {
        self.lane.send(command).await.map_err(|_| Error::NotConnected(ConnectionState::Connecting))
    }
}

/// A set-up under way on the current socket, as the connection task polls it.
#[derive(Debug)]
pub(crate) struct Lane {
    commands: mpsc::Receiver<Command>,
    done: oneshot::Receiver<Result<()>>,
    deadline: Pin<Box<Sleep>>,
    task: JoinHandle<()>,
}

/// What polling a set-up found.
pub(crate) enum Progress {
    /// A command of the set-up's to serve.
    Command(Command),
    /// The set-up finished well.
    Done,
    /// The set-up failed (or ran out of time); the socket must go.
    Failed(Error),
    /// Nothing yet.
    Waiting,
}

impl Lane {
    /// Runs `setup` on its own task for a new socket.
    pub(crate) fn start(
        setup: &SessionSetup,
        config: &Arc<Config>,
        next_id: Arc<dyn Fn() -> crate::rpc::RequestId + Send + Sync>,
        reconnect: bool,
    ) -> Self {
        let (lane, commands) = mpsc::channel(LANE_CAPACITY);
        let (tell, done) = oneshot::channel();
        let session = Session { lane, config: Arc::clone(config), next_id, reconnect };
        let built = std::panic::catch_unwind(AssertUnwindSafe(|| setup(session)));
        let task = tokio::spawn(async move {
            let outcome = match built {
                Ok(future) => AssertUnwindSafe(future)
                    .catch_unwind()
                    .await
                    .unwrap_or_else(|_| Err(panicked())),
                Err(_) => Err(panicked()),
            };
            let _ = tell.send(outcome);
        });
        let deadline = Box::pin(tokio::time::sleep(config.request_timeout));
        Self { commands, done, deadline, task }
    }

    /// The next thing to do about the set-up.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>, after: std::time::Duration) -> Progress {
        if let Poll::Ready(Some(command)) = self.commands.poll_recv(cx) {
            return Progress::Command(command);
        }
        if let Poll::Ready(outcome) = Pin::new(&mut self.done).poll(cx) {
            return match outcome {
                Ok(Ok(())) => Progress::Done,
                Ok(Err(error)) => Progress::Failed(error),
                Err(_) => Progress::Failed(panicked()),
            };
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            return Progress::Failed(Error::Timeout { stage: crate::ConnectStage::Session, after });
        }
        Progress::Waiting
    }
}

impl Drop for Lane {
    /// The socket is gone or the set-up is over: a set-up still running is stopped.
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn panicked() -> Error {
    Error::CallbackPanicked { callback: "session set-up" }
}
