//! What `list_clients` says about each client.

use zen_websocket_core::{ConnectionState, HeartbeatHealth, LatencyStats, StateMetrics};

use crate::ClientId;

/// Where a client of a pool is in its life.
///
/// # Examples
///
/// ```
/// use zen_websocket_supervisor::ClientStatus;
/// assert_eq!(ClientStatus::Connected.label(), "connected");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClientStatus {
    /// Its first connection is being made.
    Starting,
    /// Connected: eligible for balanced sends when its heartbeat is healthy.
    Connected,
    /// The core re-dials a lost socket (same client, subscriptions restored).
    Reconnecting,
    /// Ended; a fresh client replaces it after the restart delay.
    Restarting,
    /// Past its restart intensity: given up on, kept in the list so you can see it.
    Failed,
    /// Found by discovery and owned elsewhere: balanced over, never restarted.
    Discovered,
}

impl ClientStatus {
    /// The status as a metric label.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(zen_websocket_supervisor::ClientStatus::Failed.label(), "failed");
    /// ```
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Starting => "starting",
            Self::Connected => "connected",
            Self::Reconnecting => "reconnecting",
            Self::Restarting => "restarting",
            Self::Failed => "failed",
            Self::Discovered => "discovered",
        }
    }

    pub(crate) const ALL: [Self; 6] = [
        Self::Starting,
        Self::Connected,
        Self::Reconnecting,
        Self::Restarting,
        Self::Failed,
        Self::Discovered,
    ];
}

/// A snapshot of one client of a pool ([`ClientSupervisor::list_clients`](crate::ClientSupervisor::list_clients)).
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = zen_websocket_testing::MockServer::start().await?;
/// use zen_websocket_supervisor::{ClientSpec, ClientStatus, ClientSupervisor, SupervisorConfig};
///
/// let pool = ClientSupervisor::start(SupervisorConfig::default()).await?;
/// pool.start_client(ClientSpec::new("feed", server.url())).await?;
/// let info = &pool.list_clients()[0];
/// assert_eq!((info.name.as_str(), info.status, info.health), ("feed", ClientStatus::Connected, 100));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClientInfo {
    /// The client's id.
    pub id: ClientId,
    /// Its spec's name (the key, for a discovered client).
    pub name: String,
    /// Its URL, secrets redacted.
    pub url: String,
    /// Where it is in its life.
    pub status: ClientStatus,
    /// The core's connection state (`Disconnected` while no client is running).
    pub state: ConnectionState,
    /// 0 (unusable) to 100 (connected, heartbeat answered, nothing pending, no recent errors);
    /// see the supervision guide for the formula.
    pub health: u8,
    /// Restarts so far.
    pub restarts: u32,
    /// Channels the client holds for [`subscribe_sharded`](crate::ClientSupervisor::subscribe_sharded).
    pub shard_channels: usize,
    /// Subscriptions the client holds (the core's count: sharded and direct).
    pub subscriptions: usize,
    /// Requests awaiting an answer.
    pub pending: usize,
    /// Whether it counts as authenticated for balancing.
    pub authenticated: bool,
    /// Round-trip times of recent requests.
    pub latency: LatencyStats,
    /// Tags of its spec.
    pub tags: Vec<String>,
}

/// The health score: 0 when not connected; else 100 less 40 per missed heartbeat, 2 per
/// pending request (at most 30) and 10 per recent error (at most 30).
pub(crate) fn health_score(
    state: ConnectionState,
    heartbeat: &HeartbeatHealth,
    metrics: &StateMetrics,
    recent_errors: f64,
) -> u8 {
    if state != ConnectionState::Connected {
        return 0;
    }
    let missed = (heartbeat.failures as u64).saturating_mul(40);
    let pending = (metrics.pending_requests as u64 * 2).min(30);
    let errors = ((recent_errors * 10.0) as u64).min(30);
    100u64.saturating_sub(missed + pending + errors) as u8
}
