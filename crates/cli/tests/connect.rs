//! `zenws connect` against a real `MockServer` on 127.0.0.1: echoes, reconnection with
//! restored subscriptions, recordings read back by `zenws inspect`, `--json`, Ctrl-C, and the
//! exit code of a connection gone for good.

mod common;

use common::{Zenws, count_directions, field, run, runtime, scratch};
use serde_json::Value;
use zen_websocket::testing::{MockServer, ServerEvent};

/// How many `public/subscribe` requests for `channel` the server received.
fn subscribes(server: &MockServer, channel: &str) -> usize {
    server
        .received()
        .iter()
        .filter_map(|message| message.json())
        .filter(|json| json["method"] == "public/subscribe")
        .filter(|json| {
            json["params"]["channels"].as_array().is_some_and(|c| c.iter().any(|c| c == channel))
        })
        .count()
}

/// Restarts `server` on its port. While it is down another socket of this machine (a test
/// running alongside) may briefly hold the port as its local end; bind again until it is free.
fn restart(rt: &tokio::runtime::Runtime, server: &MockServer) {
    let mut attempts = 0;
    while let Err(err) = rt.block_on(server.restart()) {
        attempts += 1;
        assert!(attempts < 50, "cannot restart the server on its port: {err}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// Stdin lines are sent and echoed back to stdout; a server restart on the same port is
/// survived (stderr tells the reconnection) and the subscription is sent again; the
/// recording's in/out counts read back by `zenws inspect` match the file.
#[test]
fn echoes_reconnects_resubscribes_and_records() {
    let rt = runtime();
    let server = rt.block_on(MockServer::start()).expect("start the server");
    let recording = scratch("session.jsonl");
    let mut zenws = Zenws::spawn(&[
        "connect",
        "--subscribe",
        "ticker.BTC-PERPETUAL.100ms",
        "--retries",
        "50",
        "--retry-delay",
        "100ms",
        "--record",
        recording.to_str().expect("a UTF-8 path"),
        &server.url(),
    ]);
    zenws.expect_stderr("saying it subscribed", |line| line.contains("subscribed to ticker.BTC"));
    zenws.send_line("hello before");
    zenws.expect_stdout("echoing `hello before`", |line| line == "hello before");

    restart(&rt, &server);
    zenws.expect_stderr("telling the reconnection", |line| line.contains("reconnecting"));
    zenws.expect_stderr("telling it is connected again", |line| line.contains("connected again"));
    assert_eq!(
        subscribes(&server, "ticker.BTC-PERPETUAL.100ms"),
        2,
        "subscribed once per connection"
    );

    zenws.send_line("hello after");
    zenws.expect_stdout("echoing `hello after`", |line| line == "hello after");
    zenws.close_stdin();
    let finished = zenws.wait();
    assert_eq!(finished.code(), 0, "{finished:?}");

    let (inbound, outbound) = count_directions(&recording);
    // Out: two subscribes, two lines, the close; in: two confirmations, two echoes, two closes.
    assert!(outbound >= 5 && inbound >= 6, "in {inbound}, out {outbound}");
    let report = run(&["inspect", recording.to_str().expect("a UTF-8 path")]);
    assert_eq!(report.code(), 0, "{report:?}");
    assert_eq!(field(&report.stdout, "inbound"), inbound, "{}", report.stdout);
    assert_eq!(field(&report.stdout, "outbound"), outbound, "{}", report.stdout);
    assert_eq!(field(&report.stdout, "frames"), inbound + outbound, "{}", report.stdout);
}

/// With `--json` a line that is not JSON is explained on stderr and not sent; JSON lines are.
#[test]
fn json_lines_are_checked_before_sending() {
    let rt = runtime();
    let server = rt.block_on(MockServer::start()).expect("start the server");
    let mut zenws = Zenws::spawn(&["connect", "--json", &server.url()]);
    zenws.expect_stderr("saying it connected", |line| line.contains("connected to"));
    zenws.send_line("this is not json");
    zenws.expect_stderr("explaining the skipped line", |line| line.contains("not JSON"));
    zenws.send_line(r#"{"op":"ping"}"#);
    let echoed = zenws.expect_stdout("echoing the JSON line", |line| line.contains("ping"));
    assert_eq!(
        serde_json::from_str::<Value>(&echoed).ok(),
        Some(serde_json::json!({"op": "ping"}))
    );
    zenws.close_stdin();
    let finished = zenws.wait();
    assert_eq!(finished.code(), 0, "{finished:?}");
    let sent: Vec<_> =
        server.received().iter().filter_map(|m| m.text().map(str::to_owned)).collect();
    assert_eq!(sent, [r#"{"op":"ping"}"#], "only the JSON line went out");
}

/// `--request` prints the result and exits 0 (the MockServer echoes params as the result).
#[test]
fn request_prints_the_result() {
    let rt = runtime();
    let server = rt.block_on(MockServer::start()).expect("start the server");
    let finished = run(&["connect", "--request", "public/echo", r#"{"n":42}"#, &server.url()]);
    assert_eq!(finished.code(), 0, "{finished:?}");
    assert_eq!(finished.stdout.trim(), r#"{"n":42}"#);
}

/// A server that goes away for good with `--retries 0`: exit 5, explained.
#[test]
fn server_gone_for_good_exits_5() {
    let rt = runtime();
    let server = rt.block_on(MockServer::start()).expect("start the server");
    let mut zenws = Zenws::spawn(&["connect", "--retries", "0", &server.url()]);
    zenws.expect_stderr("saying it connected", |line| line.contains("connected to"));
    rt.block_on(server.stop());
    let finished = zenws.wait();
    assert_eq!(finished.code(), 5, "{finished:?}");
    assert!(finished.stderr.contains("1001"), "the close code is told: {}", finished.stderr);
}

/// Reconnection that gives up (the server stays down): exit 5, with the attempts told.
#[test]
fn reconnection_giving_up_exits_5() {
    let rt = runtime();
    let server = rt.block_on(MockServer::start()).expect("start the server");
    let mut zenws =
        Zenws::spawn(&["connect", "--retries", "2", "--retry-delay", "50ms", &server.url()]);
    zenws.expect_stderr("saying it connected", |line| line.contains("connected to"));
    rt.block_on(server.stop());
    let finished = zenws.wait();
    assert_eq!(finished.code(), 5, "{finished:?}");
    assert!(finished.stderr.contains("gave up after 2 attempt"), "{}", finished.stderr);
}

/// Ctrl-C: a close frame with code 1000 reaches the server, the recording is flushed to its
/// last frame, and the exit code is 130.
#[cfg(unix)]
#[test]
fn ctrl_c_closes_cleanly_and_exits_130() {
    let rt = runtime();
    let server = rt.block_on(MockServer::start()).expect("start the server");
    let recording = scratch("interrupted.jsonl");
    let mut zenws =
        Zenws::spawn(&["connect", "--record", recording.to_str().expect("UTF-8"), &server.url()]);
    zenws.send_line("before ctrl-c");
    zenws.expect_stdout("echoing the line", |line| line == "before ctrl-c");
    common::interrupt(zenws.id());
    let finished = zenws.wait();
    assert_eq!(finished.code(), 130, "{finished:?}");
    let closed = server
        .events()
        .iter()
        .any(|event| matches!(event, ServerEvent::ClientClosed { code: Some(1000), .. }));
    assert!(closed, "no close frame 1000: {:?}", server.events());
    let text = std::fs::read_to_string(&recording).expect("read the recording");
    let entries: Vec<Value> =
        text.lines().filter_map(|line| serde_json::from_str(line).ok()).collect();
    let close_sent = entries
        .iter()
        .any(|e| e["dir"] == "out" && e["type"] == "close" && e["data"]["code"] == 1000);
    assert!(close_sent, "the close frame is in the recording: {text}");
    assert!(text.contains("before ctrl-c"));
}
