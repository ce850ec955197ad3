//! Where the server's HTTP response head ends, so the upgrade reads nothing past it.
//!
//! tungstenite reads the upgrade response through a 4 KiB buffer and keeps that buffer as the
//! connection's frame buffer, whatever `read_buffer_size` says. Handing the handshake the head
//! and nothing more lets the connection start afresh with its own small buffer, and loses
//! nothing: whatever the server sent after the head waits in the transport.

/// Follows the response head byte by byte, as `httparse` reads it: empty lines before the
/// status line are skipped, the first empty line after it (`\r\n` or a bare `\n`) ends it.
#[derive(Debug, Default)]
pub(crate) struct HeadEnd {
    /// Bytes of the current line, carriage returns not counted.
    line_len: usize,
    /// Whether the status line has begun.
    started: bool,
    /// Whether the empty line that ends the head has been seen.
    done: bool,
}

impl HeadEnd {
    /// How many of `bytes` belong to the head: all of them, or up to and including the line
    /// feed that ends it (after which [`Self::is_done`]).
    pub(crate) fn scan(&mut self, bytes: &[u8]) -> usize {
        for (at, byte) in bytes.iter().enumerate() {
            if self.done {
                return at;
            }
            match byte {
                b'\n' if self.started && self.line_len == 0 => self.done = true,
                b'\n' => self.line_len = 0,
                b'\r' => {}
                _ => {
                    self.line_len += 1;
                    self.started = true;
                }
            }
        }
        bytes.len()
    }

    /// Whether the head has ended.
    pub(crate) fn is_done(&self) -> bool {
        self.done
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const HEAD: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n";

    #[test]
    fn the_head_ends_after_its_empty_line() {
        let mut head = HeadEnd::default();
        let bytes = [HEAD, b"\x81\x02hi"].concat();
        assert_eq!(head.scan(&bytes), HEAD.len());
        assert!(head.is_done());
        assert_eq!(head.scan(b"more"), 0, "nothing more belongs to it");
    }

    #[test]
    fn bare_line_feeds_and_leading_empty_lines_are_read_as_httparse_reads_them() {
        let mut head = HeadEnd::default();
        let bytes = b"\r\n\nHTTP/1.1 101 OK\nUpgrade: websocket\n\nrest";
        assert_eq!(head.scan(bytes), bytes.len() - 4);
        assert!(head.is_done());
    }

    #[test]
    fn an_unfinished_head_takes_everything() {
        let mut head = HeadEnd::default();
        assert_eq!(head.scan(&HEAD[..HEAD.len() - 1]), HEAD.len() - 1);
        assert!(!head.is_done());
        assert_eq!(head.scan(b"\nx"), 1);
        assert!(head.is_done());
    }

    proptest! {
        /// However the bytes are split across reads, the head ends at the same byte.
        #[test]
        fn any_split_finds_the_same_end(cuts in proptest::collection::vec(0..70usize, 0..6)) {
            let bytes = [HEAD, b"\x81\x05hello"].concat();
            let mut points: Vec<usize> = cuts.into_iter().map(|cut| cut.min(bytes.len())).collect();
            points.push(bytes.len());
            points.sort_unstable();
            let (mut head, mut from, mut taken) = (HeadEnd::default(), 0, 0);
            for to in points {
                taken += head.scan(&bytes[from..to]);
                from = to;
            }
            prop_assert_eq!(taken, HEAD.len());
        }
    }
}
