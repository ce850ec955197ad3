//! The byte stream under a connection: it counts what it writes, so the connection task can
//! tell a slow write from a write that makes no progress at all, and reads ahead during bursts.

use std::{
    io,
    pin::Pin,
    task::{Context, Poll},
};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::read_ahead::ReadAhead;

/// Wraps a transport: counts the bytes the operating system accepted for sending, and reads
/// ahead in large chunks while a burst lasts (see [`ReadAhead`]).
#[derive(Debug)]
pub(crate) struct Metered<T> {
    inner: T,
    written: u64,
    ahead: ReadAhead,
}

impl<T> Metered<T> {
    pub(crate) fn new(inner: T) -> Self {
        Self { inner, written: 0, ahead: ReadAhead::default() }
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
        this.ahead.poll_read(&mut this.inner, cx, buf)
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
