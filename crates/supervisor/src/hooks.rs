//! Lifecycle hooks: user code told about connects, drops and failures, run off the connection
//! tasks through a bounded queue, a panic caught and logged.

use std::{fmt, future::Future, panic::AssertUnwindSafe, pin::Pin, sync::Arc};

use futures_util::FutureExt;
use tokio::sync::{Semaphore, mpsc};
use zen_websocket_core::Client;

use crate::{ClientId, events::Cause, telemetry};

type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send>>;
type Hook<A> = Arc<dyn Fn(A) -> BoxFuture + Send + Sync>;

/// What [`SupervisorConfig::on_connect`](crate::SupervisorConfig::on_connect) is told: a
/// client's socket is open (first connect, reconnect or restart).
///
/// # Examples
///
/// ```
/// use zen_websocket_supervisor::{Connect, SupervisorConfig};
///
/// let config = SupervisorConfig::default().on_connect(|connect: Connect| async move {
///     println!("{} ({}) is up", connect.client, connect.name);
/// });
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Connect {
    /// The client.
    pub client: ClientId,
    /// Its spec's name.
    pub name: String,
    /// A handle to it (e.g. to register it elsewhere).
    pub handle: Client,
}

/// What [`SupervisorConfig::on_disconnect`](crate::SupervisorConfig::on_disconnect) is told:
/// a client's socket dropped.
///
/// # Examples
///
/// ```
/// use zen_websocket_supervisor::{Disconnect, SupervisorConfig};
///
/// let config = SupervisorConfig::default().on_disconnect(|drop: Disconnect| async move {
///     println!("{} dropped ({}), retrying: {}", drop.client, drop.reason, drop.will_retry);
/// });
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Disconnect {
    /// The client.
    pub client: ClientId,
    /// Its spec's name.
    pub name: String,
    /// The close code the server sent, if any.
    pub code: Option<u16>,
    /// The reason in words (secrets redacted).
    pub reason: String,
    /// Whether the client will re-dial by itself.
    pub will_retry: bool,
}

/// What [`SupervisorConfig::on_failed`](crate::SupervisorConfig::on_failed) is told: a
/// client went past its restart intensity and is given up on.
///
/// # Examples
///
/// ```
/// use zen_websocket_supervisor::{Failure, SupervisorConfig};
///
/// let config = SupervisorConfig::default().on_failed(|failure: Failure| async move {
///     eprintln!("{} failed for good after {} restarts: {}", failure.client, failure.restarts, failure.cause);
/// });
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Failure {
    /// The client.
    pub client: ClientId,
    /// Its spec's name.
    pub name: String,
    /// Restarts it had.
    pub restarts: u32,
    /// What ended its last life.
    pub cause: Cause,
}

/// The hooks a pool runs.
#[derive(Clone, Default)]
pub(crate) struct Hooks {
    pub(crate) on_connect: Option<Hook<Connect>>,
    pub(crate) on_disconnect: Option<Hook<Disconnect>>,
    pub(crate) on_failed: Option<Hook<Failure>>,
}

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hooks")
            .field("on_connect", &self.on_connect.is_some())
            .field("on_disconnect", &self.on_disconnect.is_some())
            .field("on_failed", &self.on_failed.is_some())
            .finish()
    }
}

/// Wraps a user function returning a future as a boxed hook.
pub(crate) fn hook<A, F, Fut>(f: F) -> Hook<A>
where
    F: Fn(A) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    Arc::new(move |arg| Box::pin(f(arg)))
}

/// One hook call waiting to run.
enum Call {
    Connect(Connect),
    Disconnect(Disconnect),
    Failed(Failure),
}

/// Hands hook calls to a dispatcher task; never waits.
#[derive(Debug, Clone)]
pub(crate) struct HookQueue {
    calls: Option<mpsc::Sender<Call>>,
    pool: Arc<str>,
}

impl HookQueue {
    /// Starts the dispatcher: at most `concurrency` hooks run at once; up to `capacity`
    /// calls wait; more are dropped and counted.
    pub(crate) fn start(hooks: Hooks, capacity: usize, concurrency: usize, pool: Arc<str>) -> Self {
        let none = hooks.on_connect.is_none()
            && hooks.on_disconnect.is_none()
            && hooks.on_failed.is_none();
        if none {
            return Self { calls: None, pool };
        }
        let (calls, queue) = mpsc::channel(capacity);
        tokio::spawn(dispatch(
            hooks,
            queue,
            Arc::new(Semaphore::new(concurrency)),
            Arc::clone(&pool),
        ));
        Self { calls: Some(calls), pool }
    }

    pub(crate) fn connected(&self, connect: Connect) {
        self.push(Call::Connect(connect));
    }

    pub(crate) fn disconnected(&self, disconnect: Disconnect) {
        self.push(Call::Disconnect(disconnect));
    }

    pub(crate) fn failed(&self, failure: Failure) {
        self.push(Call::Failed(failure));
    }

    fn push(&self, call: Call) {
        let Some(calls) = &self.calls else { return };
        if calls.try_send(call).is_err() {
            telemetry::hook_dropped(&self.pool);
            tracing::warn!(pool = %self.pool, "lifecycle hook queue full: a hook call was dropped");
        }
    }
}

async fn dispatch(
    hooks: Hooks,
    mut queue: mpsc::Receiver<Call>,
    running: Arc<Semaphore>,
    pool: Arc<str>,
) {
    while let Some(call) = queue.recv().await {
        let Some(future) = start_call(&hooks, call, &pool) else { continue };
        let Ok(permit) = Arc::clone(&running).acquire_owned().await else { return };
        let pool = Arc::clone(&pool);
        tokio::spawn(async move {
            if AssertUnwindSafe(future).catch_unwind().await.is_err() {
                telemetry::hook_panicked(&pool);
                tracing::error!(pool = %pool, "lifecycle hook panicked; the pool carries on");
            }
            drop(permit);
        });
    }
}

/// The future of the hook `call` asks for, if that hook is set. Building it may panic too.
fn start_call(hooks: &Hooks, call: Call, pool: &str) -> Option<BoxFuture> {
    let built = std::panic::catch_unwind(AssertUnwindSafe(|| match call {
        Call::Connect(arg) => hooks.on_connect.as_ref().map(|hook| hook(arg)),
        Call::Disconnect(arg) => hooks.on_disconnect.as_ref().map(|hook| hook(arg)),
        Call::Failed(arg) => hooks.on_failed.as_ref().map(|hook| hook(arg)),
    }));
    built.unwrap_or_else(|_| {
        telemetry::hook_panicked(pool);
        tracing::error!(pool, "lifecycle hook panicked; the pool carries on");
        None
    })
}
