//! `zenws serve`: a local WebSocket server to try clients against — an echo server that also
//! answers JSON-RPC (the testing kit's `MockServer`), a recording replayed to every client,
//! or the Deribit simulator — on 127.0.0.1, plain or TLS, until Ctrl-C.

use std::{
    io::{self, Write},
    path::{Path, PathBuf},
    time::Duration,
};

use zen_websocket::testing::{DeribitSimulator, MockServer, Replay, ServerEvent};

use crate::{
    connect::interrupt::Interrupt,
    exit::{Exit, Failure, Outcome},
};

/// How often the echo server's connection log is looked at.
const LOG_EVERY: Duration = Duration::from_millis(200);

/// The arguments of `zenws serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Serve wss:// with a freshly generated CA; its certificate is written to a file whose
    /// path is printed (pass it to `zenws connect --ca`).
    #[arg(long)]
    tls: bool,
    /// Where `--tls` writes the CA certificate (PEM). Default: zenws-ca-PORT.pem in the
    /// temporary directory.
    #[arg(long, value_name = "FILE", requires = "tls")]
    ca_out: Option<PathBuf>,
    /// Send every client the inbound side of this recording instead of echoing.
    #[arg(long, value_name = "FILE", conflicts_with = "deribit")]
    replay: Option<PathBuf>,
    /// With --replay: how much faster than recorded (0 = no waiting).
    #[arg(long, default_value_t = 1.0, value_name = "N", requires = "replay")]
    speed: f64,
    /// Serve the Deribit simulator (auth, heartbeats, subscriptions with live market data,
    /// orders) instead of the echo server.
    #[arg(long)]
    deribit: bool,
}

/// The server being served.
enum Server {
    /// The echo (or replay) server.
    Mock(MockServer),
    /// The Deribit simulator.
    Deribit(DeribitSimulator),
}

impl Server {
    fn url(&self) -> String {
        match self {
            Self::Mock(server) => server.url(),
            Self::Deribit(simulator) => simulator.url(),
        }
    }

    fn ca_pem(&self) -> Option<String> {
        match self {
            Self::Mock(server) => server.ca_certificate_pem(),
            Self::Deribit(simulator) => simulator.ca_certificate_pem(),
        }
    }

    async fn stop(&self) {
        match self {
            Self::Mock(server) => server.stop().await,
            Self::Deribit(simulator) => simulator.stop().await,
        }
    }
}

/// Runs `zenws serve`.
pub(crate) async fn run(args: Args) -> Outcome {
    let replay = args.replay.as_deref().map(|path| load_replay(path, args.speed)).transpose()?;
    let mut interrupt = Interrupt::new()
        .map_err(|err| Failure::new(Exit::Failed, format!("cannot catch Ctrl-C: {err}"), ""))?;
    let server = start(&args, replay).await.map_err(|err| {
        Failure::new(
            Exit::Failed,
            format!("cannot serve on 127.0.0.1:{}: {err}", args.port),
            "Pick another --port, or --port 0 for any free one",
        )
    })?;
    let url = server.url();
    let ca = match server.ca_pem() {
        Some(pem) => Some(write_ca(&pem, args.ca_out.as_deref(), &url)?),
        None => None,
    };
    announce(&url, ca.as_deref(), &args);
    tokio::select! {
        () = log_connections(&server) => {}
        () = interrupt.wait() => {}
    }
    eprintln!("zenws: stopping");
    server.stop().await;
    Ok(Exit::Interrupted)
}

/// The recording at `path`, to replay at `speed` (0 = at once).
fn load_replay(path: &Path, speed: f64) -> Result<Replay, Failure> {
    if !(speed.is_finite() && speed >= 0.0) {
        return Err(Failure::new(
            Exit::Usage,
            format!("--speed must be 0 or a positive number, got {speed}"),
            "Use --speed 1 for the recorded pace, 0 for no waiting",
        ));
    }
    let replay = Replay::from_recording(path).map_err(|err| {
        Failure::new(
            Exit::File,
            format!("cannot read the recording `{}`: {err}", path.display()),
            "Check the path; recordings are written by `zenws connect --record FILE`",
        )
    })?;
    Ok(if speed > 0.0 { replay.realtime(speed) } else { replay })
}

