//! Disconnects: every `DisconnectKind`, and closes and drops started by the client.

use std::io;

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use zen_websocket_testing::{DisconnectKind, MockServer, ServerEvent};

use crate::support::{WAIT, bounded, connect, drain};

/// Disconnects one client the given way; returns the frames the client saw and the events.
async fn disconnect(kind: DisconnectKind) -> (Vec<Result<Message, WsError>>, Vec<ServerEvent>) {
    let server = MockServer::start().await.expect("start");
    let mut ws = connect(&server).await;
    let (closed, frames) = tokio::join!(bounded(server.simulate_disconnect(kind)), drain(&mut ws));
    assert_eq!(closed, 1);
    assert_eq!(server.connection_count(), 0);
    (frames, server.events())
}

async fn graceful(kind: DisconnectKind, code: u16, reason: &str) {
    let (frames, events) = disconnect(kind).await;
    match frames.first() {
        Some(Ok(Message::Close(Some(frame)))) => {
            assert_eq!(u16::from(frame.code), code);
            assert_eq!(frame.reason.as_str(), reason);
        }
        other => panic!("expected a close frame, got {other:?}"),
    }
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ServerEvent::ServerClosed { code: Some(c), .. } if *c == code))
    );
    // The client answered the close handshake.
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ServerEvent::ClientClosed { code: Some(c), .. } if *c == code))
    );
    assert!(!events.iter().any(|e| matches!(e, ServerEvent::Dropped { .. })));
}

#[tokio::test]
async fn normal_sends_1000() {
    graceful(DisconnectKind::Normal, 1000, "").await;
}

#[tokio::test]
async fn going_away_sends_1001() {
    graceful(DisconnectKind::GoingAway, 1001, "").await;
}

#[tokio::test]
async fn code_sends_code_and_reason() {
    graceful(DisconnectKind::Code(4000, "maintenance".into()), 4000, "maintenance").await;
}

#[tokio::test]
async fn abrupt_resets_without_a_close_frame() {
    let (frames, events) = disconnect(DisconnectKind::Abrupt).await;
    assert!(!frames.iter().any(|f| matches!(f, Ok(Message::Close(_)))), "{frames:?}");
    match frames.last() {
        Some(Err(WsError::Io(error))) => assert_eq!(error.kind(), io::ErrorKind::ConnectionReset),
        other => panic!("expected a connection reset, got {other:?}"),
    }
    assert!(events.iter().any(|e| matches!(e, ServerEvent::ServerClosed { code: None, .. })));
}

#[tokio::test]
async fn client_close_code_is_recorded() {
    let server = MockServer::start().await.expect("start");
    let mut ws = connect(&server).await;
    let frame = CloseFrame { code: CloseCode::Normal, reason: "done".into() };
    bounded(ws.close(Some(frame))).await.expect("close");
    let closed = |e: &ServerEvent| matches!(e, ServerEvent::ClientClosed { .. });
    let event = server.wait_for_event(closed, WAIT).await.expect("closed");
    let ServerEvent::ClientClosed { code, reason, .. } = event else { unreachable!() };
    assert_eq!((code, reason.as_str()), (Some(1000), "done"));
    // The server answers the close handshake and ends the stream.
    assert!(matches!(bounded(ws.next()).await, Some(Ok(Message::Close(_))) | None));
    server.wait_for_connection_count(0, WAIT).await.expect("gone");
    assert!(!server.events().iter().any(|e| matches!(e, ServerEvent::Dropped { .. })));
}

#[tokio::test]
async fn client_vanishing_is_recorded_as_dropped() {
    let server = MockServer::start().await.expect("start");
    let mut ws = connect(&server).await;
    bounded(ws.send(Message::text("bye"))).await.expect("send");
    drop(ws);
    let dropped = |e: &ServerEvent| matches!(e, ServerEvent::Dropped { .. });
    server.wait_for_event(dropped, WAIT).await.expect("dropped");
    server.wait_for_connection_count(0, WAIT).await.expect("gone");
}

#[tokio::test]
async fn disconnect_with_no_connections_is_a_no_op() {
    let server = MockServer::start().await.expect("start");
    assert_eq!(server.simulate_disconnect(DisconnectKind::Normal).await, 0);
}
