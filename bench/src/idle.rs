//! The `idle` sub-command: one measuring process per memory row. It opens `count` connections
//! of one kind, reads its own `VmRSS` before and after, prints the figures as one JSON line,
//! then closes everything.

use std::{
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::{
    io::{AsyncRead, AsyncWrite},
    sync::{Semaphore, watch},
    task::{JoinHandle, JoinSet},
};
use tokio_rustls::TlsConnector;
use tokio_tungstenite::WebSocketStream;
use zen_websocket_core::{Client, Config};

use crate::{clients, proc, tls};

/// Connections being opened at once.
pub(crate) const IN_FLIGHT: usize = 100;
/// The pause after the last handshake, so every connection task has settled into waiting.
const SETTLE: Duration = Duration::from_millis(200);

/// Which client a memory row measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Kind {
    /// zen-websocket's `Client` (its connection task and channels included).
    Zen,
    /// Raw tokio-tungstenite: the stream, held by a task that reads it.
    Raw,
}

impl Kind {
    /// `zen` or `raw`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Zen => "zen",
            Self::Raw => "raw",
        }
    }

    /// The same client among the contenders of the table.
    pub(crate) fn contender(self) -> crate::clients::Contender {
        match self {
            Self::Zen => crate::clients::Contender::Zen,
            Self::Raw => crate::clients::Contender::Raw,
        }
    }

    fn parse(name: &str) -> anyhow::Result<Self> {
        match name {
            "zen" => Ok(Self::Zen),
            "raw" => Ok(Self::Raw),
            other => bail!("--client is `zen` or `raw`, not `{other}`"),
        }
    }
}

/// The `idle` sub-command's arguments.
#[derive(Debug, Clone)]
pub(crate) struct IdleArgs {
    /// The client to measure.
    pub(crate) kind: Kind,
    /// `wss` rather than `ws`.
    pub(crate) secure: bool,
    /// Connections to open.
    pub(crate) count: usize,
    /// The server's port on 127.0.0.1.
    pub(crate) port: u16,
    /// The CA (PEM) the `wss` server's certificate chains to.
    pub(crate) ca: PathBuf,
}

impl IdleArgs {
    /// Reads `--client zen|raw --scheme ws|wss --count N --port P --ca PATH`.
    ///
    /// # Errors
    ///
    /// When an option is missing or malformed.
    pub(crate) fn parse(args: &[String]) -> anyhow::Result<Self> {
        let secure = match crate::option(args, "--scheme")? {
            "ws" => false,
            "wss" => true,
            other => bail!("--scheme is `ws` or `wss`, not `{other}`"),
        };
        Ok(Self {
            kind: Kind::parse(crate::option(args, "--client")?)?,
            secure,
            count: crate::option(args, "--count")?.parse()?,
            port: crate::option(args, "--port")?.parse()?,
            ca: crate::option(args, "--ca")?.into(),
        })
    }
}

/// What one measuring process saw.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct IdleSample {
    /// `VmRSS` before opening the measured connections, in KiB.
    pub(crate) rss_before_kib: u64,
    /// `VmRSS` with every measured connection open and idle, in KiB.
    pub(crate) rss_after_kib: u64,
    /// `(after − before) / count`, in KiB.
    pub(crate) per_connection_kib: f64,
    /// How long opening the measured connections took.
    pub(crate) connect_secs: f64,
}

/// Runs the sub-command and prints its [`IdleSample`] as one JSON line.
///
/// # Errors
///
/// When a connection fails or `/proc` cannot be read.
pub(crate) fn run(args: &IdleArgs) -> anyhow::Result<()> {
    let runtime = crate::runtime()?;
    let sample = runtime.block_on(Box::pin(measure(args)))?;
    println!("{}", serde_json::to_string(&sample)?);
    Ok(())
}

/// How to open one connection of the measured kind.
#[derive(Clone)]
enum Dialer {
    Zen { url: String, config: Box<Config> },
    Raw { port: u16, tls: Option<TlsConnector>, stop: watch::Receiver<()> },
}

/// One open connection.
enum Conn {
    Zen(Client),
    Raw(JoinHandle<()>),
}

