//! `zenws replay FILE`: prints a recording's frames as they happened — time offset,
//! direction, then the text, the base64 of a binary frame, a close, or a gap marker — at the
//! recorded pace (or N× faster, or at once).

use std::{
    io::{self, Write},
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use tokio::sync::Notify;
use zen_websocket::{
    Error,
    recorder::{Direction, Entry, Payload, Recorder, ReplayOptions, Timestamp},
};

use crate::{
    connect::{interrupt::Interrupt, output::base64},
    exit::{Exit, Failure, Outcome},
};

/// The arguments of `zenws replay`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The recording (JSON Lines, as `zenws connect --record` writes).
    file: PathBuf,
    /// How much faster than recorded: 1 is the original pace, 10 ten times faster, 0.5 half
    /// as fast; 0 prints everything at once.
    #[arg(long, default_value_t = 1.0, value_name = "N")]
    speed: f64,
}

/// Runs `zenws replay`.
pub(crate) async fn run(args: Args) -> Outcome {
    let options = options(args.speed)?;
    let mut interrupt = Interrupt::new()
        .map_err(|err| Failure::new(Exit::Failed, format!("cannot catch Ctrl-C: {err}"), ""))?;
    let printer = Printer::default();
    let stop = Arc::clone(&printer.stop);
    let replay = Recorder::replay(&args.file, options, |entry| printer.print(&entry));
    tokio::select! {
        replayed = replay => {
            let metadata = replayed.map_err(|err| Failure::from(Error::Recording(err)))?;
            if metadata.skipped_lines > 0 {
                eprintln!("zenws: {} malformed line(s) skipped", metadata.skipped_lines);
            }
            Ok(Exit::Ok)
        }
        () = stop.notified() => Ok(Exit::Ok),
        () = interrupt.wait() => Ok(Exit::Interrupted),
    }
}

/// The replay options for `--speed`: 0 is as fast as possible, anything else realtime.
fn options(speed: f64) -> Result<ReplayOptions, Failure> {
    if speed == 0.0 {
        return Ok(ReplayOptions::default());
    }
    if !(speed.is_finite() && speed > 0.0) {
        return Err(Failure::new(
            Exit::Usage,
            format!("--speed must be 0 or a positive number, got {speed}"),
            "Use --speed 1 for the recorded pace, 10 for ten times faster, 0 for no waiting",
        ));
    }
    Ok(ReplayOptions::default().realtime(true).speed(speed))
}

/// Prints entries to stdout; when stdout goes away, stops the replay.
#[derive(Debug, Default)]
struct Printer {
    first: std::cell::Cell<Option<Timestamp>>,
    broken: AtomicBool,
    stop: Arc<Notify>,
}

impl Printer {
    /// Prints one entry as a line: `+OFFSET DIR KIND DATA`.
    fn print(&self, entry: &Entry) {
        if self.broken.load(Ordering::Relaxed) {
            return;
        }
        let first = self.first.get().unwrap_or(entry.ts);
        self.first.set(Some(first));
        let line = format_entry(entry, first);
        let mut out = io::stdout().lock();
        if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
            self.broken.store(true, Ordering::Relaxed);
            self.stop.notify_one();
        }
    }
}

/// One entry as printed: offset from the first entry in seconds, `in`/`out`, then the
/// payload.
pub(crate) fn format_entry(entry: &Entry, first: Timestamp) -> String {
    let offset = entry.ts.saturating_duration_since(first).as_secs_f64();
    let dir = match entry.dir {
        Direction::In => "in ",
        Direction::Out => "out",
    };
    let payload = match &entry.payload {
        Payload::Text(text) => format!("text   {text}"),
        Payload::Binary(bytes) => format!("binary {}", base64(bytes)),
        Payload::Close { code: Some(code), reason } => format!("close  {code} {reason}"),
        Payload::Close { code: None, reason } => format!("close  (no code) {reason}"),
        Payload::Gap { skipped } => format!("gap    {skipped} frame(s) not recorded"),
        _ => "other".to_owned(),
    };
    format!("+{offset:.6}s {dir} {payload}").trim_end().to_owned()
}
