//! `Closing`: the future of `Recorder::close_in_background`, woken by the writer's exit.

use std::{
    fmt,
    future::Future,
    path::PathBuf,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use crate::{
    error::{Error, Result},
    writer::Shared,
};

/// Completes when a recorder's writer thread has written everything, flushed and exited; from
/// [`Recorder::close_in_background`](crate::Recorder::close_in_background).
///
/// Waiting costs no thread: the writer wakes the task when it exits. Works on any executor.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use zen_websocket_recorder::{Closing, Recorder, RecorderConfig};
///
/// # let path = std::env::temp_dir().join(format!("zen-recorder-closing-{}.jsonl", std::process::id()));
/// let recorder = Recorder::create(&path, RecorderConfig::default())?;
/// let closing: Closing = recorder.close_in_background();
/// drop(recorder);
/// closing.await?;
/// # std::fs::remove_file(&path)?;
/// # Ok(())
/// # }
/// ```
#[must_use = "futures do nothing unless polled (the close itself has begun)"]
pub struct Closing {
    shared: Arc<Shared>,
    path: PathBuf,
}

impl Closing {
    pub(crate) fn new(shared: Arc<Shared>, path: PathBuf) -> Self {
        Self { shared, path }
    }
}

impl Future for Closing {
    type Output = Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.shared.poll_finished(cx.waker()).map(|error| match error {
            None => Ok(()),
            Some(source) => Err(Error::Write { path: self.path.clone(), source }),
        })
    }
}

impl fmt::Debug for Closing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Closing").field("path", &self.path).finish_non_exhaustive()
    }
}
