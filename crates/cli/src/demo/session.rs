//! The demo's event loop: notifications and lifecycle events from the client, fault reports,
//! the status refresh, the end of the run and Ctrl-C — then the close and the summary.

use std::time::Duration;

use tokio::{sync::mpsc, task::JoinHandle, time::Instant};
use zen_websocket::{
    DisconnectReason, Event,
    deribit::{DeribitClient, DeribitEvent},
};

use crate::exit::{Exit, Outcome};

use super::{
    HEARTBEAT,
    faults::{self, Fault, Report},
    tracker::Tracker,
    venue::Venue,
    view::{Snapshot, View},
};

/// Why the loop stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// The duration is over, or the client ended for good.
    Done,
    /// Ctrl-C.
    Interrupted,
}

/// A running demo.
#[derive(Debug)]
pub(crate) struct Session {
    deribit: DeribitClient,
    venue: Venue,
    channels: Vec<String>,
    tracker: Tracker,
    view: View,
    duration: Duration,
    start: Instant,
}

impl Session {
    /// A demo of `duration` on a client subscribed to `channels` of `instruments`.
    pub(crate) fn new(
        deribit: DeribitClient,
        venue: Venue,
        instruments: Vec<String>,
        channels: Vec<String>,
        duration: Duration,
    ) -> Self {
        let start = Instant::now();
        let tracker = Tracker::new(&instruments, channels.len(), start);
        Self { deribit, venue, channels, tracker, view: View::new(), duration, start }
    }

    /// Runs until the duration is over, the client ends for good, or Ctrl-C; closes the
    /// client, prints the summary and says how to exit.
    pub(crate) async fn run(mut self) -> Outcome {
        let schedule = self.venue.simulator().map(|_| faults::schedule(self.duration));
        self.introduce(schedule.as_deref().unwrap_or_default());
        let (reports, injector) = self.start_faults(schedule.unwrap_or_default());
        let stop = self.event_loop(reports).await;
        if let Some(injector) = injector {
            injector.abort();
        }
        let ending = self.close(stop).await;
        let snapshot = self.snapshot();
        self.view.summary(&snapshot, &ending);
        match stop {
            Stop::Interrupted => Ok(Exit::Interrupted),
            Stop::Done => self.tracker.verdict(),
        }
    }

    /// Says where the demo connected, what it subscribed, and which faults will come.
    fn introduce(&mut self, schedule: &[(Duration, Fault)]) {
        let venue = self.venue.describe();
        self.say(&format!("connected to {venue}"));
        self.say(&format!("subscribed to {}", self.channels.join(", ")));
        if !schedule.is_empty() {
            let at = |(at, fault): &(Duration, Fault)| format!("{} s ({fault:?})", at.as_secs());
            let plan: Vec<String> = schedule.iter().map(at).collect();
            self.say(&format!("faults at {}", plan.join(", ")).to_lowercase());
        }
    }

    /// Starts the fault task on the simulator; without one (a remote venue) the returned
    /// channel never yields.
    fn start_faults(
        &self,
        schedule: Vec<(Duration, Fault)>,
    ) -> (mpsc::UnboundedReceiver<Report>, Option<JoinHandle<()>>) {
        match self.venue.simulator() {
            Some(simulator) if !schedule.is_empty() => {
                let (reports, task) = faults::spawn(simulator.clone(), schedule, self.start);
                (reports, Some(task))
            }
            _ => (mpsc::unbounded_channel().1, None),
        }
    }

    /// Handles events, reports and ticks until the end, the client's end, or Ctrl-C.
    async fn event_loop(&mut self, mut reports: mpsc::UnboundedReceiver<Report>) -> Stop {
        let ctrl_c = tokio::signal::ctrl_c();
        let end = tokio::time::sleep_until(self.start + self.duration);
        tokio::pin!(ctrl_c, end);
        let mut refresh = tokio::time::interval(self.view.refresh());
        refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        refresh.reset();
        loop {
            tokio::select! {
                biased;
                _ = &mut ctrl_c => return Stop::Interrupted,
                Some(report) = reports.recv() => self.on_report(report),
                event = self.deribit.recv() => self.on_event(event),
                _ = refresh.tick() => self.show_status(),
                () = &mut end => return Stop::Done,
            }
            if self.tracker.is_over() {
                return Stop::Done;
            }
        }
    }

    /// Prints a fault's step, or counts it.
    fn on_report(&mut self, report: Report) {
        match report {
            Report::Step(text) => self.say(&text),
            Report::Injected => self.tracker.fault_injected(),
            Report::Failed(why) => {
                self.say(&why);
                self.tracker.broken(why);
            }
        }
    }

