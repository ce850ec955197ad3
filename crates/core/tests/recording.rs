//! Recording a real session: exact counts, order, pacing, redaction, and replaying it into a
//! fresh client through the MockServer.

mod support;

use std::{path::PathBuf, time::Duration};

use serde_json::json;
use support::{connect_with, next_event, next_message, within};
use zen_websocket_core::{
    Client, Config, Error, Event,
    recorder::{Direction, Payload, Recorder, ReplayOptions},
};
use zen_websocket_testing::{DisconnectKind, MockServer, Replay};

const SECRET: &str = "s3cr3t-never-on-disk";

fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("zen-websocket-{name}-{}.jsonl", std::process::id()))
}

/// Records: text, binary and a JSON-RPC auth (carrying a secret) before a reconnect, one more
/// text after it, then a close. Returns the file.
async fn record_a_session(name: &str) -> PathBuf {
    let path = temp_path(name);
    let server = MockServer::start().await.unwrap();
    let client = connect_with(&server, |config| {
        config.record_to(&path).retry_delay(Duration::from_millis(300))
    })
    .await;
    within(client.send_message("hello")).await.unwrap();
    assert_eq!(next_message(&client).await.as_text(), Some("hello"));
    within(client.send_message(vec![1u8, 2, 3])).await.unwrap();
    assert!(next_message(&client).await.is_binary());
    let params =
        json!({"grant_type": "client_credentials", "client_id": "me", "client_secret": SECRET});
    within(client.request("public/auth", params)).await.unwrap();

    within(server.simulate_disconnect(DisconnectKind::Abrupt)).await;
    loop {
        if let Event::Connected = next_event(&client).await {
            break;
        }
    }
    within(client.send_message("after the reconnect")).await.unwrap();
    assert_eq!(next_message(&client).await.as_text(), Some("after the reconnect"));
    within(client.close()).await.unwrap();
    path
}

#[tokio::test]
async fn a_recorded_session_has_exact_counts_order_and_no_secret() {
    let path = record_a_session("exact").await;

    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains(SECRET), "the secret reached the file:\n{text}");
    assert!(text.contains("[REDACTED]"));

    let metadata = Recorder::metadata(&path).unwrap();
    // Out: hello, binary, auth request, text after reconnect, close 1000.
    // In: their four echoes/answers and the server's close reply.
    assert_eq!((metadata.count, metadata.outbound, metadata.inbound), (10, 5, 5));
    assert_eq!(metadata.skipped_lines, 0);

    let mut seen = Vec::new();
    Recorder::replay(&path, ReplayOptions::default(), |entry| {
        let kind = match entry.payload {
            Payload::Text(text) if text.starts_with('{') => "json".to_owned(),
            Payload::Text(text) => text,
            Payload::Binary(bytes) => format!("binary {bytes:?}"),
            Payload::Close { code, .. } => format!("close {code:?}"),
            _ => "other".to_owned(),
        };
        seen.push((entry.dir, kind));
    })
    .await
    .unwrap();
    let expected = [
        (Direction::Out, "hello"),
        (Direction::In, "hello"),
        (Direction::Out, "binary [1, 2, 3]"),
        (Direction::In, "binary [1, 2, 3]"),
        (Direction::Out, "json"),
        (Direction::In, "json"),
        (Direction::Out, "after the reconnect"),
        (Direction::In, "after the reconnect"),
        (Direction::Out, "close Some(1000)"),
        (Direction::In, "close Some(1000)"),
    ];
    let expected: Vec<(Direction, String)> =
        expected.iter().map(|(d, k)| (*d, (*k).to_owned())).collect();
    assert_eq!(seen, expected);

    // Paced at ten times the original speed, replay takes about a tenth of the span.
    let span = Duration::from_millis(metadata.duration_ms);
    assert!(span >= Duration::from_millis(300), "the reconnect wait spans the session: {span:?}");
    let started = std::time::Instant::now();
    let options = ReplayOptions::default().realtime(true).speed(10.0);
    within(Recorder::replay(&path, options, |_| {})).await.unwrap();
    let took = started.elapsed();
    assert!(took + Duration::from_millis(5) >= span / 10, "{took:?} for a span of {span:?}");
    assert!(took < span, "{took:?}: not paced faster than recorded, for a span of {span:?}");
    std::fs::remove_file(&path).unwrap();
}

