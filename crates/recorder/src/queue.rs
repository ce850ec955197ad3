//! The bounded queue between `Recorder::record` and the writer thread, and its gap markers.
//!
//! The bound covers every entry recorded but not yet written: those waiting in the queue and
//! those in the batch the writer is writing. An entry that would exceed it is dropped and
//! counted in a pending gap per direction; the gap becomes a marker entry ([`Payload::Gap`])
//! at the position of the first missing frame — in the queue in front of the next entry that
//! fits (which must then have room for the marker too), or at the end of the writer's next
//! batch, whichever comes first. Markers are entries like any other for the bound.

use crate::{
    entry::{Direction, Entry, Payload},
    timestamp::Timestamp,
};

/// What one entry is assumed to cost beyond its payload bytes: the `Entry` itself in the queue
/// and the allocator's overhead for its buffer.
pub(crate) const ENTRY_OVERHEAD: usize = 64;

/// How much a recorder holds in memory: entries recorded but not yet written, from
/// [`Recorder::queued`](crate::Recorder::queued).
///
/// Both numbers stay within [`max_queue_entries`](crate::RecorderConfig::max_queue_entries)
/// and [`max_queue_bytes`](crate::RecorderConfig::max_queue_bytes).
///
/// # Examples
///
/// ```
/// use zen_websocket_recorder::{Direction, Recorder, RecorderConfig};
///
/// # let path = std::env::temp_dir().join(format!("zen-recorder-queued-{}.jsonl", std::process::id()));
/// let recorder = Recorder::create(&path, RecorderConfig::default())?;
/// recorder.record(Direction::Out, "ping");
/// let queued = recorder.queued();
/// assert!(queued.entries <= 1 && queued.bytes <= 64 + 4);
/// recorder.flush()?;
/// assert_eq!(recorder.queued().entries, 0);
/// # drop(recorder);
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Queued {
    /// Entries (frames and gap markers) waiting for the writer or being written.
    pub entries: usize,
    /// Their estimated size: payload bytes plus 64 bytes per entry.
    pub bytes: usize,
}

impl Queued {
    fn add(&mut self, cost: Queued) {
        self.entries += cost.entries;
        self.bytes += cost.bytes;
    }

    fn plus(self, cost: Queued) -> Queued {
        Queued { entries: self.entries + cost.entries, bytes: self.bytes + cost.bytes }
    }
}

/// The estimated memory cost of one entry.
pub(crate) fn cost(entry: &Entry) -> Queued {
    let payload = match &entry.payload {
        Payload::Text(text) => text.len(),
        Payload::Binary(bytes) => bytes.len(),
        Payload::Close { reason, .. } => reason.len(),
        Payload::Gap { .. } => 0,
    };
    Queued { entries: 1, bytes: ENTRY_OVERHEAD.saturating_add(payload) }
}

/// Frames dropped in one direction since the last marker: how many, and when the first was.
#[derive(Debug, Clone, Copy)]
struct Missing {
    first: Timestamp,
    skipped: u64,
}

/// Frames dropped since the last marker, per direction, not yet turned into markers.
#[derive(Debug, Default)]
struct PendingGap {
    inbound: Option<Missing>,
    outbound: Option<Missing>,
}

impl PendingGap {
    fn is_empty(&self) -> bool {
        self.inbound.is_none() && self.outbound.is_none()
    }

    fn add(&mut self, entry: &Entry) {
        let side = match entry.dir {
            Direction::In => &mut self.inbound,
            Direction::Out => &mut self.outbound,
        };
        side.get_or_insert(Missing { first: entry.ts, skipped: 0 }).skipped += 1;
    }

