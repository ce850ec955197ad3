//! The upgrade reads the server's response head and nothing more: frames that arrive in the
//! same segment as the `101` reach the reader, and a refusal keeps the body that came with it.

mod support;

use support::{next_message, within};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};
use zen_websocket_core::{
    Client, Config, Error, tokio_tungstenite::tungstenite::handshake::derive_accept_key,
};

/// A one-connection server on loopback: reads the upgrade request and answers with
/// `respond(key)` in a single write, then keeps the socket open until the client goes.
async fn one_shot_server(respond: fn(&str) -> Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let key = read_request_key(&mut tcp).await;
        tcp.write_all(&respond(&key)).await.unwrap();
        let mut rest = [0u8; 1024];
        while tcp.read(&mut rest).await.is_ok_and(|read| read > 0) {}
    });
    url
}

/// The request's `Sec-WebSocket-Key`, once its head has been read.
async fn read_request_key(tcp: &mut TcpStream) -> String {
    let mut request = Vec::new();
    while !request.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        tcp.read_exact(&mut byte).await.unwrap();
        request.push(byte[0]);
    }
    let request = String::from_utf8(request).unwrap();
    let line =
        request.lines().find(|line| line.to_ascii_lowercase().starts_with("sec-websocket-key:"));
    line.unwrap().split_once(':').unwrap().1.trim().to_owned()
}

/// An unmasked server text frame.
fn text_frame(text: &str) -> Vec<u8> {
    assert!(text.len() < 126);
    [&[0x81, text.len() as u8][..], text.as_bytes()].concat()
}

fn switching(key: &str, newline: &str) -> Vec<u8> {
    let accept = derive_accept_key(key.as_bytes());
    let head = [
        "HTTP/1.1 101 Switching Protocols",
        "Upgrade: websocket",
        "Connection: Upgrade",
        &format!("Sec-WebSocket-Accept: {accept}"),
        "",
        "",
    ]
    .join(newline);
    [head.into_bytes(), text_frame("first"), text_frame("second")].concat()
}

async fn the_frames_after_the_head_arrive(respond: fn(&str) -> Vec<u8>) {
    let url = one_shot_server(respond).await;
    let client =
        within(Client::connect(&url, Config::default().reconnect_on_error(false))).await.unwrap();
    assert_eq!(next_message(&client).await.as_text(), Some("first"));
    assert_eq!(next_message(&client).await.as_text(), Some("second"));
    drop(client);
}

#[tokio::test]
async fn frames_sent_with_the_upgrade_response_are_not_lost() {
    the_frames_after_the_head_arrive(|key| switching(key, "\r\n")).await;
}

#[tokio::test]
async fn a_head_with_bare_line_feeds_is_read_to_its_end_and_no_further() {
    the_frames_after_the_head_arrive(|key| switching(key, "\n")).await;
}

#[tokio::test]
async fn a_refusal_keeps_the_body_that_came_with_it() {
    let url = one_shot_server(|_| {
        let body = r#"{"error":"slow down"}"#;
        format!(
            "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    })
    .await;
    let err = within(Client::connect(&url, Config::default().reconnect_on_error(false)))
        .await
        .unwrap_err();
    match err {
        Error::HandshakeRejected { status, body, .. } => {
            assert_eq!(status.as_u16(), 429);
            assert_eq!(body.as_deref(), Some(r#"{"error":"slow down"}"#));
        }
        other => panic!("expected HandshakeRejected, got {other:?}"),
    }
}
