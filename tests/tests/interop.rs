//! zen-websocket's `Client` against third-party servers: Python `websockets` and `aiohttp`,
//! Node `ws`, and `websocat`.
//!
//! Run with: `cargo xtask interop`, which installs the peers into `target/peers/`, sets the
//! variables `zen_websocket_e2e::peer` reads, and runs
//! `cargo test -p zen-websocket-e2e --test interop -- --ignored --test-threads=1`.
//! Plain `cargo test` skips these (they are `#[ignore]`d).
//!
//! One module per server, one test per scenario, so the test names are the matrix in
//! `docs/conformance.md`. A scenario a server cannot play is left out of its module; the
//! matrix says why.

use std::{future::Future, time::Duration};

use serde_json::json;
use zen_websocket::{
    Client, Config, DisconnectReason, Error, Event, HeartbeatConfig, Message, TlsConfig,
};
use zen_websocket_e2e::{
    peer::{Peer, PeerKind, PeerOptions},
    tls::TestPki,
};

/// Message sizes every echo covers: the 7-bit, 16-bit and 64-bit length encodings on both
/// sides of each boundary, and a megabyte.
const SIZES: [usize; 6] = [0, 125, 126, 65_535, 65_536, 1 << 20];
/// The server closes this test sends for: normal, going away, and an application code.
const CLOSES: [(u16, &str); 3] = [(1000, "normal"), (1001, "going-away"), (4000, "app-reason")];
/// The bound on any one wait.
const WAIT: Duration = Duration::from_secs(15);

/// One test per scenario for a peer.
macro_rules! peer_tests {
    ($module:ident: $kind:expr => $($scenario:ident),+ $(,)?) => {
        mod $module {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[ignore = "needs the peers `cargo xtask interop` installs"]
                async fn $scenario() {
                    Box::pin(super::$scenario($kind)).await;
                }
            )+
        }
    };
}

peer_tests!(websockets: PeerKind::Websockets =>
    echo, heartbeat, server_close, client_close, restart, subprotocol, wss_trusted, wss_untrusted);
peer_tests!(aiohttp: PeerKind::Aiohttp =>
    echo, heartbeat, server_close, client_close, restart, subprotocol, wss_trusted, wss_untrusted);
peer_tests!(node_ws: PeerKind::NodeWs =>
    echo, heartbeat, server_close, client_close, restart, subprotocol, wss_trusted, wss_untrusted);
// websocat: no TLS listener without its `ssl` feature and a PKCS #12 file.
peer_tests!(websocat: PeerKind::Websocat =>
    echo, heartbeat, server_close, client_close, restart, subprotocol);