    /// The markers this gap needs, earliest first; empties the gap.
    fn take_markers(&mut self) -> impl Iterator<Item = Entry> + use<> {
        let mut markers = [
            self.inbound.take().map(|m| (m, Direction::In)),
            self.outbound.take().map(|m| (m, Direction::Out)),
        ];
        if let [Some((a, _)), Some((b, _))] = &markers
            && b.first < a.first
        {
            markers.swap(0, 1);
        }
        markers.into_iter().flatten().map(|(missing, dir)| {
            Entry::new(missing.first, dir, Payload::Gap { skipped: missing.skipped })
        })
    }

    fn markers_cost(&self) -> Queued {
        let markers = usize::from(self.inbound.is_some()) + usize::from(self.outbound.is_some());
        Queued { entries: markers, bytes: markers * ENTRY_OVERHEAD }
    }
}

/// What [`Queue::push`] did with an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pushed {
    /// Queued (behind any pending gap markers).
    Queued,
    /// Dropped: the first drop since the last marker (a new gap).
    DroppedFirst,
    /// Dropped, adding to a gap already pending.
    Dropped,
}

/// The entries waiting for the writer, bounded by count and estimated bytes.
#[derive(Debug)]
pub(crate) struct Queue {
    entries: Vec<Entry>,
    limit: Queued,
    /// In `entries`.
    waiting: Queued,
    /// Taken by the writer and not yet written.
    writing: Queued,
    gap: PendingGap,
}

impl Queue {
    pub(crate) fn new(limit: Queued, capacity: usize) -> Self {
        Self {
            entries: Vec::with_capacity(capacity.min(limit.entries)),
            limit,
            waiting: Queued::default(),
            writing: Queued::default(),
            gap: PendingGap::default(),
        }
    }

    /// Everything recorded and not yet written.
    pub(crate) fn held(&self) -> Queued {
        self.waiting.plus(self.writing)
    }

    /// Entries waiting for the writer.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Estimated bytes waiting for the writer.
    pub(crate) fn waiting_bytes(&self) -> usize {
        self.waiting.bytes
    }

    pub(crate) fn has_gap(&self) -> bool {
        !self.gap.is_empty()
    }

    /// Queues `entry` if it fits with the pending gap's markers in front of it; drops it and
    /// counts it in the gap otherwise.
    pub(crate) fn push(&mut self, entry: Entry) -> Pushed {
        let needed = cost(&entry).plus(self.gap.markers_cost());
        if !self.fits(needed) {
            let first = self.gap.is_empty();
            self.gap.add(&entry);
            return if first { Pushed::DroppedFirst } else { Pushed::Dropped };
        }
        self.entries.extend(self.gap.take_markers());
        self.entries.push(entry);
        self.waiting.add(needed);
        Pushed::Queued
    }

    fn fits(&self, needed: Queued) -> bool {
        let after = self.held().plus(needed);
        after.entries <= self.limit.entries && after.bytes <= self.limit.bytes
    }

    /// Hands everything waiting to the writer (in `batch`, which must be empty), followed by
    /// the markers of a pending gap: every frame in that gap was dropped after every entry
    /// that was waiting. The batch counts against the bound until [`Queue::written`].
    pub(crate) fn take(&mut self, batch: &mut Vec<Entry>) {
        debug_assert!(batch.is_empty());
        std::mem::swap(batch, &mut self.entries);
        let markers = self.gap.markers_cost();
        batch.extend(self.gap.take_markers());
        self.writing = self.waiting.plus(markers);
        self.waiting = Queued::default();
    }

