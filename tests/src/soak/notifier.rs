//! Numbered notifications: the server pushes `{"method":"subscription",…,"seq":n}` to every
//! open connection at a steady pace, from one counter, so each client can check the order.

use std::{sync::Arc, time::Duration};

use serde_json::json;
use tokio::sync::watch;
use zen_websocket::testing::MockServer;

/// The pause between two notifications.
const EVERY: Duration = Duration::from_millis(20);

/// What the notifier did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Pushed {
    /// Notifications numbered (the last number).
    pub(crate) numbered: u64,
    /// Deliveries: notifications times the connections that sent them.
    pub(crate) deliveries: u64,
}

/// Pushes numbered notifications through `server` until `stop` turns `true`.
pub(crate) async fn push(server: Arc<MockServer>, mut stop: watch::Receiver<bool>) -> Pushed {
    let mut pushed = Pushed::default();
    loop {
        tokio::select! {
            _ = stop.wait_for(|stop| *stop) => return pushed,
            () = tokio::time::sleep(EVERY) => {}
        }
        pushed.numbered += 1;
        let notification = json!({
            "jsonrpc": "2.0",
            "method": "subscription",
            "params": {"channel": "soak.sequence", "data": {"seq": pushed.numbered}},
        });
        pushed.deliveries += server.inject_json(&notification).await as u64;
    }
}
