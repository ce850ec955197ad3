//! TLS: the generated CA is trusted by clients told about it and refused by others.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use zen_websocket_testing::{MockServer, ServerEvent};

use crate::support::{WAIT, bounded, next, next_text};

fn config_trusting(roots: RootCertStore) -> Arc<ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

fn config_trusting_ca(ca: CertificateDer<'static>) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots.add(ca).expect("CA");
    config_trusting(roots)
}

async fn tls_connect(
    server: &MockServer,
    config: Arc<ClientConfig>,
    name: &str,
) -> std::io::Result<TlsStream<TcpStream>> {
    let name = ServerName::try_from(name.to_owned()).expect("server name");
    let tcp = bounded(TcpStream::connect(server.addr())).await?;
    bounded(TlsConnector::from(config).connect(name, tcp)).await
}

async fn upgrade(
    server: &MockServer,
    tls: TlsStream<TcpStream>,
) -> WebSocketStream<TlsStream<TcpStream>> {
    let (ws, _) =
        bounded(tokio_tungstenite::client_async(server.url(), tls)).await.expect("upgrade");
    ws
}

async fn echo_over(server: &MockServer, config: Arc<ClientConfig>, name: &str) {
    let tls = tls_connect(server, config, name).await.expect("TLS handshake");
    let mut ws = upgrade(server, tls).await;
    bounded(futures_util::SinkExt::send(&mut ws, Message::text("secure"))).await.expect("send");
    assert_eq!(next_text(&mut ws).await, "secure");
}

#[tokio::test]
async fn trusted_ca_connects_by_ip_and_name() {
    let server = MockServer::builder().tls(true).start().await.expect("start");
    assert!(server.url().starts_with("wss://127.0.0.1:"));
    let der = server.ca_certificate().expect("CA");
    echo_over(&server, config_trusting_ca(der), "127.0.0.1").await;
    let pem = server.ca_certificate_pem().expect("PEM");
    let from_pem = CertificateDer::from_pem_slice(pem.as_bytes()).expect("parse PEM");
    echo_over(&server, config_trusting_ca(from_pem), "localhost").await;
    echo_over(&server, server.client_tls_config().expect("config"), "127.0.0.1").await;
}

#[tokio::test]
async fn untrusted_clients_are_refused() {
    let server = MockServer::builder().tls(true).start().await.expect("start");
    let other = MockServer::builder().tls(true).start().await.expect("start");
    let wrong_ca = config_trusting_ca(other.ca_certificate().expect("CA"));
    let error = tls_connect(&server, wrong_ca, "127.0.0.1").await.unwrap_err();
    assert!(error.to_string().contains("certificate"), "{error}");
    let failed = |e: &ServerEvent| matches!(e, ServerEvent::HandshakeFailed { .. });
    server.wait_for_event(failed, WAIT).await.expect("recorded");
    assert_eq!(server.total_connections(), 0);
}

#[tokio::test]
async fn certificate_survives_restart() {
    let server = MockServer::builder().tls(true).start().await.expect("start");
    let before = server.ca_certificate();
    let config = server.client_tls_config().expect("config");
    bounded(server.restart()).await.expect("restart");
    assert_eq!(server.ca_certificate(), before);
    echo_over(&server, config, "127.0.0.1").await;
}

#[tokio::test]
async fn plain_servers_have_no_tls_material() {
    let server = MockServer::start().await.expect("start");
    assert!(!server.is_tls());
    assert!(server.ca_certificate().is_none());
    assert!(server.ca_certificate_pem().is_none());
    assert!(server.client_tls_config().is_none());
}

#[tokio::test]
async fn pings_and_abrupt_disconnects_work_over_tls() {
    let server = MockServer::builder().tls(true).auto_pong(false).start().await.expect("start");
    let tls = tls_connect(&server, server.client_tls_config().expect("config"), "127.0.0.1")
        .await
        .expect("TLS");
    let mut ws = upgrade(&server, tls).await;
    bounded(futures_util::SinkExt::send(&mut ws, Message::Ping(b"x".as_slice().into())))
        .await
        .expect("ping");
    let ping = |e: &ServerEvent| matches!(e, ServerEvent::Ping { .. });
    server.wait_for_event(ping, WAIT).await.expect("ping seen");
    assert_eq!(server.inject_message("marker").await, 1);
    assert_eq!(next(&mut ws).await, Message::text("marker"));
    let (closed, frame) = tokio::join!(
        server.simulate_disconnect(zen_websocket_testing::DisconnectKind::Abrupt),
        bounded(futures_util::StreamExt::next(&mut ws)),
    );
    assert_eq!(closed, 1);
    match frame {
        Some(Err(WsError::Io(error))) => {
            assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset);
        }
        other => panic!("expected a connection reset, got {other:?}"),
    }
}
