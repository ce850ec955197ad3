//! `Events`: an owned reader of a connection's events, taking them from the inbox a batch at a
//! time.

use std::{
    collections::VecDeque,
    fmt,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use futures_util::Stream;

use crate::{
    event::Event,
    inbox::{Delivered, Take},
    monitor::Shared,
};

/// How many events a refill takes from the inbox at most when no limit is given.
const REFILL: usize = 256;

/// A connection's events, from [`Client::events`](crate::Client::events): the fast way to read
/// a busy connection.
///
/// Each refill moves everything waiting in the inbox (up to a limit) under one lock, so reading
/// costs no lock or wake-up per message. [`recv_many`](Self::recv_many) hands a whole batch
/// over; [`recv`](Self::recv) and the [`Stream`] implementation hand out one event at a time
/// from the batch already taken. The stream ends (`None`) once the connection has ended and
/// every event was read — or at once with a
/// [`Config::message_handler`](crate::Config::message_handler).
///
/// Several readers — other `Events`, [`Client::recv`](crate::Client::recv) — share the inbox;
/// each event reaches one of them. Dropping an `Events` that still holds events it took puts
/// them back at the front of the inbox, in order: none is lost.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = zen_websocket_testing::MockServer::start().await?;
/// use futures_util::StreamExt;
/// use zen_websocket_core::{Client, Config, Event};
///
/// let client = Client::connect(&server.url(), Config::default()).await?;
/// let mut events = client.events();
/// client.send_message("hello").await?;
/// if let Some(Event::Message(echo)) = events.next().await {
///     assert_eq!(echo.as_text(), Some("hello"));
/// }
/// # Ok(())
/// # }
/// ```
#[must_use = "streams do nothing unless polled"]
pub struct Events {
    shared: Arc<Shared>,
    taken: VecDeque<Delivered>,
}

impl Events {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self { shared, taken: VecDeque::new() }
    }

    /// The next event; `None` once the connection has ended and every event was read.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: an event is never lost by dropping this future.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = zen_websocket_testing::MockServer::start().await?;
    /// use zen_websocket_core::{Client, Config, Event};
    ///
    /// let client = Client::connect(&server.url(), Config::default()).await?;
    /// let mut events = client.events();
    /// client.close().await?;
    /// while let Some(event) = events.recv().await {
    ///     println!("{event:?}"); // the last one is Disconnected
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn recv(&mut self) -> Option<Event> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Waits for events, then moves up to `limit` of them (at least one) into `buf`; returns
    /// how many — 0 only once the connection has ended and every event was read.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: nothing is taken until the future completes.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = zen_websocket_testing::MockServer::start().await?;
    /// use zen_websocket_core::{Client, Config};
    ///
    /// let client = Client::connect(&server.url(), Config::default()).await?;
    /// let mut events = client.events();
    /// client.send_message("a").await?;
    /// let mut batch = Vec::new();
    /// let read = events.recv_many(&mut batch, 100).await;
    /// assert_eq!(read, batch.len());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn recv_many(&mut self, buf: &mut Vec<Event>, limit: usize) -> usize {
        std::future::poll_fn(|cx| self.poll_recv_many(cx, buf, limit)).await
    }

    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        if self.taken.is_empty()
            && std::task::ready!(self.shared.poll_take(cx, &mut self.taken, REFILL)) == 0
        {
            return Poll::Ready(None);
        }
        Poll::Ready(self.taken.pop_front().map(Delivered::into_event))
    }

    fn poll_recv_many(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut Vec<Event>,
        limit: usize,
    ) -> Poll<usize> {
        let limit = limit.max(1);
        if !self.taken.is_empty() {
            let take = self.taken.len().min(limit);
            buf.extend(self.taken.drain(..take).map(Delivered::into_event));
            return Poll::Ready(take);
        }
        self.shared.poll_take(cx, &mut Converting(buf), limit)
    }
}

/// Takes events from the inbox straight into a caller's buffer, as `Event`s.
struct Converting<'a>(&'a mut Vec<Event>);

impl Extend<Delivered> for Converting<'_> {
    fn extend<I: IntoIterator<Item = Delivered>>(&mut self, iter: I) {
        self.0.extend(iter.into_iter().map(Delivered::into_event));
    }
}

impl Take for Converting<'_> {
    fn swap_all(&mut self, _: &mut VecDeque<Delivered>) -> bool {
        false
    }
}

impl Stream for Events {
    type Item = Event;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        self.get_mut().poll_recv(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.taken.len(), None)
    }
}

impl Drop for Events {
    fn drop(&mut self) {
        if let (Some(inbox), false) = (&self.shared.inbox, self.taken.is_empty()) {
            inbox.put_back(std::mem::take(&mut self.taken));
        }
    }
}

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Events").field("taken", &self.taken.len()).finish_non_exhaustive()
    }
}
