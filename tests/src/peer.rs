//! Third-party WebSocket servers for the interop tests, each started as its own process on
//! 127.0.0.1 (never any other address), with a port the OS picks.
//!
//! `cargo xtask interop` installs the peers into `target/peers/` and names them in these
//! environment variables (relative paths are taken from the workspace root):
//!
//! | variable | what |
//! |---|---|
//! | [`PYTHON_VAR`] | the Python of the venv holding `websockets` and `aiohttp` |
//! | [`NODE_VAR`] | the `node` to run the `ws` server with |
//! | [`NODE_MODULES_VAR`] | the `node_modules` folder holding `ws` |
//! | [`WEBSOCAT_VAR`] | the `websocat` binary |
//!
//! The Python and Node servers are the scripts in this crate's `peers/` folder: they echo,
//! close with the code and reason a `/close/<code>/<reason>` path names, and print the close
//! code they receive. websocat runs its `mirror:` echo, or `literal:` with
//! `--close-status-code` for the server-close scenarios.

use std::{
    fmt, io,
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use tokio::{
    io::{AsyncBufReadExt, AsyncRead, BufReader},
    process::{Child, Command},
    sync::mpsc,
};

use crate::tls::TestPki;

/// The Python interpreter of the peers' virtualenv.
pub const PYTHON_VAR: &str = "ZEN_E2E_PYTHON";
/// The Node.js binary.
pub const NODE_VAR: &str = "ZEN_E2E_NODE";
/// The `node_modules` folder `ws` was installed into (becomes the server's `NODE_PATH`).
pub const NODE_MODULES_VAR: &str = "ZEN_E2E_NODE_MODULES";
/// The `websocat` binary.
pub const WEBSOCAT_VAR: &str = "ZEN_E2E_WEBSOCAT";

/// How long a peer may take to start listening (Python imports are slow on a busy machine).
const START_LIMIT: Duration = Duration::from_secs(30);
/// websocat's message buffer: larger than the 1 MiB echo plus its one-byte type prefix.
const WEBSOCAT_BUFFER: &str = "4194304";

/// Which third-party server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeerKind {
    /// Python `websockets` (asyncio server), `peers/websockets_server.py`.
    Websockets,
    /// Python `aiohttp` (`web.WebSocketResponse`), `peers/aiohttp_server.py`.
    Aiohttp,
    /// Node `ws` (`WebSocketServer`), `peers/ws_server.js`.
    NodeWs,
    /// `websocat` 1.x (`ws-l:` with `mirror:` or `literal:`).
    Websocat,
}

impl PeerKind {
    /// The peer's name in test output and the matrix.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            PeerKind::Websockets => "websockets",
            PeerKind::Aiohttp => "aiohttp",
            PeerKind::NodeWs => "ws",
            PeerKind::Websocat => "websocat",
        }
    }
}

impl fmt::Display for PeerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How to start a peer; the default is a plain echo server.
#[derive(Debug, Clone, Default)]
pub struct PeerOptions {
    /// The subprotocol the server accepts (websocat sends it whether offered or not).
    pub subprotocol: Option<String>,
    /// Serve `wss://` with this certificate and key (not websocat).
    pub tls: Option<TestPki>,
    /// websocat only: send one message, then close with this code and reason. The scripts
    /// take the code and reason from the `/close/<code>/<reason>` path instead.
    pub close_with: Option<(u16, String)>,
}

/// A close frame a peer reported receiving from the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerClose {
    /// The request path of the connection (websocat does not say).
    pub path: Option<String>,
    /// The close code, `None` when the connection ended without a close frame.
    pub code: Option<u16>,
    /// The close reason.
    pub reason: String,
}

/// A running peer process; killed when dropped.
#[derive(Debug)]
pub struct Peer {
    kind: PeerKind,
    options: PeerOptions,
    port: u16,
    child: Child,
    lines: mpsc::UnboundedReceiver<String>,
}

impl Peer {
    /// Starts `kind` on 127.0.0.1 with a free port and waits until it listens.
    ///
    /// # Errors
    ///
    /// The peer's environment variable is unset (run through `cargo xtask interop`), the
    /// process cannot start, or it exits or stays silent instead of listening.
    pub async fn start(kind: PeerKind, options: PeerOptions) -> io::Result<Peer> {
        // The scripts bind port 0 and say which port they got; websocat cannot say, so it is
        // given a port that was free a moment ago.
        let port = match kind {
            PeerKind::Websocat => free_port()?,
            _ => 0,
        };
        Peer::launch(kind, options, port).await
    }

