//! Where the demo connects: the embedded Deribit simulator (faults can be injected, and its
//! view of each connection's subscriptions checked), or a URL of the user's.

use std::sync::Arc;

use zen_websocket::{Client, testing::DeribitSimulator};

use crate::exit::{Exit, Failure};

/// The embedded simulator or a URL.
#[derive(Debug)]
pub(crate) enum Venue {
    /// The embedded `DeribitSimulator` on a free loopback port.
    Simulator(Arc<DeribitSimulator>),
    /// A URL given with `--url`.
    Remote(String),
}

impl Venue {
    /// Starts the simulator, or takes `url`.
    pub(crate) async fn start(url: Option<&str>) -> Result<Self, Failure> {
        if let Some(url) = url {
            return Ok(Self::Remote(url.to_owned()));
        }
        match DeribitSimulator::start().await {
            Ok(simulator) => Ok(Self::Simulator(Arc::new(simulator))),
            Err(error) => Err(Failure::new(
                Exit::Failed,
                format!("could not start the embedded Deribit simulator: {error}"),
                "it listens on a free loopback port; check that 127.0.0.1 can be bound",
            )),
        }
    }

    /// The URL to connect to.
    pub(crate) fn url(&self) -> String {
        match self {
            Self::Simulator(simulator) => simulator.url(),
            Self::Remote(url) => url.clone(),
        }
    }

    /// How the venue is shown in the header.
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::Simulator(simulator) => {
                format!("{} (embedded Deribit simulator)", simulator.url())
            }
            Self::Remote(url) => format!("{url} (no faults injected)"),
        }
    }

    /// The simulator, when the demo runs one.
    pub(crate) fn simulator(&self) -> Option<&Arc<DeribitSimulator>> {
        match self {
            Self::Simulator(simulator) => Some(simulator),
            Self::Remote(_) => None,
        }
    }

    /// Refuses instruments the simulator does not list (a remote venue answers for itself).
    pub(crate) fn check_instruments(&self, instruments: &[String]) -> Result<(), Failure> {
        let Some(simulator) = self.simulator() else {
            return Ok(());
        };
        let known = simulator.instruments();
        let unknown: Vec<String> = instruments
            .iter()
            .filter(|name| !known.contains(name))
            .map(|name| format!("{name:?}"))
            .collect();
        if !unknown.is_empty() {
            return Err(Failure::new(
                Exit::Usage,
                format!("the simulator does not list {}", unknown.join(", ")),
                format!("use --instruments with some of {}", known.join(", ")),
            ));
        }
        Ok(())
    }

    /// Which of `expected` are subscribed on the newest socket: as the simulator records them
    /// for its newest open connection, or, on a remote venue, as the client's record of
    /// confirmed subscriptions says.
    pub(crate) fn subscribed(&self, client: &Client, expected: &[String]) -> usize {
        let live: Vec<String> = match self {
            Self::Simulator(simulator) => {
                let newest = simulator.open_connection_ids().into_iter().max();
                newest.map(|id| simulator.subscriptions(id)).unwrap_or_default()
            }
            Self::Remote(_) => client.subscriptions().into_iter().flat_map(|(_, c)| c).collect(),
        };
        expected.iter().filter(|channel| live.contains(channel)).count()
    }
}
