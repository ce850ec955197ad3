//! Serving a recorded session: every client that connects is sent the recording's inbound
//! side, in order, optionally at the original pace.

use std::{path::Path, sync::Arc, time::Duration};

use tokio::sync::{mpsc, oneshot};
use zen_websocket_recorder::{Direction, Payload, Recorder};

use crate::{connection::Command, error::Result, reply::Reply};

/// A recording's inbound messages, ready to be served by a [`MockServer`](crate::MockServer)
/// (see [`MockServerBuilder::replay`](crate::MockServerBuilder::replay)).
///
/// Inbound text and binary entries are sent as they were received; an inbound close entry
/// closes the connection with its code (1000 when it had none). Outbound entries — what the
/// recorded client sent — are not replayed.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use zen_websocket_recorder::{Direction, Recorder, RecorderConfig};
/// use zen_websocket_testing::{MockServer, Replay};
///
/// let path = std::env::temp_dir().join(format!("replay-doc-{}.jsonl", std::process::id()));
/// let recorder = Recorder::create(&path, RecorderConfig::default())?;
/// recorder.record(Direction::In, r#"{"price":1}"#);
/// recorder.record(Direction::Out, "not replayed");
/// recorder.close()?;
///
/// let replay = Replay::from_recording(&path)?;
/// assert_eq!(replay.len(), 1);
/// let server = MockServer::builder().replay(replay).start().await?;
/// # std::fs::remove_file(&path)?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Replay {
    steps: Arc<[Step]>,
    speed: Option<f64>,
}

#[derive(Debug)]
struct Step {
    /// Time since the previous inbound entry.
    gap: Duration,
    reply: Reply,
}

impl Replay {
    /// Reads the inbound side of the recording at `path`.
    ///
    /// # Errors
    ///
    /// [`Error::Recording`](crate::Error::Recording) when the file cannot be opened or read.
    /// Blank and malformed lines are skipped, as the recorder's reader does.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_testing::Replay;
    ///
    /// assert!(Replay::from_recording("/no/such/recording.jsonl").is_err());
    /// ```
    pub fn from_recording(path: impl AsRef<Path>) -> Result<Self> {
        let mut steps = Vec::new();
        let mut previous = None;
        for entry in Recorder::entries(path)? {
            let entry = entry?;
            if entry.dir != Direction::In {
                continue;
            }
            let gap = previous.map_or(Duration::ZERO, |at| entry.ts.saturating_duration_since(at));
            previous = Some(entry.ts);
            if let Some(reply) = reply_for(entry.payload) {
                steps.push(Step { gap, reply });
            }
        }
        Ok(Self { steps: steps.into(), speed: None })
    }

    /// Waits the recorded gaps between messages, divided by `speed` (2.0 = twice as fast).
    ///
    /// Default is as fast as possible. A `speed` that is not a positive number is taken as 1.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn replay() -> zen_websocket_testing::Replay { unimplemented!() }
    /// # fn _compile_only() {
    /// let paced = replay().realtime(10.0);
    /// # }
    /// ```
    #[must_use]
    pub fn realtime(mut self, speed: f64) -> Self {
        self.speed = Some(if speed.is_finite() && speed > 0.0 { speed } else { 1.0 });
        self
    }

    /// How many messages (and closes) are replayed to each client.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn replay() -> zen_websocket_testing::Replay { unimplemented!() }
    /// # fn _compile_only() {
    /// let count = replay().len();
    /// # }
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// `true` when the recording had no inbound messages.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn replay() -> zen_websocket_testing::Replay { unimplemented!() }
    /// # fn _compile_only() {
    /// let nothing = replay().is_empty();
    /// # }
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Sends every step to one connection, in order, each after the previous one is written.
    pub(crate) fn start(&self, commands: mpsc::UnboundedSender<Command>) {
        let replay = self.clone();
        tokio::spawn(async move {
            for step in replay.steps.iter() {
                if let Some(speed) = replay.speed {
                    tokio::time::sleep(step.gap.div_f64(speed)).await;
                }
                let (done, written) = oneshot::channel();
                let command = Command::Send { reply: step.reply.clone(), done: Some(done) };
                // A closed connection ends the replay.
                if commands.send(command).is_err() || written.await.is_err() {
                    return;
                }
            }
        });
    }
}

fn reply_for(payload: Payload) -> Option<Reply> {
    match payload {
        Payload::Text(text) => Some(Reply::Text(text)),
        Payload::Binary(bytes) => Some(Reply::Binary(bytes)),
        Payload::Close { code, reason } => {
            Some(Reply::Close { code: code.unwrap_or(1000), reason })
        }
        _ => None,
    }
}
