//! Clients found elsewhere, merged into balancing: a stream of insert/remove changes in the
//! spirit of tower's `Discover`.

use std::sync::{Arc, PoisonError};

use futures_util::{Stream, StreamExt};
use zen_websocket_core::Client;

use crate::{ClientSpec, ClientSupervisor, events::PoolEvent, member::Phase, pool::Pool};

/// A change in the set of clients found elsewhere
/// ([`ClientSupervisor::discover`]).
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = zen_websocket_testing::MockServer::start().await?;
/// use zen_websocket_core::{Client, Config};
/// use zen_websocket_supervisor::{Change, ClientSupervisor, SupervisorConfig};
///
/// let pool = ClientSupervisor::start(SupervisorConfig::default()).await?;
/// let found = Client::connect(&server.url(), Config::default()).await?;
/// // Any stream of changes: a registry's watch, a channel, or a fixed list.
/// pool.discover(futures_util::stream::iter([Change::Insert("node-b/deribit".into(), found)]));
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Change {
    /// A client to balance over, under a key (replacing the client under the same key).
    Insert(String, Client),
    /// The client under this key is gone.
    Remove(String),
}

impl ClientSupervisor {
    /// Merges clients found elsewhere into balancing: each [`Change::Insert`] adds a client
    /// (status [`Discovered`](crate::ClientStatus::Discovered)) that
    /// [`send_balanced`](Self::send_balanced) and [`request_balanced`](Self::request_balanced)
    /// may pick like the pool's own; [`Change::Remove`] takes it out. Discovered clients are
    /// never restarted, closed or read by the pool (their owner does that), nor used for
    /// shards, and do not count toward `max_clients`. The stream is read until it ends or the
    /// pool shuts down; its clients stay until removed.
    ///
    /// # Examples
    ///
    /// See [`Change`].
    pub fn discover<S>(&self, changes: S)
    where
        S: Stream<Item = Change> + Send + 'static,
    {
        let pool = Arc::clone(self.pool_ref());
        self.pool_ref().spawn(async move {
            let mut changes = std::pin::pin!(changes);
            loop {
                let change = tokio::select! {
                    change = changes.next() => change,
                    () = pool.cancel.cancelled() => None,
                };
                let Some(change) = change else { return };
                apply(&pool, change);
            }
        });
    }
}

fn apply(pool: &Pool, change: Change) {
    let mut keys = pool.discovered.lock().unwrap_or_else(PoisonError::into_inner);
    match change {
        Change::Insert(key, client) => {
            if let Some(member) = keys.get(&key).and_then(|id| pool.member(*id)) {
                member.set_live(client);
                return;
            }
            let member =
                pool.register(ClientSpec::new(key.clone(), ""), Phase::Discovered, |_, _| {});
            member.set_live(client);
            keys.insert(key, member.id);
        }
        Change::Remove(key) => {
            let Some(member) = keys.remove(&key).and_then(|id| pool.member(id)) else { return };
            pool.remove(&member);
            pool.sink.notice(PoolEvent::Left { client: member.id });
        }
    }
    drop(keys);
    pool.publish_counts();
}