#[tokio::test]
async fn a_recording_replayed_by_the_mock_server_reaches_a_fresh_client_in_order() {
    let path = record_a_session("replayed").await;
    let inbound: Vec<Payload> = Recorder::entries(&path)
        .unwrap()
        .map(Result::unwrap)
        .filter(|entry| entry.dir == Direction::In)
        .map(|entry| entry.payload)
        .collect();

    let server =
        MockServer::builder().replay(Replay::from_recording(&path).unwrap()).start().await.unwrap();
    let client = connect_with(&server, |config| config.reconnect_on_error(false)).await;
    for payload in &inbound {
        match (payload, next_event(&client).await) {
            (Payload::Text(text), Event::Message(message)) => {
                assert_eq!(message.as_text(), Some(text.as_str()))
            }
            (Payload::Binary(bytes), Event::Message(message)) => {
                assert_eq!(message.as_bytes(), bytes.as_slice())
            }
            (Payload::Close { code, .. }, Event::Disconnected { reason, .. }) => {
                assert_eq!(reason.close_code(), *code);
            }
            (expected, got) => panic!("expected {expected:?}, got {got:?}"),
        }
    }
    std::fs::remove_file(&path).unwrap();
}

#[tokio::test]
async fn an_unwritable_recording_path_fails_connect() {
    let server = MockServer::start().await.unwrap();
    let config = Config::default().record_to("/no/such/directory/session.jsonl");
    let err = within(Client::connect(&server.url(), config)).await.unwrap_err();
    assert!(matches!(err, Error::Recording(_)), "{err:?}");
    assert!(zen_websocket_core::ErrorHandler::explain(&err).suggestion.contains("record_to"));
    assert_eq!(server.total_connections(), 0, "no socket opened");
}

#[tokio::test]
async fn a_failed_connect_leaves_an_existing_recording_untouched() {
    let path = temp_path("untouched");
    std::fs::write(&path, "yesterday's session\n").unwrap();
    let refused = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    }; // the listener is gone: nothing accepts on this port now
    let config = Config::default().record_to(&path);
    let err = within(Client::connect(&format!("ws://{refused}"), config)).await.unwrap_err();
    assert!(matches!(err, Error::Io(_)), "{err:?}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "yesterday's session\n");
    std::fs::remove_file(&path).unwrap();
}

/// A FIFO whose reader never reads: the recording's writer blocks once the pipe is full, like a
/// disk that cannot keep up.
struct WedgedDisk {
    path: PathBuf,
    reader: std::sync::mpsc::Receiver<std::fs::File>,
}

impl WedgedDisk {
    fn new(name: &str) -> Self {
        let path = temp_path(name);
        let _ = std::fs::remove_file(&path);
        let made = std::process::Command::new("mkfifo").arg(&path).status().unwrap();
        assert!(made.success(), "mkfifo works");
        let (opened, reader) = std::sync::mpsc::channel();
        let fifo = path.clone();
        std::thread::spawn(move || {
            // Blocks until the writer opens its end, then holds the pipe open, unread.
            let file = std::fs::File::open(fifo).unwrap();
            let _ = opened.send(file);
        });
        Self { path, reader }
    }
}

#[test]
fn closing_on_a_wedged_disk_never_blocks_the_runtime() {
    let disk = WedgedDisk::new("wedged");
    let path = disk.path.clone();
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let server = MockServer::start().await.unwrap();
            let config =
                Config::default().record_to(&path).close_timeout(Duration::from_millis(300));
            let client = within(Client::connect(&server.url(), config)).await.unwrap();
            let chunk = "x".repeat(64 << 10);
            for _ in 0..8 {
                within(client.send_message(chunk.as_str())).await.unwrap();
                next_message(&client).await;
            }
            let started = std::time::Instant::now();
            within(client.close()).await.unwrap();
            let _ = done.send(started.elapsed());
        });
    });
    let reader = disk.reader.recv_timeout(support::WAIT).expect("the writer opened the FIFO");
    let took = finished.recv_timeout(Duration::from_secs(10));
    drop(reader); // unblocks the writer thread either way
    let took = took.expect("close() returned while the disk was wedged");
    assert!(took < Duration::from_secs(2), "close took {took:?}");
    let _ = std::fs::remove_file(&disk.path);
}
