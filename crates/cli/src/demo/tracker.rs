//! The demo's own figures: last prices, message counts and rate, faults, restores, errors,
//! and how the run ended. The client's monitors (latency, heartbeat, reconnects) are read
//! from the client itself.

use std::time::Duration;

use tokio::time::Instant;
use zen_websocket::deribit::Notification;

use crate::exit::{Exit, Failure, Outcome};

/// The shortest time, in seconds, the message rate is measured over.
const RATE_WINDOW: f64 = 0.9;

/// What the demo has seen so far.
#[derive(Debug)]
pub(crate) struct Tracker {
    /// The last price of each instrument, in the order given.
    prices: Vec<(String, Option<f64>)>,
    /// How many channels are subscribed (and should be restored after each loss).
    channels: usize,
    /// Notifications received.
    messages: u64,
    /// Notifications a second over the last tick.
    rate: f64,
    /// The count and time of the last tick, for the rate.
    last_tick: (Instant, u64),
    /// Faults injected in full.
    faults: usize,
    /// Channels found subscribed again after the reconnects so far.
    restored: usize,
    /// Channels that should have been, after those reconnects.
    expected: usize,
    /// Whether a connection was lost and its reconnect is not done yet.
    awaiting_restore: bool,
    /// Calls that failed and notifications that could not be read.
    errors: usize,
    /// Why the client ended for good, if it did.
    ended: Option<String>,
    /// Why injecting a fault failed, if it did.
    broken: Option<String>,
}

impl Tracker {
    /// Nothing seen yet, from `start`.
    pub(crate) fn new(instruments: &[String], channels: usize, start: Instant) -> Self {
        Self {
            prices: instruments.iter().map(|name| (name.clone(), None)).collect(),
            channels,
            messages: 0,
            rate: 0.0,
            last_tick: (start, 0),
            faults: 0,
            restored: 0,
            expected: 0,
            awaiting_restore: false,
            errors: 0,
            ended: None,
            broken: None,
        }
    }

    /// Counts a notification and takes its price (tickers: the last trade's price, else the
    /// mark price; trades: the newest trade's). `Err` with what went wrong when its data could
    /// not be read (counted as an error).
    pub(crate) fn notification(&mut self, notification: &Notification) -> Result<(), String> {
        self.messages += 1;
        let price = match notification.channel.split('.').next() {
            Some("ticker") => notification.ticker().map(|t| t.last_price.or(t.mark_price)),
            Some("trades") => notification.trades().map(|trades| trades.last().map(|t| t.price)),
            _ => Ok(None),
        };
        match price {
            Ok(price) => {
                self.set_price(&notification.channel, price);
                Ok(())
            }
            Err(error) => {
                self.errors += 1;
                Err(error.to_string())
            }
        }
    }

    /// Records `price` for the instrument `channel` names, when there is one.
    fn set_price(&mut self, channel: &str, price: Option<f64>) {
        let (Some(instrument), Some(price)) = (channel.split('.').nth(1), price) else {
            return;
        };
        if let Some(entry) = self.prices.iter_mut().find(|(name, _)| name == instrument) {
            entry.1 = Some(price);
        }
    }

    /// Updates the message rate at `now`, over about the last second (quicker calls keep it).
    pub(crate) fn tick(&mut self, now: Instant) {
        let (then, count) = self.last_tick;
        let seconds = now.duration_since(then).as_secs_f64();
        if seconds >= RATE_WINDOW {
            self.rate = (self.messages - count) as f64 / seconds;
            self.last_tick = (now, self.messages);
        }
    }

    /// A connection was lost and the client reconnects: its subscriptions are owed.
    pub(crate) fn lost(&mut self) {
        self.awaiting_restore = true;
    }

    /// The client is connected again with `found` of the channels subscribed.
    pub(crate) fn reconnected(&mut self, found: usize) {
        self.awaiting_restore = false;
        self.expected += self.channels;
        self.restored += found.min(self.channels);
    }

    /// A fault was injected in full.
    pub(crate) fn fault_injected(&mut self) {
        self.faults += 1;
    }

    /// A call failed.
    pub(crate) fn error(&mut self) {
        self.errors += 1;
    }

    /// The client ended for good, for `why`.
    pub(crate) fn ended(&mut self, why: impl Into<String>) {
        self.ended.get_or_insert_with(|| why.into());
    }

