//! `RecorderConfig`: how a recording file is opened, redacted and flushed.

use std::time::Duration;

use crate::{
    error::{Error, Result},
    redact::Redaction,
};

/// How [`Recorder::create`](crate::Recorder::create) opens and writes a recording; every
/// field has a default.
///
/// # Examples
///
/// ```
/// use zen_websocket_recorder::{RecorderConfig, Redaction};
///
/// let config = RecorderConfig::default()
///     .append(true)
///     .redaction(Redaction::default().field("api_key"));
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct RecorderConfig {
    pub(crate) append: bool,
    pub(crate) redaction: Redaction,
    pub(crate) flush_entries: usize,
    pub(crate) flush_interval: Duration,
}

impl Default for RecorderConfig {
    fn default() -> Self {
        Self {
            append: false,
            redaction: Redaction::default(),
            flush_entries: 100,
            flush_interval: Duration::from_secs(1),
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

    pub(crate) fn validate(&self) -> Result<()> {
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
    }
}
