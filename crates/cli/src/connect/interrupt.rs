//! Ctrl-C, caught once for the whole run so a signal between two waits is never lost.

use std::io;

/// Waits for Ctrl-C (SIGINT). Created once; a signal that arrives while nobody waits is kept
/// for the next [`wait`](Self::wait).
#[derive(Debug)]
pub(crate) struct Interrupt {
    #[cfg(unix)]
    signal: tokio::signal::unix::Signal,
}

impl Interrupt {
    /// Takes over Ctrl-C: from now on it no longer kills the process.
    ///
    /// # Errors
    ///
    /// The signal handler could not be installed.
    pub(crate) fn new() -> io::Result<Self> {
        #[cfg(unix)]
        {
            let kind = tokio::signal::unix::SignalKind::interrupt();
            Ok(Self { signal: tokio::signal::unix::signal(kind)? })
        }
        #[cfg(not(unix))]
        {
            Ok(Self {})
        }
    }

    /// Resolves at the next Ctrl-C.
    pub(crate) async fn wait(&mut self) {
        #[cfg(unix)]
        {
            if self.signal.recv().await.is_none() {
                std::future::pending::<()>().await;
            }
        }
        #[cfg(not(unix))]
        {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }
}
