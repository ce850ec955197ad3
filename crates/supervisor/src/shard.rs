//! Placing channels on clients under a per-client cap: first-fit or least-loaded, new clients
//! when every one is full, never more than the pool may hold.

use crate::ClientId;

/// How [`subscribe_sharded`](crate::ClientSupervisor::subscribe_sharded) chooses a client
/// for each channel.
///
/// # Examples
///
/// ```
/// use zen_websocket_supervisor::{ShardStrategy, SupervisorConfig};
/// let config = SupervisorConfig::default().shard_strategy(ShardStrategy::LeastLoaded);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ShardStrategy {
    /// Fill clients in order (oldest first) before using the next: the fewest connections.
    /// The default.
    #[default]
    FirstFit,
    /// Each channel to the client holding the fewest: the smallest blast radius per
    /// connection.
    LeastLoaded,
}

/// Which clients [`subscribe_sharded`](crate::ClientSupervisor::subscribe_sharded) may use.
///
/// # Examples
///
/// ```
/// let options = zen_websocket_supervisor::ShardOptions::default().tag("market-data");
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct ShardOptions {
    pub(crate) tag: Option<String>,
}

impl ShardOptions {
    /// Only clients whose spec carries `tag` (clients opened from the template count when the
    /// template carries it).
    ///
    /// # Examples
    ///
    /// ```
    /// let options = zen_websocket_supervisor::ShardOptions::default().tag("market-data");
    /// ```
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tag = Some(tag.into());
        self
    }
}

/// Where new channels go.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Placement {
    /// Channels for clients that exist, in client order.
    pub(crate) existing: Vec<(ClientId, Vec<String>)>,
    /// Channels for clients to open, one list per client.
    pub(crate) new_clients: Vec<Vec<String>>,
}

/// Not enough room: `room` channels fit, counting clients that may still be opened.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Shortfall {
    pub(crate) room: usize,
}

/// Places `channels` (already free of duplicates and of channels the pool holds) on clients
/// with `loads` (client, channels held; clients that cannot take more are left out), at most
/// `cap` per client, opening up to `may_open` new clients. All or nothing.
pub(crate) fn place(
    channels: Vec<String>,
    loads: &[(ClientId, usize)],
    cap: usize,
    may_open: usize,
    strategy: ShardStrategy,
) -> Result<Placement, Shortfall> {
    let room = loads.iter().map(|(_, held)| cap.saturating_sub(*held)).sum::<usize>()
        + may_open.saturating_mul(cap);
    if channels.len() > room {
        return Err(Shortfall { room });
    }
    let mut held: Vec<(ClientId, usize, Vec<String>)> =
        loads.iter().map(|&(id, load)| (id, load, Vec::new())).collect();
    let mut new_clients: Vec<Vec<String>> = Vec::new();
    for channel in channels {
        match pick(&held, cap, strategy) {
            Some(index) => {
                held[index].1 += 1;
                held[index].2.push(channel);
            }
            None => match new_clients.last_mut() {
                Some(last) if last.len() < cap => last.push(channel),
                _ => new_clients.push(vec![channel]),
            },
        }
    }
    let existing = held
        .into_iter()
        .filter(|(_, _, new)| !new.is_empty())
        .map(|(id, _, new)| (id, new))
        .collect();
    Ok(Placement { existing, new_clients })
}

fn pick(
    held: &[(ClientId, usize, Vec<String>)],
    cap: usize,
    strategy: ShardStrategy,
) -> Option<usize> {
    let open = held.iter().enumerate().filter(|(_, (_, load, _))| *load < cap);
    match strategy {
        ShardStrategy::FirstFit => open.map(|(index, _)| index).next(),
        ShardStrategy::LeastLoaded => {
            open.min_by_key(|(_, (_, load, _))| *load).map(|(index, _)| index)
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("ch.{i}")).collect()
    }

    #[test]
    fn first_fit_fills_clients_in_order_then_opens_new_ones() {
        let loads = [(ClientId(1), 8), (ClientId(2), 0)];
        let placed = place(names(15), &loads, 10, 1, ShardStrategy::FirstFit).unwrap();
        assert_eq!(placed.existing[0], (ClientId(1), names(2)));
        assert_eq!(placed.existing[1].1.len(), 10);
        assert_eq!(placed.new_clients.len(), 1);
        assert_eq!(placed.new_clients[0].len(), 3);
    }

    #[test]
    fn least_loaded_evens_the_load() {
        let loads = [(ClientId(1), 4), (ClientId(2), 0)];
        let placed = place(names(6), &loads, 10, 0, ShardStrategy::LeastLoaded).unwrap();
        let sizes: Vec<usize> = placed.existing.iter().map(|(_, new)| new.len()).collect();
        assert_eq!(sizes, [1, 5]);
    }

    #[test]
    fn too_many_channels_place_nothing() {
        let loads = [(ClientId(1), 9)];
        assert_eq!(
            place(names(12), &loads, 10, 1, ShardStrategy::FirstFit),
            Err(Shortfall { room: 11 })
        );
    }

    proptest! {
        #[test]
        fn every_channel_placed_once_within_the_cap(
            loads in proptest::collection::vec(0usize..12, 0..6),
            count in 0usize..60,
            may_open in 0usize..4,
            least in any::<bool>(),
        ) {
            let cap: usize = 10;
            let loads: Vec<(ClientId, usize)> = loads.into_iter().enumerate().map(|(i, l)| (ClientId(i as u64), l)).collect();
            let strategy = if least { ShardStrategy::LeastLoaded } else { ShardStrategy::FirstFit };
            let room: usize = loads.iter().map(|(_, l)| cap.saturating_sub(*l)).sum::<usize>() + may_open * cap;
            match place(names(count), &loads, cap, may_open, strategy) {
                Ok(placed) => {
                    prop_assert!(count <= room);
                    let mut all: Vec<String> = placed.existing.iter().flat_map(|(_, c)| c.clone()).collect();
                    all.extend(placed.new_clients.iter().flatten().cloned());
                    all.sort();
                    let mut expected = names(count);
                    expected.sort();
                    prop_assert_eq!(all, expected);
                    for (id, new) in &placed.existing {
                        let before = loads.iter().find(|(l, _)| l == id).unwrap().1;
                        prop_assert!(before + new.len() <= cap);
                    }
                    prop_assert!(placed.new_clients.len() <= may_open);
                    prop_assert!(placed.new_clients.iter().all(|c| !c.is_empty() && c.len() <= cap));
                }
                Err(shortfall) => {
                    prop_assert!(count > room);
                    prop_assert_eq!(shortfall.room, room);
                }
            }
        }
    }
}