    /// The port the peer listens on.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of `path` on this peer: `ws://` or, with TLS, `wss://127.0.0.1:<port><path>`.
    #[must_use]
    pub fn url(&self, path: &str) -> String {
        let scheme = if self.options.tls.is_some() { "wss" } else { "ws" };
        format!("{scheme}://127.0.0.1:{}{path}", self.port)
    }

    /// Kills the process (SIGKILL: no close frames, the kernel ends its sockets) and waits for
    /// it to exit. Killing a dead peer does nothing.
    ///
    /// # Errors
    ///
    /// The signal or the wait failed.
    pub async fn kill(&mut self) -> io::Result<()> {
        if self.child.try_wait()?.is_none() {
            self.child.start_kill()?;
        }
        self.child.wait().await.map(drop)
    }

    /// Kills the peer if it still runs, then starts it again on the same port (retrying
    /// while the port is still held).
    ///
    /// # Errors
    ///
    /// The peer could not listen on its port again within about five seconds.
    pub async fn restart(&mut self) -> io::Result<()> {
        self.kill().await?;
        let mut last = io::Error::other("never tried");
        for _ in 0..50 {
            match Peer::launch(self.kind, self.options.clone(), self.port).await {
                Ok(peer) => {
                    *self = peer;
                    return Ok(());
                }
                Err(err) => last = err,
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(last)
    }

    /// The next close the peer reports receiving from a client, waiting at most `within`.
    pub async fn next_close(&mut self, within: Duration) -> Option<PeerClose> {
        let reports = async {
            while let Some(line) = self.lines.recv().await {
                if let Some(close) = parse_close(&line) {
                    return Some(close);
                }
            }
            None
        };
        tokio::time::timeout(within, reports).await.ok().flatten()
    }

    async fn launch(kind: PeerKind, options: PeerOptions, port: u16) -> io::Result<Peer> {
        let mut command = command(kind, &options, port)?;
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn().map_err(|err| {
            io::Error::new(err.kind(), format!("cannot start {kind} ({command:?}): {err}"))
        })?;
        let (sender, mut lines) = mpsc::unbounded_channel();
        forward(kind, child.stdout.take(), sender.clone());
        forward(kind, child.stderr.take(), sender);
        let listening = tokio::time::timeout(START_LIMIT, ready(kind, port, &mut lines));
        let port = listening.await.map_err(|_| {
            io::Error::other(format!("{kind} did not listen within {START_LIMIT:?}"))
        })??;
        Ok(Peer { kind, options, port, child, lines })
    }
}

/// The command line that starts `kind` on `port`.
fn command(kind: PeerKind, options: &PeerOptions, port: u16) -> io::Result<Command> {
    let script = |interpreter: &str, name: &str| -> io::Result<Command> {
        let mut command = Command::new(from_env(interpreter)?);
        command.arg(scripts().join(name)).args(["--port", &port.to_string()]);
        if let Some(subprotocol) = &options.subprotocol {
            command.args(["--subprotocol", subprotocol]);
        }
        if let Some(pki) = &options.tls {
            command.arg("--cert").arg(&pki.cert).arg("--key").arg(&pki.key);
        }
        Ok(command)
    };
    match kind {
        PeerKind::Websockets => script(PYTHON_VAR, "websockets_server.py"),
        PeerKind::Aiohttp => script(PYTHON_VAR, "aiohttp_server.py"),
        PeerKind::NodeWs => {
            let mut command = script(NODE_VAR, "ws_server.js")?;
            command.env("NODE_PATH", from_env(NODE_MODULES_VAR)?);
            Ok(command)
        }
        PeerKind::Websocat => websocat(options, port),
    }
}

/// websocat as an echo server (`mirror:`), or one that closes at once (`literal:`).
///
/// Its echo needs three flags beyond `-E -t ws-l:… mirror:`: `-B` (messages over 64 KiB are
/// split otherwise) and the type prefixes (otherwise `-t` turns binary echoes into text and
/// an empty message ends the connection). `-v -v` makes it log the close frames it receives.
fn websocat(options: &PeerOptions, port: u16) -> io::Result<Command> {
    if options.tls.is_some() {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "websocat serves TLS only from a PKCS #12 file with its `ssl` feature; not tested",
        ));
    }
    let mut command = Command::new(from_env(WEBSOCAT_VAR)?);
    command.args(["-v", "-v", "-E", "-t", "--stdout-announce-listening-ports"]);
    if let Some(subprotocol) = &options.subprotocol {
        command.args(["--server-protocol", subprotocol]);
    }
    let listen = format!("ws-l:127.0.0.1:{port}");
    match &options.close_with {
        Some((code, reason)) => {
            command.args(["--close-status-code", &code.to_string(), "--close-reason", reason]);
            command.args([listen.as_str(), "literal:closing"]);
        }
        None => {
            command.args(["-B", WEBSOCAT_BUFFER, "--binary-prefix=B", "--text-prefix=T"]);
            command.args([listen.as_str(), "mirror:"]);
        }
    }
    Ok(command)
}

