//! Reading ahead while a burst lasts: when the socket fills every read it is given, further
//! reads take a large chunk in one system call and serve the protocol's small reads from it;
//! when the socket runs dry the chunk is freed, so an idle connection keeps no extra memory.

use std::{
    io,
    pin::Pin,
    task::{Context, Poll},
};

use tokio::io::{AsyncRead, ReadBuf};

/// The chunk read in one system call during a burst.
pub(crate) const CHUNK: usize = 64 << 10;

/// Bytes read from the socket and not yet handed to the reader, during a burst.
#[derive(Debug, Default)]
pub(crate) struct ReadAhead {
    /// Allocated when a burst starts, freed when the socket runs dry.
    chunk: Option<Box<[u8]>>,
    start: usize,
    end: usize,
    /// Whether the last read filled all the room it was given: more is probably waiting.
    bursting: bool,
}

impl ReadAhead {
    /// Reads from `inner` into `dst`, a chunk at a time while bursting.
    pub(crate) fn poll_read<T: AsyncRead + Unpin>(
        &mut self,
        inner: &mut T,
        cx: &mut Context<'_>,
        dst: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.start < self.end {
            self.copy_out(dst);
            return Poll::Ready(Ok(()));
        }
        if !self.bursting || dst.remaining() >= CHUNK {
            return self.poll_direct(inner, cx, dst);
        }
        // A smaller chunk left from the upgrade does not serve a burst.
        if self.chunk.as_ref().is_some_and(|chunk| chunk.len() < CHUNK) {
            self.chunk = None;
        }
        let chunk = self.chunk.get_or_insert_with(|| vec![0; CHUNK].into_boxed_slice());
        let mut into = ReadBuf::new(chunk);
        match Pin::new(inner).poll_read(cx, &mut into) {
            Poll::Ready(Ok(())) => {
                let read = into.filled().len();
                (self.start, self.end) = (0, read);
                // A chunk not even a quarter full: the burst is over.
                self.bursting = read >= CHUNK / 4;
                self.copy_out(dst);
                Poll::Ready(Ok(()))
            }
            Poll::Pending => {
                self.idle();
                Poll::Pending
            }
            Poll::Ready(Err(err)) => Poll::Ready(Err(err)),
        }
    }

    /// Reads straight into `dst`, noticing when a burst begins.
    fn poll_direct<T: AsyncRead + Unpin>(
        &mut self,
        inner: &mut T,
        cx: &mut Context<'_>,
        dst: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let room = dst.remaining();
        let before = dst.filled().len();
        let polled = Pin::new(inner).poll_read(cx, dst);
        match &polled {
            Poll::Ready(Ok(())) => self.bursting = room > 0 && dst.filled().len() - before == room,
            Poll::Pending => self.idle(),
            Poll::Ready(Err(_)) => {}
        }
        polled
    }

    /// The bytes waiting in the chunk, reading up to `size` more into a new chunk when none
    /// wait; empty at the end of the stream.
    pub(crate) fn poll_buffered<T: AsyncRead + Unpin>(
        &mut self,
        inner: &mut T,
        cx: &mut Context<'_>,
        size: usize,
    ) -> Poll<io::Result<&[u8]>> {
        if self.start >= self.end {
            let chunk = self.chunk.get_or_insert_with(|| vec![0; size].into_boxed_slice());
            let mut into = ReadBuf::new(chunk);
            match Pin::new(inner).poll_read(cx, &mut into) {
                Poll::Ready(Ok(())) => (self.start, self.end) = (0, into.filled().len()),
                Poll::Ready(Err(err)) => return Poll::Ready(Err(err)),
                Poll::Pending => return Poll::Pending,
            }
        }
        let chunk = self.chunk.as_deref().unwrap_or_default();
        Poll::Ready(Ok(&chunk[self.start..self.end]))
    }

    /// Hands the first `n` waiting bytes to `dst` (which has room for them).
    pub(crate) fn take(&mut self, n: usize, dst: &mut ReadBuf<'_>) {
        let Some(chunk) = &self.chunk else { return };
        let n = n.min(self.end - self.start).min(dst.remaining());
        dst.put_slice(&chunk[self.start..self.start + n]);
        self.start += n;
    }

    /// Removes and returns up to `limit` waiting bytes.
    pub(crate) fn drain(&mut self, limit: usize) -> Vec<u8> {
        let Some(chunk) = &self.chunk else { return Vec::new() };
        let n = limit.min(self.end - self.start);
        let bytes = chunk[self.start..self.start + n].to_vec();
        self.start += n;
        bytes
    }

    fn copy_out(&mut self, dst: &mut ReadBuf<'_>) {
        let Some(chunk) = &self.chunk else { return };
        let take = dst.remaining().min(self.end - self.start);
        dst.put_slice(&chunk[self.start..self.start + take]);
        self.start += take;
    }

    /// The socket ran dry: the chunk goes.
    fn idle(&mut self) {
        self.bursting = false;
        if self.start >= self.end {
            self.chunk = None;
        }
    }

    /// Whether a chunk is allocated (for tests).
    #[cfg(test)]
    pub(crate) fn holds_chunk(&self) -> bool {
        self.chunk.is_some()
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// Reads `total` bytes through a read-ahead with `window`-byte reads, as tungstenite does.
    async fn read_through(
        ahead: &mut ReadAhead,
        reader: &mut tokio::io::DuplexStream,
        total: usize,
        window: usize,
    ) -> Vec<u8> {
        let mut out = Vec::new();
        let mut scratch = vec![0u8; window];
        while out.len() < total {
            let mut buf = ReadBuf::new(&mut scratch);
            std::future::poll_fn(|cx| ahead.poll_read(reader, cx, &mut buf)).await.unwrap();
            out.extend_from_slice(buf.filled());
        }
        out
    }

    #[tokio::test]
    async fn a_burst_is_read_in_chunks_and_every_byte_arrives_in_order() {
        let (mut writer, mut reader) = tokio::io::duplex(1 << 20);
        let data: Vec<u8> = (0..300_000u32).map(|n| (n % 251) as u8).collect();
        writer.write_all(&data).await.unwrap();
        let mut ahead = ReadAhead::default();
        let got = read_through(&mut ahead, &mut reader, data.len(), 4096).await;
        assert_eq!(got, data);
        assert!(ahead.holds_chunk(), "a burst reads ahead");
        // Dry: the next read waits, and the chunk is freed.
        let mut scratch = [0u8; 16];
        let mut buf = ReadBuf::new(&mut scratch);
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(ahead.poll_read(&mut reader, &mut cx, &mut buf).is_pending());
        assert!(!ahead.holds_chunk(), "an idle connection keeps no chunk");
        writer.write_all(b"tail").await.unwrap();
        drop(writer);
        let mut rest = Vec::new();
        let mut wrapped = ReadAheadReader { ahead: &mut ahead, inner: &mut reader };
        wrapped.read_to_end(&mut rest).await.unwrap();
        assert_eq!(rest, b"tail");
    }

    /// Adapts a read-ahead over a stream to `AsyncRead`, for `read_to_end`.
    struct ReadAheadReader<'a> {
        ahead: &'a mut ReadAhead,
        inner: &'a mut tokio::io::DuplexStream,
    }

    impl AsyncRead for ReadAheadReader<'_> {
        fn poll_read(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            let this = self.get_mut();
            this.ahead.poll_read(this.inner, cx, buf)
        }
    }
}
