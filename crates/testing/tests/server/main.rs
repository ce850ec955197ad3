//! Integration tests for the mock server, driven by a bare tokio-tungstenite client; one module
//! per topic.

mod support;

mod disconnect;
mod echo;
mod handshake;
mod heartbeat;
mod inject;
mod lifecycle;
mod marks;
mod matchers;
mod per_connection;
mod rpc;
mod tls;
