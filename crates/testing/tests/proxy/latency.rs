//! Latency and bandwidth: lower bounds on time only (never tight upper bounds).

use std::time::{Duration, Instant};

use tokio_tungstenite::tungstenite::Message;
use zen_websocket_testing::{Direction, Fault, Faults};

use crate::support::{connect, next, next_text, send, start};

#[tokio::test]
async fn default_latency_delays_every_chunk_and_keeps_order() {
    let (server, proxy) = start().await;
    let delay = Duration::from_millis(100);
    let jitter = Duration::from_millis(30);
    proxy.set_default(Faults::from(Fault::latency(Direction::Both, delay, jitter)));
    let mut ws = connect(&proxy, &server).await;

    let started = Instant::now();
    for i in 0..20 {
        send(&mut ws, Message::text(i.to_string())).await;
    }
    for i in 0..20 {
        assert_eq!(next_text(&mut ws).await, i.to_string());
    }
    // There and back again: at least the delay each way.
    let elapsed = started.elapsed();
    assert!(elapsed >= 2 * delay, "{elapsed:?}");
}

#[tokio::test]
async fn latency_applied_live_delays_the_next_round_trip() {
    let (server, proxy) = start().await;
    let mut ws = connect(&proxy, &server).await;
    let delay = Duration::from_millis(150);
    proxy.apply_all(Fault::latency(Direction::ClientToServer, delay, Duration::ZERO));

    let started = Instant::now();
    send(&mut ws, Message::text("slow")).await;
    assert_eq!(next_text(&mut ws).await, "slow");
    let elapsed = started.elapsed();
    assert!(elapsed >= delay, "{elapsed:?}");
}

#[tokio::test]
async fn bandwidth_caps_the_transfer_rate() {
    let (server, proxy) = start().await;
    let mut ws = connect(&proxy, &server).await;
    let rate = 64 * 1024;
    proxy.apply_all(Fault::bandwidth(Direction::ServerToClient, rate));

    let payload = vec![5_u8; 64 * 1024];
    let started = Instant::now();
    let (sent, frame) = tokio::join!(server.inject_binary(payload.clone()), next(&mut ws));
    let elapsed = started.elapsed();
    assert_eq!(sent, 1);
    assert_eq!(frame, Message::binary(payload));
    // 64 KiB at 64 KiB/s: a second at least.
    assert!(elapsed >= Duration::from_millis(990), "{elapsed:?}");
}
