//! The server process: starts the [`Site`], says where clients should connect, then carries
//! out one command per line of standard input, answering each on standard output, until `stop`
//! (or until standard input closes, when the soak is gone).

use anyhow::Context;
use serde::Serialize;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Stdout};

use super::{
    protocol::{Answer, Command},
    site::Site,
};

/// Runs the server process (the soak binary with `--serve`).
///
/// # Errors
///
/// When the server or the proxy cannot start, or the pipe to the soak breaks.
///
/// # Panics
///
/// Outside a Tokio runtime.
pub async fn serve() -> anyhow::Result<()> {
    let mut site = Site::start().await?;
    let mut out = tokio::io::stdout();
    say(&mut out, &json!({"url": site.url()})).await?;
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines.next_line().await.context("reading a command")? {
        let answer = match serde_json::from_str::<Command>(&line) {
            Ok(Command::Stop) => {
                let answer = site.execute(Command::Stop).await;
                return say(&mut out, &answer).await;
            }
            Ok(command) => site.execute(command).await,
            Err(err) => {
                Answer { error: Some(format!("bad command {line:?}: {err}")), ..Answer::default() }
            }
        };
        say(&mut out, &answer).await?;
    }
    site.execute(Command::Stop).await;
    Ok(())
}

/// Writes `value` as one JSON line and flushes it.
async fn say(out: &mut Stdout, value: &impl Serialize) -> anyhow::Result<()> {
    let mut line = serde_json::to_vec(value)?;
    line.push(b'\n');
    out.write_all(&line).await.context("answering the soak")?;
    out.flush().await.context("answering the soak")
}
