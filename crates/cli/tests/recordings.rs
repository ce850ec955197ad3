//! `zenws inspect` and `zenws replay` on a recording whose every number is known.

mod common;

use std::time::{Duration, Instant};

use common::{field, run, scratch};

/// Five inbound notifications on two channels (one after a 3 s silence), two outbound frames
/// (text and binary), a close, a gap marker for two dropped frames, and one malformed line.
const RECORDING: &str = concat!(
    r#"{"ts":"2026-11-28T10:00:00.000000Z","dir":"out","type":"text","data":"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"public/subscribe\",\"params\":{\"channels\":[\"a\",\"b\"]}}"}"#,
    "\n",
    r#"{"ts":"2026-11-28T10:00:00.100000Z","dir":"in","type":"text","data":"{\"params\":{\"channel\":\"ticker.a\",\"data\":1}}"}"#,
    "\n",
    r#"{"ts":"2026-11-28T10:00:00.200000Z","dir":"in","type":"text","data":"{\"params\":{\"channel\":\"ticker.a\",\"data\":2}}"}"#,
    "\n",
    r#"{"ts":"2026-11-28T10:00:00.300000Z","dir":"in","type":"text","data":"{\"params\":{\"channel\":\"book.b\",\"data\":3}}"}"#,
    "\n",
    r#"{"ts":"2026-11-28T10:00:00.350000Z","dir":"in","type":"gap","data":{"skipped":2}}"#,
    "\n",
    "this line is not an entry\n",
    r#"{"ts":"2026-11-28T10:00:03.500000Z","dir":"in","type":"text","data":"{\"params\":{\"channel\":\"ticker.a\",\"data\":4}}"}"#,
    "\n",
    r#"{"ts":"2026-11-28T10:00:03.600000Z","dir":"out","type":"binary","data":"AAEC","binary":true}"#,
    "\n",
    r#"{"ts":"2026-11-28T10:00:03.700000Z","dir":"in","type":"text","data":"plain"}"#,
    "\n",
    r#"{"ts":"2026-11-28T10:00:04.000000Z","dir":"out","type":"close","data":{"code":1000,"reason":"bye"}}"#,
    "\n",
);

fn recording(name: &str) -> String {
    let path = scratch(name);
    std::fs::write(&path, RECORDING).expect("write the recording");
    path.to_str().expect("UTF-8").to_owned()
}

#[test]
fn inspect_reports_counts_rate_sizes_channels_and_gaps() {
    let path = recording("inspect.jsonl");
    let finished = run(&["inspect", &path]);
    assert_eq!(finished.code(), 0, "{finished:?}");
    let report = &finished.stdout;
    assert_eq!(field(report, "frames"), 8, "{report}");
    assert_eq!(field(report, "inbound"), 5, "{report}");
    assert_eq!(field(report, "outbound"), 3, "{report}");
    assert_eq!(field(report, "close frames"), 1, "{report}");
    assert_eq!(field(report, "dropped entries"), 2, "{report}");
    assert_eq!(field(report, "skipped lines"), 1, "{report}");
    assert!(report.contains("duration          4.000s"), "{report}");
    // Data frames (nearest rank of 7): 3 bytes of binary, "plain" (5), the notifications
    // (40, 42, 42, 42), the subscribe request (84).
    assert!(report.contains("min 3  p50 42  p99 84  max 84"), "{report}");
    let sparkline = report
        .lines()
        .find(|l| l.starts_with("  ") && l.contains('█'))
        .unwrap_or_else(|| panic!("no sparkline: {report}"));
    assert!(sparkline.chars().all(|c| c == ' ' || ('▁'..='█').contains(&c)), "{sparkline}");
    assert!(report.contains("2 (JSON-RPC params.channel)"), "{report}");
    let channel = |name: &str| {
        report.lines().find_map(|l| l.trim().strip_prefix(name).map(|rest| rest.trim().to_owned()))
    };
    assert_eq!(channel("ticker.a").as_deref(), Some("3"), "{report}");
    assert_eq!(channel("book.b").as_deref(), Some("1"), "{report}");
    assert!(report.contains("gaps > 1s      1"), "{report}");
    assert!(report.contains("at +0.300s  3.200s without a frame"), "{report}");

    let stricter = run(&["inspect", "--gap", "50ms", &path]);
    // Every silence between the eight frames is longer than 50 ms.
    assert!(stricter.stdout.contains("gaps > 0.05s      7"), "{stricter:?}");
}

#[test]
fn replay_prints_every_frame_with_its_offset() {
    let path = recording("replay.jsonl");
    let finished = run(&["replay", "--speed", "0", &path]);
    assert_eq!(finished.code(), 0, "{finished:?}");
    let lines: Vec<&str> = finished.stdout.lines().collect();
    assert_eq!(lines.len(), 9, "8 frames and the gap marker: {}", finished.stdout);
    assert!(lines[0].starts_with("+0.000000s out text   {\"jsonrpc\""), "{}", lines[0]);
    assert_eq!(lines[1], r#"+0.100000s in  text   {"params":{"channel":"ticker.a","data":1}}"#);
    assert_eq!(lines[4], "+0.350000s in  gap    2 frame(s) not recorded");
    assert_eq!(lines[6], "+3.600000s out binary AAEC");
    assert_eq!(lines[8], "+4.000000s out close  1000 bye");
    assert!(finished.stderr.contains("1 malformed line"), "{}", finished.stderr);
}

#[test]
fn replay_keeps_the_recorded_pace_divided_by_speed() {
    let path = recording("paced.jsonl");
    // 4 s recorded at 20x: about 200 ms.
    let started = Instant::now();
    let finished = run(&["replay", "--speed", "20", &path]);
    let took = started.elapsed();
    assert_eq!(finished.code(), 0, "{finished:?}");
    assert!(took >= Duration::from_millis(190), "too fast: {took:?}");
    assert!(took < Duration::from_secs(3), "too slow: {took:?}");
    let invalid = run(&["replay", "--speed", "-1", &path]);
    assert_eq!(invalid.code(), 2, "{invalid:?}");
}