    /// Injecting a fault failed, for `why`.
    pub(crate) fn broken(&mut self, why: String) {
        self.broken.get_or_insert(why);
    }

    /// Whether the run cannot go on: the client ended, or a fault could not be injected.
    pub(crate) fn is_over(&self) -> bool {
        self.ended.is_some() || self.broken.is_some()
    }

    /// The last prices.
    pub(crate) fn prices(&self) -> &[(String, Option<f64>)] {
        &self.prices
    }

    /// Notifications received.
    pub(crate) fn messages(&self) -> u64 {
        self.messages
    }

    /// Notifications a second over the last tick.
    pub(crate) fn rate(&self) -> f64 {
        self.rate
    }

    /// Faults injected in full.
    pub(crate) fn faults(&self) -> usize {
        self.faults
    }

    /// Channels restored and channels owed, a reconnect still under way counting as owed.
    pub(crate) fn restores(&self) -> (usize, usize) {
        let pending = if self.awaiting_restore { self.channels } else { 0 };
        (self.restored, self.expected + pending)
    }

    /// Errors surfaced to the user.
    pub(crate) fn errors(&self) -> usize {
        self.errors
    }

    /// How the run ends: `Ok` to exit 0, else a failure saying what went wrong.
    pub(crate) fn verdict(&self) -> Outcome {
        if let Some(why) = &self.ended {
            let fix = "check the URL and the network: the client gives up only after 600 attempts";
            return Err(Failure::new(
                Exit::Closed,
                format!("the client ended for good: {why}"),
                fix,
            ));
        }
        if let Some(why) = &self.broken {
            return Err(Failure::new(Exit::Failed, why.clone(), "run the demo again"));
        }
        let (restored, expected) = self.restores();
        if restored < expected {
            let message = format!("only {restored} of {expected} subscriptions were restored");
            return Err(Failure::new(Exit::Failed, message, "see the events above"));
        }
        Ok(Exit::Ok)
    }
}

/// A duration in seconds with one decimal, e.g. `3.0`.
pub(crate) fn seconds(duration: Duration) -> String {
    format!("{:.1}", duration.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use zen_websocket::Message;

    use super::*;

    fn tracker() -> Tracker {
        Tracker::new(&["BTC-PERPETUAL".to_owned()], 3, Instant::now())
    }

    fn notification(channel: &str, data: &str) -> Notification {
        let frame = format!(
            r#"{{"method":"subscription","params":{{"channel":"{channel}","data":{data}}}}}"#
        );
        Notification::parse(&Message::from(frame)).expect("a notification")
    }

    #[test]
    fn tickers_and_trades_set_the_price() {
        let mut tracker = tracker();
        let ticker = r#"{"instrument_name":"BTC-PERPETUAL","timestamp":1,"mark_price":60000.5}"#;
        assert!(tracker.notification(&notification("ticker.BTC-PERPETUAL.100ms", ticker)).is_ok());
        assert_eq!(tracker.prices()[0].1, Some(60000.5));
        let trades = r#"[{"trade_id":"1","instrument_name":"BTC-PERPETUAL","timestamp":1,"price":60001.0,"amount":1,"direction":"buy"}]"#;
        assert!(tracker.notification(&notification("trades.BTC-PERPETUAL.100ms", trades)).is_ok());
        assert_eq!(tracker.prices()[0].1, Some(60001.0));
        assert!(tracker.notification(&notification("ticker.BTC-PERPETUAL.100ms", "7")).is_err());
        assert_eq!((tracker.messages(), tracker.errors()), (3, 1));
    }

    #[test]
    fn a_loss_owes_every_channel_until_the_reconnect_finds_them() {
        let mut tracker = tracker();
        tracker.lost();
        assert_eq!(tracker.restores(), (0, 3));
        assert!(tracker.verdict().is_err());
        tracker.reconnected(3);
        assert_eq!(tracker.restores(), (3, 3));
        assert_eq!(tracker.verdict().ok(), Some(Exit::Ok));
        tracker.lost();
        tracker.reconnected(2);
        assert_eq!(tracker.verdict().err().map(|failure| failure.exit), Some(Exit::Failed));
    }

    #[test]
    fn a_client_that_ended_fails_the_run() {
        let mut tracker = tracker();
        tracker.ended("gave up");
        assert!(tracker.is_over());
        assert_eq!(tracker.verdict().err().map(|failure| failure.exit), Some(Exit::Closed));
    }
}
