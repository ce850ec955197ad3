//! Replay: order, realtime pacing scaled by speed, gaps, option checks, and never blocking
//! or starving the runtime.

use std::{
    io::Write,
    sync::mpsc,
    time::{Duration, Instant},
};

use zen_websocket_recorder::{Direction, Error, Payload, Recorder, ReplayOptions};

use crate::support::{TempDir, WAIT, entry, mkfifo, write_entries};

/// A recording spanning 2 s: entries at 0, 0.5, 1, 1.5 and 2 s.
fn two_second_session(dir: &TempDir) -> std::path::PathBuf {
    let path = dir.join("s.jsonl");
    let entries: Vec<_> =
        (0..5).map(|n| entry(n * 500, Direction::In, format!("tick {n}"))).collect();
    write_entries(&path, &entries);
    path
}

#[tokio::test]
async fn realtime_at_speed_10_takes_a_tenth_of_the_span() {
    let dir = TempDir::new();
    let path = two_second_session(&dir);
    let started = Instant::now();
    let mut arrivals = Vec::new();
    let options = ReplayOptions::default().realtime(true).speed(10.0);
    let metadata = Recorder::replay(&path, options, |entry| {
        arrivals.push((started.elapsed(), entry));
    })
    .await
    .expect("replays");
    let elapsed = started.elapsed();

    assert_eq!(metadata.count, 5);
    assert_eq!(metadata.duration_ms, 2_000);
    assert!(
        elapsed >= Duration::from_millis(195) && elapsed < Duration::from_millis(1_000),
        "2 s at speed 10 took {elapsed:?}, expected about 200 ms"
    );
    for (n, (at, entry)) in arrivals.iter().enumerate() {
        assert_eq!(entry.payload, format!("tick {n}").as_str().into());
        let due = Duration::from_millis(50 * n as u64);
        assert!(*at + Duration::from_millis(5) >= due, "tick {n} at {at:?}, due {due:?}");
    }
}

#[tokio::test]
async fn without_realtime_entries_follow_at_once_in_order() {
    let dir = TempDir::new();
    let path = two_second_session(&dir);
    let started = Instant::now();
    let mut seen = Vec::new();
    Recorder::replay(&path, ReplayOptions::default(), |entry| seen.push(entry))
        .await
        .expect("replays");
    assert!(started.elapsed() < Duration::from_millis(500));
    let order: Vec<_> = seen.iter().map(|entry| entry.ts).collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);
    assert_eq!(seen.len(), 5);
}

#[tokio::test]
async fn entries_earlier_than_the_first_do_not_wait() {
    let dir = TempDir::new();
    let path = dir.join("s.jsonl");
    write_entries(
        &path,
        &[
            entry(1_000, Direction::In, "first"),
            entry(0, Direction::In, "from the past"),
            entry(1_100, Direction::In, "last"),
        ],
    );
    let started = Instant::now();
    let options = ReplayOptions::default().realtime(true);
    let metadata = Recorder::replay(&path, options, |_| {}).await.expect("replays");
    let elapsed = started.elapsed();
    assert_eq!(metadata.count, 3);
    assert!(
        elapsed >= Duration::from_millis(95) && elapsed < Duration::from_millis(600),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn a_bad_speed_or_a_missing_file_is_an_error() {
    let dir = TempDir::new();
    let path = two_second_session(&dir);
    let options = ReplayOptions::default().realtime(true).speed(0.0);
    let err = Recorder::replay(&path, options, |_| {}).await.unwrap_err();
    assert!(matches!(err, Error::InvalidOption { name: "speed", .. }));

    let err =
        Recorder::replay(dir.join("missing"), ReplayOptions::default(), |_| {}).await.unwrap_err();
    assert!(matches!(err, Error::Open { .. }));
}

#[tokio::test]
async fn gaps_are_handed_over_in_place_and_counted_apart() {
    let dir = TempDir::new();
    let path = dir.join("s.jsonl");
    write_entries(
        &path,
        &[
            entry(0, Direction::In, "a"),
            entry(10, Direction::In, Payload::Gap { skipped: 3 }),
            entry(20, Direction::In, "e"),
        ],
    );
    let mut seen = Vec::new();
    let metadata =
        Recorder::replay(&path, ReplayOptions::default(), |entry| seen.push(entry.payload))
            .await
            .expect("replays");
    assert_eq!(seen, ["a".into(), Payload::Gap { skipped: 3 }, "e".into()]);
    assert_eq!((metadata.count, metadata.dropped_entries), (2, 3));
}

#[tokio::test(flavor = "current_thread")]
async fn a_large_replay_lets_other_tasks_run_before_it_ends() {
    let dir = TempDir::new();
    let path = dir.join("s.jsonl");
    let total = 5_000;
    let entries: Vec<_> =
        (0..total).map(|n| entry(0, Direction::In, format!("message {n}"))).collect();
    write_entries(&path, &entries);

    // Another task, spawned once the replay is under way, must run before it ends.
    let (ran, other_task) = mpsc::channel();
    let mut ran = Some(ran);
    let mut handed_over = 0;
    let mut other_task_seen_at = None;
    let metadata = Recorder::replay(&path, ReplayOptions::default(), |_| {
        if let Some(ran) = ran.take() {
            tokio::spawn(async move { ran.send(()).expect("the test is listening") });
        }
        if other_task_seen_at.is_none() && other_task.try_recv().is_ok() {
            other_task_seen_at = Some(handed_over);
        }
        handed_over += 1;
    })
    .await
    .expect("replays");
    assert_eq!(metadata.count, total);
    let at = other_task_seen_at.expect("the other task ran during the replay");
    assert!(at < total - 1, "the other task ran only after entry {at}");
}

#[cfg(unix)]
#[tokio::test(flavor = "current_thread")]
async fn the_file_is_opened_and_read_off_the_runtime_thread() {
    let dir = TempDir::new();
    let path = dir.join("pipe.jsonl");
    if !mkfifo(&path) {
        return;
    }

    // The writer opens the pipe only after another task of this runtime has run: opening a
    // pipe for reading blocks until a writer opens it, so a replay that opened it on the
    // runtime's only thread would keep that task from ever running.
    let (ran, other_task) = mpsc::channel();
    let writer_path = path.clone();
    let writer = std::thread::spawn(move || {
        let ran_first = other_task.recv_timeout(WAIT).is_ok();
        let mut pipe = std::fs::OpenOptions::new().write(true).open(writer_path).expect("opens");
        let line = serde_json::to_string(&entry(0, Direction::In, "hello")).expect("serializes");
        writeln!(pipe, "{line}").expect("writes");
        ran_first
    });
    tokio::spawn(async move { ran.send(()).expect("the writer is listening") });
    let replay = Recorder::replay(&path, ReplayOptions::default(), |_| {});
    let metadata = tokio::time::timeout(WAIT, replay).await.expect("ends").expect("replays");
    assert_eq!(metadata.count, 1);
    assert!(writer.join().expect("the writer finishes"), "the runtime was blocked on the file");
}
