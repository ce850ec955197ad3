//! `zenws inspect FILE`: a recording summarised — its metadata, the message rate over time as
//! a sparkline, the size distribution, the JSON-RPC channels seen, and the silent gaps.

mod stats;

use std::{collections::HashMap, path::PathBuf, time::Duration};

use zen_websocket::{
    Error,
    recorder::{Direction, Entry, Metadata, Payload, Recorder},
};

use crate::{
    connect::options::parse_duration,
    exit::{Exit, Failure, Outcome},
};

use self::stats::{Rate, Sizes, sparkline};

/// How many columns the message-rate sparkline has at most.
const COLUMNS: usize = 60;
/// How many gaps are listed before the rest are only counted.
const MAX_GAPS_SHOWN: usize = 20;
/// How many channels are listed before the rest are only counted.
const MAX_CHANNELS_SHOWN: usize = 50;

/// The arguments of `zenws inspect`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The recording (JSON Lines, as `zenws connect --record` writes).
    file: PathBuf,
    /// List the silences between two frames longer than this.
    #[arg(long, default_value = "1s", value_name = "DURATION", value_parser = parse_duration)]
    gap: Duration,
}

/// Runs `zenws inspect`.
pub(crate) async fn run(args: Args) -> Outcome {
    let file = args.file.clone();
    let gap = args.gap;
    let report = tokio::task::spawn_blocking(move || Report::read(&file, gap))
        .await
        .map_err(|err| Failure::new(Exit::Failed, format!("the reader failed: {err}"), ""))??;
    println!("{}", report.render(&args.file));
    Ok(Exit::Ok)
}

/// Everything `inspect` prints, gathered in two passes over the file.
#[derive(Debug)]
struct Report {
    metadata: Metadata,
    bytes_in: u64,
    bytes_out: u64,
    closes: u64,
    rate: Rate,
    sizes: Sizes,
    channels: HashMap<String, u64>,
    gaps: Vec<(Duration, Duration)>,
    threshold: Duration,
}

impl Report {
    /// Reads the recording at `path`: the metadata first (for the time span), then the rest.
    fn read(path: &PathBuf, threshold: Duration) -> Result<Self, Failure> {
        let metadata = Recorder::metadata(path).map_err(recording)?;
        let span = Duration::from_millis(metadata.duration_ms);
        let mut report = Self {
            metadata,
            bytes_in: 0,
            bytes_out: 0,
            closes: 0,
            rate: Rate::new(span, COLUMNS),
            sizes: Sizes::default(),
            channels: HashMap::new(),
            gaps: Vec::new(),
            threshold,
        };
        let mut previous = None;
        for entry in Recorder::entries(path).map_err(recording)? {
            let entry = entry.map_err(recording)?;
            if entry.payload.is_gap() {
                continue;
            }
            report.add(&entry, previous);
            previous = Some(entry.ts);
        }
        Ok(report)
    }

    /// Counts one frame in; `previous` is the time of the frame before it.
    fn add(&mut self, entry: &Entry, previous: Option<zen_websocket::recorder::Timestamp>) {
        let offset = self
            .metadata
            .first_ts
            .map_or(Duration::ZERO, |first| entry.ts.saturating_duration_since(first));
        self.rate.add(offset);
        if let Some(previous) = previous {
            let silence = entry.ts.saturating_duration_since(previous);
            if silence > self.threshold {
                let started = offset.saturating_sub(silence);
                self.gaps.push((started, silence));
            }
        }
        let size = match &entry.payload {
            Payload::Text(text) => {
                self.count_channel(text);
                text.len()
            }
            Payload::Binary(bytes) => bytes.len(),
            _ => {
                self.closes += 1;
                return;
            }
        };
        self.sizes.add(size);
        let size = size as u64;
        match entry.dir {
            Direction::In => self.bytes_in += size,
            Direction::Out => self.bytes_out += size,
        }
    }

    /// Counts the `params.channel` of a JSON-RPC notification.
    fn count_channel(&mut self, text: &str) {
        if !text.contains("\"channel\"") {
            return;
        }
        let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else {
            return;
        };
        if let Some(channel) = value.pointer("/params/channel").and_then(|c| c.as_str()) {
            *self.channels.entry(channel.to_owned()).or_default() += 1;
        }
    }

