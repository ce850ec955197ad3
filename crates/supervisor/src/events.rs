//! One merged stream for a pool: every client's events tagged with its id, and the pool's own
//! notices (restarts, failures, channels moved).

use std::{
    collections::VecDeque,
    fmt,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;
use zen_websocket_core::{Ending, Event};

use crate::{ClientId, telemetry};

/// Most pool notices kept for a reader that does not read; older ones are dropped and counted.
const MAX_NOTICES: usize = 16_384;

/// What ended a client's life (the reason for a restart or a failure).
///
/// # Examples
///
/// ```
/// use zen_websocket_core::Ending;
/// use zen_websocket_supervisor::Cause;
///
/// let cause = Cause::Ended(Ending::GaveUp);
/// assert_eq!(cause.to_string(), "the connection ended: GaveUp");
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Cause {
    /// Connecting failed (the error in words, secrets redacted).
    ConnectFailed(String),
    /// The connection ended for good.
    Ended(Ending),
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ConnectFailed(error) => write!(f, "connecting failed: {error}"),
            Self::Ended(ending) => write!(f, "the connection ended: {ending:?}"),
        }
    }
}

/// An event of a pool ([`ClientSupervisor::events`](crate::ClientSupervisor::events)).
///
/// # Examples
///
/// ```
/// use zen_websocket_core::Event;
/// use zen_websocket_supervisor::PoolEvent;
///
/// fn show(event: &PoolEvent) {
///     match event {
///         PoolEvent::Client { client, event: Event::Message(message) } => {
///             println!("{client}: {:?}", message.as_text());
///         }
///         PoolEvent::Failed { client, cause, .. } => eprintln!("{client} failed: {cause}"),
///         other => println!("{other:?}"),
///     }
/// }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum PoolEvent {
    /// An event of one client: its messages and its lifecycle, as
    /// [`Client::recv`](zen_websocket_core::Client::recv) would yield them.
    Client {
        /// The client.
        client: ClientId,
        /// Its event.
        event: Event,
    },
    /// A client is connected: started, or restarted with its shard channels subscribed again.
    Started {
        /// The client.
        client: ClientId,
        /// Restarts so far (0 for the first start).
        restarts: u32,
    },
    /// A client ended and will be replaced by a fresh one after `delay`.
    Restarting {
        /// The client.
        client: ClientId,
        /// Restarts so far, this one included.
        restarts: u32,
        /// The wait before the new connection.
        delay: Duration,
        /// What ended it.
        cause: Cause,
    },
    /// A client went past its restart intensity and is given up on; its shard channels move
    /// to other clients.
    Failed {
        /// The client.
        client: ClientId,
        /// Restarts it had.
        restarts: u32,
        /// What ended its last life.
        cause: Cause,
    },
    /// A client left the pool: stopped, or a `Temporary` or `Transient` one that ended
    /// without being restarted.
    Left {
        /// The client.
        client: ClientId,
    },
    /// Shard channels moved from a client that is gone to another one, and are confirmed
    /// there.
    ChannelsMoved {
        /// Where they were.
        from: ClientId,
        /// Where they are now.
        to: ClientId,
        /// The channels.
        channels: Vec<String>,
    },
    /// Shard channels of a client that is gone could not be placed anywhere (the pool is
    /// exhausted, or the server refused them): they are no longer subscribed.
    ChannelsUnplaced {
        /// Where they were.
        from: ClientId,
        /// The channels.
        channels: Vec<String>,
        /// Why, in words.
        error: String,
    },
}

/// The writing side of a pool's stream.
#[derive(Debug, Clone)]
pub(crate) struct EventSink {
    events: mpsc::Sender<PoolEvent>,
    shared: Arc<Notices>,
}

#[derive(Debug, Default)]
struct Notices {
    queue: Mutex<VecDeque<PoolEvent>>,
    ready: Notify,
    pool: Arc<str>,
}

/// Creates a pool's stream: client events bounded by `capacity` (forwarding waits for room,
/// nothing is dropped), notices by [`MAX_NOTICES`].
pub(crate) fn channel(
    capacity: usize,
    pool: Arc<str>,
    ended: CancellationToken,
) -> (EventSink, PoolEvents) {
    let (events, receiver) = mpsc::channel(capacity);
    let shared = Arc::new(Notices { pool, ..Notices::default() });
    let sink = EventSink { events, shared: Arc::clone(&shared) };
    let receiver = Arc::new(tokio::sync::Mutex::new(receiver));
    let stream = PoolEvents { receiver, notices: shared, ended };
    (sink, stream)
}

impl EventSink {
    /// Forwards a client's event, waiting for room. `false` once nobody can read any more.
    pub(crate) async fn forward(&self, client: ClientId, event: Event) -> bool {
        self.events.send(PoolEvent::Client { client, event }).await.is_ok()
    }

    /// Queues a pool notice; never waits.
    pub(crate) fn notice(&self, event: PoolEvent) {
        let mut queue = self.shared.queue.lock().unwrap_or_else(PoisonError::into_inner);
        if queue.len() >= MAX_NOTICES {
            queue.pop_front();
            telemetry::notice_dropped(&self.shared.pool);
        }
        queue.push_back(event);
        drop(queue);
        self.shared.ready.notify_one();
    }
}

/// The pool's merged event stream; every handle shares it (each event goes to one reader).
///
/// Client events wait for room in a bounded channel
/// ([`SupervisorConfig::events_capacity`](crate::SupervisorConfig::events_capacity)): a pool
/// nobody reads stops reading its sockets rather than dropping messages, exactly like a
/// [`Client`](zen_websocket_core::Client) whose inbox is full. Pool notices never wait; the
/// oldest of more than 16,384 unread are dropped and counted
/// (`zen_websocket.pool.notices_dropped`).
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = zen_websocket_testing::MockServer::start().await?;
/// use zen_websocket_supervisor::{ClientSpec, ClientSupervisor, PoolEvent, SupervisorConfig};
///
/// let pool = ClientSupervisor::start(SupervisorConfig::default()).await?;
/// let id = pool.start_client(ClientSpec::new("feed", server.url())).await?;
/// let events = pool.events();
/// assert!(matches!(events.recv().await, Some(PoolEvent::Started { client, .. }) if client == id));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct PoolEvents {
    receiver: Arc<tokio::sync::Mutex<mpsc::Receiver<PoolEvent>>>,
    notices: Arc<Notices>,
    /// Cancelled when the pool shuts down: the stream ends once what is left was read.
    ended: CancellationToken,
}

impl PoolEvents {
    /// The next event: pool notices first, then client events in arrival order. `None` once
    /// the supervisor is shut down and everything was read.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: an event is taken only when returned.
    ///
    /// # Examples
    ///
    /// See [`PoolEvents`].
    pub async fn recv(&self) -> Option<PoolEvent> {
        loop {
            if let Some(notice) = self.take_notice() {
                return Some(notice);
            }
            let mut receiver = self.receiver.lock().await;
            tokio::select! {
                biased;
                () = self.notices.ready.notified() => {}
                event = receiver.recv() => match event {
                    Some(event) => return Some(event),
                    None => return self.take_notice(),
                },
                () = self.ended.cancelled() => {
                    return receiver.try_recv().ok().or_else(|| self.take_notice());
                }
            }
        }
    }

    fn take_notice(&self) -> Option<PoolEvent> {
        self.notices.queue.lock().unwrap_or_else(PoisonError::into_inner).pop_front()
    }
}
