//! The reliability soak behind `cargo xtask soak`: the client's promise — it never silently
//! loses a connection, a subscription or a message, and tells you how healthy it is — turned
//! into numbers.
//!
//! [`run()`] starts its server process (this same binary with `--serve`, running [`serve()`]): one
//! [`MockServer`](zen_websocket::testing::MockServer) and one
//! [`FaultProxy`](zen_websocket::testing::FaultProxy) in front of it on 127.0.0.1, driven one
//! JSON command per line. They run in their own process because both keep a record of every
//! connection they ever accepted, which would otherwise be counted as the clients' memory
//! growth. Then it connects `--clients` clients through the proxy (reconnecting after 25 ms,
//! jittered, at most 200 ms; a 200 ms ping heartbeat that gives up after two misses), each
//! subscribing to its own `--subscriptions` channels one at a time and then running a reader of
//! its events and a loop of `public/test` requests, while the server pushes numbered
//! notifications to every connection.
//!
//! Then, round after round, it forces a failure — TCP reset, server close 1001, stall,
//! blackhole, server restart, 429 on the re-dial — on one client or on all, waits for every
//! dropped client's `Connected` event, and verifies every client: a `soak/hello` request
//! padded to 4 KiB names the server connection that answered it and (by the bytes it added)
//! the proxy link that carried it, and the channels the server was asked to subscribe to on
//! that connection must equal the client's [`subscriptions`](zen_websocket::Client::subscriptions)
//! and the channels it started with. A warm-up round of every kind on every client comes
//! first; then the kinds and targets are drawn from `--seed` until `--failures` connections
//! were dropped. A failure is one forced drop of one connection (a restart counts once per
//! client).
//!
//! | check | fails when |
//! |---|---|
//! | failures | fewer drops than asked for (the soak stopped early) |
//! | recoveries | a dropped client did not report `Connected` within 15 s, or gave up |
//! | drops reported | a forced drop came without a `Disconnected` event |
//! | lost subscriptions | on the client's current server connection the server holds other channels than the client believes it holds, or than it started with; a `SubscriptionLost` event; the subscriptions gauge disagrees |
//! | unresolved requests | a request neither answered nor failed within `request_timeout` + 1 s |
//! | message order | a numbered notification repeated or reordered, or missing inside one connection (a gap across a reconnection is expected) |
//! | leaked tasks | live Tokio tasks after everything closed differ from before it started, in the soak process or in the server process |
//! | rss growth | the soak process's resident memory (`/proc/self/statm`) grew by 10 % or more from the first tenth of the failures to the last |
//!
//! Time to recover (injection to `Connected`, which the client reports once subscriptions are
//! restored) is reported per kind of fault as p50 / p99 / max.

mod checks;
mod fleet;
mod inject;
mod json;
mod ledger;
mod memory;
mod notifier;
mod options;
mod plan;
mod protocol;
mod report;
mod requests;
mod rng;
mod round;
mod run;
mod sequence;
mod serve;
mod site;
mod summary;
mod tasks;
mod tracker;
mod verify;
mod world;

pub use self::{checks::Check, options::Options, report::Report, run::run, serve::serve};
