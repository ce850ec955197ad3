//! Client identities within one supervisor.

use std::fmt;

/// Names one client of a [`ClientSupervisor`](crate::ClientSupervisor) for its whole life,
/// restarts included: a restarted client keeps its id. Ids are never reused within one
/// supervisor.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = zen_websocket_testing::MockServer::start().await?;
/// use zen_websocket_supervisor::{ClientSpec, ClientSupervisor, SupervisorConfig};
///
/// let pool = ClientSupervisor::start(SupervisorConfig::default()).await?;
/// let id = pool.start_client(ClientSpec::new("feed", server.url())).await?;
/// println!("{id}"); // "client-1"
/// assert!(pool.client(id).is_some());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClientId(pub(crate) u64);

impl ClientId {
    /// The number behind the id (1 for the first client of a supervisor).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = zen_websocket_testing::MockServer::start().await?;
    /// use zen_websocket_supervisor::{ClientSpec, ClientSupervisor, SupervisorConfig};
    ///
    /// let pool = ClientSupervisor::start(SupervisorConfig::default()).await?;
    /// let id = pool.start_client(ClientSpec::new("feed", server.url())).await?;
    /// assert_eq!(id.get(), 1);
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "client-{}", self.0)
    }
}