/// Starts the server the flags ask for.
async fn start(args: &Args, replay: Option<Replay>) -> io::Result<Server> {
    if args.deribit {
        let simulator = DeribitSimulator::builder().port(args.port).tls(args.tls).start().await?;
        return Ok(Server::Deribit(simulator));
    }
    let mut builder = MockServer::builder().port(args.port).tls(args.tls);
    if let Some(replay) = replay {
        builder = builder.replay(replay);
    }
    Ok(Server::Mock(builder.start().await?))
}

/// Writes the CA certificate where `--ca-out` says, or into the temporary directory.
fn write_ca(pem: &str, path: Option<&Path>, url: &str) -> Result<PathBuf, Failure> {
    let path = match path {
        Some(path) => path.to_path_buf(),
        None => {
            let port = url.rsplit(':').next().unwrap_or("0");
            std::env::temp_dir().join(format!("zenws-ca-{port}.pem"))
        }
    };
    std::fs::write(&path, pem).map_err(|err| {
        Failure::new(
            Exit::File,
            format!("cannot write the CA certificate to `{}`: {err}", path.display()),
            "Pass a writable file with --ca-out",
        )
    })?;
    Ok(path)
}

/// The URL (and the CA file) on stdout, one per line, for scripts; how to use them on stderr.
fn announce(url: &str, ca: Option<&Path>, args: &Args) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{url}");
    if let Some(ca) = ca {
        let _ = writeln!(out, "{}", ca.display());
    }
    let _ = out.flush();
    let what = if args.deribit {
        "the Deribit simulator".to_owned()
    } else if let Some(path) = &args.replay {
        format!("the recording {} (then echoing)", path.display())
    } else {
        "an echo server (JSON-RPC requests are answered)".to_owned()
    };
    eprintln!("zenws: serving {what} at {url}");
    match ca {
        Some(ca) => eprintln!("zenws: try: zenws connect --ca {} {url}", ca.display()),
        None => eprintln!("zenws: try: zenws connect {url}"),
    }
    eprintln!("zenws: Ctrl-C to stop");
}

/// Tells connections opening and closing on stderr (the echo server only); never returns.
async fn log_connections(server: &Server) {
    let Server::Mock(server) = server else {
        return std::future::pending().await;
    };
    let mut seen = 0;
    loop {
        let events = server.events();
        for event in events.iter().skip(seen) {
            if let Some(line) = describe(event) {
                eprintln!("zenws: {line}");
            }
        }
        seen = events.len();
        tokio::time::sleep(LOG_EVERY).await;
    }
}

/// One line about a server event; pings and pongs are not worth one.
fn describe(event: &ServerEvent) -> Option<String> {
    Some(match event {
        ServerEvent::Connected(id) => format!("connection {id} opened"),
        ServerEvent::ClientClosed { connection, code, reason } => {
            format!("connection {connection} closed by the client{}", close_code(*code, reason))
        }
        ServerEvent::Dropped { connection } => format!("connection {connection} dropped"),
        ServerEvent::ServerClosed { connection, code, reason } => {
            format!("connection {connection} closed by the server{}", close_code(*code, reason))
        }
        ServerEvent::HandshakeRejected { status } => format!("handshake rejected with {status}"),
        ServerEvent::HandshakeFailed { reason } => format!("handshake failed: {reason}"),
        _ => return None,
    })
}

/// ` with code 1000 (reason)`, or nothing for a close without a code.
fn close_code(code: Option<u16>, reason: &str) -> String {
    match (code, reason.is_empty()) {
        (Some(code), true) => format!(" with code {code}"),
        (Some(code), false) => format!(" with code {code} ({reason})"),
        (None, _) => " without a close frame".to_owned(),
    }
}
