//! The proxy's sockets: buffer sizes and segment size set before listening or connecting,
//! dialing the upstream, and resets.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::{TcpSocket, TcpStream};

/// Options set on every socket the proxy opens.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct SocketOptions {
    /// `SO_RCVBUF` and `SO_SNDBUF`.
    pub(super) buffer_size: Option<usize>,
    /// `TCP_MAXSEG`.
    pub(super) max_segment_size: Option<u32>,
}

impl SocketOptions {
    /// A new socket for `addr`'s family with the options set.
    pub(super) fn socket(self, addr: SocketAddr) -> io::Result<TcpSocket> {
        let socket = if addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
        if let Some(size) = self.buffer_size {
            let size = u32::try_from(size).unwrap_or(u32::MAX);
            socket.set_recv_buffer_size(size)?;
            socket.set_send_buffer_size(size)?;
        }
        if let Some(mss) = self.max_segment_size {
            set_max_segment_size(&socket, mss)?;
        }
        Ok(socket)
    }

    /// Connects to `upstream` from a socket with the options set.
    pub(super) async fn dial(self, upstream: SocketAddr) -> io::Result<TcpStream> {
        self.socket(upstream)?.connect(upstream).await
    }
}

/// Sets `TCP_MAXSEG`.
#[cfg(unix)]
fn set_max_segment_size(socket: &TcpSocket, mss: u32) -> io::Result<()> {
    socket2::SockRef::from(socket).set_tcp_mss(mss)
}

/// `TCP_MAXSEG` cannot be set here.
#[cfg(not(unix))]
fn set_max_segment_size(_: &TcpSocket, _: u32) -> io::Result<()> {
    let reason = "the proxy sets TCP_MAXSEG on Unix only";
    Err(io::Error::new(io::ErrorKind::Unsupported, reason))
}

/// Makes the coming close of `tcp` a reset (`SO_LINGER` 0).
pub(super) fn reset(tcp: &TcpStream) {
    if let Err(error) = socket2::SockRef::from(tcp).set_linger(Some(Duration::ZERO)) {
        tracing::warn!(%error, "could not set SO_LINGER; the close will not be a reset");
    }
}
