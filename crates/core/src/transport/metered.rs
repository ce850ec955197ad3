//! The byte stream under a connection: it counts what it writes, so the connection task can
//! tell a slow write from a write that makes no progress at all, reads ahead during bursts, and
//! gives the upgrade handshake the response head and nothing more.

use std::{
    io,
    pin::Pin,
    task::{Context, Poll},
};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::{head::HeadEnd, read_ahead::ReadAhead};

/// The chunk the upgrade response is read into (the size tungstenite's handshake reads).
const HEAD_CHUNK: usize = 4 << 10;

/// Wraps a transport: counts the bytes the operating system accepted for sending, and reads
/// ahead in large chunks while a burst lasts (see [`ReadAhead`]).
#[derive(Debug)]
pub(crate) struct Metered<T> {
    inner: T,
    written: u64,
    ahead: ReadAhead,
    /// While the upgrade response is read: where its head ends.
    head: Option<HeadEnd>,
}

impl<T> Metered<T> {
    /// A transport about to read an upgrade response: reads stop at the end of the response
    /// head (the stream then looks ended) until [`Self::upgraded`], and what follows the head
    /// waits here.
    pub(crate) fn upgrading(inner: T) -> Self {
        Self { inner, written: 0, ahead: ReadAhead::default(), head: Some(HeadEnd::default()) }
    }

    /// The upgrade is over: reads go on from the first byte after the response head.
    pub(crate) fn upgraded(&mut self) {
        self.head = None;
    }

    /// Up to `limit` bytes read past the response head (a rejected upgrade's body).
    pub(crate) fn read_past_head(&mut self, limit: usize) -> Vec<u8> {
        self.ahead.drain(limit)
    }

    /// The wrapped transport.
    #[cfg(test)]
    pub(crate) fn get_ref(&self) -> &T {
        &self.inner
    }

    /// Bytes written so far; a value that stops changing while frames wait means no progress.
    pub(crate) fn written(&self) -> u64 {
        self.written
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Metered<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let Some(head) = &mut this.head else {
            return this.ahead.poll_read(&mut this.inner, cx, buf);
        };
        if head.is_done() {
            return Poll::Ready(Ok(()));
        }
        let waiting = match this.ahead.poll_buffered(&mut this.inner, cx, HEAD_CHUNK) {
            Poll::Ready(Ok(waiting)) => waiting,
            Poll::Ready(Err(err)) => return Poll::Ready(Err(err)),
            Poll::Pending => return Poll::Pending,
        };
        let room = buf.remaining().min(waiting.len());
        let head_bytes = head.scan(&waiting[..room]);
        this.ahead.take(head_bytes, buf);
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Metered<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = written {
            this.written += n as u64;
        }
        written
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = written {
            this.written += n as u64;
        }
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
