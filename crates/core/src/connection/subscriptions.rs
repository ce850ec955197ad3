//! The confirmed subscriptions of a client — what to restore after a reconnect — and which
//! channels they hold, so a channel stays subscribed while any subscription still holds it.

use std::collections::BTreeMap;

use crate::subscription::SubscriptionId;

/// Confirmed subscriptions by id, in the order they were made, and a count of holders per
/// channel — the confirmed subscriptions and the subscribes still in flight, so an unsubscribe
/// never drops a channel a subscribe on its way is about to hold.
#[derive(Debug, Default)]
pub(crate) struct Subscriptions {
    active: BTreeMap<SubscriptionId, Vec<String>>,
    holders: BTreeMap<String, u32>,
    in_flight: BTreeMap<String, u32>,
    last_id: u64,
    bytes: usize,
    /// Bumped on every change, so the list is published only when it changed.
    version: u64,
}

impl Subscriptions {
    /// Records a confirmed subscription and returns its new id.
    pub(crate) fn add(&mut self, channels: Vec<String>) -> SubscriptionId {
        self.last_id += 1;
        let id = SubscriptionId::new(self.last_id);
        for channel in &channels {
            *self.holders.entry(channel.clone()).or_default() += 1;
        }
        self.bytes += weight(&channels);
        self.active.insert(id, channels);
        self.version += 1;
        id
    }

    pub(crate) fn channels(&self, id: SubscriptionId) -> Option<&[String]> {
        self.active.get(&id).map(Vec::as_slice)
    }

    /// The channels of `id` that no other subscription holds: what unsubscribing `id` must ask
    /// the server to drop. `None` when `id` is not active.
    pub(crate) fn sole_channels(&self, id: SubscriptionId) -> Option<Vec<String>> {
        let channels = self.active.get(&id)?;
        Some(channels.iter().filter(|channel| self.holders(channel) == 1).cloned().collect())
    }

    /// Of `channels`, those no subscription holds (what to undo on the server).
    pub(crate) fn unheld(&self, channels: &[String]) -> Vec<String> {
        channels.iter().filter(|channel| self.holders(channel) == 0).cloned().collect()
    }

    fn holders(&self, channel: &str) -> u32 {
        let confirmed = self.holders.get(channel).copied().unwrap_or(0);
        confirmed + self.in_flight.get(channel).copied().unwrap_or(0)
    }

    /// A subscribe to `channels` is on its way: they count as held until [`Self::end`].
    pub(crate) fn begin(&mut self, channels: &[String]) {
        for channel in channels {
            *self.in_flight.entry(channel.clone()).or_default() += 1;
        }
    }

    /// The subscribe begun with `channels` has its outcome (or never will).
    pub(crate) fn end(&mut self, channels: &[String]) {
        for channel in channels {
            if let Some(count) = self.in_flight.get_mut(channel) {
                *count -= 1;
                if *count == 0 {
                    self.in_flight.remove(channel);
                }
            }
        }
    }

    pub(crate) fn remove(&mut self, id: SubscriptionId) -> Option<Vec<String>> {
        let channels = self.active.remove(&id)?;
        self.version += 1;
        self.release(&channels);
        self.bytes -= weight(&channels);
        Some(channels)
    }

    /// Keeps only `kept` of `id`'s channels; removes `id` when none is left. Returns the
    /// channels dropped.
    pub(crate) fn retain(&mut self, id: SubscriptionId, kept: &[String]) -> Vec<String> {
        let Some(channels) = self.active.get_mut(&id) else { return Vec::new() };
        self.version += 1;
        let before = weight(channels);
        let (stay, gone): (Vec<String>, Vec<String>) =
            std::mem::take(channels).into_iter().partition(|channel| kept.contains(channel));
        *channels = stay;
        self.bytes = self.bytes - before + weight(channels);
        if channels.is_empty() {
            self.active.remove(&id);
        }
        self.release(&gone);
        gone
    }

    fn release(&mut self, channels: &[String]) {
        for channel in channels {
            if let Some(count) = self.holders.get_mut(channel) {
                *count -= 1;
                if *count == 0 {
                    self.holders.remove(channel);
                }
            }
        }
    }

    pub(crate) fn clear(&mut self) {
        self.version += 1;
        self.active.clear();
        self.holders.clear();
        self.bytes = 0;
    }

    /// Changes so far: a different value means a different record.
    pub(crate) fn version(&self) -> u64 {
        self.version
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

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|name| (*name).to_owned()).collect()
    }

    #[test]
    fn a_channel_stays_held_while_any_subscription_holds_it() {
        let mut subscriptions = Subscriptions::default();
        let first = subscriptions.add(names(&["a"]));
        let second = subscriptions.add(names(&["a", "b"]));
        assert_eq!(subscriptions.sole_channels(first), Some(vec![]));
        assert_eq!(subscriptions.sole_channels(second), Some(names(&["b"])));
        subscriptions.remove(first);
        assert_eq!(subscriptions.sole_channels(second), Some(names(&["a", "b"])));
        assert_eq!(subscriptions.unheld(&names(&["a", "c"])), names(&["c"]));
    }

    #[test]
    fn a_subscribe_in_flight_holds_its_channels() {
        let mut subscriptions = Subscriptions::default();
        let first = subscriptions.add(names(&["a"]));
        subscriptions.begin(&names(&["a", "b"]));
        assert_eq!(subscriptions.sole_channels(first), Some(vec![]));
        assert_eq!(subscriptions.unheld(&names(&["a", "b", "c"])), names(&["c"]));
        subscriptions.end(&names(&["a", "b"]));
        assert_eq!(subscriptions.sole_channels(first), Some(names(&["a"])));
        assert_eq!(subscriptions.unheld(&names(&["b"])), names(&["b"]));
    }

    #[test]
    fn retaining_some_channels_drops_the_rest_and_empty_ids() {
        let mut subscriptions = Subscriptions::default();
        let id = subscriptions.add(names(&["a", "b"]));
        assert_eq!(subscriptions.retain(id, &names(&["a"])), names(&["b"]));
        assert_eq!(subscriptions.channels(id), Some(&names(&["a"])[..]));
        assert_eq!(subscriptions.unheld(&names(&["a", "b"])), names(&["b"]));
        assert_eq!(subscriptions.retain(id, &[]), names(&["a"]));
        assert_eq!(subscriptions.len(), 0);
        assert_eq!(subscriptions.bytes(), 0);
    }
}