    /// The report as text.
    fn render(&self, path: &std::path::Path) -> String {
        let mut out = Vec::new();
        self.render_metadata(path, &mut out);
        self.render_rate(&mut out);
        self.render_sizes(&mut out);
        self.render_channels(&mut out);
        self.render_gaps(&mut out);
        out.join("\n")
    }

    fn render_metadata(&self, path: &std::path::Path, out: &mut Vec<String>) {
        let m = &self.metadata;
        let when = |ts: Option<zen_websocket::recorder::Timestamp>| {
            ts.map_or_else(|| "-".to_owned(), |ts| ts.to_string())
        };
        out.push(format!("recording         {}", path.display()));
        out.push(format!("first             {}", when(m.first_ts)));
        out.push(format!("last              {}", when(m.last_ts)));
        out.push(format!(
            "duration          {:.3}s",
            Duration::from_millis(m.duration_ms).as_secs_f64()
        ));
        out.push(format!("frames            {}", m.count));
        out.push(format!("inbound           {}", m.inbound));
        out.push(format!("outbound          {}", m.outbound));
        out.push(format!("close frames      {}", self.closes));
        out.push(format!("bytes in          {}", self.bytes_in));
        out.push(format!("bytes out         {}", self.bytes_out));
        out.push(format!("dropped entries   {}", m.dropped_entries));
        out.push(format!("skipped lines     {}", m.skipped_lines));
    }

    fn render_rate(&self, out: &mut Vec<String>) {
        out.push(String::new());
        if self.metadata.count == 0 {
            out.push("message rate      (no frames)".to_owned());
            return;
        }
        let width = self.rate.bucket_width();
        let peak = self.rate.peak_per_second();
        out.push(format!(
            "message rate      {} column(s) of {:.3}s, peak {peak:.1} msg/s",
            self.rate.counts().len(),
            width.as_secs_f64()
        ));
        out.push(format!("  {}", sparkline(self.rate.counts())));
    }

    fn render_sizes(&self, out: &mut Vec<String>) {
        out.push(String::new());
        match self.sizes.summary() {
            Some(s) => out.push(format!(
                "sizes (bytes)     min {}  p50 {}  p99 {}  max {}",
                s.min, s.p50, s.p99, s.max
            )),
            None => out.push("sizes (bytes)     (no data frames)".to_owned()),
        }
    }

    fn render_channels(&self, out: &mut Vec<String>) {
        out.push(String::new());
        if self.channels.is_empty() {
            out.push("channels          (no JSON-RPC params.channel seen)".to_owned());
            return;
        }
        out.push(format!("channels          {} (JSON-RPC params.channel)", self.channels.len()));
        let mut channels: Vec<_> = self.channels.iter().collect();
        channels.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
        let width = channels.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
        for (name, count) in channels.iter().take(MAX_CHANNELS_SHOWN) {
            out.push(format!("  {name:<width$}  {count}"));
        }
        if channels.len() > MAX_CHANNELS_SHOWN {
            out.push(format!("  … and {} more", channels.len() - MAX_CHANNELS_SHOWN));
        }
    }

    fn render_gaps(&self, out: &mut Vec<String>) {
        out.push(String::new());
        let threshold = self.threshold.as_secs_f64();
        if self.gaps.is_empty() {
            out.push(format!("gaps > {threshold}s      none"));
            return;
        }
        out.push(format!("gaps > {threshold}s      {}", self.gaps.len()));
        for (at, silence) in self.gaps.iter().take(MAX_GAPS_SHOWN) {
            out.push(format!(
                "  at +{:.3}s  {:.3}s without a frame",
                at.as_secs_f64(),
                silence.as_secs_f64()
            ));
        }
        if self.gaps.len() > MAX_GAPS_SHOWN {
            out.push(format!("  … and {} more", self.gaps.len() - MAX_GAPS_SHOWN));
        }
    }
}

/// A recorder error as a failure (exit 6).
fn recording(err: zen_websocket::recorder::Error) -> Failure {
    Failure::from(Error::Recording(err))
}
