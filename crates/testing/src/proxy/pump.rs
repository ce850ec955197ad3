//! One direction of a proxied connection: a reader that applies stall, blackhole and the
//! closing triggers, a queue, and a writer that applies latency and the bandwidth cap.

use bytes::Bytes;
use futures_util::future::try_join;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::fault::{Lane, Side};
use super::state::{Control, Counters, Ending};
use super::timing::{Delays, Pacer};

/// How much the reader takes from the socket at a time.
const CHUNK: usize = 16 * 1024;
/// How many chunks may wait between the reader and the writer (latency, bandwidth).
const QUEUE: usize = 32;

/// What the reader hands the writer.
#[derive(Debug)]
enum Item {
    /// Bytes to write once `due`.
    Data { bytes: Bytes, due: Instant },
    /// The source ended: half-close the sink.
    Eof,
    /// A trigger fired: end the whole connection with a FIN.
    Close,
}

/// What one direction works with.
#[derive(Debug, Clone, Copy)]
pub(super) struct Pipe<'a> {
    pub(super) side: Side,
    pub(super) counters: &'a Counters,
    pub(super) control: &'a watch::Receiver<Control>,
}

/// Forwards `source` to `sink` under the faults of `pipe.side` until the source ends (then the
/// sink is half-closed and this returns `Ok`) or the connection must end (`Err`).
pub(super) async fn pump<R, W>(pipe: Pipe<'_>, source: R, sink: W) -> Result<(), Ending>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let (queue, items) = mpsc::channel(QUEUE);
    let reading = read(pipe, source, queue);
    let writing = write(pipe, sink, items);
    try_join(reading, writing).await.map(|_| ())
}

/// The faults in force on this side, marking them seen.
fn current(pipe: Pipe<'_>, control: &mut watch::Receiver<Control>) -> Lane {
    *control.borrow_and_update().faults.lane(pipe.side)
}

/// Waits for the next change to the faults (forever once the proxy is gone).
async fn changed(control: &mut watch::Receiver<Control>) {
    if control.changed().await.is_err() {
        std::future::pending::<()>().await;
    }
}

async fn read<R>(pipe: Pipe<'_>, mut source: R, queue: mpsc::Sender<Item>) -> Result<(), Ending>
where
    R: AsyncRead + Unpin,
{
    let mut control = pipe.control.clone();
    let mut buf = vec![0; CHUNK];
    let mut delays = Delays::new();
    loop {
        let lane = current(pipe, &mut control);
        if lane.close_after.is_some_and(|at| pipe.counters.passed(pipe.side) >= at) {
            let _ = queue.send(Item::Close).await;
            return Ok(());
        }
        if lane.stall {
            changed(&mut control).await;
            continue;
        }
        // A change of faults interrupts the read (reads are cancel safe) to be looked at first.
        let read = tokio::select! {
            biased;
            () = changed(&mut control) => continue,
            read = source.read(&mut buf) => read,
        };
        let n = read.map_err(|_| Ending::Reset)?;
        let lane = current(pipe, &mut control);
        let chunk = Chunk { bytes: &buf[..n], lane, delays: &mut delays };
        if !pass_on(pipe, chunk, &queue).await {
            return Ok(());
        }
    }
}

/// Bytes just read, with the faults in force.
struct Chunk<'a> {
    bytes: &'a [u8],
    lane: Lane,
    delays: &'a mut Delays,
}

/// Queues what the faults let through of a chunk (an empty one is the end of the stream);
/// returns whether reading goes on.
async fn pass_on(pipe: Pipe<'_>, chunk: Chunk<'_>, queue: &mpsc::Sender<Item>) -> bool {
    let Chunk { bytes, lane, delays } = chunk;
    if lane.blackhole {
        // Swallowed, the end of the stream included: the peer never learns.
        pipe.counters.discard(pipe.side, bytes.len());
        return !bytes.is_empty();
    }
    if bytes.is_empty() {
        let _ = queue.send(Item::Eof).await;
        return false;
    }
    let (keep, close) = cut(&lane, pipe.counters.passed(pipe.side), bytes.len());
    pipe.counters.pass(pipe.side, keep);
    pipe.counters.discard(pipe.side, bytes.len() - keep);
    if keep > 0 {
        let data = Bytes::copy_from_slice(&bytes[..keep]);
        let due = delays.due(lane.delay, lane.jitter);
        if queue.send(Item::Data { bytes: data, due }).await.is_err() {
            return false;
        }
    }
    if close {
        let _ = queue.send(Item::Close).await;
    }
    !close
}

/// How many of the `n` bytes just read to forward, and whether to close the connection after
/// them, given the closing triggers and the bytes `passed` so far.
fn cut(lane: &Lane, passed: u64, n: usize) -> (usize, bool) {
    let (mut keep, mut close) = (n, false);
    if let Some(limit) = lane.truncate {
        (keep, close) = (keep.min(limit), true);
    }
    if let Some(at) = lane.close_after {
        let left = at.saturating_sub(passed);
        if keep as u64 >= left {
            (keep, close) = (usize::try_from(left).unwrap_or(keep), true);
        }
    }
    (keep, close)
}

async fn write<W>(
    pipe: Pipe<'_>,
    mut sink: W,
    mut items: mpsc::Receiver<Item>,
) -> Result<(), Ending>
where
    W: AsyncWrite + Unpin,
{
    let mut pacer = Pacer::default();
    while let Some(item) = items.recv().await {
        match item {
            Item::Data { bytes, due } => {
                tokio::time::sleep_until(due).await;
                deliver(pipe, &mut sink, &bytes, &mut pacer).await?;
            }
            Item::Eof => {
                // Half-close: the other direction goes on.
                let _ = sink.shutdown().await;
                return Ok(());
            }
            Item::Close => return Err(Ending::Close),
        }
    }
    Ok(())
}

/// Writes `bytes` in paced slices; a blackhole switched on meanwhile swallows the rest.
async fn deliver<W>(
    pipe: Pipe<'_>,
    sink: &mut W,
    mut bytes: &[u8],
    pacer: &mut Pacer,
) -> Result<(), Ending>
where
    W: AsyncWrite + Unpin,
{
    while !bytes.is_empty() {
        let lane = *pipe.control.borrow().faults.lane(pipe.side);
        if lane.blackhole {
            pipe.counters.discard(pipe.side, bytes.len());
            return Ok(());
        }
        let n = Pacer::slice(lane.bandwidth, bytes.len());
        pacer.wait(lane.bandwidth, n).await;
        sink.write_all(&bytes[..n]).await.map_err(|_| Ending::Reset)?;
        pipe.counters.forward(pipe.side, n);
        bytes = &bytes[n..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_applies_truncate_and_close_after() {
        let lane = Lane::default();
        assert_eq!(cut(&lane, 0, 100), (100, false));
        let truncate = Lane { truncate: Some(5), ..Lane::default() };
        assert_eq!(cut(&truncate, 0, 100), (5, true));
        assert_eq!(cut(&truncate, 0, 3), (3, true));
        let close = Lane { close_after: Some(150), ..Lane::default() };
        assert_eq!(cut(&close, 100, 30), (30, false));
        assert_eq!(cut(&close, 100, 50), (50, true));
        assert_eq!(cut(&close, 100, 80), (50, true));
        assert_eq!(cut(&close, 200, 80), (0, true));
    }
}
