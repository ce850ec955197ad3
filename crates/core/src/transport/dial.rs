//! Dials an endpoint: resolve, TCP (no Nagle), optional TLS, then the WebSocket upgrade.

use std::{future::Future, io, net::SocketAddr};

use rustls::pki_types::ServerName;
use tokio::{
    net::TcpStream,
    time::{Instant, timeout_at},
};
use tokio_rustls::{TlsConnector, client::TlsStream};
use tokio_tungstenite::{
    WebSocketStream, client_async_with_config,
    tungstenite::{
        self,
        client::IntoClientRequest,
        handshake::client::{Request, Response},
        http,
        protocol::Role,
    },
};
use tokio_util::either::Either;

use super::{Endpoint, metered::Metered};
use crate::{
    config::Config,
    error::{ConnectStage, Error, Result},
};

/// The byte stream under a connection: plain TCP or TLS over TCP.
///
/// The TLS side is boxed: its session state is large, and a plain connection should not
/// reserve room for it in every connection task.
pub(crate) type Transport = Either<TcpStream, Box<TlsStream<TcpStream>>>;

/// An upgraded WebSocket connection, counting the bytes it writes.
pub(crate) type WsStream = WebSocketStream<Metered<Transport>>;

/// Longest handshake-rejection body kept in [`Error::HandshakeRejected`].
const MAX_REJECTION_BODY: usize = 4096;

/// Opens a WebSocket to `endpoint`, all steps together bounded by `config.timeout`; returns it
/// with the subprotocol the server chose, if any.
pub(crate) async fn dial(
    endpoint: &Endpoint,
    config: &Config,
) -> Result<(WsStream, Option<String>)> {
    if let Some(opens) = &config.open_limiter {
        opens.acquire(1).await?;
    }
    let deadline = Instant::now() + config.timeout;
    let bound = Bound { deadline, config };
    let addrs = bound.run(ConnectStage::Resolve, resolve(endpoint)).await?;
    let tcp = bound.run(ConnectStage::Tcp, connect_any(&addrs)).await?;
    tune(&tcp, config)?;
    let transport = if endpoint.secure {
        Either::Right(Box::new(
            bound.run(ConnectStage::Tls, tls_handshake(endpoint, config, tcp)).await?,
        ))
    } else {
        Either::Left(tcp)
    };
    let request = upgrade_request(endpoint, config)?;
    let mut stream = Metered::upgrading(transport);
    let response = bound.run(ConnectStage::Upgrade, upgrade(&mut stream, request, config)).await?;
    // The handshake read nothing past the response head, so the connection starts here with
    // its own buffers (`read_buffer_size`), not the handshake's.
    stream.upgraded();
    let ws =
        WebSocketStream::from_raw_socket(stream, Role::Client, Some(config.websocket_config()))
            .await;
    let subprotocol = response
        .headers()
        .get(http::header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    Ok((ws, subprotocol))
}

/// The HTTP upgrade over `stream`, which hands tungstenite the response head and nothing
/// more. The handshake's WebSocket, built on its own 4 KiB read buffer, is dropped with nothing
/// in it.
async fn upgrade(
    stream: &mut Metered<Transport>,
    request: Request,
    config: &Config,
) -> Result<Response> {
    // The handshake future holds tungstenite's buffers: keep it on the heap for the handshake
    // only, so no task that may dial carries that size for its whole life.
    let handshake =
        Box::pin(client_async_with_config(request, &mut *stream, Some(config.websocket_config())));
    match handshake.await {
        Ok((_, response)) => Ok(response),
        Err(tungstenite::Error::Http(mut response)) => {
            // The body is what arrived with the head, as tungstenite itself would keep it.
            let body = response.body_mut().get_or_insert_with(Vec::new);
            if body.is_empty() {
                *body = stream.read_past_head(MAX_REJECTION_BODY);
            }
            Err(from_upgrade_error(tungstenite::Error::Http(response), config))
        }
        Err(err) => Err(from_upgrade_error(err, config)),
    }
}

/// The shared deadline of one dial.
struct Bound<'a> {
    deadline: Instant,
    config: &'a Config,
}

impl Bound<'_> {
    async fn run<T>(
        &self,
        stage: ConnectStage,
        step: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        match timeout_at(self.deadline, step).await {
            Ok(result) => result,
            Err(_) => Err(Error::Timeout { stage, after: self.config.timeout }),
        }
    }
}

async fn resolve(endpoint: &Endpoint) -> Result<Vec<SocketAddr>> {
    let resolve_error = |source: io::Error| Error::Resolve { host: endpoint.host.clone(), source };
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((endpoint.host.as_str(), endpoint.port))
        .await
        .map_err(resolve_error)?
        .collect();
    if addrs.is_empty() {
        return Err(resolve_error(io::Error::new(io::ErrorKind::NotFound, "no addresses found")));
    }
    Ok(addrs)
}

/// Tries each resolved address in order; the first that accepts wins.
async fn connect_any(addrs: &[SocketAddr]) -> Result<TcpStream> {
    let mut last_error = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(stream) => return Ok(stream),
            Err(err) => last_error = Some(err),
        }
    }
    Err(Error::Io(last_error.unwrap_or_else(|| io::ErrorKind::NotFound.into())))
}