/// Reads the peer's output until it listens; returns its port.
async fn ready(
    kind: PeerKind,
    port: u16,
    lines: &mut mpsc::UnboundedReceiver<String>,
) -> io::Result<u16> {
    let mut said = Vec::new();
    while let Some(line) = lines.recv().await {
        if let Some(bound) = line.strip_prefix("LISTENING ") {
            return bound.trim().parse().map_err(io::Error::other);
        }
        if line.starts_with("LISTEN proto=tcp") {
            // websocat prints the address it was given, once it is bound.
            return Ok(port);
        }
        said.push(line);
    }
    let tail = said.iter().rev().take(5).rev().cloned().collect::<Vec<_>>().join(" | ");
    Err(io::Error::other(format!("{kind} exited before listening: {tail}")))
}

/// Passes the lines of a child's output on (and shows them, less websocat's debug log);
/// keeps reading after the receiver is gone so the child never blocks on a full pipe.
fn forward<R>(kind: PeerKind, output: Option<R>, sender: mpsc::UnboundedSender<String>)
where
    R: AsyncRead + Unpin + Send + 'static,
{
    let Some(output) = output else { return };
    tokio::spawn(async move {
        let mut lines = BufReader::new(output).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if !line.starts_with("[DEBUG") && !line.starts_with("[TRACE") {
                eprintln!("[{kind}] {line}");
            }
            let _ = sender.send(line);
        }
    });
}

/// Reads a close report: the scripts' `CLOSED <path> <code> <reason>` / `CLOSED <path> none`,
/// or websocat's `The close message is Some(CloseData { status_code: N, reason: "…" })`.
fn parse_close(line: &str) -> Option<PeerClose> {
    if let Some(rest) = line.strip_prefix("CLOSED ") {
        let mut words = rest.splitn(3, ' ');
        let path = words.next()?.to_owned();
        let code = words.next()?;
        let reason = words.next().unwrap_or_default().to_owned();
        let code = if code == "none" { None } else { Some(code.parse().ok()?) };
        return Some(PeerClose { path: Some(path), code, reason });
    }
    let message = line.split("The close message is ").nth(1)?;
    if message.starts_with("None") {
        return Some(PeerClose { path: None, code: None, reason: String::new() });
    }
    let code = message.split("status_code: ").nth(1)?.split(',').next()?.trim().parse().ok()?;
    let reason = message.split("reason: \"").nth(1)?.rsplit_once('"')?.0.to_owned();
    Some(PeerClose { path: None, code: Some(code), reason })
}

/// A port on 127.0.0.1 that was free when asked.
fn free_port() -> io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// This crate's `peers/` folder: the server scripts.
fn scripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("peers")
}

/// The path in environment variable `var`; a relative path with a `/` is taken from the
/// workspace root, a bare name is looked up on `PATH`.
fn from_env(var: &str) -> io::Result<PathBuf> {
    let value = std::env::var_os(var).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "{var} is not set: run the interop tests with `cargo xtask interop`, which \
                 installs the peers into target/peers/ and sets it"
            ),
        )
    })?;
    let path = PathBuf::from(value);
    let bare = path.components().count() == 1;
    if path.is_absolute() || bare {
        return Ok(path);
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    Ok(manifest.parent().unwrap_or(manifest).join(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_close_reports() {
        let script = parse_close("CLOSED /echo 1000 bye now").unwrap();
        assert_eq!(script.path.as_deref(), Some("/echo"));
        assert_eq!((script.code, script.reason.as_str()), (Some(1000), "bye now"));
        assert_eq!(parse_close("CLOSED /x none").unwrap().code, None);
        let websocat = "[DEBUG websocat::ws_peer] The close message is \
                        Some(CloseData { status_code: 1000, reason: \"\" })";
        let websocat = parse_close(websocat).unwrap();
        assert_eq!((websocat.path, websocat.code), (None, Some(1000)));
        assert_eq!(parse_close("LISTENING 1234"), None);
    }

    #[test]
    fn the_scripts_are_here_and_a_missing_variable_says_what_to_run() {
        assert!(scripts().join("websockets_server.py").exists());
        assert!(scripts().join("aiohttp_server.py").exists());
        assert!(scripts().join("ws_server.js").exists());
        let err = from_env("ZEN_E2E_SURELY_UNSET").unwrap_err();
        assert!(err.to_string().contains("cargo xtask interop"));
    }
}