async fn measure(args: &IdleArgs) -> anyhow::Result<IdleSample> {
    let (stop_all, stop) = watch::channel(());
    let dialer = dialer(args, stop)?;
    // Warm-up, kept open and not counted: one-time allocations (runtime, TLS config, driver
    // slabs) and the allocator's high-water mark for `IN_FLIGHT` concurrent handshakes land
    // in `before`, not in the per-connection figure.
    let warm = open_all(&dialer, IN_FLIGHT).await?;
    tokio::time::sleep(SETTLE).await;
    let rss_before_kib = proc::rss_kib()?;
    let started = Instant::now();
    let measured = open_all(&dialer, args.count).await?;
    let connect_secs = started.elapsed().as_secs_f64();
    tokio::time::sleep(SETTLE).await;
    let rss_after_kib = proc::rss_kib()?;
    let _ = stop_all.send(());
    close_all(warm.into_iter().chain(measured)).await;
    Ok(IdleSample {
        rss_before_kib,
        rss_after_kib,
        per_connection_kib: rss_after_kib.saturating_sub(rss_before_kib) as f64 / args.count as f64,
        connect_secs,
    })
}

fn dialer(args: &IdleArgs, stop: watch::Receiver<()>) -> anyhow::Result<Dialer> {
    let ca_pem = || {
        std::fs::read_to_string(&args.ca)
            .with_context(|| format!("reading the bench CA {}", args.ca.display()))
    };
    Ok(match (args.kind, args.secure) {
        (Kind::Zen, false) => Dialer::Zen {
            url: clients::url(false, args.port),
            config: Box::new(clients::zen_config()),
        },
        (Kind::Zen, true) => Dialer::Zen {
            url: clients::url(true, args.port),
            config: Box::new(clients::zen_config().tls(tls::zen_config(&ca_pem()?)?)),
        },
        (Kind::Raw, secure) => Dialer::Raw {
            port: args.port,
            tls: secure.then(|| ca_pem().and_then(|pem| tls::raw_connector(&pem))).transpose()?,
            stop,
        },
    })
}

impl Dialer {
    async fn open(self) -> anyhow::Result<Conn> {
        match self {
            Self::Zen { url, config } => Ok(Conn::Zen(clients::zen(&url, *config).await?)),
            Self::Raw { port, tls: None, stop } => {
                Ok(Conn::Raw(tokio::spawn(hold(clients::raw_plain(port).await?, stop))))
            }
            Self::Raw { port, tls: Some(connector), stop } => {
                Ok(Conn::Raw(tokio::spawn(hold(clients::raw_tls(port, &connector).await?, stop))))
            }
        }
    }
}

/// Opens `count` connections, at most [`IN_FLIGHT`] at a time, and waits for every handshake.
async fn open_all(dialer: &Dialer, count: usize) -> anyhow::Result<Vec<Conn>> {
    let room = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut opening = JoinSet::new();
    let mut open = Vec::with_capacity(count);
    for _ in 0..count {
        let permit = Arc::clone(&room).acquire_owned().await?;
        let dialer = dialer.clone();
        opening.spawn(async move {
            let conn = dialer.open().await;
            drop(permit);
            conn
        });
        while let Some(done) = opening.try_join_next() {
            open.push(done??);
        }
    }
    while let Some(done) = opening.join_next().await {
        open.push(done??);
    }
    Ok(open)
}

/// Closes every connection (close handshake included) and waits until all are done.
async fn close_all(conns: impl IntoIterator<Item = Conn>) {
    let mut closing = JoinSet::new();
    for conn in conns {
        match conn {
            Conn::Zen(client) => closing.spawn(async move {
                let _ = client.close().await;
            }),
            Conn::Raw(task) => closing.spawn(async move {
                let _ = task.await;
            }),
        };
    }
    while closing.join_next().await.is_some() {}
}

/// The raw client's connection task: read (tungstenite answers pings) until told to stop, then
/// close.
async fn hold<S>(mut ws: WebSocketStream<S>, mut stop: watch::Receiver<()>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            frame = ws.next() => if !matches!(frame, Some(Ok(_))) {
                return;
            },
        }
    }
    let _ = ws.close(None).await;
    while let Some(Ok(_)) = ws.next().await {}
}
