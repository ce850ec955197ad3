//! Handshake faults: rejection with an HTTP status, stalls; and recorded upgrade requests.

use std::time::Duration;

use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use zen_websocket_testing::{MockServer, ServerEvent};

use crate::support::{WAIT, bounded, connect, try_connect};

#[tokio::test]
async fn rejected_upgrades_show_the_status() {
    let server = MockServer::start().await.expect("start");
    for status in [403_u16, 429, 500] {
        server.reject_handshake(Some(status));
        let Err(WsError::Http(response)) = try_connect(&server).await else {
            panic!("expected HTTP {status}");
        };
        assert_eq!(response.status().as_u16(), status);
        let retry_after = response.headers().get("retry-after").map(|v| v.as_bytes().to_vec());
        assert_eq!(retry_after.as_deref(), (status == 429).then_some(&b"1"[..]));
        let rejected = |e: &ServerEvent| *e == ServerEvent::HandshakeRejected { status };
        server.wait_for_event(rejected, WAIT).await.expect("recorded");
    }
    assert_eq!(server.total_connections(), 0);
    server.reject_handshake(None);
    let _ws = connect(&server).await;
    assert_eq!(server.total_connections(), 1);
}

#[tokio::test]
async fn stalled_upgrades_never_answer() {
    let server = MockServer::start().await.expect("start");
    server.stall_handshakes(true);
    let tcp = bounded(TcpStream::connect(server.addr())).await.expect("TCP is accepted");
    let handshake = tokio_tungstenite::client_async(server.url(), tcp);
    let stalled = tokio::time::timeout(Duration::from_millis(300), handshake).await;
    assert!(stalled.is_err(), "the handshake should still be pending");
    assert_eq!(server.total_connections(), 0);
    server.stall_handshakes(false);
    let _ws = connect(&server).await;
    assert_eq!(server.connection_count(), 1);
}

#[tokio::test]
async fn upgrade_requests_are_recorded() {
    let server = MockServer::start().await.expect("start");
    let url = format!("{}/ws/api/v2?client=test", server.url());
    let mut request = url.into_client_request().expect("request");
    request.headers_mut().insert("x-api-key", HeaderValue::from_static("secret"));
    let tcp = bounded(TcpStream::connect(server.addr())).await.expect("connect");
    let (_ws, response) =
        bounded(tokio_tungstenite::client_async(request, tcp)).await.expect("handshake");
    assert_eq!(response.status().as_u16(), 101);
    let handshakes = server.handshakes();
    assert_eq!(handshakes.len(), 1);
    assert_eq!(handshakes[0].path, "/ws/api/v2?client=test");
    assert_eq!(handshakes[0].header("X-Api-Key"), Some("secret"));
    assert_eq!(server.events(), [ServerEvent::Connected(handshakes[0].connection)]);
}

#[tokio::test]
async fn garbage_instead_of_an_upgrade_is_recorded_as_failed() {
    use tokio::io::AsyncWriteExt;

    let server = MockServer::start().await.expect("start");
    let mut tcp = bounded(TcpStream::connect(server.addr())).await.expect("connect");
    bounded(tcp.write_all(b"POST / HTTP/1.1\r\nHost: x\r\n\r\n")).await.expect("write");
    let failed = |e: &ServerEvent| matches!(e, ServerEvent::HandshakeFailed { .. });
    server.wait_for_event(failed, WAIT).await.expect("failed");
    assert_eq!(server.total_connections(), 0);
}
