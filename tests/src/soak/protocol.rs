//! The pipe between the soak and its server process: one JSON command per line on the child's
//! standard input, one JSON answer per line on its standard output.
//!
//! The mock server and the fault proxy run in a child process so that the soak's resident
//! memory is the clients' (and the soak's own): both keep a record of every connection they
//! ever accepted, which grows with every reconnection.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use zen_websocket::testing::Direction;

/// Which way a stall or blackhole applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Way {
    /// Both directions.
    Both,
    /// What the client sends.
    ClientToServer,
    /// What the server sends.
    ServerToClient,
}

impl From<Direction> for Way {
    fn from(direction: Direction) -> Self {
        match direction {
            Direction::ClientToServer => Way::ClientToServer,
            Direction::ServerToClient => Way::ServerToClient,
            _ => Way::Both,
        }
    }
}

impl From<Way> for Direction {
    fn from(way: Way) -> Self {
        match way {
            Way::Both => Direction::Both,
            Way::ClientToServer => Direction::ClientToServer,
            Way::ServerToClient => Direction::ServerToClient,
        }
    }
}

/// What a stall or blackhole does to the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Impairment {
    /// Holds them back (the reader stops).
    Stall,
    /// Swallows them.
    Blackhole,
}

/// One command to the server process. `link` is a proxy connection id, `connection` a server
/// connection id; `None` means every open one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub(crate) enum Command {
    /// Start pushing numbered notifications.
    Notify,
    /// Reset proxy connections (RST both ways). Answer: `count` reset.
    Reset { link: Option<u64> },
    /// Close server connections with 1001. Answer: `count` closed.
    GoingAway { connection: Option<u64> },
    /// Stall or blackhole proxy connections. Answer: `count` impaired, `links` impaired.
    Impair { link: Option<u64>, impairment: Impairment, way: Way },
    /// Stop the server (1001 to everyone) and listen again. Answer: `count` open before.
    Restart,
    /// Answer upgrades with 429 while resetting proxy connections, for `millis`. Answer:
    /// `count` reset.
    Refuse { link: Option<u64>, millis: u64 },
    /// Answer: `links`, every open proxy connection with the bytes its client sent so far.
    Uploads,
    /// Answer: `channels`, what the server was asked to subscribe to on `connection`.
    Channels { connection: u64 },
    /// Clear the server's logs and forget closed connections. Answer: `count`, upgrades
    /// refused with 429 since the last time.
    Forget,
    /// Stop everything. Answer: `stopped`.
    Stop,
}

/// The server process's figures at the end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Stopped {
    /// Numbered notifications pushed.
    pub(crate) numbered: u64,
    /// Notifications times the connections that sent them.
    pub(crate) deliveries: u64,
    /// Live tasks in the server process before the server and proxy started.
    pub(crate) tasks_at_start: usize,
    /// Live tasks after they stopped.
    pub(crate) tasks_at_end: usize,
    /// The server process's resident memory before it stopped, in bytes.
    pub(crate) rss_bytes: u64,
}

/// The answer to one command (the fields a command does not use stay empty).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Answer {
    /// A count, as each command says.
    pub(crate) count: usize,
    /// Proxy connections, with the bytes their clients sent.
    pub(crate) links: Vec<(u64, u64)>,
    /// Channels and how often each was subscribed.
    pub(crate) channels: BTreeMap<String, u32>,
    /// The end figures, for `stop`.
    pub(crate) stopped: Option<Stopped>,
    /// What went wrong, if anything.
    pub(crate) error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_travel_as_one_json_line() {
        let command = Command::Impair { link: None, impairment: Impairment::Stall, way: Way::Both };
        let line = serde_json::to_string(&command).unwrap();
        assert_eq!(line, r#"{"op":"impair","link":null,"impairment":"stall","way":"both"}"#);
        assert_eq!(serde_json::from_str::<Command>(&line).unwrap(), command);
        let answer: Answer = serde_json::from_str(r#"{"count":3}"#).unwrap();
        assert_eq!(answer.count, 3);
        for direction in [Direction::Both, Direction::ClientToServer, Direction::ServerToClient] {
            assert_eq!(Direction::from(Way::from(direction)), direction);
        }
    }
}
