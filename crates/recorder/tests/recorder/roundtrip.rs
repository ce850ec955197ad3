//! Property: any sequence of entries survives write → read unchanged (redaction off), and the
//! metadata counts it exactly.

use proptest::{collection::vec, option, prelude::*};
use zen_websocket_recorder::{
    Direction, Entry, Payload, Recorder, RecorderConfig, Redaction, Timestamp,
};

use crate::support::TempDir;

/// Text that leans on what breaks naive writers: quotes, backslashes, newlines, control
/// characters, NUL, and any Unicode scalar value.
fn text() -> impl Strategy<Value = String> {
    let tricky = prop_oneof![
        Just('"'),
        Just('\\'),
        Just('\n'),
        Just('\r'),
        Just('\u{0}'),
        Just('\u{1f}'),
        Just('\u{2028}'),
        Just('é'),
        Just('🦀'),
    ];
    vec(prop_oneof![any::<char>(), tricky], 0..40).prop_map(String::from_iter)
}

fn timestamp() -> impl Strategy<Value = Timestamp> {
    let min: Timestamp = "0000-01-01T00:00:00Z".parse().expect("valid");
    let max: Timestamp = "9999-12-31T23:59:59.999999Z".parse().expect("valid");
    (min.as_unix_micros()..=max.as_unix_micros())
        .prop_map(|micros| Timestamp::from_unix_micros(micros).expect("in range"))
}

fn payload() -> impl Strategy<Value = Payload> {
    prop_oneof![
        text().prop_map(Payload::Text),
        vec(any::<u8>(), 0..64).prop_map(Payload::Binary),
        (option::of(any::<u16>()), text())
            .prop_map(|(code, reason)| Payload::Close { code, reason }),
    ]
}

fn entry() -> impl Strategy<Value = Entry> {
    let dir = prop_oneof![Just(Direction::In), Just(Direction::Out)];
    (timestamp(), dir, payload()).prop_map(|(ts, dir, payload)| Entry::new(ts, dir, payload))
}

/// Any line, gap markers included.
fn line() -> impl Strategy<Value = Entry> {
    let gap = (timestamp(), any::<u64>())
        .prop_map(|(ts, skipped)| Entry::new(ts, Direction::In, Payload::Gap { skipped }));
    prop_oneof![4 => entry(), 1 => gap]
}

proptest! {
    #[test]
    fn one_entry_round_trips_through_a_json_line(entry in line()) {
        let line = serde_json::to_string(&entry).expect("serializes");
        prop_assert!(!line.contains('\n'), "one line per entry: {}", line);
        prop_assert_eq!(serde_json::from_str::<Entry>(&line).expect("reads"), entry);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_sequence_round_trips_through_a_file(
        entries in vec(entry(), 0..60),
        batch in 1usize..150,
    ) {
        let dir = TempDir::new();
        let path = dir.join("s.jsonl");
        let config = RecorderConfig::default().redaction(Redaction::none()).flush_entries(batch);
        let recorder = Recorder::create(&path, config).expect("creates");
        for entry in &entries {
            recorder.record_entry(entry.clone());
        }
        recorder.close().expect("closes");

        let read: Vec<Entry> = Recorder::entries(&path)
            .expect("opens")
            .collect::<Result<_, _>>()
            .expect("reads");
        prop_assert_eq!(&read, &entries);

        let metadata = Recorder::metadata(&path).expect("reads");
        let inbound = entries.iter().filter(|e| e.dir == Direction::In).count() as u64;
        prop_assert_eq!(metadata.count, entries.len() as u64);
        prop_assert_eq!(metadata.inbound, inbound);
        prop_assert_eq!(metadata.outbound, entries.len() as u64 - inbound);
        prop_assert_eq!(metadata.skipped_lines, 0);
        prop_assert_eq!(metadata.first_ts, entries.first().map(|e| e.ts));
        prop_assert_eq!(metadata.last_ts, entries.last().map(|e| e.ts));
    }
}
