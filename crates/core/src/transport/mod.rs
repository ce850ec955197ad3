//! The transport layer: URL checks, TCP, TLS and the WebSocket upgrade, each bounded in time.

mod dial;
mod endpoint;
mod head;
mod metered;
mod read_ahead;
mod retry_after;
pub(crate) mod tls;

pub(crate) use dial::{WsStream, dial};
pub(crate) use endpoint::Endpoint;
pub(crate) use retry_after::retry_after;
