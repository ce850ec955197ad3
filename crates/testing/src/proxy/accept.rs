//! Listening: bind on loopback (with the proxy's socket options), accept, admit or reset.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};

use super::fault::Admission;
use super::link::serve;
use super::socket::{SocketOptions, reset};
use super::state::ProxyShared;

/// Binds a listener with `SO_REUSEADDR` (so the port can be taken again after a refusal) and
/// the socket options every accepted socket inherits.
pub(super) fn bind(addr: SocketAddr, options: SocketOptions) -> io::Result<TcpListener> {
    let socket = options.socket(addr)?;
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

/// Accepts connections until the task is aborted; each one is served in its own task.
pub(super) async fn accept_loop(listener: TcpListener, shared: Arc<ProxyShared>) {
    loop {
        match listener.accept().await {
            Ok((tcp, client)) => admit(&shared, tcp, client),
            Err(error) => {
                // Typically out of file descriptors: back off instead of spinning.
                tracing::warn!(%error, "fault proxy accept failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// Registers a new connection, then serves it or resets it at once.
fn admit(shared: &Arc<ProxyShared>, tcp: TcpStream, client: SocketAddr) {
    let link = shared.register(client);
    if shared.admission() == Admission::Reset {
        reset(&tcp);
        drop(tcp);
        drop(link);
        return;
    }
    shared.spawn(serve(Arc::clone(shared), tcp, link));
}
