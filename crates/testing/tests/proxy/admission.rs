//! Admission of new connections: accept, reset at once, refuse (stop listening), and back.

use std::io::ErrorKind;

use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use zen_websocket_testing::Admission;

use crate::support::{WAIT, bounded, connect, next_text, send, start, try_connect};

#[tokio::test]
async fn reset_admission_resets_new_connections_only() {
    let (server, proxy) = start().await;
    let mut open = connect(&proxy, &server).await;

    proxy.set_admission(Admission::Reset).await.expect("reset");
    assert!(try_connect(&proxy, &server).await.is_err(), "the handshake should fail");
    proxy.wait_for_accepted(2, WAIT).await.expect("the second dial was accepted");
    assert_eq!(server.total_connections(), 1, "the upstream never saw the reset dial");
    assert!(!proxy.connections()[1].open);
    send(&mut open, Message::text("still open")).await;
    assert_eq!(next_text(&mut open).await, "still open");

    proxy.set_admission(Admission::Accept).await.expect("accept");
    let _again = connect(&proxy, &server).await;
    assert_eq!(server.total_connections(), 2);
}

#[tokio::test]
async fn refuse_admission_stops_listening_until_accepting_again() {
    let (server, proxy) = start().await;
    let addr = proxy.addr();
    let mut open = connect(&proxy, &server).await;

    proxy.set_admission(Admission::Refuse).await.expect("refuse");
    assert!(!proxy.is_listening());
    let refused = bounded(TcpStream::connect(addr)).await.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::ConnectionRefused);
    send(&mut open, Message::text("still open")).await;
    assert_eq!(next_text(&mut open).await, "still open");

    proxy.set_admission(Admission::Accept).await.expect("listen again");
    assert_eq!(proxy.addr(), addr);
    let _again = connect(&proxy, &server).await;
    assert_eq!(proxy.total_accepted(), 2);
}

#[tokio::test]
async fn an_unreachable_upstream_resets_the_client() {
    let (server, proxy) = start().await;
    server.stop().await;
    assert!(try_connect(&proxy, &server).await.is_err());
    proxy.wait_for_accepted(1, WAIT).await.expect("accepted");
    proxy.wait_for_connection_count(0, WAIT).await.expect("closed");
}
