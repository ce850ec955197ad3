//! Integration tests of the recorder, one module per topic, in one test binary.

mod backpressure;
mod reading;
mod recording;
mod redaction;
mod replay;
mod roundtrip;
mod support;
