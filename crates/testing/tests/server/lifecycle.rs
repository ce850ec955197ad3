//! Counting connections, stop, drop and restart on the same port.

use futures_util::StreamExt;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use zen_websocket_testing::{MockServer, Reply, ServerEvent};

use crate::support::{WAIT, bounded, connect, drain, next_text, send_text, try_connect};

#[tokio::test]
async fn counts_open_and_total_connections() {
    let server = MockServer::start().await.expect("start");
    assert_eq!((server.connection_count(), server.total_connections()), (0, 0));
    let a = connect(&server).await;
    let _b = connect(&server).await;
    server.wait_for_connections(2, WAIT).await.expect("two");
    assert_eq!((server.connection_count(), server.total_connections()), (2, 2));
    drop(a);
    server.wait_for_connection_count(1, WAIT).await.expect("one left");
    assert_eq!(server.total_connections(), 2);
    let error =
        server.wait_for_connections(3, std::time::Duration::from_millis(50)).await.unwrap_err();
    assert!(error.to_string().contains("at least 3"), "{error}");
}

#[tokio::test]
async fn stop_closes_with_1001_and_is_idempotent() {
    let server = MockServer::start().await.expect("start");
    let mut ws = connect(&server).await;
    let (_, frames) = tokio::join!(bounded(server.stop()), drain(&mut ws));
    match frames.first() {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(u16::from(frame.code), 1001),
        other => panic!("expected a close frame, got {other:?}"),
    }
    assert!(!server.is_running());
    assert_eq!(server.connection_count(), 0);
    bounded(server.stop()).await;
    assert!(bounded(TcpStream::connect(server.addr())).await.is_err());
}

#[tokio::test]
async fn stop_ends_stalled_handshakes() {
    let server = MockServer::start().await.expect("start");
    server.stall_handshakes(true);
    let tcp = bounded(TcpStream::connect(server.addr())).await.expect("connect");
    let handshake = tokio_tungstenite::client_async(server.url(), tcp);
    let (result, ()) = tokio::join!(bounded(handshake), server.stop());
    assert!(result.is_err());
}

#[tokio::test]
async fn drop_ends_everything() {
    let server = MockServer::start().await.expect("start");
    let addr = server.addr();
    let mut ws = connect(&server).await;
    drop(server);
    // The connection ends without a close frame.
    let frames = drain(&mut ws).await;
    assert!(!frames.iter().any(|f| matches!(f, Ok(Message::Close(_)))), "{frames:?}");
    // Nothing answers upgrades any more.
    let attempt = bounded(async {
        let tcp = TcpStream::connect(addr).await?;
        let url = format!("ws://{addr}");
        tokio_tungstenite::client_async(url, tcp).await.map_err(std::io::Error::other)
    })
    .await;
    assert!(attempt.is_err());
}

#[tokio::test]
async fn restart_listens_on_the_same_port_with_the_same_settings() {
    let server = MockServer::builder()
        .handler(|incoming| {
            Reply::Text(format!("custom {}", incoming.message.text().unwrap_or("")))
        })
        .start()
        .await
        .expect("start");
    let url = server.url();
    let mut first = connect(&server).await;
    server.stop().await;
    assert!(try_connect(&server).await.is_err());
    bounded(server.restart()).await.expect("restart");
    assert_eq!(server.url(), url);
    assert!(matches!(drain(&mut first).await.first(), Some(Ok(Message::Close(_)))));

    let tcp = bounded(TcpStream::connect(server.addr())).await.expect("connect");
    let (mut second, _) =
        bounded(tokio_tungstenite::client_async(url, tcp)).await.expect("upgrade");
    send_text(&mut second, "hi").await;
    assert_eq!(next_text(&mut second).await, "custom hi");
    assert_eq!(server.total_connections(), 2);
    let ids: Vec<_> = server
        .events()
        .iter()
        .filter_map(|e| if let ServerEvent::Connected(id) = e { Some(*id) } else { None })
        .collect();
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1]);
}

#[tokio::test]
async fn restart_while_running_closes_open_connections() {
    let server = MockServer::start().await.expect("start");
    let mut ws = connect(&server).await;
    let (restarted, frames) = tokio::join!(bounded(server.restart()), drain(&mut ws));
    restarted.expect("restart");
    assert!(matches!(frames.first(), Some(Ok(Message::Close(_)))));
    let mut again = connect(&server).await;
    send_text(&mut again, "still echoing").await;
    assert_eq!(
        bounded(again.next()).await.expect("frame").expect("ok"),
        Message::text("still echoing")
    );
}
