//! Balanced sends and requests: rank the eligible clients, try them in order, fail over only
//! while nothing was written.

use std::{
    future::Future,
    sync::{Arc, atomic::Ordering},
};

use tokio::time::Instant;
use zen_websocket_core::{Client, Error as ClientError};

use crate::{
    BalanceOptions, ClientId,
    balance::{Candidate, order, rank_keys},
    error::{Error, Result},
    member::Member,
    pool::Pool,
    telemetry,
};

/// The answer of a balanced call and the client that gave it.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = zen_websocket_testing::MockServer::start().await?;
/// use serde_json::json;
/// use zen_websocket_supervisor::{BalanceOptions, ClientSpec, ClientSupervisor, SupervisorConfig};
///
/// let pool = ClientSupervisor::start(SupervisorConfig::default().client(ClientSpec::new("main", server.url()))).await?;
/// let answer = pool.request_balanced("public/test", json!({}), &BalanceOptions::default()).await?;
/// println!("{} answered {}", answer.client, answer.value);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Balanced<T> {
    /// The client that took the call.
    pub client: ClientId,
    /// Its result.
    pub value: T,
}

/// How a client's error bears on failing over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Refused before anything was written: another client may take it.
    NotWritten,
    /// A definite answer (or bad input): no other client would do better.
    Definite,
    /// Written, then no answer: the server may have acted on it.
    Unknown,
}

fn judge(error: &ClientError) -> Verdict {
    match error {
        ClientError::NotConnected(_) | ClientError::RateLimited(_) => Verdict::NotWritten,
        ClientError::JsonRpc { .. }
        | ClientError::InvalidArgument { .. }
        | ClientError::Json(_)
        | ClientError::SubscriptionRejected { .. }
        | ClientError::DuplicateRequestId(_) => Verdict::Definite,
        _ => Verdict::Unknown,
    }
}

/// Counts a balanced call in flight on a member while it lives (cancel safe).
struct InFlight<'a>(&'a Member);

impl<'a> InFlight<'a> {
    fn start(member: &'a Member) -> Self {
        member.in_flight.fetch_add(1, Ordering::AcqRel);
        Self(member)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Pool {
    /// The eligible clients in the order to try them, at most `max_attempts`. Only those are
    /// cloned out of the pool: the rest are looked at under the members' locks.
    pub(crate) fn ranked(&self, options: &BalanceOptions) -> Vec<(Arc<Member>, Client)> {
        let now = Instant::now();
        let turn = self.turn.fetch_add(1, Ordering::Relaxed);
        self.with_members(|members| {
            let mut eligible: Vec<&Arc<Member>> = Vec::with_capacity(members.len());
            let mut candidates: Vec<Candidate> = Vec::with_capacity(members.len());
            for member in members.values().filter(|member| member.matches(options)) {
                let Some(pending) = member.eligible_pending(options.authenticated) else {
                    continue;
                };
                let (latency_ms, errors) = member.scores.now(now);
                let pending = pending + member.in_flight.load(Ordering::Acquire);
                eligible.push(member);
                candidates.push(Candidate { pending, latency_ms, errors });
            }
            let keys = rank_keys(&candidates);
            order(&keys, turn)
                .into_iter()
                .take(options.max_attempts as usize)
                .filter_map(|index| {
                    let member = eligible[index];
                    Some((Arc::clone(member), member.client()?))
                })
                .collect()
        })
    }

    /// Runs `call` on the best eligible client, failing over while nothing was written.
    pub(crate) async fn balanced<T, F, Fut>(
        &self,
        options: &BalanceOptions,
        measure: bool,
        mut call: F,
    ) -> Result<Balanced<T>>
    where
        F: FnMut(Client) -> Fut,
        Fut: Future<Output = zen_websocket_core::Result<T>>,
    {
        if self.cancel.is_cancelled() {
            return Err(Error::ShutDown);
        }
        let ranked = self.ranked(options);
        if ranked.is_empty() {
            let clients = self.with_members(|members| members.len());
            return Err(Error::NoEligibleClient { filter: options.describe(), clients });
        }
        let tries = ranked.len();
        let mut refusals = Vec::new();
        for (index, (member, client)) in ranked.into_iter().enumerate() {
            let started = Instant::now();
            let result = {
                let _in_flight = InFlight::start(&member);
                call(client).await
            };
            let error = match result {
                Ok(value) => {
                    if measure {
                        member.scores.latency_sample(started.elapsed(), Instant::now());
                    }
                    telemetry::balanced(&self.name, member.id);
                    return Ok(Balanced { client: member.id, value });
                }
                Err(error) => error,
            };
            match judge(&error) {
                Verdict::NotWritten => {
                    member.scores.error(Instant::now());
                    if index + 1 < tries {
                        telemetry::failover(&self.name);
                        tracing::debug!(pool = %self.name, client = %member.id, %error, "failing over: the frame was not written");
                    }
                    refusals.push((member.id, error));
                }
                Verdict::Definite => return Err(Error::Client { client: member.id, error }),
                Verdict::Unknown => {
                    member.scores.error(Instant::now());
                    telemetry::outcome_unknown(&self.name);
                    tracing::warn!(pool = %self.name, client = %member.id, %error, "balanced call outcome unknown; not retried");
                    return Err(Error::OutcomeUnknown { client: member.id, error });
                }
            }
        }
        Err(Error::AttemptsExhausted { attempts: refusals })
    }
}
