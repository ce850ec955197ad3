//! The one place the bench touches zen's batch consumer: `client.events()` + `Events::recv_many`.

use zen_websocket_core::{Client, Event, Events};

/// Events taken per `recv_many` call.
pub(crate) const BATCH: usize = 256;

/// The client's single-consumer event reader.
pub(crate) fn reader(client: &Client) -> Events {
    client.events()
}

/// Moves up to `limit` events into `buf`; 0 once the connection has ended and all were read.
pub(crate) async fn recv_many(reader: &mut Events, buf: &mut Vec<Event>, limit: usize) -> usize {
    reader.recv_many(buf, limit).await
}
