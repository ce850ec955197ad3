//! The reader thread behind `Recorder::replay`: reads a recording off the async runtime and
//! feeds its entries in chunks through a bounded channel.
//!
//! File I/O (opening included: a FIFO or a network file system can block on open) happens on
//! this thread only, so a replay never blocks a runtime thread. The channel holds at most
//! [`CHUNKS_AHEAD`] chunks, so a slow consumer (a realtime replay) keeps memory bounded; when
//! the replay is dropped, the thread stops at its next send.

use std::{io, path::PathBuf, thread};

use tokio::sync::mpsc;

use crate::{
    entry::Entry,
    error::{Error, Result},
    queue::cost,
    recorder::Recorder,
};

/// Entries per chunk, at most.
const CHUNK_ENTRIES: usize = 256;
/// Estimated bytes per chunk, at most (a chunk holds at least one entry, however large).
const CHUNK_BYTES: usize = 1 << 20;
/// Chunks read ahead of the replay.
const CHUNKS_AHEAD: usize = 2;

/// What the reader thread sends.
#[derive(Debug)]
pub(crate) enum Chunk {
    /// The next entries, in file order.
    Entries(Vec<Entry>),
    /// The end of the file: nothing follows.
    End {
        /// Blank and malformed lines skipped in the whole file.
        skipped_lines: u64,
    },
    /// Opening or reading failed: nothing follows.
    Failed(Error),
}

/// Starts a thread reading the recording at `path`; its chunks arrive on the receiver.
pub(crate) fn spawn(path: PathBuf) -> Result<mpsc::Receiver<Chunk>> {
    let (chunks, receiver) = mpsc::channel(CHUNKS_AHEAD);
    thread::Builder::new()
        .name("zen-websocket-replay".to_owned())
        .spawn(move || read(path, &chunks))
        .map_err(Error::Spawn)?;
    Ok(receiver)
}

/// What the replay reports when the reader thread ended without saying why (it panicked).
pub(crate) fn reader_lost(path: PathBuf) -> Error {
    Error::Read { path, source: io::Error::other("the replay's reader thread stopped") }
}

/// The thread's body. Every send fails once the replay is dropped, which ends the thread.
fn read(path: PathBuf, chunks: &mpsc::Sender<Chunk>) {
    let mut entries = match Recorder::entries(&path) {
        Ok(entries) => entries,
        Err(err) => {
            let _ = chunks.blocking_send(Chunk::Failed(err));
            return;
        }
    };
    let mut chunk = Vec::new();
    let mut bytes = 0;
    for entry in entries.by_ref() {
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                let _ = send(chunks, &mut chunk)
                    .and_then(|()| chunks.blocking_send(Chunk::Failed(err)).map_err(|_| Stopped));
                return;
            }
        };
        bytes += cost(&entry).bytes;
        chunk.push(entry);
        if chunk.len() >= CHUNK_ENTRIES || bytes >= CHUNK_BYTES {
            bytes = 0;
            if send(chunks, &mut chunk).is_err() {
                return;
            }
        }
    }
    let end = Chunk::End { skipped_lines: entries.skipped_lines() };
    let _ = send(chunks, &mut chunk).and_then(|()| chunks.blocking_send(end).map_err(|_| Stopped));
}

/// The replay was dropped.
struct Stopped;

/// Sends the chunk collected so far, if any.
fn send(chunks: &mpsc::Sender<Chunk>, chunk: &mut Vec<Entry>) -> std::result::Result<(), Stopped> {
    if chunk.is_empty() {
        return Ok(());
    }
    let full = std::mem::replace(chunk, Vec::with_capacity(CHUNK_ENTRIES));
    chunks.blocking_send(Chunk::Entries(full)).map_err(|_| Stopped)
}
