//! The one error type of the recorder: every file error names its path and keeps the raw cause.

use std::{io, path::PathBuf};

/// A `Result` whose error is the recorder's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while recording, reading or replaying a session.
///
/// File errors name the file and keep the raw [`std::io::Error`] as the variant's payload and
/// as [`std::error::Error::source`]. A malformed line in a recording is never an error: readers
/// skip it and count it ([`Metadata::skipped_lines`](crate::Metadata::skipped_lines)).
///
/// # Examples
///
/// ```
/// use zen_websocket_recorder::{Error, Recorder, RecorderConfig};
///
/// let err = Recorder::create("/no/such/directory/session.jsonl", RecorderConfig::default())
///     .unwrap_err();
/// assert!(matches!(err, Error::Create { .. }));
/// assert!(err.to_string().contains("/no/such/directory/session.jsonl"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The recording file could not be created or opened for writing (missing directory,
    /// no permission, the path is a directory…).
    #[error("cannot create the recording file `{}`: {source}", path.display())]
    Create {
        /// The path given to [`Recorder::create`](crate::Recorder::create).
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// Writing entries to the recording file failed (disk full, file system gone…).
    ///
    /// Reported by [`Recorder::flush`](crate::Recorder::flush) and
    /// [`Recorder::close`](crate::Recorder::close); entries recorded after the failure are
    /// still attempted.
    #[error("cannot write to the recording file `{}`: {source}", path.display())]
    Write {
        /// The recording file.
        path: PathBuf,
        /// The first error since the last flush.
        #[source]
        source: io::Error,
    },
    /// A recording could not be opened for reading.
    #[error("cannot open the recording `{}`: {source}", path.display())]
    Open {
        /// The path given to the reader.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// Reading a recording failed part way through.
    #[error("cannot read the recording `{}`: {source}", path.display())]
    Read {
        /// The recording being read.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The writer thread that records entries could not be started.
    #[error("cannot start the recording writer thread: {0}")]
    Spawn(#[source] io::Error),
    /// The recorder was closed; there is nothing left to flush and new entries are ignored.
    #[error("the recorder for `{}` is closed", path.display())]
    Closed {
        /// The recording file.
        path: PathBuf,
    },
    /// An option passed to the recorder or to a replay is out of range.
    #[error("invalid option `{name}`: {reason}")]
    InvalidOption {
        /// The option's name, as spelled on its setter.
        name: &'static str,
        /// Why the value was rejected.
        reason: String,
    },
    /// A text is not an RFC 3339 timestamp between the years 0000 and 9999.
    #[error("invalid timestamp `{value}`: {reason}")]
    InvalidTimestamp {
        /// The text that was parsed.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_send_sync_static_and_small() {
        fn assert_traits<T: Send + Sync + 'static + std::error::Error>() {}
        assert_traits::<Error>();
        assert!(std::mem::size_of::<Error>() <= 56, "{}", std::mem::size_of::<Error>());
    }

    #[test]
    fn file_errors_keep_the_io_cause() {
        use std::error::Error as _;
        let err = Error::Read {
            path: "a.jsonl".into(),
            source: io::Error::from(io::ErrorKind::UnexpectedEof),
        };
        let source = err.source().expect("a source");
        assert!(source.downcast_ref::<io::Error>().is_some());
    }
}
