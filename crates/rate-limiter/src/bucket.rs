//! One token bucket with its bounded FIFO wait queue.
//!
//! The state sits behind a `std::sync::Mutex`, not tokio's: every critical section is a few
//! integer operations and a `VecDeque` push or pop, never held across an `.await`, and a
//! cancelled waiter must leave the queue from `Drop`, which cannot `.await` an async lock.
//! Waiting happens outside the lock: the head of the queue sleeps until its tokens will be
//! there (tokens only ever arrive with time, and nobody can take them while it waits), the
//! others park on their own `Notify` until the waiter ahead of them leaves.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use tokio::{sync::Notify, time::Instant};

use crate::{
    error::{Error, Result},
    status::{PressureLevel, Status},
    telemetry::{PressureChange, Telemetry},
    tokens::Tokens,
};

/// The shape of one bucket, validated by the caller.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BucketSpec {
    pub(crate) name: &'static str,
    pub(crate) capacity: u32,
    pub(crate) refill_rate: u32,
    pub(crate) refill_interval: Duration,
    pub(crate) max_queue: usize,
}

/// A token bucket shared by every task holding the limiter.
#[derive(Debug)]
pub(crate) struct Bucket {
    capacity: u32,
    max_queue: usize,
    state: Mutex<State>,
    telemetry: Telemetry,
}

#[derive(Debug)]
struct State {
    tokens: Tokens,
    queue: VecDeque<Waiter>,
    /// The sum of the queued costs, for `try_acquire`'s `retry_after`.
    queued_cost: u64,
    next_ticket: u64,
    /// The cost of the latest acquisition: the "average request" of `suggested_delay_ms`.
    last_cost: u32,
    level: PressureLevel,
}

/// A queued acquisition. Tickets grow, so the queue is sorted by ticket.
#[derive(Debug)]
struct Waiter {
    ticket: u64,
    cost: u32,
    turn: Arc<Notify>,
}

/// What a queued acquisition does next.
enum Step {
    Granted,
    SleepUntil(Instant),
    AwaitTurn,
}

impl Bucket {
    pub(crate) fn new(spec: BucketSpec, limiter: &str) -> Self {
        let state = State {
            tokens: Tokens::full(spec.capacity, spec.refill_rate, spec.refill_interval),
            queue: VecDeque::new(),
            queued_cost: 0,
            next_ticket: 0,
            last_cost: 1,
            level: PressureLevel::Low,
        };
        Self {
            capacity: spec.capacity,
            max_queue: spec.max_queue,
            state: Mutex::new(state),
            telemetry: Telemetry::new(limiter, spec.name),
        }
    }

    /// Waits in FIFO order until `cost` tokens are taken.
    pub(crate) async fn acquire(&self, cost: u32) -> Result<()> {
        let Some((ticket, turn)) = self.enter(cost)? else {
            return Ok(());
        };
        let started = Instant::now();
        let mut place = Place { bucket: self, ticket, granted: false };
        loop {
            match self.step(ticket) {
                Step::Granted => break,
                Step::SleepUntil(deadline) => tokio::time::sleep_until(deadline).await,
                Step::AwaitTurn => turn.notified().await,
            }
        }
        place.granted = true;
        self.telemetry.waited(started.elapsed());
        Ok(())
    }

    /// Takes `cost` tokens now, or explains when they would be there.
    pub(crate) fn try_acquire(&self, cost: u32) -> Result<()> {
        if self.check(cost)? {
            return Ok(());
        }
        let (result, change) = {
            let mut state = self.lock();
            state.refill();
            state.last_cost = cost;
            let result = if state.queue.is_empty() && state.tokens.covers(cost.into()) {
                state.tokens.take(cost.into());
                Ok(())
            } else {
                let retry_after = state.tokens.time_until(state.queued_cost + u64::from(cost));
                Err(Error::RateLimited { retry_after })
            };
            (result, self.observe(&mut state))
        };
        self.report(change);
        result
    }

    /// The bucket now.
    pub(crate) fn status(&self) -> Status {
        let (status, change) = {
            let mut state = self.lock();
            state.refill();
            let change = self.observe(&mut state);
            let next_cost = state.queue.front().map_or(state.last_cost, |head| head.cost);
            let delay = state.tokens.time_until(next_cost.into());
            let status = Status {
                tokens: state.tokens.available(),
                capacity: state.tokens.capacity(),
                queue_size: state.queue.len(),
                pressure_level: state.level,
                suggested_delay_ms: u64::try_from(delay.as_nanos().div_ceil(1_000_000))
                    .unwrap_or(u64::MAX),
            };
            (status, change)
        };
        self.report(change);
        status
    }

