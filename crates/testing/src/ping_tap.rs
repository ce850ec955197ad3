//! A read filter that lifts client ping frames out of the byte stream before tungstenite sees
//! them, so the server decides itself whether to answer (tungstenite would always queue a pong).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::mpsc;

/// The ping opcode (RFC 6455, section 5.5.2).
const OPCODE_PING: u8 = 0x9;
/// Control frames carry at most 125 payload bytes.
const MAX_CONTROL_PAYLOAD: u64 = 125;
/// How much to read from the inner stream at a time.
const CHUNK: usize = 8 * 1024;

/// Passes bytes through, except complete, well-formed ping frames, whose unmasked payloads go to
/// `pings` instead. Inactive (a plain pass-through) until [`PingTap::activate`], so the HTTP
/// handshake is untouched.
pub(crate) struct PingTap<S> {
    inner: S,
    active: bool,
    eof: bool,
    /// Bytes read from `inner` and not yet handed out.
    raw: BytesMut,
    /// Bytes of the current non-ping frame (header included) still to hand out.
    forward: u64,
    pings: mpsc::UnboundedSender<Bytes>,
}

impl<S> PingTap<S> {
    pub(crate) fn new(inner: S, pings: mpsc::UnboundedSender<Bytes>) -> Self {
        Self { inner, active: false, eof: false, raw: BytesMut::new(), forward: 0, pings }
    }

    /// Starts filtering; call once the WebSocket handshake is done.
    pub(crate) fn activate(&mut self) {
        self.active = true;
    }

    pub(crate) fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Moves buffered bytes to `buf`; returns whether anything was moved.
    fn hand_out(&mut self, buf: &mut ReadBuf<'_>) -> bool {
        let limit = usize::try_from(self.forward).unwrap_or(usize::MAX);
        let n = self.raw.len().min(buf.remaining()).min(limit);
        buf.put_slice(&self.raw[..n]);
        self.raw.advance(n);
        self.forward -= n as u64;
        n > 0
    }

    /// Looks at the frame at the start of `raw`: swallows a complete ping or starts forwarding
    /// any other frame. Returns `false` when more bytes are needed.
    fn classify(&mut self) -> bool {
        let Some(header) = Header::parse(&self.raw) else {
            return false;
        };
        if !header.is_ping() {
            self.forward = header.len as u64 + header.payload;
            return true;
        }
        let total = header.len + header.payload as usize;
        if self.raw.len() < total {
            return false;
        }
        let mut payload = self.raw.split_to(total).split_off(header.len);
        if let Some(mask) = header.mask {
            payload.iter_mut().enumerate().for_each(|(i, byte)| *byte ^= mask[i % 4]);
        }
        // The receiver only goes away with the connection task; a lost ping is then harmless.
        let _ = self.pings.send(payload.freeze());
        true
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for PingTap<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.active {
            return Pin::new(&mut this.inner).poll_read(cx, buf);
        }
        loop {
            if this.forward > 0
                && !this.raw.is_empty()
                && (this.hand_out(buf) || buf.remaining() == 0)
            {
                return Poll::Ready(Ok(()));
            }
            if this.forward == 0 && !this.raw.is_empty() && this.classify() {
                continue;
            }
            if this.eof {
                // A truncated frame: let tungstenite see the bytes and report the error.
                this.forward = this.raw.len() as u64;
                if this.raw.is_empty() || this.hand_out(buf) {
                    return Poll::Ready(Ok(()));
                }
            }
            let mut scratch = [0_u8; CHUNK];
            let mut read = ReadBuf::new(&mut scratch);
            ready!(Pin::new(&mut this.inner).poll_read(cx, &mut read))?;
            if read.filled().is_empty() {
                this.eof = true;
            }
            this.raw.extend_from_slice(read.filled());
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for PingTap<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// The fixed part of a frame: everything before the payload.
struct Header {
    /// Header length in bytes (extended length and mask included).
    len: usize,
    payload: u64,
    opcode: u8,
    fin: bool,
    mask: Option<[u8; 4]>,
}

impl Header {
    /// Parses a header at the start of `buf`; `None` when `buf` is too short.
    fn parse(buf: &[u8]) -> Option<Self> {
        let (&first, &second) = (buf.first()?, buf.get(1)?);
        let (payload, mut len) = match second & 0x7F {
            126 => (u64::from(u16::from_be_bytes(buf.get(2..4)?.try_into().ok()?)), 4),
            127 => (u64::from_be_bytes(buf.get(2..10)?.try_into().ok()?), 10),
            short => (u64::from(short), 2),
        };
        let mask = if second & 0x80 != 0 {
            let mask: [u8; 4] = buf.get(len..len + 4)?.try_into().ok()?;
            len += 4;
            Some(mask)
        } else {
            None
        };
        Some(Self { len, payload, opcode: first & 0x0F, fin: first & 0x80 != 0, mask })
    }

    /// A ping this filter may take: final, within the control-frame size limit.
    fn is_ping(&self) -> bool {
        self.opcode == OPCODE_PING && self.fin && self.payload <= MAX_CONTROL_PAYLOAD
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncReadExt;

    use super::*;

    fn masked(opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mask = [1, 2, 3, 4];
        let mut frame = vec![0x80 | opcode, 0x80 | payload.len() as u8];
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        frame
    }

    #[tokio::test]
    async fn pings_are_lifted_out_and_the_rest_passes() {
        let text = masked(0x1, b"hello");
        let mut input = text.clone();
        input.extend(masked(OPCODE_PING, b"beat"));
        input.extend(masked(0x2, &[9; 3]));
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut tap = PingTap::new(&input[..], tx);
        tap.activate();
        let mut out = Vec::new();
        tap.read_to_end(&mut out).await.expect("read");
        let mut expected = text;
        expected.extend(masked(0x2, &[9; 3]));
        assert_eq!(out, expected);
        assert_eq!(rx.try_recv().ok(), Some(Bytes::from_static(b"beat")));
    }

    #[tokio::test]
    async fn truncated_frames_pass_through() {
        let input = masked(OPCODE_PING, b"beat");
        let (tx, _rx) = mpsc::unbounded_channel();
        let mut tap = PingTap::new(&input[..5], tx);
        tap.activate();
        let mut out = Vec::new();
        tap.read_to_end(&mut out).await.expect("read");
        assert_eq!(out, input[..5]);
    }

    #[test]
    fn header_lengths() {
        let long = [0x82, 0x80 | 126, 0x01, 0x00, 0, 0, 0, 0];
        let header = Header::parse(&long).expect("header");
        assert_eq!((header.len, header.payload), (8, 256));
        assert!(Header::parse(&long[..7]).is_none());
        let huge = [0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0];
        assert_eq!(Header::parse(&huge).map(|h| h.payload), Some(65536));
    }
}