    /// The writer finished the batch it took.
    pub(crate) fn written(&mut self) {
        self.writing = Queued::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(micros: i64) -> Timestamp {
        Timestamp::from_unix_micros(micros).expect("in range")
    }

    fn frame(micros: i64, dir: Direction, len: usize) -> Entry {
        Entry::new(at(micros), dir, Payload::Binary(vec![7; len]))
    }

    fn limit(entries: usize, bytes: usize) -> Queued {
        Queued { entries, bytes }
    }

    fn gaps(batch: &[Entry]) -> Vec<(Direction, u64, Timestamp)> {
        batch
            .iter()
            .filter_map(|e| match e.payload {
                Payload::Gap { skipped } => Some((e.dir, skipped, e.ts)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn the_entry_overhead_covers_an_entry() {
        assert!(std::mem::size_of::<Entry>() <= ENTRY_OVERHEAD);
    }

    #[test]
    fn drops_past_the_entry_bound_and_marks_the_gap_at_the_end_of_the_batch() {
        let mut queue = Queue::new(limit(3, 1 << 20), 8);
        for n in 0..3 {
            assert_eq!(queue.push(frame(n, Direction::In, 1)), Pushed::Queued);
        }
        assert_eq!(queue.push(frame(3, Direction::In, 1)), Pushed::DroppedFirst);
        assert_eq!(queue.push(frame(4, Direction::Out, 1)), Pushed::Dropped);
        assert_eq!(queue.push(frame(5, Direction::In, 1)), Pushed::Dropped);
        assert_eq!(queue.held(), limit(3, 3 * 65));

        let mut batch = Vec::new();
        queue.take(&mut batch);
        assert_eq!(batch.len(), 5);
        assert_eq!(gaps(&batch), [(Direction::In, 2, at(3)), (Direction::Out, 1, at(4))]);
        assert_eq!(gaps(&batch[3..]).len(), 2, "the markers come last");
        assert_eq!(queue.held().entries, 5, "the batch counts until written");
        assert_eq!(queue.push(frame(6, Direction::In, 1)), Pushed::DroppedFirst);
        queue.written();
        assert_eq!(queue.held(), Queued::default());
    }

    #[test]
    fn drops_past_the_byte_bound_and_marks_the_gap_in_front_of_the_next_entry_that_fits() {
        let mut queue = Queue::new(limit(100, 1000), 8);
        assert_eq!(queue.push(frame(0, Direction::Out, 500)), Pushed::Queued);
        assert_eq!(queue.push(frame(1, Direction::Out, 500)), Pushed::DroppedFirst);
        assert_eq!(queue.push(frame(2, Direction::Out, 10)), Pushed::Queued);
        assert_eq!(queue.held(), limit(3, 564 + 64 + 74));

        let mut batch = Vec::new();
        queue.take(&mut batch);
        assert_eq!(batch.len(), 3);
        assert_eq!(batch[1].payload, Payload::Gap { skipped: 1 });
        assert_eq!(batch[1].ts, at(1));
        assert_eq!(batch[2].ts, at(2));
    }

    #[test]
    fn an_entry_that_fits_only_without_its_marker_is_dropped_too() {
        let mut queue = Queue::new(limit(2, 1 << 20), 8);
        assert_eq!(queue.push(frame(0, Direction::In, 1)), Pushed::Queued);
        queue.gap.add(&frame(1, Direction::In, 1));
        assert_eq!(queue.push(frame(2, Direction::In, 1)), Pushed::Dropped);
        assert!(queue.held().entries <= 2);
        let mut batch = Vec::new();
        queue.take(&mut batch);
        assert_eq!(gaps(&batch), [(Direction::In, 2, at(1))]);
    }

    #[test]
    fn an_entry_larger_than_the_byte_bound_is_always_dropped() {
        let mut queue = Queue::new(limit(10, 1000), 8);
        assert_eq!(queue.push(frame(0, Direction::In, 1000)), Pushed::DroppedFirst);
        assert_eq!(queue.held(), Queued::default());
        assert!(queue.has_gap());
    }

    #[test]
    fn markers_are_ordered_by_their_first_drop() {
        let mut gap = PendingGap::default();
        gap.add(&frame(5, Direction::In, 0));
        gap.add(&frame(3, Direction::Out, 0));
        let dirs: Vec<_> = gap.take_markers().map(|marker| marker.dir).collect();
        assert_eq!(dirs, [Direction::Out, Direction::In]);
        assert!(gap.is_empty());
    }
}
