//! The soak's handle on its server process (one mock server, one fault proxy in front of it;
//! see [`serve()`](super::serve())): spawning it, and one method per command.

use std::process::Stdio;

use anyhow::{Context, bail};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines},
    process::{Child, ChildStdin, ChildStdout, Command as Process},
    sync::Mutex,
};
use zen_websocket::testing::{ConnectionId, ProxyConnectionId};

use super::{
    ledger::Channels,
    protocol::{Answer, Command, Stopped},
};

/// The pipe to the server process.
#[derive(Debug)]
struct Pipe {
    /// Commands go here.
    stdin: ChildStdin,
    /// Answers come from here.
    stdout: Lines<BufReader<ChildStdout>>,
}

/// The server process and the URL its proxy listens on.
#[derive(Debug)]
pub(crate) struct World {
    /// The process (killed if the soak ends without stopping it).
    child: Child,
    /// One command at a time.
    pipe: Mutex<Pipe>,
    /// The URL clients dial: the server's, through the proxy.
    pub(crate) url: String,
}

impl World {
    /// Starts the server process: this executable with `--serve`.
    ///
    /// # Errors
    ///
    /// When it cannot be started or does not say where to connect.
    pub(crate) async fn start() -> anyhow::Result<Self> {
        let program = std::env::current_exe().context("finding the soak executable")?;
        let mut child = Process::new(&program)
            .arg("--serve")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {} --serve", program.display()))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            bail!("the server process has no pipes");
        };
        let mut stdout = BufReader::new(stdout).lines();
        let hello = stdout.next_line().await?.context("the server process ended at once")?;
        let hello: serde_json::Value = serde_json::from_str(&hello)?;
        let url = hello["url"].as_str().context("the server process named no URL")?.to_owned();
        Ok(Self { child, pipe: Mutex::new(Pipe { stdin, stdout }), url })
    }

    /// Sends `command` and reads its answer.
    async fn call(&self, command: &Command) -> anyhow::Result<Answer> {
        let mut pipe = self.pipe.lock().await;
        let mut line = serde_json::to_vec(command)?;
        line.push(b'\n');
        pipe.stdin.write_all(&line).await.context("sending a command to the server process")?;
        let answer = pipe.stdout.next_line().await?.context("the server process ended")?;
        let answer: Answer = serde_json::from_str(&answer)?;
        match &answer.error {
            Some(error) => bail!("{command:?}: {error}"),
            None => Ok(answer),
        }
    }

    /// Carries out a fault command; what the server process did, or the error it reported.
    pub(crate) async fn fault(&self, command: &Command) -> Result<Answer, String> {
        self.call(command).await.map_err(|err| format!("{err:#}"))
    }

    /// Starts the numbered notifications.
    pub(crate) async fn notify(&self) -> anyhow::Result<()> {
        self.call(&Command::Notify).await.map(drop)
    }

    /// Every open proxy connection and the bytes its client sent (empty if the pipe broke).
    pub(crate) async fn uploads(&self) -> Vec<(ProxyConnectionId, u64)> {
        let links = self.call(&Command::Uploads).await.map(|answer| answer.links);
        let links = links.unwrap_or_default().into_iter();
        links.map(|(id, bytes)| (ProxyConnectionId::new(id), bytes)).collect()
    }

    /// What the server was asked to subscribe to on `connection`.
    ///
    /// # Errors
    ///
    /// When the pipe broke.
    pub(crate) async fn channels(&self, connection: ConnectionId) -> anyhow::Result<Channels> {
        let command = Command::Channels { connection: connection.get() };
        Ok(self.call(&command).await?.channels)
    }

    /// Clears the server's logs; the upgrades refused with 429 since the last time.
    pub(crate) async fn forget(&self) -> usize {
        self.call(&Command::Forget).await.map_or(0, |answer| answer.count)
    }

    /// Stops the server process and waits for it to exit; its figures.
    ///
    /// # Errors
    ///
    /// When it did not answer or exit cleanly.
    pub(crate) async fn stop(mut self) -> anyhow::Result<Stopped> {
        let answer = self.call(&Command::Stop).await?;
        let status = self.child.wait().await.context("waiting for the server process")?;
        if !status.success() {
            bail!("the server process exited with {status}");
        }
        answer.stopped.context("the server process sent no figures")
    }
}
