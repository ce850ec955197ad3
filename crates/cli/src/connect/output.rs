//! What `zenws connect` prints: messages on stdout, lifecycle on stderr.

use std::io::{self, Write};

use zen_websocket::{ErrorHandler, Event, Message, recorder::Timestamp};

/// How inbound messages are printed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Style {
    /// Pretty-print messages that are JSON.
    pub(crate) pretty: bool,
    /// Prefix each message with the time it was printed (RFC 3339, UTC).
    pub(crate) timestamps: bool,
}

impl Style {
    /// Prints `message` to stdout, one message per line (pretty JSON spans several).
    ///
    /// # Errors
    ///
    /// Writing to stdout failed (e.g. the reader of a pipe went away).
    pub(crate) fn print_message(self, message: &Message) -> io::Result<()> {
        let body = match message.as_text() {
            Some(text) => self.render_text(text),
            None => format!("binary:{}", base64(message.as_bytes())),
        };
        self.print(&body)
    }

    /// Prints `text` (a message body or a request's result) as this style says.
    ///
    /// # Errors
    ///
    /// Writing to stdout failed.
    pub(crate) fn print(self, body: &str) -> io::Result<()> {
        let mut out = io::stdout().lock();
        if self.timestamps {
            write!(out, "{} ", Timestamp::now())?;
        }
        writeln!(out, "{body}")?;
        out.flush()
    }

    /// The text as printed: pretty JSON when asked for and it parses, else as it came.
    pub(crate) fn render_text(self, text: &str) -> String {
        if self.pretty
            && let Ok(value) = serde_json::from_str::<serde_json::Value>(text)
        {
            return self.render_json(&value);
        }
        text.to_owned()
    }

    /// A JSON value as printed: pretty or compact.
    pub(crate) fn render_json(self, value: &serde_json::Value) -> String {
        let rendered = if self.pretty {
            serde_json::to_string_pretty(value)
        } else {
            serde_json::to_string(value)
        };
        rendered.unwrap_or_else(|_| value.to_string())
    }
}

/// Prints a lifecycle event to stderr; messages are not lifecycle events and print nothing.
pub(crate) fn report_event(event: &Event) {
    match event {
        Event::Connected => eprintln!("zenws: connected again (subscriptions restored)"),
        Event::Disconnected { reason, will_retry: true, .. } => {
            eprintln!("zenws: disconnected: {reason}; reconnecting");
        }
        Event::Disconnected { reason, .. } => eprintln!("zenws: disconnected: {reason}"),
        Event::Reconnecting { attempt, delay, .. } => {
            eprintln!("zenws: reconnecting: attempt {attempt} in {delay:?}");
        }
        Event::SubscriptionLost { channels, error, .. } => {
            let explanation = ErrorHandler::explain(error);
            eprintln!(
                "zenws: subscription lost: {} ({})",
                channels.join(", "),
                explanation.message
            );
        }
        Event::ReconnectFailed { attempts, last_error, .. } => {
            eprintln!("zenws: reconnection gave up after {attempts} attempt(s): {last_error}");
        }
        _ => {}
    }
}

/// Standard padded base64 (RFC 4648), as recordings store binary frames.
pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::base64;

    #[test]
    fn base64_matches_rfc_4648() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(&[0, 1, 2]), "AAEC");
    }
}
