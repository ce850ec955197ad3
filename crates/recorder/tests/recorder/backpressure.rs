//! A disk that cannot keep up: the queue stays within its bound, `record` never waits, dropped
//! frames leave gap markers that add up to `dropped()`, and neither dropping the last handle
//! nor `close_in_background` waits for the disk.

use std::time::Duration;

use zen_websocket_recorder::{
    Direction, Entry, Error, Payload, Recorder, RecorderConfig, Redaction,
};

use crate::support::{StuckPipe, TempDir, WAIT, parse, within};

/// A 1 KiB text frame that starts with its sequence number.
fn frame(n: u64) -> String {
    format!("{n:08} {}", "x".repeat(1015))
}

fn sequence(entry: &Entry) -> Option<u64> {
    match &entry.payload {
        Payload::Text(text) => Some(text[..8].parse().expect("a sequence number")),
        _ => None,
    }
}

/// Checks that the frames are in order and that the gap markers between two frames (and after
/// the last) count exactly the frames missing there; returns the frames and the dropped count.
fn check_gaps(entries: &[Entry], total: u64) -> (u64, u64) {
    let (mut next, mut frames, mut dropped, mut gap) = (0, 0, 0, 0);
    for entry in entries {
        match (&entry.payload, sequence(entry)) {
            (Payload::Gap { skipped }, _) => gap += skipped,
            (_, Some(n)) => {
                assert_eq!(n, next + gap, "frame {n} follows frame {next} - 1 and a gap of {gap}");
                (next, frames, dropped, gap) = (n + 1, frames + 1, dropped + gap, 0);
            }
            (other, None) => panic!("unexpected entry {other:?}"),
        }
    }
    assert_eq!(next + gap, total, "the trailing gap counts the frames missing at the end");
    (frames, dropped + gap)
}

#[test]
fn a_disk_that_cannot_keep_up_bounds_the_queue_and_marks_what_is_dropped() {
    let dir = TempDir::new();
    let Some(pipe) = StuckPipe::new(&dir) else { return };
    let (max_entries, max_bytes) = (50, 32 << 10);
    let config = RecorderConfig::default()
        .redaction(Redaction::none())
        .flush_entries(10)
        .max_queue_entries(max_entries)
        .max_queue_bytes(max_bytes);
    let recorder = Recorder::create(pipe.path(), config).expect("opens the pipe");

    // 5 MiB into a pipe nobody reads: at most its 64 KiB buffer, the writer's 64 KiB buffer
    // and the queue get through; `record` must neither wait nor let the queue grow.
    let total = 5_000;
    let handle = recorder.clone();
    let most = within("recording into a stuck disk", move || {
        let mut most = (0, 0);
        for n in 0..total {
            handle.record(Direction::Out, frame(n));
            let queued = handle.queued();
            most = (most.0.max(queued.entries), most.1.max(queued.bytes));
        }
        most
    });
    assert!(most.0 <= max_entries && most.1 <= max_bytes, "queue reached {most:?}");
    let dropped = recorder.dropped();
    assert!(dropped >= total - 500, "only {dropped} of {total} dropped into a stuck disk");

    let closing = recorder.close_in_background();
    let bytes = pipe.drain();
    drop(closing);
    recorder.close().expect("the writer has finished");

    let entries = parse(&bytes);
    let (frames, marked) = check_gaps(&entries, total);
    assert_eq!(marked, dropped, "the gap markers add up to dropped()");
    assert_eq!(frames + dropped, total);

    let path = dir.join("copy.jsonl");
    std::fs::write(&path, &bytes).expect("copy the recording");
    let metadata = Recorder::metadata(&path).expect("reads");
    assert_eq!((metadata.count, metadata.dropped_entries), (frames, dropped));
}

