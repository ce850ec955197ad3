//! What can go wrong in a pool, and how to fix it.

use std::sync::Arc;

use zen_websocket_core::{ErrorHandler, Explanation};

use crate::ClientId;

/// Where the supervision guide is published; explanations link to its sections.
const GUIDE: &str = "https://github.com/zen-websocket/zen-websocket/blob/main/docs/supervision.md";

/// Errors of a [`ClientSupervisor`](crate::ClientSupervisor).
///
/// [`OutcomeUnknown`](Self::OutcomeUnknown) is the one to handle with care: the frame may
/// have reached the server, so sending it again might execute it twice.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use zen_websocket_supervisor::{BalanceOptions, ClientSupervisor, Error, SupervisorConfig};
///
/// let pool = ClientSupervisor::start(SupervisorConfig::default()).await?;
/// let err = pool.send_balanced("hello", &BalanceOptions::default()).await.unwrap_err();
/// assert!(matches!(err, Error::NoEligibleClient { .. }));
/// println!("{}", err.explain().suggestion);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The supervisor's configuration is invalid; nothing was started.
    #[error("invalid supervisor config: {field} {problem}")]
    InvalidConfig {
        /// The option at fault.
        field: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// No client is connected, heartbeat-healthy and matching the filter.
    #[error("no eligible client ({filter}; {clients} in the pool)")]
    NoEligibleClient {
        /// The filter that was applied.
        filter: String,
        /// How many clients the pool holds.
        clients: usize,
    },
    /// The frame was handed to `client`'s socket and then the connection broke or the answer
    /// did not come in time: the server may or may not have acted on it. Not retried.
    #[error("outcome unknown on {client}: {error}")]
    OutcomeUnknown {
        /// The client that had the frame.
        client: ClientId,
        /// What happened after the hand-off.
        error: zen_websocket_core::Error,
    },
    /// Every candidate tried refused the frame before writing it (not connected, rate
    /// limited); nothing was sent.
    #[error("no client took the frame after {} attempt(s); nothing was sent", attempts.len())]
    AttemptsExhausted {
        /// Each client tried and why it refused, in order.
        attempts: Vec<(ClientId, zen_websocket_core::Error)>,
    },
    /// `client` answered with a definite error (e.g. a JSON-RPC error from the server).
    #[error("{client}: {error}")]
    Client {
        /// The client that answered.
        client: ClientId,
        /// The error.
        error: zen_websocket_core::Error,
    },
    /// A client could not be started: its first connection failed. Nothing is left running.
    #[error("could not start client {name:?}: {error}")]
    StartFailed {
        /// The spec's name.
        name: String,
        /// Why the connection failed.
        error: zen_websocket_core::Error,
    },
    /// The pool already holds `max_clients` clients.
    #[error("the pool already holds its {max_clients} clients")]
    MaxClients {
        /// [`SupervisorConfig::max_clients`](crate::SupervisorConfig::max_clients).
        max_clients: usize,
    },
    /// The channels do not fit: every client is full and no more may be opened. Nothing was
    /// subscribed.
    #[error("pool exhausted: {requested} channel(s) asked for, room for {room}")]
    PoolExhausted {
        /// New channels asked for.
        requested: usize,
        /// Channels the pool could still take, counting clients it may still open.
        room: usize,
    },
    /// Subscribing channels on a client failed; those channels are not held by the pool.
    #[error("{client} could not subscribe {} channel(s): {error}", channels.len())]
    Subscribe {
        /// The client.
        client: ClientId,
        /// The channels it failed to subscribe.
        channels: Vec<String>,
        /// Why.
        error: Arc<zen_websocket_core::Error>,
    },
    /// The request's parameters could not be turned into JSON; nothing was sent.
    #[error("request params are not JSON: {0}")]
    InvalidParams(#[source] serde_json::Error),
    /// No client has this id (never started, stopped, or left the pool).
    #[error("no client {0} in the pool")]
    UnknownClient(ClientId),
    /// The supervisor is shutting down or shut down.
    #[error("the supervisor is shut down")]
    ShutDown,
}

impl Error {
    /// Puts the error in plain words, with a fix and a link to the guide. Errors of a client
    /// are explained by [`ErrorHandler::explain`], prefixed with the client.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_supervisor::Error;
    ///
    /// let explanation = Error::PoolExhausted { requested: 10, room: 0 }.explain();
    /// assert!(explanation.suggestion.contains("max_clients"));
    /// ```
    #[must_use]
    pub fn explain(&self) -> Explanation {
        let (anchor, message, suggestion) = match self {
            Self::OutcomeUnknown { client, error } => {
                let inner = ErrorHandler::explain(error);
                (
                    "outcome-unknown",
                    format!("{client} had the frame when this happened: {}", inner.message),
                    "The server may have acted on it. Check (e.g. query open orders) before \
                     sending it again; a pool never re-sends such a frame itself"
                        .to_owned(),
                )
            }
            Self::Client { client, error } => {
                let inner = ErrorHandler::explain(error);
                return Explanation::new(
                    format!("{client}: {}", inner.message),
                    inner.suggestion,
                    inner.docs_url,
                );
            }
            Self::StartFailed { name, error } => {
                let inner = ErrorHandler::explain(error);
                return Explanation::new(
                    format!("client {name:?}: {}", inner.message),
                    inner.suggestion,
                    inner.docs_url,
                );
            }
            other => describe(other),
        };
        Explanation::new(message, suggestion, format!("{GUIDE}#{anchor}"))
    }
}

fn describe(err: &Error) -> (&'static str, String, String) {
    let message = err.to_string();
    let (anchor, suggestion) = match err {
        Error::InvalidConfig { .. } => {
            ("configuration", "Fix the option named; every bound is listed in the guide")
        }
        Error::NoEligibleClient { .. } => (
            "balancing",
            "Wait for a client to connect (list_clients shows their status), loosen the filter, or start more clients",
        ),
        Error::AttemptsExhausted { .. } => (
            "balancing",
            "Every client tried was down or rate limited; nothing was sent, so it is safe to try again later or raise max_attempts",
        ),
        Error::MaxClients { .. } => {
            ("configuration", "Stop a client first or raise SupervisorConfig::max_clients")
        }
        Error::PoolExhausted { .. } => (
            "sharding",
            "Raise max_subscriptions_per_client (within the venue's limit) or max_clients, unsubscribe_sharded channels you no longer need, or stop a failed client to free its place",
        ),
        Error::Subscribe { .. } => (
            "sharding",
            "The server refused or did not confirm; check the channel names and try again",
        ),
        Error::InvalidParams(_) => {
            ("balancing", "Pass params that serialize to JSON (maps need string keys)")
        }
        Error::UnknownClient(_) => (
            "clients",
            "Use an id from start_client or list_clients; ids of stopped clients are not reused",
        ),
        Error::ShutDown => ("clients", "Start a new supervisor"),
        Error::OutcomeUnknown { .. } | Error::Client { .. } | Error::StartFailed { .. } => {
            ("clients", "")
        }
    };
    (anchor, message, suggestion.to_owned())
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