/// The `zenws` command-line client (the `zen-websocket-cli` package) against Python
/// `websockets`: stdin lines are echoed back on stdout; when the peer is killed and started
/// again on the same port, zenws reconnects and echoes resume; its `--record` file is read back
/// by `zenws inspect`; the end of stdin closes with 1000 and exits 0. The binary of another
/// package is not a `CARGO_BIN_EXE_*` of this one, so the test asks Cargo to build it and reads
/// the executable's path from Cargo's JSON messages (up to date, whatever the target directory
/// or profile).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the peers `cargo xtask interop` installs"]
async fn zenws_connect_echoes_through_websockets() {
    use tokio::io::AsyncWriteExt;

    let zenws = within_long(zenws_binary()).await;
    let mut peer = start(PeerKind::Websockets, PeerOptions::default()).await;
    let recording =
        std::env::temp_dir().join(format!("zenws-interop-{}.jsonl", std::process::id()));
    let mut child = tokio::process::Command::new(&zenws)
        .args(["connect", &peer.url("/zenws"), "--retries", "60", "--retry-delay", "100ms"])
        .arg("--record")
        .arg(&recording)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|err| panic!("cannot start {}: {err}", zenws.display()));
    let mut stdin = child.stdin.take().expect("zenws's stdin");
    let mut stdout = tokio::io::BufReader::new(child.stdout.take().expect("zenws's stdout"));
    stdin.write_all(b"first line\n{\"json\":true}\nthird line\n").await.unwrap();
    // Every echo printed before stdin ends: a peer that has the client's close frame in hand
    // no longer sends (websockets answers the close at once), so ending first would race it.
    let mut echoed = Vec::new();
    while echoed.len() < 3 {
        echoed.push(within(next_line(&mut stdout)).await.expect("stdout ended"));
    }
    assert_eq!(echoed, ["first line", r#"{"json":true}"#, "third line"]);

    // Killed and started again: lines sent while zenws is away are refused (said on stderr);
    // once it is back, they are echoed again.
    peer.restart().await.unwrap_or_else(|err| panic!("websockets did not restart: {err}"));
    let back = async {
        for attempt in 0.. {
            let line = format!("after the restart {attempt}");
            stdin.write_all(format!("{line}\n").as_bytes()).await.unwrap();
            let wait = tokio::time::timeout(Duration::from_millis(250), next_line(&mut stdout));
            if let Ok(echo) = wait.await {
                return echo.expect("stdout ended");
            }
        }
        unreachable!()
    };
    let echo = within(back).await;
    assert!(echo.starts_with("after the restart "), "{echo}");
    drop(stdin);
    let output = within(child.wait_with_output()).await.unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "stderr:\n{stderr}");
    assert!(stderr.contains("reconnect"), "the reconnection is reported on stderr:\n{stderr}");
    let close = peer.next_close(WAIT).await.expect("websockets reported no close");
    assert_eq!(close.code, Some(1000), "{close:?}");

    // Every echo printed came in: inspect reads the same from the recording (its inbound count
    // includes the peer's close frame).
    let printed = 4 + String::from_utf8_lossy(&output.stdout).lines().count();
    let inspect = tokio::process::Command::new(&zenws).arg("inspect").arg(&recording).output();
    let inspect = within(inspect).await.unwrap();
    let report = String::from_utf8_lossy(&inspect.stdout);
    assert_eq!(inspect.status.code(), Some(0), "{report}");
    let inbound = report.lines().find(|line| line.starts_with("inbound")).unwrap_or_default();
    let closes = report.lines().find(|line| line.starts_with("close frames")).unwrap_or_default();
    let count = |line: &str| line.split_whitespace().last().and_then(|n| n.parse::<usize>().ok());
    let inbound_closes = 1; // the peer's answer to zenws's close
    assert!(count(closes) >= Some(inbound_closes), "{report}");
    assert_eq!(count(inbound), Some(printed + inbound_closes), "{report}");
    std::fs::remove_file(&recording).ok();
}

/// The next line of a child's output, without its line end; `None` at the end.
async fn next_line(reader: &mut (impl tokio::io::AsyncBufRead + Unpin)) -> Option<String> {
    let mut line = String::new();
    let read = tokio::io::AsyncBufReadExt::read_line(reader, &mut line).await.ok()?;
    (read > 0).then(|| line.trim_end().to_owned())
}

/// The `zenws` executable, built by Cargo now if it is not up to date.
async fn zenws_binary() -> std::path::PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
    let output = tokio::process::Command::new(cargo)
        .args(["build", "--quiet", "-p", "zen-websocket-cli", "--bin", "zenws"])
        .arg("--manifest-path")
        .arg(&manifest)
        .arg("--message-format=json")
        .stderr(std::process::Stdio::inherit())
        .kill_on_drop(true)
        .output()
        .await
        .expect("run cargo build");
    assert!(output.status.success(), "cargo build -p zen-websocket-cli failed");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact")
        .filter(|message| message["target"]["name"] == "zenws")
        .find_map(|message| message["executable"].as_str().map(std::path::PathBuf::from))
        .expect("cargo named no zenws executable")
}

/// Awaits `future`, failing the test after ten minutes (a cold build on a small machine).
async fn within_long<F: Future>(future: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(600), future).await.expect("timed out")
}

