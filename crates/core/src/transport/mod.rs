//! The transport layer: URL checks, TCP, TLS and the WebSocket upgrade, each bounded in time.

mod dial;
mod endpoint;
pub(crate) mod tls;

pub(crate) use dial::{WsStream, dial};
pub(crate) use endpoint::Endpoint;
