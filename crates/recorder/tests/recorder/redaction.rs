//! Redaction as the file sees it: secrets at any depth never reach it, unless turned off.

use std::fs;

use zen_websocket_recorder::{Direction, Payload, Recorder, RecorderConfig, Redaction};

use crate::support::TempDir;

const SECRET: &str = "S3CR3T-do-not-record";

/// Records `texts` with `redaction` and returns the file's contents and the texts read back.
fn record(redaction: Redaction, texts: &[String]) -> (String, Vec<String>) {
    let dir = TempDir::new();
    let path = dir.join("s.jsonl");
    let recorder =
        Recorder::create(&path, RecorderConfig::default().redaction(redaction)).expect("creates");
    for text in texts {
        recorder.record(Direction::Out, text.as_str());
    }
    recorder.close().expect("closes");
    let raw = fs::read_to_string(&path).expect("reads");
    let read = Recorder::entries(&path)
        .expect("opens")
        .map(|entry| match entry.expect("an entry").payload {
            Payload::Text(text) => text,
            other => panic!("expected text, got {other:?}"),
        })
        .collect();
    (raw, read)
}

fn auth_messages() -> Vec<String> {
    vec![
        format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"public/auth","params":{{"grant_type":"client_credentials","client_id":"id","client_secret":"{SECRET}"}}}}"#
        ),
        format!(r#"{{"a":[{{"b":{{"c":[{{"client_secret":"{SECRET}"}}]}}}}]}}"#),
        format!(
            r#"{{"result":{{"access_token":"{SECRET}","refresh_token":"{SECRET}","expires_in":900}}}}"#
        ),
        format!(r#"{{"params":{{"signature":{{"hmac":"{SECRET}","nonce":7}}}}}}"#),
        format!("{{\n  \"client_secret\" :\n    \"{SECRET}\"\n}}"),
    ]
}

#[test]
fn secrets_at_any_depth_never_reach_the_file() {
    let (raw, read) = record(Redaction::default(), &auth_messages());
    assert!(!raw.contains("S3CR3T"), "{raw}");
    assert_eq!(read.len(), 5);
    assert_eq!(
        read[0],
        r#"{"jsonrpc":"2.0","id":1,"method":"public/auth","params":{"grant_type":"client_credentials","client_id":"id","client_secret":"[REDACTED]"}}"#,
        "only the secret changes; order and spelling stay"
    );
    assert_eq!(
        read[3], r#"{"params":{"signature":"[REDACTED]"}}"#,
        "an object value is blanked whole"
    );
    assert_eq!(read[4], "{\n  \"client_secret\" :\n    \"[REDACTED]\"\n}");
}

#[test]
fn redaction_off_records_secrets_as_sent() {
    let messages = auth_messages();
    let (raw, read) = record(Redaction::none(), &messages);
    assert!(raw.contains(SECRET));
    assert_eq!(read, messages);
}

#[test]
fn extra_fields_are_redacted_besides_the_defaults() {
    let text = format!(
        r#"{{"api_key":"{SECRET}","nested":{{"password":1234}},"client_secret":"{SECRET}"}}"#
    );
    let redaction = Redaction::default().field("api_key").field("password");
    let (raw, read) = record(redaction, &[text]);
    assert!(!raw.contains("S3CR3T") && !raw.contains("1234"), "{raw}");
    assert_eq!(
        read[0],
        r#"{"api_key":"[REDACTED]","nested":{"password":"[REDACTED]"},"client_secret":"[REDACTED]"}"#
    );
}

#[test]
fn text_that_is_not_json_is_written_as_is() {
    let plain = "client_secret=abc; signature is fine here".to_owned();
    let (_, read) = record(Redaction::default(), std::slice::from_ref(&plain));
    assert_eq!(read, [plain]);
}

/// Records `payloads` inbound with the default redaction; the raw file and what is read back.
fn record_payloads(payloads: Vec<Payload>) -> (String, Vec<Payload>) {
    let dir = TempDir::new();
    let path = dir.join("s.jsonl");
    let recorder = Recorder::create(&path, RecorderConfig::default()).expect("creates");
    for payload in payloads {
        recorder.record(Direction::In, payload);
    }
    recorder.close().expect("closes");
    let raw = fs::read_to_string(&path).expect("reads");
    let read =
        Recorder::entries(&path).expect("opens").map(|e| e.expect("valid").payload).collect();
    (raw, read)
}

#[test]
fn binary_frames_lose_their_secrets_and_stay_binary() {
    let json = format!(r#"{{"result":{{"access_token":"{SECRET}","expires_in":900}}}}"#);
    // MessagePack-like: not UTF-8, names a secret field.
    let mut packed = b"\x82\xadclient_secret\xb4".to_vec();
    packed.extend_from_slice(SECRET.as_bytes());
    let harmless = vec![0u8, 159, 146, 150, 1];
    let (raw, read) =
        record_payloads(vec![json.into_bytes().into(), packed.into(), harmless.clone().into()]);
    assert_eq!(raw.matches(r#""type":"binary""#).count(), 3, "{raw}");
    assert_eq!(
        read,
        [
            Payload::Binary(
                br#"{"result":{"access_token":"[REDACTED]","expires_in":900}}"#.to_vec()
            ),
            Payload::Binary(b"[REDACTED]".to_vec()),
            Payload::Binary(harmless),
        ]
    );
}

#[test]
fn close_reasons_lose_their_secrets() {
    let reason = format!(r#"{{"signature":"{SECRET}"}}"#);
    let (raw, read) = record_payloads(vec![Payload::Close { code: Some(4000), reason }]);
    assert!(!raw.contains("S3CR3T"), "{raw}");
    assert_eq!(
        read,
        [Payload::Close { code: Some(4000), reason: r#"{"signature":"[REDACTED]"}"#.into() }]
    );
}
