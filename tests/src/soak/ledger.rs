//! The server's side of the subscriptions: what each server connection was asked to subscribe
//! to (and confirmed — the mock server confirms every channel), recorded by the mock server's
//! JSON-RPC handler as it answers, and the `soak/hello` probe that names the connection.
//!
//! The handler, not `MockServer::received_by`, keeps this record because the server's message
//! log grows with every frame for the whole run: the soak clears it after every round to keep
//! memory flat, and a clear could race with a subscription arriving on a fresh connection. The
//! ledger keeps only open connections ([`Ledger::retain`]).

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use serde_json::{Value, json};
use zen_websocket::testing::{ConnectionId, RpcReply, RpcRequest};

/// The method of the probe the soak sends after each recovery.
pub(crate) const HELLO: &str = "soak/hello";

/// Channels subscribed on one connection, with how many times each was asked for.
pub(crate) type Channels = BTreeMap<String, u32>;

/// What the server was asked to subscribe to, per open connection.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    /// Channels per connection.
    connections: Mutex<HashMap<ConnectionId, Channels>>,
}

impl Ledger {
    /// The mock server's JSON-RPC handler: records (un)subscriptions, answers the probe with
    /// the connection's id, and leaves every other answer to the server's defaults.
    pub(crate) fn handler(
        self: &Arc<Self>,
    ) -> impl Fn(&RpcRequest) -> RpcReply + Send + Sync + 'static {
        let ledger = Arc::clone(self);
        move |request| ledger.answer(request)
    }

    fn answer(&self, request: &RpcRequest) -> RpcReply {
        let channels = || {
            request.params["channels"].as_array().into_iter().flatten().filter_map(Value::as_str)
        };
        match request.method.as_str() {
            "public/subscribe" => {
                let mut connections = self.lock();
                let held = connections.entry(request.connection).or_default();
                for channel in channels() {
                    *held.entry(channel.to_owned()).or_default() += 1;
                }
                RpcReply::Default
            }
            "public/unsubscribe" => {
                if let Some(held) = self.lock().get_mut(&request.connection) {
                    for channel in channels() {
                        held.remove(channel);
                    }
                }
                RpcReply::Default
            }
            HELLO => RpcReply::Result(json!({"connection": request.connection.get()})),
            _ => RpcReply::Default,
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<ConnectionId, Channels>> {
        self.connections.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The channels subscribed on `connection` (empty when none were).
    pub(crate) fn channels(&self, connection: ConnectionId) -> Channels {
        self.lock().get(&connection).cloned().unwrap_or_default()
    }

    /// Forgets every connection not in `open`.
    pub(crate) fn retain(&self, open: &[ConnectionId]) {
        let open: HashSet<&ConnectionId> = open.iter().collect();
        self.lock().retain(|connection, _| open.contains(connection));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(connection: u64, method: &str, params: Value) -> RpcRequest {
        let raw = json!({"id": 1, "method": method, "params": params}).to_string();
        RpcRequest {
            connection: ConnectionId::new(connection),
            id: json!(1),
            method: method.to_owned(),
            params,
            raw,
        }
    }

    #[test]
    fn records_per_connection_and_forgets_closed_ones() {
        let ledger = Arc::new(Ledger::default());
        let handler = ledger.handler();
        handler(&request(1, "public/subscribe", json!({"channels": ["a", "b"]})));
        handler(&request(1, "public/subscribe", json!({"channels": ["a"]})));
        handler(&request(2, "public/subscribe", json!({"channels": ["c"]})));
        handler(&request(1, "public/unsubscribe", json!({"channels": ["b"]})));
        let one = ledger.channels(ConnectionId::new(1));
        assert_eq!(one, Channels::from([("a".to_owned(), 2)]));
        let hello = handler(&request(2, HELLO, json!({})));
        assert_eq!(hello, RpcReply::Result(json!({"connection": 2})));
        ledger.retain(&[ConnectionId::new(2)]);
        assert!(ledger.channels(ConnectionId::new(1)).is_empty());
        assert_eq!(ledger.channels(ConnectionId::new(2)).len(), 1);
    }
}
