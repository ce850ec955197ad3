//! Replay: order, realtime pacing scaled by speed, and option checks.

use std::time::{Duration, Instant};

use zen_websocket_recorder::{Direction, Error, Recorder, ReplayOptions};

use crate::support::{TempDir, entry, write_entries};

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
