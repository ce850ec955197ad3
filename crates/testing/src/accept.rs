//! Listening and upgrading: bind, accept TCP, TLS, then the WebSocket handshake (or a refusal).

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::accept_hdr_async_with_config;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode, header};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::connection::{self, Channels, Registration};
use crate::event::{HandshakeRequest, ServerEvent};
use crate::message::ConnectionId;
use crate::ping_tap::PingTap;
use crate::state::Shared;
use crate::tls::TlsMaterial;
use crate::transport::Transport;

/// The largest message (and frame) the server accepts.
const MAX_MESSAGE_SIZE: usize = 64 << 20;

/// Binds a listener with `SO_REUSEADDR`, so a restart can take the same port again at once.
pub(crate) fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

/// Accepts connections until the task is aborted; each one is handled in its own task.
pub(crate) async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        match listener.accept().await {
            Ok((tcp, _)) => shared.spawn(upgrade(Arc::clone(&shared), tcp)),
            Err(error) => {
                // Typically out of file descriptors: back off instead of spinning.
                tracing::warn!(%error, "mock server accept failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// Takes one TCP connection through TLS and the WebSocket handshake, then serves it.
async fn upgrade(shared: Arc<Shared>, tcp: TcpStream) {
    let Some(stream) = secure(&shared, tcp).await else {
        return;
    };
    let settings = shared.settings();
    if settings.stall {
        // Hold the connection open and never answer; `stop` or `Drop` aborts this task.
        let _held = stream;
        return std::future::pending().await;
    }
    let (pings_tx, pings) = mpsc::unbounded_channel();
    let (commands_tx, commands) = mpsc::unbounded_channel();
    let mut outcome = Outcome::Failed;
    // The callback's signature, with its large `Err`, is tungstenite's.
    #[allow(clippy::result_large_err)]
    let callback = |req: &Request, response: Response| match settings.reject {
        Some(status) => {
            let response = rejection(status);
            let status = response.status().as_u16();
            shared.record_event(ServerEvent::HandshakeRejected { status });
            outcome = Outcome::Rejected;
            Err(response)
        }
        None => {
            let registration = Registration::new(&shared, commands_tx.clone(), capture(req));
            outcome = Outcome::Accepted(registration);
            Ok(with_subprotocol(req, response, &settings.subprotocols))
        }
    };
    let tap = PingTap::new(stream, pings_tx);
    let result = accept_hdr_async_with_config(tap, callback, Some(ws_config())).await;
    match (result, outcome) {
        (Ok(ws), Outcome::Accepted(registration)) => {
            if let Some(replay) = &settings.replay {
                replay.start(commands_tx.clone());
            }
            let channels = Channels { pings, commands, commands_tx };
            connection::serve(ws, channels, registration).await;
        }
        (Err(_), Outcome::Accepted(registration)) => {
            // The 101 answer never reached the client.
            shared.record_event(ServerEvent::Dropped { connection: registration.id() });
        }
        (Err(error), Outcome::Failed) => {
            let reason = format!("WebSocket handshake failed: {error}");
            shared.record_event(ServerEvent::HandshakeFailed { reason });
        }
        (_, Outcome::Rejected) | (Ok(_), Outcome::Failed) => {}
    }
}

/// Names, in `response`, the first subprotocol the client offers that the server accepts.
fn with_subprotocol(request: &Request, mut response: Response, accepted: &[String]) -> Response {
    let offered = request
        .headers()
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim);
    let chosen = offered.into_iter().find(|name| accepted.iter().any(|ok| ok == name));
    if let Some(value) = chosen.and_then(|name| HeaderValue::from_str(name).ok()) {
        response.headers_mut().insert(header::SEC_WEBSOCKET_PROTOCOL, value);
    }
    response
}

/// What the handshake callback decided.
enum Outcome {
    /// The callback never ran (the request was invalid) or nothing was decided yet.
    Failed,
    Rejected,
    Accepted(Registration),
}

/// Runs the TLS handshake when the server is `wss://`.
async fn secure(shared: &Shared, tcp: TcpStream) -> Option<Transport> {
    match secure_with(shared.tls.as_ref(), tcp).await {
        Ok(transport) => Some(transport),
        Err(error) => {
            let reason = format!("TLS handshake failed: {error}");
            shared.record_event(ServerEvent::HandshakeFailed { reason });
            None
        }
    }
}

/// Sets `TCP_NODELAY` and, with `tls`, runs the server side of the TLS handshake; shared by
/// every server in the crate.
pub(crate) async fn secure_with(
    tls: Option<&TlsMaterial>,
    tcp: TcpStream,
) -> io::Result<Transport> {
    if let Err(error) = tcp.set_nodelay(true) {
        tracing::debug!(%error, "could not set TCP_NODELAY");
    }
    match tls {
        None => Ok(Transport::Plain(tcp)),
        Some(tls) => Ok(Transport::Tls(Box::new(tls.acceptor.accept(tcp).await?))),
    }
}

/// The WebSocket limits every server in the crate accepts.
pub(crate) fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE_SIZE))
        .max_frame_size(Some(MAX_MESSAGE_SIZE))
}

/// The status actually sent for a rejection: an invalid, 1xx or 2xx status becomes 500.
fn rejection_status(requested: u16) -> u16 {
    StatusCode::from_u16(requested)
        .ok()
        .filter(|status| !status.is_informational() && !status.is_success())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        .as_u16()
}

/// The HTTP answer that refuses an upgrade with `status`.
fn rejection(status: u16) -> ErrorResponse {
    let status =
        StatusCode::from_u16(rejection_status(status)).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let reason = status.canonical_reason().unwrap_or("Error");
    let body = format!("{} {reason}: upgrade rejected by the mock server\n", status.as_u16());
    let mut response = ErrorResponse::new(None);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    if status == StatusCode::TOO_MANY_REQUESTS {
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    *response.body_mut() = Some(body);
    response
}

/// Copies what a test may want to check from the upgrade request (the id is filled in later).
fn capture(request: &Request) -> HandshakeRequest {
    let path = request.uri().path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let headers = request
        .headers()
        .iter()
        .map(|(name, value)| {
            (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned())
        })
        .collect();
    HandshakeRequest { connection: ConnectionId::new(0), path, headers }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejection_statuses() {
        assert_eq!(rejection_status(403), 403);
        assert_eq!(rejection_status(200), 500);
        assert_eq!(rejection_status(42), 500);
        let response = rejection(429);
        assert_eq!(
            response.headers().get(header::RETRY_AFTER).map(|v| v.as_bytes()),
            Some(&b"1"[..])
        );
        assert!(rejection(403).headers().get(header::RETRY_AFTER).is_none());
    }
}
