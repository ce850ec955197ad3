//! Bad input of every kind: each gets its own clear error, never a panic or a hang.

mod support;

use std::time::{Duration, Instant};

use support::{config_for, connect_with, next_event, within};
use zen_websocket_core::{
    Client, Config, ConnectStage, DisconnectReason, Error, ErrorHandler, Event, TlsConfig, rustls,
    tokio_tungstenite::{self, tungstenite},
};
use zen_websocket_testing::MockServer;

/// Connects, expecting failure; checks the error is explained, and returns it.
async fn connect_err(url: &str, config: Config) -> Error {
    let err = within(Client::connect(url, config)).await.expect_err("connect must fail");
    assert_explained(&err);
    err
}

fn assert_explained(err: &Error) {
    let explanation = ErrorHandler::explain(err);
    assert!(!explanation.message.is_empty(), "{err:?}");
    assert!(!explanation.suggestion.is_empty(), "{err:?}");
}

fn invalid_url_reason(err: Error) -> String {
    match err {
        Error::InvalidUrl { reason, .. } => reason,
        other => panic!("expected InvalidUrl, got {other:?}"),
    }
}

#[tokio::test]
async fn empty_url() {
    let reason = invalid_url_reason(connect_err("", Config::default()).await);
    assert!(reason.contains("empty"), "{reason}");
}

#[tokio::test]
async fn url_without_scheme() {
    let reason = invalid_url_reason(connect_err("127.0.0.1:9000/ws", Config::default()).await);
    assert!(reason.contains("scheme"), "{reason}");
}

#[tokio::test]
async fn http_scheme() {
    let reason = invalid_url_reason(connect_err("http://127.0.0.1:9000/", Config::default()).await);
    assert!(reason.contains("ws://"), "{reason}");
}

#[tokio::test]
async fn empty_host() {
    let reason = invalid_url_reason(connect_err("ws://", Config::default()).await);
    assert!(reason.contains("host"), "{reason}");
    let reason = invalid_url_reason(connect_err("ws://:9000/path", Config::default()).await);
    assert!(reason.contains("host"), "{reason}");
}

#[tokio::test]
async fn bad_port() {
    let reason = invalid_url_reason(connect_err("ws://127.0.0.1:70000", Config::default()).await);
    assert!(reason.contains("port"), "{reason}");
    let reason = invalid_url_reason(connect_err("ws://127.0.0.1:0", Config::default()).await);
    assert!(reason.contains("port"), "{reason}");
}

#[tokio::test]
async fn unresolvable_host() {
    let err = connect_err("ws://no-such-host.invalid/ws", Config::default()).await;
    assert!(
        matches!(&err, Error::Resolve { host, .. } if host == "no-such-host.invalid"),
        "{err:?}"
    );
}

#[tokio::test]
async fn connection_refused() {
    // Bind then drop a listener: the port is free and nothing listens on it.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let err = connect_err(&format!("ws://127.0.0.1:{port}"), Config::default()).await;
    assert!(
        matches!(&err, Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused),
        "{err:?}"
    );
    assert!(ErrorHandler::explain(&err).suggestion.contains("listening"));
}

#[tokio::test]
async fn a_listener_that_never_upgrades_times_out_on_time() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    let _held = tokio::spawn(async move {
        let mut sockets = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            sockets.push(socket); // accepted, never answered
        }
    });
    let timeout = Duration::from_millis(300);
    let started = Instant::now();
    let err = connect_err(&url, Config::default().timeout(timeout)).await;
    let elapsed = started.elapsed();
    assert!(
        matches!(err, Error::Timeout { stage: ConnectStage::Upgrade, after } if after == timeout),
        "{err:?}"
    );
    assert!(elapsed >= timeout && elapsed < timeout + Duration::from_millis(250), "{elapsed:?}");
}

#[tokio::test]
async fn handshake_rejections_carry_their_status() {
    let server = MockServer::start().await.unwrap();
    for status in [403u16, 429, 500] {
        server.reject_handshake(Some(status));
        let err = connect_err(&server.url(), Config::default()).await;
        match &err {
            Error::HandshakeRejected { status: got, headers, .. } => {
                assert_eq!(got.as_u16(), status);
                if status == 429 {
                    assert!(headers.contains_key("retry-after"), "{headers:?}");
                }
            }
            other => panic!("expected HandshakeRejected({status}), got {other:?}"),
        }
        assert_eq!(err.is_recoverable(), status != 403, "{status}");
    }
}

#[tokio::test]
async fn a_tls_server_whose_ca_is_not_trusted() {
    let server = MockServer::builder().tls(true).start().await.unwrap();
    let err = connect_err(&server.url(), Config::default()).await;
    assert!(matches!(err, Error::Tls(rustls::Error::InvalidCertificate(_))), "{err:?}");
    assert!(!err.is_recoverable());
    assert!(ErrorHandler::explain(&err).suggestion.contains("add_root_certificate"));
    // The same server is fine once its CA is trusted.
    let trusted = TlsConfig::default()
        .add_root_certificates_pem(&server.ca_certificate_pem().unwrap())
        .unwrap();
    let client =
        within(Client::connect(&server.url(), Config::default().tls(trusted))).await.unwrap();
    within(client.close()).await.unwrap();
}

