//! The report as JSON for tools (`--json`, `target/soak/report.json` by default).

use serde_json::{Value, json};

use super::{
    fleet::{HEARTBEAT, MAX_BACKOFF, RETRY_DELAY},
    plan::Kind,
    report::{Recovery, Report},
};

impl Report {
    /// The report as JSON.
    pub fn to_json(&self) -> Value {
        let kinds: serde_json::Map<String, Value> = Kind::ALL
            .iter()
            .map(|kind| {
                let figures = self.kinds.get(kind).cloned().unwrap_or_default();
                let value = json!({
                    "rounds": figures.rounds,
                    "failures": figures.failures,
                    "recovery_ms": recovery_json(&figures.recovery),
                });
                (kind.label().to_owned(), value)
            })
            .collect();
        let checks: Vec<Value> = self
            .checks()
            .into_iter()
            .map(|c| json!({"name": c.name, "passed": c.passed, "detail": c.detail}))
            .collect();
        let o = &self.options;
        json!({
            "options": {"clients": o.clients, "subscriptions": o.subscriptions, "failures": o.failures, "seed": o.seed},
            "client_config_ms": {"retry_delay": RETRY_DELAY.as_millis() as u64, "max_backoff": MAX_BACKOFF.as_millis() as u64, "heartbeat": HEARTBEAT.as_millis() as u64},
            "passed": self.passed(),
            "checks": checks,
            "wall_s": self.wall.as_secs_f64(),
            "failures": self.failures,
            "warm_up_failures": self.warm_up,
            "counted_failures": self.counted(),
            "recoveries": self.recoveries,
            "missed_rounds": self.missed,
            "kinds": kinds,
            "recovery_ms": recovery_json(&self.recovery),
            "refusals_429": self.refusals,
            "drops": {
                "by_reason": self.drops.by_reason,
                "unreported": self.drops.unreported,
                "unexpected": self.drops.unexpected,
                "reconnect_attempts": self.drops.reconnect_attempts,
                "highest_attempt": self.drops.highest_attempt,
                "gave_up": self.drops.gave_up,
            },
            "subscriptions": {
                "checks": self.subscriptions.checks,
                "lost": self.subscriptions.lost,
                "unexpected": self.subscriptions.extra,
                "gauge_mismatches": self.subscriptions.gauge_off,
                "unverified": self.subscriptions.unverified,
                "subscription_lost_channels": self.subscriptions.lost_events,
                "restored_twice": self.subscriptions.repeated,
                "examples": self.subscriptions.examples,
            },
            "requests": {
                "sent": self.requests.sent, "ok": self.requests.ok,
                "disconnected": self.requests.disconnected, "not_connected": self.requests.not_connected,
                "request_timeout": self.requests.timed_out, "other_errors": self.requests.other_errors,
                "unresolved": self.requests.unresolved, "slowest_ms": self.requests.slowest_us as f64 / 1000.0,
                "examples": self.requests.examples,
            },
            "messages": {
                "pushed": self.server.numbered, "deliveries": self.server.deliveries,
                "received": self.messages.received, "out_of_order": self.messages.out_of_order,
                "missing_inside_connection": self.messages.missing, "other": self.messages.other,
                "examples": self.messages.examples,
            },
            "tasks": {
                "at_start": self.tasks.at_start, "before_clients": self.tasks.before_clients,
                "after_clients": self.tasks.after_clients, "at_end": self.tasks.at_end,
                "server_process_at_start": self.server.tasks_at_start, "server_process_at_end": self.server.tasks_at_end,
                "leaked": self.leaked_tasks(), "leaked_by_clients": self.tasks.leaked_by_clients(),
                "readers_not_ended": self.readers_left,
            },
            "rss": {
                "samples": self.memory.iter().map(|s| json!({"failures": s.failures, "rss_bytes": s.rss_bytes, "client_estimate_bytes": s.client_bytes})).collect::<Vec<_>>(),
                "growth_percent": self.rss_growth(),
                "server_process_bytes_at_end": self.server.rss_bytes,
            },
            "unrecovered": self.unrecovered,
            "injection_errors": self.injection_errors,
            "aborted": self.aborted,
        })
    }
}

fn recovery_json(recovery: &Recovery) -> Value {
    json!({
        "count": recovery.0.len(),
        "p50": recovery.millis(0.5),
        "p99": recovery.millis(0.99),
        "max": recovery.millis(1.0),
    })
}
