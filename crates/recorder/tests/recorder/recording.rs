//! Recording: the line format, batching, flush triggers, drop, append, options and file
//! errors.

use std::{fs, thread, time::Duration};

use zen_websocket_recorder::{
    Direction, Entry, Error, Payload, Recorder, RecorderConfig, Redaction, Timestamp,
};

use crate::support::{TempDir, lines, wait_for_lines};

/// A config that never flushes on its own within a test's lifetime.
fn no_timer() -> RecorderConfig {
    RecorderConfig::default().flush_interval(Duration::from_secs(3600))
}

#[test]
fn writes_one_line_per_frame_in_the_documented_format() {
    let dir = TempDir::new();
    let path = dir.join("s.jsonl");
    let recorder = Recorder::create(&path, RecorderConfig::default()).expect("creates");
    recorder.record(Direction::Out, "say \"hi\"\n");
    recorder.record(Direction::In, vec![0u8, 1, 2, 255]);
    recorder.record(Direction::In, Payload::Close { code: Some(1000), reason: "bye".into() });
    recorder.close().expect("closes");

    let lines = lines(&path);
    assert_eq!(lines.len(), 3);
    let values: Vec<serde_json::Value> =
        lines.iter().map(|line| serde_json::from_str(line).expect("each line is JSON")).collect();
    assert_eq!(values[0]["dir"], "out");
    assert_eq!(values[0]["type"], "text");
    assert_eq!(values[0]["data"], "say \"hi\"\n");
    assert_eq!(values[1]["type"], "binary");
    assert_eq!(values[1]["data"], "AAEC/w==");
    assert_eq!(values[1]["binary"], true);
    assert_eq!(values[2]["data"], serde_json::json!({"code": 1000, "reason": "bye"}));
    let ts = values[0]["ts"].as_str().expect("ts is a string");
    assert_eq!(ts.len(), "2026-11-28T10:15:30.123456Z".len(), "{ts}");
    assert!(ts.ends_with('Z') && ts.as_bytes()[19] == b'.', "{ts}");
}

#[test]
fn timestamps_are_taken_when_recording_not_when_writing() {
    let dir = TempDir::new();
    let path = dir.join("s.jsonl");
    let recorder = Recorder::create(&path, no_timer()).expect("creates");
    let before = Timestamp::now();
    recorder.record(Direction::Out, "early");
    let after = Timestamp::now();
    thread::sleep(Duration::from_millis(200));
    recorder.flush().expect("flushes");

    let entries: Vec<Entry> =
        Recorder::entries(&path).expect("opens").collect::<Result<_, _>>().expect("reads");
    assert!(
        before <= entries[0].ts && entries[0].ts <= after,
        "{before:?} <= {:?} <= {after:?}",
        entries[0].ts
    );
}

#[test]
fn a_full_batch_of_100_is_written_before_close() {
    let dir = TempDir::new();
    let path = dir.join("s.jsonl");
    let recorder = Recorder::create(&path, no_timer()).expect("creates");
    for n in 0..99 {
        recorder.record(Direction::In, format!("message {n}"));
    }
    thread::sleep(Duration::from_millis(300));
    assert!(lines(&path).is_empty(), "99 entries wait for the 100th");

    recorder.record(Direction::In, "message 99");
    let written = wait_for_lines(&path, 100);
    assert_eq!(written.len(), 100);
    assert!(written[99].contains("message 99"));
    drop(recorder);
}

#[test]
fn a_partial_batch_is_written_within_the_flush_interval() {
    let dir = TempDir::new();
    let path = dir.join("s.jsonl");
    let recorder = Recorder::create(&path, RecorderConfig::default()).expect("creates");
    let started = std::time::Instant::now();
    recorder.record(Direction::In, "alone");
    wait_for_lines(&path, 1);
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(3), "written after {waited:?}, expected within about 1 s");
    drop(recorder);
}

