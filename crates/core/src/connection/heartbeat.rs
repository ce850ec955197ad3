//! The heartbeat of a live socket: when a beat is due, what answers it, what counts as a miss.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use bytes::Bytes;
use serde::Deserialize;
use tokio::time::{Instant, Sleep};
use tokio_tungstenite::tungstenite;

use crate::heartbeat::{HeartbeatConfig, HeartbeatKind};

/// What a due beat asks of the connection task.
#[derive(Debug, Default)]
pub(super) struct Tick {
    /// A frame to send now (a ping, or the custom message).
    pub(super) frame: Option<tungstenite::Message>,
    /// The consecutive failures after this tick, when the tick counted one.
    pub(super) failed: Option<u32>,
    /// `true` once `max_failures` is reached: the socket must be dropped.
    pub(super) dead: bool,
}

/// A Deribit heartbeat notice (`"method":"heartbeat"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DeribitNotice {
    /// `type: heartbeat`: nothing to answer.
    Heartbeat,
    /// `type: test_request`: answer with `public/test`.
    TestRequest,
}

/// The heartbeat state of the current socket. Its settings stay in the connection's
/// configuration and are passed in, so an idle connection does not carry a copy.
#[derive(Debug)]
pub(super) struct Beat {
    timer: Pin<Box<Sleep>>,
    /// The ping awaiting its pong: sequence number and when it was sent.
    outstanding: Option<(u64, Instant)>,
    sequence: u64,
    /// Whether the server's beat (ping, Deribit notice) was heard since the last tick.
    heard: bool,
    failures: u32,
}

impl Beat {
    pub(super) fn new(config: &HeartbeatConfig) -> Self {
        let timer = Box::pin(tokio::time::sleep(config.interval));
        Self { timer, outstanding: None, sequence: 0, heard: false, failures: 0 }
    }

    /// Starts afresh on a new socket: nothing from an earlier one can count against it.
    pub(super) fn restart(&mut self, config: &HeartbeatConfig) {
        self.timer.as_mut().reset(Instant::now() + config.interval);
        self.outstanding = None;
        self.heard = false;
        self.failures = 0;
    }

    /// Ready when the next beat is due.
    pub(super) fn poll_due(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        self.timer.as_mut().poll(cx)
    }

    /// Whether an answer from the server is awaited right now (a ping's pong, or the server's
    /// own beat): the inbox then lets reading go on past its count bound so the answer is not
    /// stuck behind unread data.
    pub(super) fn awaiting(&self, config: &HeartbeatConfig) -> bool {
        match config.kind {
            HeartbeatKind::Ping => self.outstanding.is_some(),
            HeartbeatKind::Pong | HeartbeatKind::Deribit => true,
            HeartbeatKind::Custom(_) => false,
        }
    }

    /// Handles a due beat and schedules the next. While `paused` (the socket is not being
    /// read because the inbox is full) an unanswered beat is not the peer's fault and does not
    /// count as a failure.
    pub(super) fn on_tick(&mut self, config: &HeartbeatConfig, paused: bool) -> Tick {
        self.timer.as_mut().reset(Instant::now() + config.interval);
        let mut tick = Tick::default();
        let missed = match &config.kind {
            HeartbeatKind::Ping => {
                let missed = self.outstanding.is_some();
                self.sequence += 1;
                self.outstanding = Some((self.sequence, Instant::now()));
                let payload = Bytes::copy_from_slice(&self.sequence.to_be_bytes());
                tick.frame = Some(tungstenite::Message::Ping(payload));
                missed
            }
            HeartbeatKind::Pong | HeartbeatKind::Deribit => !std::mem::take(&mut self.heard),
            HeartbeatKind::Custom(message) => {
                tick.frame = Some(message.clone().into_frame());
                false
            }
        };
        if missed && !paused {
            self.failures += 1;
            tick.failed = Some(self.failures);
            tick.dead = self.failures >= config.max_failures;
        }
        tick
    }

    /// A pong arrived; returns the round trip when it answers the outstanding ping.
    pub(super) fn on_pong(&mut self, payload: &[u8]) -> Option<Duration> {
        let (sequence, sent_at) = self.outstanding?;
        if payload != sequence.to_be_bytes() {
            return None;
        }
        self.outstanding = None;
        self.failures = 0;
        Some(sent_at.elapsed())
    }

    /// The server's beat (a ping, or a Deribit notice) was heard; `true` when it counts.
    pub(super) fn on_heard(&mut self, config: &HeartbeatConfig) -> bool {
        if matches!(config.kind, HeartbeatKind::Pong | HeartbeatKind::Deribit) {
            self.heard = true;
            self.failures = 0;
            return true;
        }
        false
    }

    /// The interval to request from Deribit: whole seconds, rounded up.
    pub(super) fn deribit_interval_secs(config: &HeartbeatConfig) -> u64 {
        let interval = config.interval;
        interval.as_secs() + u64::from(interval.subsec_nanos() > 0)
    }
}

/// Reads a Deribit heartbeat notice, cheaply ruling out every other frame.
pub(super) fn deribit_notice(text: &str) -> Option<DeribitNotice> {
    #[derive(Deserialize)]
    struct Notice<'a> {
        #[serde(borrow)]
        method: &'a str,
        #[serde(borrow, default)]
        params: Option<Params<'a>>,
    }
    #[derive(Deserialize)]
    struct Params<'a> {
        #[serde(borrow, rename = "type", default)]
        kind: Option<&'a str>,
    }
    if !text.contains("\"heartbeat\"") {
        return None;
    }
    let notice: Notice<'_> = serde_json::from_str(text).ok()?;
    if notice.method != "heartbeat" {
        return None;
    }
    match notice.params.and_then(|params| params.kind) {
        Some("test_request") => Some(DeribitNotice::TestRequest),
        _ => Some(DeribitNotice::Heartbeat),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deribit_notices_are_recognised_and_nothing_else() {
        let test = r#"{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"test_request"}}"#;
        let beat = r#"{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"heartbeat"}}"#;
        assert_eq!(deribit_notice(test), Some(DeribitNotice::TestRequest));
        assert_eq!(deribit_notice(beat), Some(DeribitNotice::Heartbeat));
        let data = r#"{"method":"subscription","params":{"channel":"heartbeat","data":1}}"#;
        assert_eq!(deribit_notice(data), None);
        assert_eq!(deribit_notice(r#"{"id":1,"result":"ok"}"#), None);
    }

    #[tokio::test]
    async fn missed_pongs_count_until_dead_and_a_pong_resets() {
        let config = HeartbeatConfig::ping().max_failures(2);
        let mut beat = Beat::new(&config);
        assert!(
            beat.on_tick(&config, false).failed.is_none(),
            "the first ping has nothing to miss"
        );
        assert!(beat.on_tick(&config, true).failed.is_none(), "a paused reader misses nothing");
        let tick = beat.on_tick(&config, false);
        assert_eq!((tick.failed, tick.dead), (Some(1), false));
        let Some(tungstenite::Message::Ping(payload)) = tick.frame else {
            panic!("a ping is sent")
        };
        assert!(beat.on_pong(b"stale").is_none());
        assert!(beat.on_pong(&payload).is_some());
        beat.on_tick(&config, false);
        beat.on_tick(&config, false);
        let tick = beat.on_tick(&config, false);
        assert_eq!((tick.failed, tick.dead), (Some(2), true));
    }

    #[tokio::test]
    async fn deribit_intervals_round_up_to_seconds() {
        let config = HeartbeatConfig::deribit().interval(Duration::from_millis(10_500));
        assert_eq!(Beat::deribit_interval_secs(&config), 11);
    }
}
