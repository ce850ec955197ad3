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
    tungstenite::{self, client::IntoClientRequest, handshake::client::Request, http},
};
use tokio_util::either::Either;

use super::Endpoint;
use crate::{
    config::Config,
    error::{ConnectStage, Error, Result},
};

/// The byte stream under a connection: plain TCP or TLS over TCP.
///
/// The TLS side is boxed: its session state is large, and a plain connection should not
/// reserve room for it in every connection task.
pub(crate) type Transport = Either<TcpStream, Box<TlsStream<TcpStream>>>;

/// An upgraded WebSocket connection.
pub(crate) type WsStream = WebSocketStream<Transport>;

/// Longest handshake-rejection body kept in [`Error::HandshakeRejected`].
const MAX_REJECTION_BODY: usize = 4096;

/// Opens a WebSocket to `endpoint`, all steps together bounded by `config.timeout`; returns it
/// with the subprotocol the server chose, if any.
pub(crate) async fn dial(
    endpoint: &Endpoint,
    config: &Config,
) -> Result<(WsStream, Option<String>)> {
    let deadline = Instant::now() + config.timeout;
    let bound = Bound { deadline, config };
    let addrs = bound.run(ConnectStage::Resolve, resolve(endpoint)).await?;
    let tcp = bound.run(ConnectStage::Tcp, connect_any(&addrs)).await?;
    let transport = if endpoint.secure {
        Either::Right(Box::new(
            bound.run(ConnectStage::Tls, tls_handshake(endpoint, config, tcp)).await?,
        ))
    } else {
        Either::Left(tcp)
    };
    let request = upgrade_request(endpoint, config)?;
    // The handshake future holds tungstenite's buffers (tens of KiB): keep it on the heap for
    // the handshake only, so no task that may dial carries that size for its whole life.
    let upgrade =
        Box::pin(client_async_with_config(request, transport, Some(config.websocket_config())));
    let (ws, response) = bound
        .run(ConnectStage::Upgrade, async { upgrade.await.map_err(from_upgrade_error) })
        .await?;
    let subprotocol = response
        .headers()
        .get(http::header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    Ok((ws, subprotocol))
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
            Ok(stream) => {
                stream.set_nodelay(true)?;
                return Ok(stream);
            }
            Err(err) => last_error = Some(err),
        }
    }
    Err(Error::Io(last_error.unwrap_or_else(|| io::ErrorKind::NotFound.into())))
}

async fn tls_handshake(
    endpoint: &Endpoint,
    config: &Config,
    tcp: TcpStream,
) -> Result<TlsStream<TcpStream>> {
    let server_name =
        ServerName::try_from(endpoint.host.clone()).map_err(|_| Error::InvalidUrl {
            url: endpoint.url.to_string(),
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

fn from_upgrade_error(err: tungstenite::Error) -> Error {
    match err {
        tungstenite::Error::Http(response) => {
            let (parts, body) = (*response).into_parts();
            let body = body.filter(|body| !body.is_empty()).map(|mut body| {
                body.truncate(MAX_REJECTION_BODY);
                String::from_utf8_lossy(&body).into_owned()
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
