//! `zenws demo`: a `DeribitClient` on the embedded Deribit simulator (or `--url`), subscribed to
//! ticker, book and trades channels, with live prices and health on screen while faults are
//! injected every few seconds — a dropped connection, a restart of the simulator on the same
//! port — so the recovery can be watched. Ends with a summary and an exit code saying whether
//! everything came back.
//!
//! One file per job: `venue` (the simulator or a URL), `faults` (the schedule and the task that
//! injects them), `tracker` (the figures), `view` (lines for pipes, a refreshing block for
//! terminals, the summary), `session` (the event loop).

mod faults;
mod session;
mod tracker;
mod venue;
mod view;

use std::time::Duration;

use zen_websocket::{
    Config,
    deribit::{DeribitClient, DeribitConfig, Environment},
};

use crate::exit::{Failure, Outcome};

use self::{session::Session, venue::Venue};

/// Deribit's smallest heartbeat interval: the most heartbeats a short demo can show.
const HEARTBEAT: Duration = Duration::from_secs(10);
/// The first reconnection delay: recoveries within a blink.
const RETRY_DELAY: Duration = Duration::from_millis(100);
/// The longest reconnection delay, so a restarted simulator is found again within a second.
const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// Reconnection attempts before giving up: about ten minutes of trying at `MAX_BACKOFF`.
const RETRY_COUNT: u32 = 600;
/// A connection up this long starts the back-off from `RETRY_DELAY` again; shorter than the
/// gap between faults.
const BACKOFF_RESET: Duration = Duration::from_secs(2);
/// The channel kinds subscribed for each instrument.
const CHANNEL_KINDS: [&str; 3] = ["ticker", "book", "trades"];

/// The arguments of `zenws demo`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// A Deribit API URL to use instead of the embedded simulator, e.g.
    /// wss://test.deribit.com/ws/api/v2 (public channels; no faults are injected).
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// How long to run: seconds, or a number with `ms`, `s` or `m`.
    #[arg(long, default_value = "15s", value_parser = parse_duration, value_name = "DURATION")]
    duration: Duration,
    /// The instruments to subscribe (ticker, book and trades at 100ms each), comma separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_values_t = ["BTC-PERPETUAL".to_owned(), "ETH-PERPETUAL".to_owned()],
        value_name = "NAMES"
    )]
    instruments: Vec<String>,
}

/// Runs `zenws demo`.
pub(crate) async fn run(args: Args) -> Outcome {
    let venue = Venue::start(args.url.as_deref()).await?;
    venue.check_instruments(&args.instruments)?;
    let deribit = Box::pin(connect(&venue.url())).await?;
    let channels = channels(&args.instruments);
    deribit.subscribe(channels.clone()).await?;
    let session = Session::new(deribit, venue, args.instruments, channels, args.duration);
    Box::pin(session.run()).await
}

/// Connects without credentials (public channels), reconnecting quickly and persistently.
async fn connect(url: &str) -> Result<DeribitClient, Failure> {
    let client = Config::default()
        .retry_delay(RETRY_DELAY)
        .max_backoff(MAX_BACKOFF)
        .retry_count(RETRY_COUNT)
        .backoff_reset_after(BACKOFF_RESET);
    let config = DeribitConfig::default()
        .environment(Environment::Custom(url.to_owned()))
        .heartbeat(HEARTBEAT)
        .client_config(client);
    Ok(DeribitClient::connect(config).await?)
}

/// `ticker`, `book` and `trades` at 100 ms for each instrument.
fn channels(instruments: &[String]) -> Vec<String> {
    let mut channels = Vec::with_capacity(instruments.len() * CHANNEL_KINDS.len());
    for instrument in instruments {
        channels.extend(CHANNEL_KINDS.iter().map(|kind| format!("{kind}.{instrument}.100ms")));
    }
    channels
}

/// Reads a positive duration (`15`, `15s`, `500ms`, `2m`; a bare number is seconds).
fn parse_duration(text: &str) -> Result<Duration, String> {
    match crate::connect::options::parse_duration(text)? {
        duration if duration.is_zero() => Err(format!("`{text}` must be a positive duration")),
        duration => Ok(duration),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_with_and_without_units() {
        assert_eq!(parse_duration("15"), Ok(Duration::from_secs(15)));
        assert_eq!(parse_duration("12s"), Ok(Duration::from_secs(12)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("0").is_err());
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3_600)));
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn three_channels_per_instrument() {
        let channels = channels(&["BTC-PERPETUAL".to_owned()]);
        assert_eq!(
            channels,
            [
                "ticker.BTC-PERPETUAL.100ms",
                "book.BTC-PERPETUAL.100ms",
                "trades.BTC-PERPETUAL.100ms"
            ]
        );
    }
}
