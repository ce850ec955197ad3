//! Closing from either side: codes, causes, state, and what happens to later calls.

mod support;

use serde_json::json;
use support::{connect, connect_with, next_event, server, within};
use zen_websocket_core::{ConnectionState, DisconnectReason, Error, Event};
use zen_websocket_testing::{DisconnectKind, MockServer, RpcReply, ServerEvent};

/// The close frame the server received from the client.
async fn client_close(server: &MockServer) -> ServerEvent {
    let closed = |event: &ServerEvent| matches!(event, ServerEvent::ClientClosed { .. });
    within(server.wait_for_event(closed, support::WAIT)).await.unwrap()
}

async fn close_sends_1000_and_ends_the_connection(tls: bool) {
    let server = server(tls).await;
    let client = connect(&server).await;
    within(client.close()).await.unwrap();

    let closed = client_close(&server).await;
    assert!(matches!(closed, ServerEvent::ClientClosed { code: Some(1000), .. }), "{closed:?}");
    assert_eq!(client.get_state(), ConnectionState::Disconnected);

    let err = within(client.send_message("too late")).await.unwrap_err();
    assert!(matches!(err, Error::NotConnected(ConnectionState::Disconnected)), "{err:?}");
    let err = within(client.request("public/test", json!({}))).await.unwrap_err();
    assert!(matches!(err, Error::NotConnected(_)), "{err:?}");
    within(client.close()).await.unwrap();

    match next_event(&client).await {
        Event::Disconnected { reason: DisconnectReason::ClientClosed, .. } => {}
        other => panic!("expected Disconnected(ClientClosed), got {other:?}"),
    }
    assert!(within(client.recv()).await.is_none(), "the inbox ends after the last event");
}
on_ws_and_wss!(close_sends_1000_and_ends_the_connection);

#[tokio::test]
async fn a_server_close_1001_surfaces_with_its_code() {
    let server = MockServer::start().await.unwrap();
    let client = connect_with(&server, |config| config.reconnect_on_error(false)).await;
    within(server.wait_for_connections(1, support::WAIT)).await.unwrap();
    within(server.simulate_disconnect(DisconnectKind::GoingAway)).await;
    match next_event(&client).await {
        Event::Disconnected { reason, .. } => {
            assert_eq!(reason.close_code(), Some(1001), "{reason}")
        }
        other => panic!("expected Disconnected, got {other:?}"),
    }
    assert_eq!(client.get_state(), ConnectionState::Disconnected);
}

#[tokio::test]
async fn an_abrupt_reset_surfaces_with_its_cause() {
    let server = MockServer::start().await.unwrap();
    let client = connect_with(&server, |config| config.reconnect_on_error(false)).await;
    within(server.wait_for_connections(1, support::WAIT)).await.unwrap();
    within(server.simulate_disconnect(DisconnectKind::Abrupt)).await;
    match next_event(&client).await {
        Event::Disconnected { reason: DisconnectReason::Error(err), .. } => {
            assert!(err.is_recoverable(), "{err:?}");
            assert!(!zen_websocket_core::ErrorHandler::explain(&err).suggestion.is_empty());
        }
        other => panic!("expected Disconnected with an error, got {other:?}"),
    }
    assert!(within(client.recv()).await.is_none());
}

#[tokio::test]
async fn pending_requests_fail_with_disconnected_when_the_socket_drops() {
    let server = MockServer::builder().rpc_handler(|_| RpcReply::None).start().await.unwrap();
    let client = connect_with(&server, |config| config.reconnect_on_error(false)).await;
    let waiting = tokio::spawn({
        let client = client.clone();
        async move { client.request("public/slow", json!({})).await }
    });
    within(server.assert_message_sent(
        zen_websocket_testing::Matcher::json(json!({"method": "public/slow"})),
        support::WAIT,
    ))
    .await
    .unwrap();
    within(server.simulate_disconnect(DisconnectKind::Abrupt)).await;
    // Disconnected, not a RequestTimeout 30 s later: the waiter failed with the socket.
    let err = within(waiting).await.unwrap().unwrap_err();
    assert!(matches!(err, Error::Disconnected), "{err:?}");
}

#[tokio::test]
async fn messages_sent_during_the_close_handshake_are_delivered() {
    let server = MockServer::start().await.unwrap();
    let client = connect(&server).await;
    within(client.send_message("last words")).await.unwrap();
    within(client.close()).await.unwrap();
    let mut texts = Vec::new();
    while let Some(event) = within(client.recv()).await {
        if let Event::Message(message) = event {
            texts.push(message.as_text().unwrap_or_default().to_owned());
        }
    }
    assert_eq!(texts, ["last words"]);
}

#[tokio::test]
async fn dropping_every_handle_closes_with_1000() {
    let server = MockServer::start().await.unwrap();
    let client = connect(&server).await;
    let copy = client.clone();
    drop(client);
    drop(copy);
    let closed = client_close(&server).await;
    assert!(matches!(closed, ServerEvent::ClientClosed { code: Some(1000), .. }), "{closed:?}");
}
