//! `zenws serve` driven by `zenws connect`: the echo server over TLS with the CA file it
//! writes, a recording replayed, the Deribit simulator, and Ctrl-C.

mod common;

use common::{Zenws, run, scratch};

/// Starts `zenws serve ARGS` and reads the URL (and, with TLS, the CA path) it prints.
fn serve(args: &[&str]) -> (Zenws, String, Option<String>) {
    let mut all = vec!["serve"];
    all.extend_from_slice(args);
    let mut server = Zenws::spawn(&all);
    let url = server.expect_stdout("printing the URL", |line| line.starts_with("ws"));
    let ca = url
        .starts_with("wss://")
        .then(|| server.expect_stdout("printing the CA file", |line| line.ends_with(".pem")));
    (server, url, ca)
}

/// Ctrl-C ends `zenws serve` with 130.
#[cfg(unix)]
fn stop(server: Zenws) {
    common::interrupt(server.id());
    let finished = server.wait();
    assert_eq!(finished.code(), 130, "{finished:?}");
}

#[cfg(unix)]
#[test]
fn tls_echo_server_with_its_ca_file() {
    let (mut server, url, ca) = serve(&["--tls"]);
    let ca = ca.expect("a CA file for --tls");
    assert!(url.starts_with("wss://127.0.0.1:"), "{url}");
    let mut client = Zenws::spawn(&["connect", "--ca", &ca, &url]);
    client.send_line("over tls");
    client.expect_stdout("the echo", |line| line == "over tls");
    client.close_stdin();
    assert_eq!(client.wait().code(), 0);
    server.expect_stderr("logging the connection", |line| line.contains("opened"));
    // Without the CA the certificate is not trusted: a connect error.
    let untrusted = run(&["connect", &url]);
    assert_eq!(untrusted.code(), 3, "{untrusted:?}");
    stop(server);
}

#[cfg(unix)]
#[test]
fn replays_a_recording_to_each_client() {
    let path = scratch("served.jsonl");
    std::fs::write(
        &path,
        concat!(
            r#"{"ts":"2026-11-28T10:00:00.000000Z","dir":"in","type":"text","data":"first"}"#,
            "\n",
            r#"{"ts":"2026-11-28T10:00:00.010000Z","dir":"out","type":"text","data":"not served"}"#,
            "\n",
            r#"{"ts":"2026-11-28T10:00:00.020000Z","dir":"in","type":"text","data":"second"}"#,
            "\n",
        ),
    )
    .expect("write the recording");
    let (server, url, _) = serve(&["--replay", path.to_str().expect("UTF-8"), "--speed", "0"]);
    let mut client = Zenws::spawn(&["connect", &url]);
    client.expect_stdout("the first message", |line| line == "first");
    client.expect_stdout("the second message", |line| line == "second");
    client.close_stdin();
    let finished = client.wait();
    assert_eq!(finished.code(), 0, "{finished:?}");
    assert!(!finished.stdout.contains("not served"), "{}", finished.stdout);
    stop(server);
}

#[cfg(unix)]
#[test]
fn serves_the_deribit_simulator() {
    let (server, url, _) = serve(&["--deribit"]);
    let finished = run(&["connect", "--request", "public/test", "{}", &url]);
    assert_eq!(finished.code(), 0, "{finished:?}");
    assert!(finished.stdout.contains("version"), "{}", finished.stdout);
    let mut ticker = Zenws::spawn(&["connect", "--subscribe", "ticker.BTC-PERPETUAL.100ms", &url]);
    ticker
        .expect_stdout("a ticker notification", |line| line.contains("ticker.BTC-PERPETUAL.100ms"));
    drop(ticker);
    stop(server);
}
