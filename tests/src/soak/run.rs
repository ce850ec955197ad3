//! The soak from start to finish: start the world, connect the fleet, force failures round by
//! round (verifying every client after each recovery), then tear everything down and count
//! what was left behind.

use std::time::Duration;

use anyhow::Context;
use tokio::{sync::watch, time::Instant};
use zen_websocket::testing::Direction;

use super::{
    fleet::SoakClient,
    memory::{self, Sample},
    options::Options,
    plan::{self, Fault, Kind, Target},
    report::Report,
    rng::SplitMix64,
    round,
    tasks::{self, TaskCounts},
    verify,
    world::World,
};

/// How long tasks may take to end once everything that runs them has closed.
const WIND_DOWN: Duration = Duration::from_secs(5);
/// Rounds in a row whose target could not be found before the soak gives up.
const MISSES_IN_A_ROW: usize = 20;

/// Runs the soak `options` describe and returns what it measured; [`Report::checks`] says
/// whether the client kept its promises.
///
/// # Errors
///
/// When the server or proxy cannot start, or a client cannot connect or subscribe at the start.
/// Everything that goes wrong later is a figure of the report.
///
/// # Panics
///
/// Outside a Tokio runtime.
pub async fn run(options: &Options) -> anyhow::Result<Report> {
    let epoch = Instant::now();
    let mut report = Report::new(options);
    let mut counts = TaskCounts { at_start: tasks::alive(), ..TaskCounts::default() };
    let world = World::start().await?;
    counts.before_clients = tasks::alive();
    let (stop, stopped) = watch::channel(false);
    let mut fleet = Vec::with_capacity(usize::from(options.clients));
    for index in 0..usize::from(options.clients) {
        let subscriptions = usize::from(options.subscriptions);
        let soak = SoakClient::start(index, &world.url, subscriptions, epoch, stopped.clone());
        fleet.push(soak.await.with_context(|| format!("starting client {index}"))?);
    }
    world.notify().await?;
    verify_all(&world, &mut fleet, &mut report).await;
    report.refusals += world.forget().await;
    force_failures(&world, &mut fleet, options, &mut report, epoch).await;
    verify_all(&world, &mut fleet, &mut report).await;
    let _ = stop.send(true);
    wind_down(fleet, &mut report, &mut counts).await;
    match world.stop().await {
        Ok(server) => report.server = server,
        Err(err) => push_error(&mut report, format!("stopping the server process: {err:#}")),
    }
    counts.at_end = tasks::settle_to(counts.at_start, WIND_DOWN).await;
    report.tasks = counts;
    report.wall = epoch.elapsed();
    Ok(report)
}

/// Notes a failure of the soak's own machinery (it fails the `failures` check).
fn push_error(report: &mut Report, error: String) {
    report.injection_errors.push(error.clone());
    report.aborted.get_or_insert(error);
}

/// Rounds until the failure count is reached (or the soak has to stop): first the warm-up,
/// one round of every kind on every client, then rounds drawn from the seeded mix. Resident
/// memory is sampled after each tenth of the drawn rounds' failures, so what a first use of
/// each path allocates (buffers, lazily built state) is not taken for growth.
async fn force_failures(
    world: &World,
    fleet: &mut [SoakClient],
    options: &Options,
    report: &mut Report,
    epoch: Instant,
) {
    let limit = epoch + Duration::from_secs(options.time_limit);
    for kind in Kind::ALL {
        let refusal = Duration::from_millis(250);
        let fault = Fault { kind, target: Target::All, direction: Direction::Both, refusal };
        if !play(world, fleet, report, fault).await {
            return;
        }
    }
    report.warm_up = report.failures;
    let mut rng = SplitMix64::new(options.seed);
    let target = options.failures as usize;
    let tenth = target.div_ceil(10);
    let page = memory::page_size();
    while report.counted() < target {
        if Instant::now() >= limit {
            report.aborted = Some(format!("time limit of {} s reached", options.time_limit));
            return;
        }
        if !play(world, fleet, report, plan::draw(&mut rng, fleet.len())).await {
            return;
        }
        let due = |report: &Report| {
            report.memory.len() < 10 && report.counted() >= tenth * (report.memory.len() + 1)
        };
        if due(report) {
            // A round that drops every client may cross several tenths: one sample for each.
            let sample = sample(fleet, report.counted(), page);
            while due(report) {
                report.memory.push(sample);
            }
            eprintln!(
                "soak: {} of {target} failures, {:.0} s, RSS {:.2} MiB",
                report.counted(),
                epoch.elapsed().as_secs_f64(),
                sample.rss_bytes as f64 / (1024.0 * 1024.0)
            );
        }
    }
}

/// One round of `fault`, then every client verified; whether the soak can go on.
async fn play(world: &World, fleet: &mut [SoakClient], report: &mut Report, fault: Fault) -> bool {
    let round = round::run(world, fleet, fault).await;
    report.round(&round);
    if !round.unrecovered.is_empty() {
        report.aborted = Some(format!("a client did not recover from {}", round.fault));
        return false;
    }
    report.misses_in_a_row =
        if round.injection.targets.is_empty() { report.misses_in_a_row + 1 } else { 0 };
    if report.misses_in_a_row >= MISSES_IN_A_ROW {
        let misses = report.misses_in_a_row;
        report.aborted = Some(format!("{misses} rounds in a row found no target connection"));
        return false;
    }
    verify_all(world, fleet, report).await;
    report.refusals += world.forget().await;
    true
}

/// Verifies every client's subscriptions against the server's ledger.
async fn verify_all(world: &World, fleet: &mut [SoakClient], report: &mut Report) {
    for soak in fleet.iter_mut() {
        let verdict = verify::verify(world, soak).await;
        report.verdict(&verdict);
    }
}

/// One memory sample.
fn sample(fleet: &[SoakClient], failures: usize, page: u64) -> Sample {
    let pages = memory::resident_pages().unwrap_or(0);
    let client_bytes =
        fleet.iter().map(|soak| soak.client.get_state_metrics().memory_bytes as u64).sum();
    Sample { failures, rss_bytes: pages * page, client_bytes }
}

/// Stops the request loops, takes in every client's figures, closes the clients, and counts
/// the tasks left once they are gone.
async fn wind_down(mut fleet: Vec<SoakClient>, report: &mut Report, counts: &mut TaskCounts) {
    for soak in &mut fleet {
        soak.stop_requests().await;
    }
    for soak in &mut fleet {
        if !soak.close().await {
            report.readers_left += 1;
        }
        let failures = soak.failures;
        soak.tracker.read(|record| report.client(record, &soak.tally(), failures));
    }
    drop(fleet);
    counts.after_clients = tasks::settle_to(counts.before_clients, WIND_DOWN).await;
}