    /// Counts a notification, or prints a lifecycle event (`None`: the client has ended).
    fn on_event(&mut self, event: Option<DeribitEvent>) {
        match event {
            Some(DeribitEvent::Notification(notification)) => {
                if let Err(error) = self.tracker.notification(&notification) {
                    self.say(&format!("error: {}: {error}", notification.channel));
                }
            }
            Some(DeribitEvent::BookGap { channel }) => {
                self.say(&format!("book gap on {channel}: subscribed again for a fresh snapshot"));
            }
            Some(DeribitEvent::Client(event)) => self.on_lifecycle(event),
            Some(_) => {}
            None => {
                self.say("the client has ended");
                self.tracker.ended("its events ended");
            }
        }
    }

    /// Prints a lifecycle event and tracks the restores.
    fn on_lifecycle(&mut self, event: Event) {
        match event {
            Event::Disconnected { reason, will_retry, .. } => {
                let then = if will_retry { "will reconnect" } else { "will not reconnect" };
                self.say(&format!("event: disconnected ({}); {then}", describe(&reason)));
                if will_retry {
                    self.tracker.lost();
                } else {
                    self.tracker.ended(format!("disconnected ({})", describe(&reason)));
                }
            }
            Event::Reconnecting { attempt, delay, .. } => {
                let ms = delay.as_millis();
                self.say(&format!("event: reconnecting (attempt {attempt} in {ms} ms)"));
            }
            Event::Connected => self.on_reconnected(),
            Event::SubscriptionLost { channels, error, .. } => {
                self.say(&format!("event: subscription lost: {} ({error})", channels.join(", ")));
            }
            Event::ReconnectFailed { attempts, last_error, .. } => {
                let why = format!("gave up after {attempts} attempts: {last_error}");
                self.say(&format!("event: {why}"));
                self.tracker.ended(why);
            }
            // Answers and other frames that are not notifications: nothing to show.
            _ => {}
        }
    }

    /// Checks which channels the new socket is subscribed to.
    fn on_reconnected(&mut self) {
        let found = self.venue.subscribed(self.deribit.client(), &self.channels);
        self.tracker.reconnected(found);
        let total = self.channels.len();
        let reconnects = self.deribit.client().get_state_metrics().reconnects;
        let source = match self.venue {
            Venue::Simulator(_) => "on the simulator's new connection",
            Venue::Remote(_) => "confirmed by the server",
        };
        self.say(&format!(
            "event: connected (reconnect {reconnects}); subscriptions restored {found}/{total} {source}"
        ));
    }

    /// Updates the rate and shows the figures.
    fn show_status(&mut self) {
        self.tracker.tick(Instant::now());
        let snapshot = self.snapshot();
        self.view.status(&snapshot);
    }

    /// Closes the client (after Ctrl-C too); what the summary says about the ending.
    async fn close(&mut self, stop: Stop) -> String {
        if stop == Stop::Interrupted {
            self.say("interrupted: closing");
        }
        if let Err(error) = self.deribit.close().await {
            self.tracker.error();
            self.say(&format!("error: close: {error}"));
        }
        match (stop, self.tracker.verdict()) {
            (Stop::Interrupted, _) => "interrupted (Ctrl-C), closed cleanly".to_owned(),
            (Stop::Done, Ok(_)) => "closed cleanly".to_owned(),
            (Stop::Done, Err(failure)) => failure.message,
        }
    }

    /// The figures now.
    fn snapshot(&self) -> Snapshot {
        let client = self.deribit.client();
        Snapshot {
            elapsed: self.start.elapsed().min(self.duration),
            duration: self.duration,
            state: client.get_state(),
            messages: self.tracker.messages(),
            rate: self.tracker.rate(),
            latency: client.get_latency_stats(),
            heartbeat: client.get_heartbeat_health(),
            heartbeat_every: HEARTBEAT,
            reconnects: client.get_state_metrics().reconnects,
            faults: self.tracker.faults(),
            restores: self.tracker.restores(),
            errors: self.tracker.errors(),
            prices: self.tracker.prices().to_vec(),
        }
    }

    /// Prints an event line stamped with the time since the start.
    fn say(&mut self, text: &str) {
        self.view.event(self.start.elapsed(), text);
    }
}

/// How a connection ended, in words.
fn describe(reason: &DisconnectReason) -> String {
    match reason {
        DisconnectReason::ServerClosed { code, reason } if reason.is_empty() => {
            format!("server closed, code {code}")
        }
        DisconnectReason::ServerClosed { code, reason } => {
            format!("server closed, code {code} \"{reason}\"")
        }
        DisconnectReason::ClientClosed => "closed by the client".to_owned(),
        DisconnectReason::Error(error) => error.to_string(),
        _ => format!("{reason:?}"),
    }
}