#[test]
fn dropping_the_last_handle_writes_everything_from_every_clone() {
    let dir = TempDir::new();
    let path = dir.join("s.jsonl");
    let recorder = Recorder::create(&path, no_timer()).expect("creates");
    let workers: Vec<_> = (0..4)
        .map(|worker| {
            let recorder = recorder.clone();
            thread::spawn(move || {
                for n in 0..250 {
                    recorder.record(Direction::Out, format!("{worker}:{n}"));
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("worker finishes");
    }
    // The drop does not wait for the writer, which writes the rest on its own.
    drop(recorder);
    wait_for_lines(&path, 1000);

    let metadata = Recorder::metadata(&path).expect("reads");
    assert_eq!(metadata.count, 1000);
    assert_eq!(metadata.outbound, 1000);
    assert_eq!(metadata.skipped_lines, 0);
}

#[test]
fn flush_writes_a_partial_batch_at_once() {
    let dir = TempDir::new();
    let path = dir.join("s.jsonl");
    let recorder = Recorder::create(&path, no_timer()).expect("creates");
    recorder.record(Direction::In, "one");
    recorder.record(Direction::In, "two");
    recorder.flush().expect("flushes");
    assert_eq!(lines(&path).len(), 2);
    recorder.flush().expect("an empty flush is fine");
}

#[test]
fn close_is_for_every_handle_and_later_records_are_dropped() {
    let dir = TempDir::new();
    let path = dir.join("s.jsonl");
    let recorder = Recorder::create(&path, no_timer()).expect("creates");
    let other = recorder.clone();
    recorder.record(Direction::In, "kept");
    other.close().expect("closes");
    recorder.close().expect("closing twice is fine");
    recorder.record(Direction::In, "dropped");
    assert!(matches!(recorder.flush(), Err(Error::Closed { .. })));
    drop((recorder, other));
    assert_eq!(lines(&path).len(), 1);
}

#[test]
fn creating_truncates_unless_appending() {
    let dir = TempDir::new();
    let path = dir.join("s.jsonl");
    fs::write(&path, "old line\n").expect("seed the file");

    let appending = Recorder::create(&path, RecorderConfig::default().append(true)).expect("opens");
    appending.record(Direction::In, "new");
    appending.close().expect("closes");
    let kept = lines(&path);
    assert_eq!(kept.len(), 2);
    assert_eq!(kept[0], "old line");

    let truncating = Recorder::create(&path, RecorderConfig::default()).expect("opens");
    truncating.close().expect("closes");
    assert!(lines(&path).is_empty());
}

#[test]
fn an_unwritable_path_fails_at_once_naming_the_path() {
    let dir = TempDir::new();
    let missing = dir.join("no-such-dir").join("s.jsonl");
    let err = Recorder::create(&missing, RecorderConfig::default()).unwrap_err();
    assert!(
        matches!(&err, Error::Create { path, source } if *path == missing && source.kind() == std::io::ErrorKind::NotFound),
        "{err:?}"
    );
    assert!(err.to_string().contains(&*missing.to_string_lossy()), "{err}");

    let is_a_directory = dir.join("");
    let err = Recorder::create(&is_a_directory, RecorderConfig::default()).unwrap_err();
    assert!(matches!(err, Error::Create { .. }), "{err:?}");

    let file = dir.join("file");
    fs::write(&file, "").expect("create a plain file");
    let err = Recorder::create(file.join("s.jsonl"), RecorderConfig::default()).unwrap_err();
    assert!(matches!(err, Error::Create { .. }), "{err:?}");
}

#[test]
fn invalid_options_are_rejected_before_the_file_is_touched() {
    let dir = TempDir::new();
    let path = dir.join("s.jsonl");
    let err = Recorder::create(&path, RecorderConfig::default().flush_entries(0)).unwrap_err();
    assert!(matches!(err, Error::InvalidOption { name: "flush_entries", .. }));
    let err = Recorder::create(&path, RecorderConfig::default().max_queue_entries(0)).unwrap_err();
    assert!(matches!(err, Error::InvalidOption { name: "max_queue_entries", .. }));
    let err = Recorder::create(&path, RecorderConfig::default().max_queue_bytes(0)).unwrap_err();
    assert!(matches!(err, Error::InvalidOption { name: "max_queue_bytes", .. }));
    assert!(err.to_string().contains("max_queue_bytes"), "{err}");
    assert!(!path.exists());
}

#[cfg(target_os = "linux")]
#[test]
fn write_errors_are_reported_by_flush_and_close() {
    let full = std::path::Path::new("/dev/full");
    if !full.exists() {
        return;
    }
    let recorder = Recorder::create(full, RecorderConfig::default().redaction(Redaction::none()))
        .expect("/dev/full opens");
    recorder.record(Direction::Out, "x".repeat(100_000));
    let err = recorder.flush().unwrap_err();
    assert!(matches!(&err, Error::Write { path, .. } if path == full), "{err:?}");
    recorder.record(Direction::Out, "more");
    assert!(matches!(recorder.close(), Err(Error::Write { .. })));
}
