//! Integration tests for the mock server, driven by a bare tokio-tungstenite client; one module
//! per topic.

mod support;

mod disconnect;
mod echo;
mod handshake;
mod heartbeat;
mod inject;
mod lifecycle;
mod matchers;
mod rpc;
mod tls;
