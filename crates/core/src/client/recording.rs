//! Opening the session recording without harming an existing file: the path is checked
//! before dialling (appending nothing, truncating nothing), and the file is truncated only
//! once the connection is up. File I/O runs off the runtime's threads.

use std::path::PathBuf;

use zen_websocket_recorder::{Error as RecorderError, Recorder};

use crate::{
    config::Config,
    error::{Error, Result},
};

/// The outcome of checking the recording path before dialling.
#[derive(Debug)]
pub(super) struct Probe {
    path: Option<PathBuf>,
    /// Whether the check created the file (it did not exist before).
    created: bool,
}

impl Probe {
    /// Removes a file the check created, when the connection did not come up after all.
    pub(super) async fn abandon(self) {
        if let (Some(path), true) = (self.path, self.created) {
            let _ = tokio::task::spawn_blocking(move || std::fs::remove_file(path)).await;
        }
    }
}

/// Checks that the recording file can be written, without changing an existing one.
pub(super) async fn probe_recording(config: &Config) -> Result<Probe> {
    let Some(path) = config.record_to.clone() else {
        return Ok(Probe { path: None, created: false });
    };
    let checked = tokio::task::spawn_blocking(move || {
        let existed = path.exists();
        let opened = std::fs::OpenOptions::new().append(true).create(true).open(&path);
        match opened {
            Ok(_) => Ok(Probe { created: !existed, path: Some(path) }),
            Err(source) => Err(RecorderError::Create { path, source }),
        }
    });
    match checked.await {
        Ok(probe) => Ok(probe?),
        Err(join) => Err(Error::Io(std::io::Error::other(join))),
    }
}

/// Opens the recording for a connection that came up (truncating unless appending).
pub(super) async fn open_recording(config: &Config, probe: Probe) -> Result<Option<Recorder>> {
    let Some(path) = probe.path else { return Ok(None) };
    let options = config.recording.clone().redaction(config.redaction.clone());
    let opened = tokio::task::spawn_blocking(move || Recorder::create(path, options));
    match opened.await {
        Ok(recorder) => Ok(Some(recorder?)),
        Err(join) => Err(Error::Io(std::io::Error::other(join))),
    }
}
