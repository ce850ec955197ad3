//! Integration tests for the fault proxy: a bare tokio-tungstenite client dials a `MockServer`
//! (or a raw TCP peer) through a `FaultProxy`; one module per fault.

mod support;

mod admission;
mod blackhole;
mod close;
mod forwarding;
mod latency;
mod reset;
mod stall;
