//! One proxied connection: dial the upstream, pump both directions, end the way asked.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::{join, try_join};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::fault::Side;
use super::pump::{Pipe, pump};
use super::socket::reset;
use super::state::{Control, Ending, ProxyShared, Registration};

/// The longest the proxy waits for the upstream to accept a connection.
const DIAL_TIMEOUT: Duration = Duration::from_secs(10);
/// After a FIN, how long the proxy keeps reading (and discarding) until both peers close.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// Serves one accepted client connection until it ends.
pub(super) async fn serve(shared: Arc<ProxyShared>, client: TcpStream, mut link: Registration) {
    run(&shared, client, &mut link).await;
    // `link` is dropped only now, after both sockets: a connection counts as open until then.
}

async fn run(shared: &ProxyShared, mut client: TcpStream, link: &mut Registration) {
    let dialing = shared.sockets.dial(shared.upstream);
    let upstream = tokio::select! {
        dialed = tokio::time::timeout(DIAL_TIMEOUT, dialing) => dialed,
        _ = requested(&mut link.control) => return reset(&client),
    };
    let mut upstream = match upstream {
        Ok(Ok(upstream)) => upstream,
        Ok(Err(error)) => {
            tracing::debug!(%error, link = %link.id, "fault proxy could not reach the upstream");
            return reset(&client);
        }
        Err(_) => return reset(&client),
    };
    for tcp in [&client, &upstream] {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
    }
    let ending = forward(&mut client, &mut upstream, link).await;
    finish(client, upstream, ending).await;
}

/// Pumps both directions until both ends closed (`None`) or the connection must end.
async fn forward(
    client: &mut TcpStream,
    upstream: &mut TcpStream,
    link: &Registration,
) -> Option<Ending> {
    let (client_read, client_write) = client.split();
    let (upstream_read, upstream_write) = upstream.split();
    let control = &link.control;
    let counters = &link.counters;
    let there = Pipe { side: Side::ClientToServer, counters, control };
    let back = Pipe { side: Side::ServerToClient, counters, control };
    let pumps =
        try_join(pump(there, client_read, upstream_write), pump(back, upstream_read, client_write));
    let mut asked = link.control.clone();
    tokio::select! {
        pumped = pumps => pumped.err(),
        ending = requested(&mut asked) => Some(ending),
    }
}

/// Waits until the test asks the connection to end (forever once the proxy is gone).
async fn requested(control: &mut watch::Receiver<Control>) -> Ending {
    let asked = control.wait_for(|control| control.end.is_some()).await.ok().and_then(|c| c.end);
    match asked {
        Some(ending) => ending,
        None => std::future::pending().await,
    }
}

/// Ends the connection: nothing more to do, a FIN to both peers, or a reset of both.
async fn finish(client: TcpStream, upstream: TcpStream, ending: Option<Ending>) {
    match ending {
        None => {}
        Some(Ending::Reset) => {
            reset(&client);
            reset(&upstream);
        }
        Some(Ending::Close) => {
            let closing = join(close(client), close(upstream));
            let _ = tokio::time::timeout(CLOSE_GRACE, closing).await;
        }
    }
}

/// Sends a FIN, then reads and discards until the peer closes too (so closing the socket does
/// not turn into a reset because of unread bytes).
async fn close(mut tcp: TcpStream) {
    let _ = tcp.shutdown().await;
    let mut buf = vec![0; 16 * 1024];
    while let Ok(n) = tcp.read(&mut buf).await {
        if n == 0 {
            break;
        }
    }
}