/// Text, binary and JSON at every size in [`SIZES`], all sent before any echo is read; every
/// echo must come back exactly, in order, before the client closes.
async fn echo(kind: PeerKind) {
    let peer = start(kind, PeerOptions::default()).await;
    let client = connect(&peer.url("/echo"), Config::default()).await;
    let mut sent = Vec::new();
    for size in SIZES {
        let text: String = (b'a'..=b'z').cycle().take(size).map(char::from).collect();
        let binary: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        let document = json!({"size": size, "data": text});
        sent.push((format!("text {size} B"), Message::from(text.as_str())));
        sent.push((format!("binary {size} B"), Message::from(binary)));
        sent.push((format!("JSON carrying {size} B"), Message::from(document)));
    }
    for (label, message) in &sent {
        within(client.send_message(message.clone()))
            .await
            .unwrap_or_else(|err| panic!("{kind}: sending {label}: {err}"));
    }
    for (label, message) in &sent {
        let echoed = next_message(&client, kind).await;
        assert!(
            echoed == *message,
            "{kind}: the echo of {label} differs ({} B back)",
            echoed.len()
        );
    }
    within(client.close()).await.unwrap();
}

/// A ping heartbeat every 200 ms gets pongs: a round trip is measured, nothing fails.
async fn heartbeat(kind: PeerKind) {
    let peer = start(kind, PeerOptions::default()).await;
    let beat = HeartbeatConfig::ping().interval(Duration::from_millis(200));
    let client = connect(&peer.url("/heartbeat"), Config::default().heartbeat(beat)).await;
    let measured = async {
        loop {
            let health = client.get_heartbeat_health();
            if health.last_rtt.is_some() && health.last_at.is_some() {
                return health;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let health = within(measured).await;
    assert_eq!(health.failures, 0, "{kind}: {health:?}");
    // Keep beating a few more intervals: still no failure.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let health = client.get_heartbeat_health();
    assert_eq!(health.failures, 0, "{kind}: {health:?}");
    assert!(health.last_rtt.is_some_and(|rtt| rtt < Duration::from_secs(1)), "{health:?}");
    within(client.close()).await.unwrap();
}

/// The server closes with 1000, 1001 and 4000 plus a reason; the user sees exactly that code
/// and reason as `DisconnectReason::ServerClosed`.
async fn server_close(kind: PeerKind) {
    for (code, reason) in CLOSES {
        let options =
            PeerOptions { close_with: Some((code, reason.to_owned())), ..PeerOptions::default() };
        let peer = start(kind, options).await;
        let config = Config::default().reconnect_on_error(false);
        let client = connect(&peer.url(&format!("/close/{code}/{reason}")), config).await;
        match next_disconnect(&client, kind).await {
            DisconnectReason::ServerClosed { code: got, reason: why } => {
                assert_eq!((got, why.as_str()), (code, reason), "{kind}: close {code}");
            }
            other => panic!("{kind}: expected a server close {code}, got {other}"),
        }
    }
}

/// `close()` reaches the server as a clean close with code 1000.
async fn client_close(kind: PeerKind) {
    let mut peer = start(kind, PeerOptions::default()).await;
    let client = connect(&peer.url("/client-close"), Config::default()).await;
    echo_once(&client, kind, "before close").await;
    let started = std::time::Instant::now();
    within(client.close()).await.unwrap();
    // Well inside `close_timeout` (2 s): the server ended the closing handshake.
    let took = started.elapsed();
    assert!(took < Duration::from_secs(1), "{kind}: close() took {took:?}");
    assert!(matches!(next_disconnect(&client, kind).await, DisconnectReason::ClientClosed));
    let close = peer.next_close(WAIT).await;
    let close = close.unwrap_or_else(|| panic!("{kind} reported no close"));
    assert_eq!(close.code, Some(1000), "{kind}: {close:?}");
    if let Some(path) = &close.path {
        assert_eq!(path, "/client-close");
    }
}

/// The server process is killed and started again on the same port: the client notices,
/// reconnects (`Reconnecting` → `Connected`) and echoes again.
async fn restart(kind: PeerKind) {
    let mut peer = start(kind, PeerOptions::default()).await;
    let config = Config::default()
        .retry_delay(Duration::from_millis(100))
        .max_backoff(Duration::from_millis(500))
        .retry_count(60);
    let client = connect(&peer.url("/restart"), config).await;
    echo_once(&client, kind, "before the restart").await;
    peer.kill().await.unwrap();
    let lost = next_disconnect(&client, kind).await;
    assert!(matches!(lost, DisconnectReason::Error(_)), "{kind}: {lost}");
    peer.restart().await.unwrap_or_else(|err| panic!("{kind} did not restart: {err}"));
    let reconnected = async {
        let mut attempts = 0;
        loop {
            match client.recv().await {
                Some(Event::Reconnecting { attempt, .. }) => attempts = attempt,
                Some(Event::Connected) => return attempts,
                Some(Event::ReconnectFailed { last_error, .. }) => {
                    panic!("{kind}: reconnection failed: {last_error}")
                }
                Some(_) => {}
                None => panic!("{kind}: the client ended"),
            }
        }
    };
    let attempts = within(reconnected).await;
    assert!(attempts >= 1, "{kind}: Connected came without Reconnecting");
    echo_once(&client, kind, "after the restart").await;
    within(client.close()).await.unwrap();
}

/// The client offers `zen.v1`, the server picks it, `Client::subprotocol` says so.
async fn subprotocol(kind: PeerKind) {
    let options = PeerOptions { subprotocol: Some("zen.v1".to_owned()), ..PeerOptions::default() };
    let peer = start(kind, options).await;
    let client = connect(&peer.url("/subprotocol"), Config::default().subprotocol("zen.v1")).await;
    assert_eq!(client.subprotocol().as_deref(), Some("zen.v1"), "{kind}");
    echo_once(&client, kind, "over zen.v1").await;
    within(client.close()).await.unwrap();
}

/// `wss://` with a certificate from a CA the client is told to trust: connects and echoes.
async fn wss_trusted(kind: PeerKind) {
    let pki = pki(kind);
    let options = PeerOptions { tls: Some(pki.clone()), ..PeerOptions::default() };
    let peer = start(kind, options).await;
    let tls = TlsConfig::default().webpki_roots(false).add_root_certificate(pki.ca_der);
    let client = connect(&peer.url("/wss"), Config::default().tls(tls)).await;
    echo_once(&client, kind, "over TLS").await;
    within(client.close()).await.unwrap();
}

/// The same server refused when its CA is not trusted: `Error::Tls`.
async fn wss_untrusted(kind: PeerKind) {
    let options = PeerOptions { tls: Some(pki(kind)), ..PeerOptions::default() };
    let peer = start(kind, options).await;
    let result = within(Client::connect(&peer.url("/wss"), Config::default())).await;
    match result {
        Err(Error::Tls(err)) => assert!(err.to_string().contains("UnknownIssuer"), "{kind}: {err}"),
        other => panic!("{kind}: expected Error::Tls, got {other:?}"),
    }
}

/// A fresh CA and server certificate, in a folder of this test run.
fn pki(kind: PeerKind) -> TestPki {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("pki-{kind}"));
    TestPki::generate(&dir).expect("generate the test PKI")
}

async fn start(kind: PeerKind, options: PeerOptions) -> Peer {
    Peer::start(kind, options).await.unwrap_or_else(|err| panic!("{kind} does not start: {err}"))
}

async fn connect(url: &str, config: Config) -> Client {
    within(Client::connect(url, config))
        .await
        .unwrap_or_else(|err| panic!("connecting to {url}: {err}"))
}

/// Sends `text` and waits for it to come back.
async fn echo_once(client: &Client, kind: PeerKind, text: &str) {
    within(client.send_message(text)).await.unwrap();
    let echoed = next_message(client, kind).await;
    assert_eq!(echoed.as_text(), Some(text), "{kind}: echo {text}");
}

/// The next data message; fails on anything that ends the connection.
async fn next_message(client: &Client, kind: PeerKind) -> Message {
    let message = async {
        loop {
            match client.recv().await {
                Some(Event::Message(message)) => return message,
                Some(Event::Disconnected { reason, .. }) => {
                    panic!("{kind}: disconnected: {reason}")
                }
                Some(_) => {}
                None => panic!("{kind}: the client ended"),
            }
        }
    };
    within(message).await
}

/// Skips messages until the connection ends; returns why.
async fn next_disconnect(client: &Client, kind: PeerKind) -> DisconnectReason {
    let disconnect = async {
        loop {
            match client.recv().await {
                Some(Event::Disconnected { reason, .. }) => return reason,
                Some(_) => {}
                None => panic!("{kind}: the client ended without Disconnected"),
            }
        }
    };
    within(disconnect).await
}

/// Awaits `future`, failing the test after [`WAIT`].
async fn within<F: Future>(future: F) -> F::Output {
    tokio::time::timeout(WAIT, future).await.expect("timed out")
}
