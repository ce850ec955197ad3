//! Failures end `zenws` with the documented exit code and an explanation on stderr.

mod common;

use std::net::TcpListener;

use common::{run, runtime, scratch};
use zen_websocket::testing::{MockServer, RpcReply};

/// Not a WebSocket URL: usage error (2), explained with a fix.
#[test]
fn a_bad_url_exits_2() {
    let finished = run(&["connect", "http://x"]);
    assert_eq!(finished.code(), 2, "{finished:?}");
    assert!(finished.stderr.contains("is not a WebSocket scheme"), "{}", finished.stderr);
    assert!(finished.stderr.contains("fix: "), "{}", finished.stderr);
}

/// Nothing listens on the port: connect error (3).
#[test]
fn a_refused_port_exits_3() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a port");
        listener.local_addr().expect("its address").port()
    };
    let finished = run(&["connect", &format!("ws://127.0.0.1:{port}")]);
    assert_eq!(finished.code(), 3, "{finished:?}");
    assert!(finished.stderr.contains("refused"), "{}", finished.stderr);
}

/// The server refuses the upgrade with 429: connect error (3), the status explained.
#[test]
fn a_rejected_handshake_exits_3() {
    let rt = runtime();
    let server = rt.block_on(MockServer::start()).expect("start the server");
    server.reject_handshake(Some(429));
    let finished = run(&["connect", &server.url()]);
    assert_eq!(finished.code(), 3, "{finished:?}");
    assert!(finished.stderr.contains("429"), "{}", finished.stderr);
}

/// `--request` answered with a JSON-RPC error: protocol error (4), the error explained.
#[test]
fn a_json_rpc_error_exits_4() {
    let rt = runtime();
    let server = rt
        .block_on(
            MockServer::builder()
                .rpc_handler(|request| match request.method.as_str() {
                    "private/buy" => RpcReply::error(13009, "unauthorized"),
                    _ => RpcReply::Default,
                })
                .start(),
        )
        .expect("start the server");
    let finished = run(&["connect", "--request", "private/buy", "{}", &server.url()]);
    assert_eq!(finished.code(), 4, "{finished:?}");
    assert!(finished.stderr.contains("13009"), "{}", finished.stderr);
    assert!(finished.stdout.is_empty(), "no result printed: {}", finished.stdout);
}

/// `--request` params that are not JSON: usage error (2) before any connection.
#[test]
fn request_params_must_be_json() {
    let finished = run(&["connect", "--request", "public/test", "{nope", "ws://127.0.0.1:9"]);
    assert_eq!(finished.code(), 2, "{finished:?}");
    assert!(finished.stderr.contains("not JSON"), "{}", finished.stderr);
}

/// Flag values are checked by their parsers: usage error (2).
#[test]
fn bad_flag_values_exit_2() {
    for args in [
        ["connect", "--heartbeat", "beep:1s", "ws://127.0.0.1:9"],
        ["connect", "--retry-delay", "10 parsecs", "ws://127.0.0.1:9"],
        ["connect", "--rate-limit", "0/s", "ws://127.0.0.1:9"],
    ] {
        let finished = run(&args);
        assert_eq!(finished.code(), 2, "{args:?}: {finished:?}");
    }
}

/// A recording that cannot be read: file error (6).
#[test]
fn a_missing_recording_exits_6() {
    let missing = scratch("missing.jsonl");
    for command in ["inspect", "replay"] {
        let finished = run(&[command, missing.to_str().expect("UTF-8")]);
        assert_eq!(finished.code(), 6, "{command}: {finished:?}");
        assert!(finished.stderr.contains("missing.jsonl"), "{}", finished.stderr);
    }
}
