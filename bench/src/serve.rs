//! The `serve` sub-command: the idle server for the memory rows, in its own process so its
//! memory stays out of the measurement. It writes its CA to `--ca`, prints
//! `ws=PORT wss=PORT`, and serves until its standard input closes.

use std::{
    fs,
    io::{self, Write},
    path::Path,
};

use anyhow::Context;

use crate::{servers, tls};

/// Runs the idle server until standard input reaches its end.
///
/// # Errors
///
/// When the certificates cannot be generated or written, or binding fails.
pub(crate) fn run(ca_path: &Path) -> anyhow::Result<()> {
    let runtime = crate::runtime()?;
    let tls = tls::generate()?;
    if let Some(dir) = ca_path.parent() {
        fs::create_dir_all(dir)?;
    }
    fs::write(ca_path, &tls.ca_pem).with_context(|| format!("writing {}", ca_path.display()))?;
    let (plain, secure) = runtime
        .block_on(async { io::Result::Ok((servers::bind().await?, servers::bind().await?)) })?;
    println!("ws={} wss={}", plain.local_addr()?.port(), secure.local_addr()?.port());
    io::stdout().flush()?;
    runtime.spawn(servers::serve_idle(plain, None));
    runtime.spawn(servers::serve_idle(secure, Some(tls.acceptor)));
    // The parent holds our stdin open for as long as it needs the server.
    io::copy(&mut io::stdin().lock(), &mut io::sink())?;
    runtime.shutdown_background();
    Ok(())
}
