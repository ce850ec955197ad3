//! `RecorderConfig`: how a recording file is opened, redacted, flushed and how much it may
//! hold in memory.

use std::time::Duration;

use crate::{
    error::{Error, Result},
    queue::Queued,
    redact::Redaction,
};

/// The smallest [`RecorderConfig::max_queue_bytes`]: room for a few small entries.
const MIN_QUEUE_BYTES: usize = 1024;

/// How [`Recorder::create`](crate::Recorder::create) opens and writes a recording; every
/// field has a default. Values are checked by `create`.
///
/// # Examples
///
/// ```
/// use zen_websocket_recorder::{RecorderConfig, Redaction};
///
/// let config = RecorderConfig::default()
///     .append(true)
///     .redaction(Redaction::default().field("api_key"))
///     .max_queue_bytes(64 << 20);
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct RecorderConfig {
    pub(crate) append: bool,
    pub(crate) redaction: Redaction,
    pub(crate) flush_entries: usize,
    pub(crate) flush_interval: Duration,
    pub(crate) max_queue_entries: usize,
    pub(crate) max_queue_bytes: usize,
}

impl Default for RecorderConfig {
    fn default() -> Self {
        Self {
            append: false,
            redaction: Redaction::default(),
            flush_entries: 100,
            flush_interval: Duration::from_secs(1),
            max_queue_entries: 65_536,
            max_queue_bytes: 16 << 20,
        }
    }
}

impl RecorderConfig {
    /// The same as [`RecorderConfig::default`].
    ///
    /// # Examples
    ///
    /// ```
    /// let config = zen_websocket_recorder::RecorderConfig::new();
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds to an existing file instead of truncating it.
    ///
    /// Default is `false`: an existing file is truncated. The file is created either way.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = zen_websocket_recorder::RecorderConfig::default().append(true);
    /// ```
    pub fn append(mut self, append: bool) -> Self {
        self.append = append;
        self
    }

    /// Which secrets are blanked before entries reach the file.
    ///
    /// Default is [`Redaction::default`]: `client_secret`, `access_token`, `refresh_token` and
    /// `signature`. Turn it off with [`Redaction::none`].
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_recorder::{RecorderConfig, Redaction};
    ///
    /// let config = RecorderConfig::default().redaction(Redaction::default().field("password"));
    /// ```
    pub fn redaction(mut self, redaction: Redaction) -> Self {
        self.redaction = redaction;
        self
    }

    /// The redaction policy set with [`redaction`](Self::redaction), to compare it with
    /// another (`Redaction` is `PartialEq`).
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_recorder::{RecorderConfig, Redaction};
    ///
    /// let config = RecorderConfig::default();
    /// assert_eq!(config.redaction_policy(), &Redaction::default());
    /// ```
    pub fn redaction_policy(&self) -> &Redaction {
        &self.redaction
    }

    /// Entries held before the writer writes and flushes them as one batch.
    ///
    /// Default is 100. Must be at least 1.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = zen_websocket_recorder::RecorderConfig::default().flush_entries(1000);
    /// ```
    pub fn flush_entries(mut self, entries: usize) -> Self {
        self.flush_entries = entries;
        self
    }

    /// How often the writer wakes to write a partial batch (fewer than
    /// [`flush_entries`](Self::flush_entries) entries): the longest an entry waits.
    ///
    /// Default is 1 s. Must not be zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let config = zen_websocket_recorder::RecorderConfig::default()
    ///     .flush_interval(Duration::from_millis(200));
    /// ```
    pub fn flush_interval(mut self, interval: Duration) -> Self {
        self.flush_interval = interval;
        self
    }

    /// The most entries held in memory: recorded and not yet written (waiting for the writer
    /// or in the batch it is writing). Gap markers count as entries.
    ///
    /// When [`record`](crate::Recorder::record) would go past this bound or
    /// [`max_queue_bytes`](Self::max_queue_bytes) — the disk cannot keep up — the frame is
    /// dropped and counted ([`Recorder::dropped`](crate::Recorder::dropped)), and the file gets
    /// a gap marker ([`Payload::Gap`](crate::Payload::Gap)) where frames are missing; `record`
    /// never waits.
    ///
    /// Default is 65,536. Must be at least [`flush_entries`](Self::flush_entries) (or a full
    /// batch could never form).
    ///
    /// # Examples
    ///
    /// ```
    /// let config = zen_websocket_recorder::RecorderConfig::default().max_queue_entries(1 << 20);
    /// ```
    pub fn max_queue_entries(mut self, entries: usize) -> Self {
        self.max_queue_entries = entries;
        self
    }

