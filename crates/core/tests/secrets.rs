//! One redaction policy for errors, logs and recordings: credentials in URLs, secret JSON
//! members (the defaults and the user's own) and binary frames never leak.

mod support;

use std::{
    io::Write,
    sync::{Arc, Mutex},
};

use serde_json::json;
use support::{connect_with, next_message, within};
use zen_websocket_core::{
    Client, Config, ErrorHandler,
    recorder::{Payload, Recorder, Redaction},
};
use zen_websocket_testing::MockServer;

const SECRET: &str = "hunter2-secret";

/// Everything written to it, shared with the test.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test]
async fn an_invalid_url_error_shows_no_credentials_or_query_values() {
    let url = format!("http://trader:{SECRET}@example.com/ws?token={SECRET}&v=2");
    let err = Client::connect(&url, Config::default()).await.unwrap_err();
    let explained = ErrorHandler::explain(&err);
    for shown in [err.to_string(), format!("{err:?}"), explained.message, explained.suggestion] {
        assert!(!shown.contains(SECRET), "leaked: {shown}");
    }
    assert!(err.to_string().contains("example.com"), "still says which URL: {err}");
}

#[tokio::test]
async fn debug_logs_follow_the_users_redaction_policy() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start().await.unwrap();
    let url = format!("{}/?token={SECRET}", server.url());
    let redaction = Redaction::default().field("passphrase");
    let client = within(Client::connect(&url, Config::default().debug(true).redaction(redaction)))
        .await
        .unwrap();
    within(client.send_message(json!({"passphrase": SECRET, "n": 1}))).await.unwrap();
    next_message(&client).await; // the echo, logged on the way in
    within(client.close()).await.unwrap();

    let logs = captured.text();
    assert!(logs.contains("text frame"), "frames are logged: {logs}");
    assert!(!logs.contains(SECRET), "the secret reached the log:\n{logs}");
}

#[tokio::test]
async fn binary_frames_lose_their_secrets_before_the_recording() {
    let path = std::env::temp_dir()
        .join(format!("zen-websocket-binary-secret-{}.jsonl", std::process::id()));
    let server = MockServer::start().await.unwrap();
    let client = connect_with(&server, |config| config.record_to(&path)).await;
    let frame = json!({"method": "public/auth", "params": {"client_secret": SECRET}}).to_string();
    within(client.send_message(frame.into_bytes())).await.unwrap();
    assert!(next_message(&client).await.is_binary());
    within(client.close()).await.unwrap();

    let mut binaries = 0;
    for entry in Recorder::entries(&path).unwrap() {
        if let Payload::Binary(bytes) = entry.unwrap().payload {
            binaries += 1;
            let text = String::from_utf8_lossy(&bytes).into_owned();
            assert!(!text.contains(SECRET), "a binary frame kept its secret: {text}");
        }
    }
    assert_eq!(binaries, 2, "the frame out and its echo in");
    std::fs::remove_file(&path).unwrap();
}