#[test]
fn a_frame_larger_than_the_byte_bound_is_dropped_and_marked_in_place() {
    let dir = TempDir::new();
    let path = dir.join("s.jsonl");
    let config = RecorderConfig::default().max_queue_bytes(4096);
    let recorder = Recorder::create(&path, config).expect("creates");
    recorder.record(Direction::In, "before");
    recorder.record(Direction::In, vec![0u8; 5000]);
    recorder.record(Direction::Out, "x".repeat(5000));
    recorder.record(Direction::Out, "after");
    assert_eq!(recorder.dropped(), 2);
    recorder.close().expect("closes");

    let entries: Vec<Entry> =
        Recorder::entries(&path).expect("opens").collect::<Result<_, _>>().expect("reads");
    let payloads: Vec<_> = entries.iter().map(|e| (e.dir, e.payload.clone())).collect();
    assert_eq!(
        payloads,
        [
            (Direction::In, "before".into()),
            (Direction::In, Payload::Gap { skipped: 1 }),
            (Direction::Out, Payload::Gap { skipped: 1 }),
            (Direction::Out, "after".into()),
        ]
    );
    assert!(entries[1].ts <= entries[2].ts && entries[2].ts <= entries[3].ts);
    let metadata = Recorder::metadata(&path).expect("reads");
    assert_eq!((metadata.count, metadata.dropped_entries), (2, 2));
}

#[test]
fn dropping_the_last_handle_does_not_wait_for_the_disk() {
    let dir = TempDir::new();
    let Some(pipe) = StuckPipe::new(&dir) else { return };
    let config = RecorderConfig::default().redaction(Redaction::none()).flush_entries(1);
    let recorder = Recorder::create(pipe.path(), config).expect("opens the pipe");
    // 2 MiB: far more than the pipe and the writer's buffer hold, well within the queue bound.
    let total = 2_000;
    for n in 0..total {
        recorder.record(Direction::Out, frame(n));
    }
    // The writer is (or soon will be) stuck on the full pipe; the drop must not wait for it.
    within("dropping the last handle", move || drop(recorder));

    let entries = parse(&pipe.drain());
    assert_eq!(check_gaps(&entries, total), (total, 0), "the writer wrote everything on its own");
}

#[tokio::test(flavor = "current_thread")]
async fn close_in_background_waits_without_blocking_the_runtime() {
    let dir = TempDir::new();
    let Some(pipe) = StuckPipe::new(&dir) else { return };
    let config = RecorderConfig::default().redaction(Redaction::none());
    let recorder = Recorder::create(pipe.path(), config).expect("opens the pipe");
    let total = 2_000;
    for n in 0..total {
        recorder.record(Direction::Out, frame(n));
    }
    let handle = recorder.clone();
    let mut closing = within("close_in_background", move || handle.close_in_background());
    recorder.record(Direction::Out, "after the close: ignored");
    assert!(matches!(recorder.flush(), Err(Error::Closed { .. })));

    // The writer is stuck on the pipe, so the close cannot finish; the runtime's only thread
    // is free meanwhile (the timer fires).
    let early = tokio::time::timeout(Duration::from_millis(50), &mut closing).await;
    assert!(early.is_err(), "closed while the disk was stuck: {early:?}");

    let drained = tokio::task::spawn_blocking(move || pipe.drain());
    tokio::time::timeout(WAIT, closing).await.expect("closes once the disk drains").expect("ok");
    let entries = parse(&drained.await.expect("drains"));
    assert_eq!(check_gaps(&entries, total), (total, 0));
}

#[tokio::test]
async fn close_runs_on_a_clone_moved_to_a_blocking_thread() {
    let dir = TempDir::new();
    let path = dir.join("s.jsonl");
    let recorder = Recorder::create(&path, RecorderConfig::default()).expect("creates");
    for n in 0..3 {
        recorder.record(Direction::In, format!("message {n}"));
    }
    let clone = recorder.clone();
    let closed = tokio::time::timeout(WAIT, tokio::task::spawn_blocking(move || clone.close()))
        .await
        .expect("the close returns")
        .expect("the blocking task finishes");
    closed.expect("closes");
    assert_eq!(Recorder::metadata(&path).expect("reads").count, 3, "written before close returned");
    assert!(matches!(recorder.flush(), Err(Error::Closed { .. })), "closed for every handle");
}
