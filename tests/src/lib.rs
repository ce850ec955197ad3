//! # zen-websocket-e2e
//!
//! Cross-crate end-to-end tests of zen-websocket against software it does not control, and its
//! reliability soak (unpublished). Three parts, each run by `cargo xtask`:
//!
//! | part | run with | what it checks |
//! |---|---|---|
//! | `src/bin/autobahn.rs` | `cargo xtask autobahn` | the Autobahn\|Testsuite client cases (kosoku's fuzzing server) against [`Client`](zen_websocket::Client) |
//! | `tests/interop.rs` | `cargo xtask interop` | echo, heartbeats, closes, restarts, TLS and subprotocols against Python `websockets` and `aiohttp`, Node `ws` and `websocat` |
//! | `src/bin/soak.rs` | `cargo xtask soak` (CI: 100 failures) | clients behind a fault proxy through 1,000 forced failures: recoveries, lost subscriptions, unresolved requests, message order, leaked tasks, memory growth ([`soak`]) |
//!
//! The interop tests are `#[ignore]`d: plain `cargo test --workspace` skips them, because the
//! peers are installed by `cargo xtask interop` (into `target/peers/`), which passes their
//! commands in the environment ([`peer`]). The repository's `docs/conformance.md` has the
//! current results.

pub mod autobahn;
pub mod peer;
pub mod soak;
pub mod tls;