    /// `Ok(true)` when `cost` needs no tokens; an error when it can never be paid.
    fn check(&self, cost: u32) -> Result<bool> {
        if cost > self.capacity {
            return Err(Error::CostExceedsCapacity { cost, capacity: self.capacity });
        }
        Ok(cost == 0)
    }

    /// Takes the tokens at once if nobody is queued and they are there; otherwise joins the
    /// queue and returns the ticket and the `Notify` that says "your turn".
    fn enter(&self, cost: u32) -> Result<Option<(u64, Arc<Notify>)>> {
        if self.check(cost)? {
            return Ok(None);
        }
        let (entered, change) = {
            let mut state = self.lock();
            state.refill();
            state.last_cost = cost;
            let entered = if state.queue.is_empty() && state.tokens.covers(cost.into()) {
                state.tokens.take(cost.into());
                Ok(None)
            } else if state.queue.len() >= self.max_queue {
                Err(Error::QueueFull)
            } else {
                Ok(Some(self.push(&mut state, cost)))
            };
            (entered, self.observe(&mut state))
        };
        self.report(change);
        entered
    }

    fn push(&self, state: &mut State, cost: u32) -> (u64, Arc<Notify>) {
        let ticket = state.next_ticket;
        state.next_ticket += 1;
        let turn = Arc::new(Notify::new());
        state.queue.push_back(Waiter { ticket, cost, turn: Arc::clone(&turn) });
        state.queued_cost += u64::from(cost);
        self.telemetry.queue_size(state.queue.len());
        (ticket, turn)
    }

    /// One look at the queue for `ticket`: granted, sleep until the tokens arrive, or wait
    /// for the waiters ahead.
    fn step(&self, ticket: u64) -> Step {
        let (step, change) = {
            let mut state = self.lock();
            state.refill();
            let head = state.queue.front().map(|head| (head.ticket, head.cost));
            let step = match head {
                Some((first, cost)) if first == ticket => {
                    if state.tokens.covers(cost.into()) {
                        state.tokens.take(cost.into());
                        self.pop_head(&mut state);
                        Step::Granted
                    } else {
                        Step::SleepUntil(state.tokens.ready_at(cost.into()))
                    }
                }
                _ => Step::AwaitTurn,
            };
            (step, self.observe(&mut state))
        };
        self.report(change);
        step
    }

    /// Removes a cancelled waiter; if it was the head, the next one's turn begins.
    fn leave(&self, ticket: u64) {
        let change = {
            let mut state = self.lock();
            state.refill();
            match state.queue.binary_search_by_key(&ticket, |waiter| waiter.ticket) {
                Ok(0) => self.pop_head(&mut state),
                Ok(index) => {
                    if let Some(waiter) = state.queue.remove(index) {
                        state.queued_cost -= u64::from(waiter.cost);
                    }
                    self.telemetry.queue_size(state.queue.len());
                }
                Err(_) => {}
            }
            self.observe(&mut state)
        };
        self.report(change);
    }

    fn pop_head(&self, state: &mut State) {
        if let Some(head) = state.queue.pop_front() {
            state.queued_cost -= u64::from(head.cost);
        }
        if let Some(next) = state.queue.front() {
            next.turn.notify_one();
        }
        self.telemetry.queue_size(state.queue.len());
    }

    /// Recomputes the pressure level; a change sets the gauge now and is logged later.
    fn observe(&self, state: &mut State) -> Option<PressureChange> {
        let level = state.tokens.pressure(!state.queue.is_empty());
        if level == state.level {
            return None;
        }
        let change = PressureChange {
            from: state.level,
            to: level,
            tokens: state.tokens.available(),
            queue_size: state.queue.len(),
        };
        state.level = level;
        self.telemetry.pressure(level);
        Some(change)
    }

    fn report(&self, change: Option<PressureChange>) {
        if let Some(change) = change {
            self.telemetry.pressure_changed(change);
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // No critical section can panic half-way (plain arithmetic and queue moves), so a
        // poisoned lock still guards consistent state.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    fn refill(&mut self) {
        self.tokens.refill(Instant::now());
    }
}

/// A place in the queue, given up on drop unless granted: cancelling an acquisition loses
/// the place, spends nothing, and lets the waiter behind move up.
struct Place<'a> {
    bucket: &'a Bucket,
    ticket: u64,
    granted: bool,
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        if !self.granted {
            self.bucket.leave(self.ticket);
        }
    }
}