#[tokio::test]
async fn a_message_over_max_message_size() {
    let server = MockServer::start().await.unwrap();
    let client = connect_with(&server, |config| {
        config.max_message_size(1024).max_frame_size(1024).reconnect_on_error(false)
    })
    .await;
    within(server.wait_for_connections(1, support::WAIT)).await.unwrap();
    server.inject_message("x".repeat(4096)).await;
    match next_event(&client).await {
        Event::Disconnected { reason: DisconnectReason::Error(err), .. } => {
            assert!(matches!(&err, Error::WebSocket(tungstenite::Error::Capacity(_))), "{err:?}");
            assert!(ErrorHandler::explain(&err).suggestion.contains("max_message_size"));
        }
        other => panic!("expected Disconnected with a capacity error, got {other:?}"),
    }
}

#[tokio::test]
async fn invalid_utf8_in_a_text_frame() {
    // A raw server that upgrades, then writes an unmasked text frame holding 0xFF 0xFE.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        let (socket, _) = listener.accept().await.unwrap();
        let mut ws = tokio_tungstenite::accept_async(socket).await.unwrap();
        let raw = ws.get_mut();
        raw.write_all(&[0x81, 0x02, 0xFF, 0xFE]).await.unwrap();
        raw.flush().await.unwrap();
        // Keep the socket open until the client gives up on it.
        let mut sink = [0u8; 64];
        let _ = tokio::io::AsyncReadExt::read(raw, &mut sink).await;
    });
    let client =
        within(Client::connect(&url, Config::default().reconnect_on_error(false))).await.unwrap();
    match next_event(&client).await {
        Event::Disconnected { reason: DisconnectReason::Error(err), .. } => {
            assert!(matches!(&err, Error::WebSocket(tungstenite::Error::Utf8(_))), "{err:?}");
            assert_explained(&err);
        }
        other => panic!("expected Disconnected with a UTF-8 error, got {other:?}"),
    }
}

#[tokio::test]
async fn zero_timeout_is_rejected_before_dialling() {
    let err = connect_err("ws://127.0.0.1:9", Config::default().timeout(Duration::ZERO)).await;
    assert!(matches!(err, Error::InvalidConfig { field: "timeout", .. }), "{err:?}");
}

#[tokio::test]
async fn zero_latency_buffer_is_rejected() {
    let err = connect_err("ws://127.0.0.1:9", Config::default().latency_buffer_size(0)).await;
    assert!(matches!(err, Error::InvalidConfig { field: "latency_buffer_size", .. }), "{err:?}");
}

#[tokio::test]
async fn retry_delay_above_max_backoff_is_rejected() {
    let config =
        Config::default().retry_delay(Duration::from_secs(60)).max_backoff(Duration::from_secs(30));
    let err = connect_err("ws://127.0.0.1:9", config).await;
    assert!(matches!(err, Error::InvalidConfig { field: "retry_delay", .. }), "{err:?}");
    assert!(ErrorHandler::explain(&err).message.contains("max_backoff"));
}

#[tokio::test]
async fn config_errors_win_over_url_errors_and_touch_no_socket() {
    // Both are wrong; the config is checked first, so no socket is ever opened.
    let err = connect_err("not a url", Config::default().timeout(Duration::ZERO)).await;
    assert!(matches!(err, Error::InvalidConfig { .. }), "{err:?}");
    let _ = config_for; // keep the helper import used in every build of this file
}

#[tokio::test]
async fn buffer_sizes_beyond_reason_are_rejected_not_a_panic() {
    let err =
        connect_err("ws://127.0.0.1:9", Config::default().write_buffer_size(usize::MAX)).await;
    assert!(matches!(err, Error::InvalidConfig { field: "write_buffer_size", .. }), "{err:?}");
    let err = connect_err("ws://127.0.0.1:9", Config::default().read_buffer_size(usize::MAX)).await;
    assert!(matches!(err, Error::InvalidConfig { field: "read_buffer_size", .. }), "{err:?}");
}

#[tokio::test]
async fn a_frame_cut_off_mid_way_is_a_lost_connection_not_a_hang() {
    use zen_websocket_testing::{Direction, Fault, FaultProxy};
    let server = MockServer::start().await.unwrap();
    let proxy = FaultProxy::start(server.addr()).await.unwrap();
    let config = Config::default().retry_delay(Duration::from_millis(20));
    let client = within(Client::connect(&proxy.url("ws"), config)).await.unwrap();
    within(proxy.wait_for_connections(1, support::WAIT)).await.unwrap();
    // Only the first 5 bytes of the next chunk towards the client get through, then FIN.
    proxy.apply_all(Fault::truncate(Direction::ServerToClient, 5));
    within(server.inject_message("x".repeat(1000))).await;
    match next_event(&client).await {
        Event::Disconnected { reason: DisconnectReason::Error(err), .. } => assert_explained(&err),
        other => panic!("expected a lost connection, got {other:?}"),
    }
    loop {
        if let Event::Connected = next_event(&client).await {
            break;
        }
    }
    within(client.request("public/test", serde_json::json!({}))).await.unwrap();
}

#[tokio::test]
async fn wss_to_a_plain_server_is_an_explained_error_not_a_hang() {
    let server = MockServer::start().await.unwrap();
    let url = server.url().replace("ws://", "wss://");
    let err = connect_err(&url, Config::default().timeout(Duration::from_secs(3))).await;
    // The plain server hangs up on the TLS hello.
    assert!(matches!(err, Error::Tls(_) | Error::Io(_)), "{err:?}");
}

#[tokio::test]
async fn ws_to_a_tls_server_is_an_explained_error_not_a_hang() {
    let server = MockServer::builder().tls(true).start().await.unwrap();
    let url = server.url().replace("wss://", "ws://");
    let err = connect_err(&url, Config::default().timeout(Duration::from_secs(3))).await;
    // The TLS server answers the upgrade with bytes that are not HTTP.
    assert!(matches!(err, Error::WebSocket(_) | Error::Io(_)), "{err:?}");
}
