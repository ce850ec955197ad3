//! Heartbeats: `public/set_heartbeat` and `public/disable_heartbeat`, a `test_request` every
//! interval, and the close when one goes unanswered for a whole interval.

use std::time::{Duration, Instant};

use serde_json::json;

use super::dispatch::{Answer, Ctx};
use super::protocol::{self, RpcError, required_number};
use super::state::Conn;

/// A connection's heartbeat once set.
#[derive(Debug)]
pub(crate) struct Heartbeat {
    pub(crate) interval: Duration,
    /// When the next `test_request` is due (and the previous one's answer with it).
    next: Instant,
    /// Whether a `test_request` went out and no `public/test` came since.
    awaiting: bool,
}

/// What the session does when the heartbeat timer fires.
#[derive(Debug, PartialEq)]
pub(crate) enum Tick {
    /// Nothing (not due yet, no heartbeat, or paused).
    Idle,
    /// Send this `test_request` notice.
    Send(String),
    /// The last `test_request` went unanswered: close the connection.
    Missed,
}

/// `public/set_heartbeat {interval}`: seconds, at least the configured minimum (10 s by
/// default; fractions allowed, for fast tests with a lower minimum).
pub(crate) fn set(ctx: &mut Ctx<'_>) -> Result<Answer, RpcError> {
    let seconds = required_number(ctx.params, "interval")?;
    let minimum = ctx.config.min_heartbeat_interval;
    let interval =
        Duration::try_from_secs_f64(seconds).ok().filter(|i| *i >= minimum && !i.is_zero());
    let Some(interval) = interval else {
        let reason = format!("interval must be at least {} seconds", minimum.as_secs_f64());
        return Err(RpcError::invalid_params(reason, "interval"));
    };
    let next = ctx.now + interval;
    ctx.conn()?.heartbeat = Some(Heartbeat { interval, next, awaiting: false });
    Ok(Answer::Result(json!("ok")))
}

/// `public/disable_heartbeat`: no more notices, nothing pending.
pub(crate) fn disable(ctx: &mut Ctx<'_>) -> Result<Answer, RpcError> {
    ctx.conn()?.heartbeat = None;
    Ok(Answer::Result(json!("ok")))
}

/// A `public/test` request answers any pending `test_request`.
pub(crate) fn answered(conn: &mut Conn) {
    if let Some(heartbeat) = &mut conn.heartbeat {
        heartbeat.awaiting = false;
    }
}

/// When the session's heartbeat timer should next fire.
pub(crate) fn deadline(conn: &Conn) -> Option<Instant> {
    conn.heartbeat.as_ref().map(|heartbeat| heartbeat.next)
}

/// The timer fired: an unanswered `test_request` ends the connection; otherwise send the next
/// one (unless heartbeats are paused, which also forgets a pending one).
pub(crate) fn tick(conn: &mut Conn, paused: bool, now: Instant) -> Tick {
    let Some(heartbeat) = &mut conn.heartbeat else {
        return Tick::Idle;
    };
    if now < heartbeat.next {
        return Tick::Idle;
    }
    heartbeat.next = now + heartbeat.interval;
    if paused {
        heartbeat.awaiting = false;
        return Tick::Idle;
    }
    if heartbeat.awaiting {
        return Tick::Missed;
    }
    heartbeat.awaiting = true;
    Tick::Send(protocol::heartbeat("test_request"))
}

#[cfg(test)]
mod tests {
    use tokio::sync::mpsc;

    use super::*;
    use crate::deribit::state::Outbox;

    fn conn(interval: Duration, now: Instant) -> Conn {
        let (outbox, _) = mpsc::unbounded_channel();
        let mut conn = Conn::new(Outbox::new(outbox), false);
        conn.heartbeat = Some(Heartbeat { interval, next: now + interval, awaiting: false });
        conn
    }

    #[test]
    fn unanswered_test_request_is_missed() {
        let start = Instant::now();
        let second = Duration::from_secs(1);
        let mut conn = conn(second, start);
        assert_eq!(tick(&mut conn, false, start), Tick::Idle, "not due yet");
        assert!(matches!(tick(&mut conn, false, start + second), Tick::Send(_)));
        answered(&mut conn);
        assert!(matches!(tick(&mut conn, false, start + 2 * second), Tick::Send(_)));
        assert_eq!(tick(&mut conn, false, start + 3 * second), Tick::Missed);
    }

    #[test]
    fn pausing_forgets_the_pending_request() {
        let start = Instant::now();
        let second = Duration::from_secs(1);
        let mut conn = conn(second, start);
        assert!(matches!(tick(&mut conn, false, start + second), Tick::Send(_)));
        assert_eq!(tick(&mut conn, true, start + 2 * second), Tick::Idle);
        assert!(matches!(tick(&mut conn, false, start + 3 * second), Tick::Send(_)));
    }
}
