//! The confirmed subscriptions of a client: what to restore after a reconnect.

use std::collections::BTreeMap;

use crate::subscription::SubscriptionId;

/// Confirmed subscriptions by id, in the order they were made.
#[derive(Debug, Default)]
pub(crate) struct Subscriptions {
    active: BTreeMap<SubscriptionId, Vec<String>>,
    last_id: u64,
    bytes: usize,
}

impl Subscriptions {
    /// Records a confirmed subscription and returns its new id.
    pub(crate) fn add(&mut self, channels: Vec<String>) -> SubscriptionId {
        self.last_id += 1;
        let id = SubscriptionId::new(self.last_id);
        self.bytes += weight(&channels);
        self.active.insert(id, channels);
        id
    }

    pub(crate) fn channels(&self, id: SubscriptionId) -> Option<&[String]> {
        self.active.get(&id).map(Vec::as_slice)
    }

    pub(crate) fn remove(&mut self, id: SubscriptionId) -> Option<Vec<String>> {
        let channels = self.active.remove(&id)?;
        self.bytes -= weight(&channels);
        Some(channels)
    }

    pub(crate) fn clear(&mut self) {
        self.active.clear();
        self.bytes = 0;
    }

    pub(crate) fn len(&self) -> usize {
        self.active.len()
    }

    /// Heap bytes the channel names take.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Every active subscription, oldest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (SubscriptionId, &[String])> {
        self.active.iter().map(|(id, channels)| (*id, channels.as_slice()))
    }
}

fn weight(channels: &[String]) -> usize {
    channels.iter().map(|channel| channel.capacity() + size_of::<String>()).sum()
}
