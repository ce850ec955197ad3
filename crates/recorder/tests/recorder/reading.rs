//! Reading: metadata, skipped lines, streaming entries, and missing files.

use std::fs;

use zen_websocket_recorder::{Direction, Error, Payload, Recorder};

use crate::support::{TempDir, at, entry, write_entries};

#[test]
fn metadata_counts_directions_and_the_span() {
    let dir = TempDir::new();
    let path = dir.join("s.jsonl");
    write_entries(
        &path,
        &[
            entry(0, Direction::Out, "subscribe"),
            entry(250, Direction::In, "confirmed"),
            entry(1_000, Direction::In, vec![1u8]),
            entry(
                2_345,
                Direction::Out,
                Payload::Close { code: Some(1000), reason: String::new() },
            ),
        ],
    );
    let metadata = Recorder::metadata(&path).expect("reads");
    assert_eq!(metadata.count, 4);
    assert_eq!(metadata.inbound, 2);
    assert_eq!(metadata.outbound, 2);
    assert_eq!(metadata.duration_ms, 2_345);
    assert_eq!(metadata.first_ts, Some(at(0)));
    assert_eq!(metadata.last_ts, Some(at(2_345)));
    assert_eq!(metadata.skipped_lines, 0);
}

#[test]
fn blank_and_malformed_lines_are_skipped_and_counted() {
    let dir = TempDir::new();
    let path = dir.join("s.jsonl");
    let good = serde_json::to_string(&entry(0, Direction::In, "ok")).expect("serializes");
    let mut bytes = Vec::new();
    for line in [
        good.as_str(),
        "",
        "   ",
        "not json at all",
        r#"{"some":"other json"}"#,
        r#"{"ts":"2026-11-28T10:15:30Z","dir":"sideways","type":"text","data":"x"}"#,
        &good,
    ] {
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
    }
    // Invalid UTF-8 inside an otherwise valid entry.
    bytes.extend_from_slice(
        b"{\"ts\":\"2026-11-28T10:15:30Z\",\"dir\":\"in\",\"type\":\"text\",\"data\":\"\xff\xfe\"}\n",
    );
    bytes.extend_from_slice(good.as_bytes());
    bytes.extend_from_slice(b"\r\n");
    // A partial last line, as a crash mid-write would leave.
    bytes.extend_from_slice(&good.as_bytes()[..good.len() / 2]);
    fs::write(&path, bytes).expect("writes");

    let metadata = Recorder::metadata(&path).expect("never fatal");
    assert_eq!(metadata.count, 3);
    assert_eq!(metadata.skipped_lines, 7);

    let mut entries = Recorder::entries(&path).expect("opens");
    assert_eq!(entries.by_ref().filter(Result::is_ok).count(), 3);
    assert_eq!(entries.skipped_lines(), 7);
    assert!(entries.next().is_none(), "the iterator is fused");
}

#[test]
fn gap_markers_are_yielded_in_place_and_counted_apart_from_frames() {
    let dir = TempDir::new();
    let path = dir.join("s.jsonl");
    write_entries(
        &path,
        &[
            entry(0, Direction::In, "first"),
            entry(100, Direction::In, Payload::Gap { skipped: 5 }),
            entry(150, Direction::Out, Payload::Gap { skipped: 2 }),
            entry(900, Direction::Out, "last"),
            entry(2_000, Direction::In, Payload::Gap { skipped: 1 }),
        ],
    );
    let metadata = Recorder::metadata(&path).expect("reads");
    assert_eq!((metadata.count, metadata.inbound, metadata.outbound), (2, 1, 1));
    assert_eq!(metadata.dropped_entries, 8);
    assert_eq!(metadata.skipped_lines, 0);
    assert_eq!((metadata.first_ts, metadata.last_ts), (Some(at(0)), Some(at(900))));
    assert_eq!(metadata.duration_ms, 900, "the span is the frames'");

    let mut entries = Recorder::entries(&path).expect("opens");
    let gaps: Vec<_> = entries
        .by_ref()
        .map(|e| e.expect("valid").payload)
        .enumerate()
        .filter(|(_, payload)| payload.is_gap())
        .map(|(at, _)| at)
        .collect();
    assert_eq!(gaps, [1, 2, 4]);
    assert_eq!(entries.dropped_entries(), 8);
}

#[test]
fn an_empty_recording_has_empty_metadata() {
    let dir = TempDir::new();
    let path = dir.join("s.jsonl");
    fs::write(&path, "").expect("writes");
    let metadata = Recorder::metadata(&path).expect("reads");
    assert_eq!(metadata, Default::default());
    assert_eq!(metadata.first_ts, None);
}

#[test]
fn timestamps_going_backwards_give_a_zero_span() {
    let dir = TempDir::new();
    let path = dir.join("s.jsonl");
    write_entries(&path, &[entry(500, Direction::In, "a"), entry(0, Direction::In, "b")]);
    let metadata = Recorder::metadata(&path).expect("reads");
    assert_eq!(metadata.duration_ms, 0);
    assert_eq!(metadata.first_ts, Some(at(500)));
    assert_eq!(metadata.last_ts, Some(at(0)));
}

#[test]
fn a_missing_recording_is_an_open_error_naming_the_path() {
    let dir = TempDir::new();
    let path = dir.join("missing.jsonl");
    let err = Recorder::metadata(&path).unwrap_err();
    assert!(matches!(&err, Error::Open { path: p, .. } if *p == path), "{err:?}");
    assert!(err.to_string().contains("missing.jsonl"));
    assert!(matches!(Recorder::entries(&path).unwrap_err(), Error::Open { .. }));
}