/// No Nagle delay, and TCP keepalive probes so a silent dead peer is noticed even when the
/// WebSocket heartbeat is off.
fn tune(tcp: &TcpStream, config: &Config) -> Result<()> {
    tcp.set_nodelay(true)?;
    if let Some(idle) = config.tcp_keepalive {
        let keepalive = socket2::TcpKeepalive::new()
            .with_time(idle)
            .with_interval(KEEPALIVE_INTERVAL.min(idle))
            .with_retries(KEEPALIVE_PROBES);
        socket2::SockRef::from(tcp).set_tcp_keepalive(&keepalive)?;
    }
    Ok(())
}

/// Time between TCP keepalive probes once the connection has been idle for
/// [`Config::tcp_keepalive`].
pub(crate) const KEEPALIVE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(10);

/// Unanswered keepalive probes after which the kernel drops the connection.
pub(crate) const KEEPALIVE_PROBES: u32 = 3;

async fn tls_handshake(
    endpoint: &Endpoint,
    config: &Config,
    tcp: TcpStream,
) -> Result<TlsStream<TcpStream>> {
    let server_name =
        ServerName::try_from(endpoint.host.clone()).map_err(|_| Error::InvalidUrl {
            url: config.redaction.redact_url(endpoint.url.as_str()),
            reason: "the host is not a valid TLS server name".into(),
        })?;
    let connector = TlsConnector::from(config.tls.client_config()?);
    connector.connect(server_name, tcp).await.map_err(Error::from_tls_io)
}

fn upgrade_request(endpoint: &Endpoint, config: &Config) -> Result<Request> {
    let mut request = endpoint.url.as_str().into_client_request().map_err(Error::WebSocket)?;
    for (name, value) in &config.headers {
        let invalid = || Error::InvalidConfig {
            field: "headers",
            reason: format!("has an invalid header {name:?}"),
        };
        let name = http::HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid())?;
        let value = http::HeaderValue::from_str(value).map_err(|_| invalid())?;
        request.headers_mut().append(name, value);
    }
    if !config.subprotocols.is_empty() {
        let offered = config.subprotocols.join(", ");
        let value = http::HeaderValue::from_str(&offered).map_err(|_| Error::InvalidConfig {
            field: "subprotocols",
            reason: format!("cannot be sent as a header: {offered:?}"),
        })?;
        request.headers_mut().insert(http::header::SEC_WEBSOCKET_PROTOCOL, value);
    }
    Ok(request)
}

fn from_upgrade_error(err: tungstenite::Error, config: &Config) -> Error {
    match err {
        tungstenite::Error::Http(response) => {
            let (mut parts, body) = (*response).into_parts();
            redact_headers(&mut parts.headers, config);
            let body = body.filter(|body| !body.is_empty()).map(|mut body| {
                body.truncate(MAX_REJECTION_BODY);
                let text = String::from_utf8_lossy(&body);
                config.redaction.redact_text(&text).into_owned()
            });
            Error::HandshakeRejected {
                status: parts.status,
                headers: Box::new(parts.headers),
                body,
            }
        }
        tungstenite::Error::Io(io) => Error::Io(io),
        other => Error::WebSocket(other),
    }
}

/// Blanks secret header values (`Set-Cookie`…) so the error never shows them, in `Debug` or
/// anywhere else.
fn redact_headers(headers: &mut http::HeaderMap, config: &Config) {
    use zen_websocket_recorder::Redaction;
    let placeholder = http::HeaderValue::from_static(Redaction::PLACEHOLDER);
    for (name, value) in headers.iter_mut() {
        if config.redaction.redact_header(name.as_str(), "") == Redaction::PLACEHOLDER {
            *value = placeholder.clone();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sockets_get_no_delay_and_the_default_keepalive() {
        let server = zen_websocket_testing::MockServer::start().await.unwrap();
        let endpoint =
            Endpoint::parse(&server.url(), &zen_websocket_recorder::Redaction::default()).unwrap();
        let (ws, _) = dial(&endpoint, &Config::default()).await.unwrap();
        let Either::Left(tcp) = ws.get_ref().get_ref() else { panic!("a plain socket") };
        let socket = socket2::SockRef::from(tcp);
        assert!(socket.tcp_nodelay().unwrap());
        assert!(socket.keepalive().unwrap());
        assert_eq!(socket.tcp_keepalive_time().unwrap(), std::time::Duration::from_secs(30));
        assert_eq!(socket.tcp_keepalive_interval().unwrap(), KEEPALIVE_INTERVAL);
        assert_eq!(socket.tcp_keepalive_retries().unwrap(), KEEPALIVE_PROBES);

        let off = Config::default().tcp_keepalive(None);
        let (ws, _) = dial(&endpoint, &off).await.unwrap();
        let Either::Left(tcp) = ws.get_ref().get_ref() else { panic!("a plain socket") };
        assert!(!socket2::SockRef::from(tcp).keepalive().unwrap());
    }

    #[test]
    fn a_rejection_keeps_retry_after_and_hides_cookies() {
        let response = http::Response::builder()
            .status(429)
            .header("Retry-After", "3")
            .header("Set-Cookie", "session=abc123")
            .body(Some(br#"{"error":"slow down","access_token":"abc123"}"#.to_vec()))
            .unwrap();
        let err =
            from_upgrade_error(tungstenite::Error::Http(Box::new(response)), &Config::default());
        let shown = format!("{err:?} {err}");
        assert!(!shown.contains("abc123"), "{shown}");
        match err {
            Error::HandshakeRejected { headers, .. } => {
                assert_eq!(headers["retry-after"], "3");
                assert_eq!(headers["set-cookie"], "[REDACTED]");
            }
            other => panic!("{other:?}"),
        }
    }
}