    /// The most bytes held in memory by entries recorded and not yet written, estimated as
    /// each entry's payload bytes (text, binary data, close reason) plus 64 bytes.
    ///
    /// What happens past it: see [`max_queue_entries`](Self::max_queue_entries). A frame
    /// larger than the bound by itself is never recorded (it becomes a gap of one); raise the
    /// bound to record frames that large.
    ///
    /// Default is 16 MiB. Must be at least 1 KiB (1024).
    ///
    /// # Examples
    ///
    /// ```
    /// let config = zen_websocket_recorder::RecorderConfig::default().max_queue_bytes(64 << 20);
    /// ```
    pub fn max_queue_bytes(mut self, bytes: usize) -> Self {
        self.max_queue_bytes = bytes;
        self
    }

    pub(crate) fn queue_limit(&self) -> Queued {
        Queued { entries: self.max_queue_entries, bytes: self.max_queue_bytes }
    }

    /// Checks every option; [`Recorder::create`](crate::Recorder::create) runs this first.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidOption`] naming the first option out of range.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_recorder::{Error, RecorderConfig};
    ///
    /// let err = RecorderConfig::default().flush_entries(0).validate().unwrap_err();
    /// assert!(matches!(err, Error::InvalidOption { name: "flush_entries", .. }));
    /// ```
    pub fn validate(&self) -> Result<()> {
        if self.flush_entries == 0 {
            return Err(Error::InvalidOption {
                name: "flush_entries",
                reason: "must be at least 1".to_owned(),
            });
        }
        if self.flush_interval.is_zero() {
            return Err(Error::InvalidOption {
                name: "flush_interval",
                reason: "must not be zero".to_owned(),
            });
        }
        self.validate_queue()
    }

    fn validate_queue(&self) -> Result<()> {
        if self.max_queue_entries < self.flush_entries {
            return Err(Error::InvalidOption {
                name: "max_queue_entries",
                reason: format!(
                    "must be at least flush_entries ({}), got {}",
                    self.flush_entries, self.max_queue_entries
                ),
            });
        }
        if self.max_queue_bytes < MIN_QUEUE_BYTES {
            return Err(Error::InvalidOption {
                name: "max_queue_bytes",
                reason: format!("must be at least {MIN_QUEUE_BYTES}, got {}", self.max_queue_bytes),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_zeroes_are_not() {
        assert!(RecorderConfig::default().validate().is_ok());
        let err = RecorderConfig::default().flush_entries(0).validate().unwrap_err();
        assert!(matches!(err, Error::InvalidOption { name: "flush_entries", .. }));
        let err = RecorderConfig::default().flush_interval(Duration::ZERO).validate().unwrap_err();
        assert!(matches!(err, Error::InvalidOption { name: "flush_interval", .. }));
        let err = RecorderConfig::default().max_queue_entries(0).validate().unwrap_err();
        assert!(matches!(err, Error::InvalidOption { name: "max_queue_entries", .. }));
        let err = RecorderConfig::default().max_queue_bytes(0).validate().unwrap_err();
        assert!(matches!(err, Error::InvalidOption { name: "max_queue_bytes", .. }));
    }

    #[test]
    fn the_queue_bound_must_hold_a_batch_and_a_kibibyte() {
        let config = RecorderConfig::default().flush_entries(10);
        assert!(config.clone().max_queue_entries(10).max_queue_bytes(1024).validate().is_ok());
        let err = config.clone().max_queue_entries(9).validate().unwrap_err();
        assert!(err.to_string().contains("flush_entries (10)"), "{err}");
        let err = config.max_queue_bytes(1023).validate().unwrap_err();
        assert!(matches!(err, Error::InvalidOption { name: "max_queue_bytes", .. }));
    }
}
