//! `zenws connect URL`: a resilient websocat. Lines read from stdin are sent as text frames,
//! inbound messages are printed to stdout, and the connection's life (drops, reconnections,
//! lost subscriptions) is told on stderr. With `--request` it makes one JSON-RPC call instead.

pub(crate) mod interrupt;
pub(crate) mod options;
pub(crate) mod output;

use std::{
    io::{self, BufRead},
    path::PathBuf,
    time::Duration,
};

use serde_json::Value;
use tokio::sync::mpsc;
use zen_websocket::{
    BinanceSubscriptions, Client, Config, DisconnectReason, Error, ErrorHandler, Event,
    JsonRpcSubscriptions, RateLimiter, TlsConfig, rate_limiter::RateLimiterConfig,
    recorder::Redaction,
};

use crate::exit::{Exit, Failure, Outcome};

use self::{
    interrupt::Interrupt,
    options::{Heartbeat, Rate, parse_duration, parse_header, parse_heartbeat, parse_rate},
    output::{Style, report_event},
};

/// How long events are still read after `close()`: the close itself is bounded by the
/// client's `close_timeout` (2 s); this is a backstop.
const DRAIN_LIMIT: Duration = Duration::from_secs(5);

/// The arguments of `zenws connect`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The WebSocket URL: ws://host:port/path or wss://…
    url: String,
    /// Each stdin line must be JSON; lines that are not are reported and skipped.
    #[arg(long)]
    json: bool,
    /// Pretty-print inbound JSON messages (and the `--request` result).
    #[arg(long)]
    pretty: bool,
    /// Prefix every printed message with the time it arrived (RFC 3339, UTC).
    #[arg(long)]
    timestamps: bool,
    /// An HTTP header for the upgrade request; repeat for several.
    #[arg(long = "header", short = 'H', value_name = "NAME:VALUE", value_parser = parse_header)]
    headers: Vec<(String, String)>,
    /// Offer this subprotocol (Sec-WebSocket-Protocol); repeat for several, preferred first.
    #[arg(long = "subprotocol", value_name = "NAME")]
    subprotocols: Vec<String>,
    /// Subscribe to this channel once connected (restored after every reconnect); repeat
    /// for several.
    #[arg(long = "subscribe", value_name = "CHANNEL")]
    channels: Vec<String>,
    /// How `--subscribe` talks to the server: `jsonrpc` (Deribit's public/subscribe) or
    /// `binance` (SUBSCRIBE with params).
    #[arg(long, value_enum, default_value_t = Dialect::Jsonrpc)]
    dialect: Dialect,
    /// The heartbeat: `ping:30s` (WebSocket pings), `pong:30s` (expect the server's pings),
    /// `deribit:30s` (public/set_heartbeat + test_request) or `off`. Default: ping every 30 s.
    #[arg(long, value_name = "KIND:INTERVAL", value_parser = parse_heartbeat)]
    heartbeat: Option<Heartbeat>,
    /// Reconnection attempts after a lost connection before giving up (exit 5); 0 never
    /// reconnects. Default 3.
    #[arg(long, value_name = "N")]
    retries: Option<u32>,
    /// The first reconnection delay, doubled on each attempt (up to 30 s). Default 1s.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    retry_delay: Option<Duration>,
    /// Record every frame in and out to this file (JSON Lines; read it with `zenws inspect`).
    #[arg(long, value_name = "FILE")]
    record: Option<PathBuf>,
    /// Send at most this many messages per period: `10/s`, `100/m`, `5/100ms`.
    #[arg(long, value_name = "N/s", value_parser = parse_rate)]
    rate_limit: Option<Rate>,
    /// Make one JSON-RPC call, print its result and exit (a JSON-RPC error exits 4).
    #[arg(long, num_args = 2, value_names = ["METHOD", "PARAMS_JSON"])]
    request: Option<Vec<String>>,
    /// Bound on connecting, and on the answer to `--request` or `--subscribe`. Default 5s
    /// for connecting, 30s for answers.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    timeout: Option<Duration>,
    /// Trust this CA certificate (PEM) for wss:// — e.g. the file `zenws serve --tls` wrote.
    #[arg(long, value_name = "PEM_FILE")]
    ca: Option<PathBuf>,
}

/// The subscription dialects `--dialect` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Dialect {
    /// JSON-RPC `public/subscribe` with `params.channels` (Deribit and alike).
    Jsonrpc,
    /// Binance's `{"method":"SUBSCRIBE","params":[…]}`.
    Binance,
}

/// Runs `zenws connect`.
pub(crate) async fn run(args: Args) -> Outcome {
    let config = config(&args)?;
    let call = args.request.as_deref().map(parse_request).transpose()?;
    let style = Style { pretty: args.pretty, timestamps: args.timestamps };
    let mut interrupt = Interrupt::new()
        .map_err(|err| Failure::new(Exit::Failed, format!("cannot catch Ctrl-C: {err}"), ""))?;
    let client = tokio::select! {
        client = Client::connect(&args.url, config) => client?,
        () = interrupt.wait() => return Ok(Exit::Interrupted),
    };
    announce(&client, &args.url);
    if !args.channels.is_empty()
        && let Err(failure) = subscribe(&client, &args.channels, &mut interrupt).await
    {
        let _ = client.close().await;
        return failure;
    }
    match call {
        Some((method, params)) => request(&client, &method, params, style, &mut interrupt).await,
        None => session(&client, args.json, style, &mut interrupt).await,
    }
}

/// The client's configuration from the flags; the library's defaults for flags not given.
fn config(args: &Args) -> Result<Config, Failure> {
    let mut config = Config::default();
    for (name, value) in &args.headers {
        config = config.header(name, value);
    }
    for name in &args.subprotocols {
        config = config.subprotocol(name);
    }
    config = match args.dialect {
        Dialect::Jsonrpc => config.subscription_protocol(JsonRpcSubscriptions),
        Dialect::Binance => config.subscription_protocol(BinanceSubscriptions),
    };
    config = match &args.heartbeat {
        Some(Heartbeat::On(heartbeat)) => config.heartbeat(heartbeat.clone()),
        Some(Heartbeat::Off) => config.no_heartbeat(),
        None => config,
    };
    if let Some(retries) = args.retries {
        config = config.retry_count(retries);
    }
    if let Some(delay) = args.retry_delay {
        config = config.retry_delay(delay).max_backoff(delay.max(Duration::from_secs(30)));
    }
    if let Some(path) = &args.record {
        config = config.record_to(path);
    }
    if let Some(rate) = args.rate_limit {
        config = config.rate_limiter(limiter(rate)?);
    }
    if let Some(timeout) = args.timeout {
        config = config.timeout(timeout).request_timeout(timeout);
    }
    if let Some(path) = &args.ca {
        config = config.tls(trust(path)?);
    }
    config.validate()?;
    Ok(config)
}

/// A limiter that lets `rate.count` messages through per `rate.per`, in bursts of as many.
fn limiter(rate: Rate) -> Result<RateLimiter, Failure> {
    let config = RateLimiterConfig::new()
        .name("zenws")
        .capacity(rate.count)
        .refill_rate(rate.count)
        .refill_interval(rate.per);
    RateLimiter::new(config).map_err(|err| {
        Failure::new(
            Exit::Usage,
            format!("--rate-limit cannot be used: {err}"),
            "Try --rate-limit 10/s",
        )
    })
}

/// Trust in the CA certificates of the PEM file at `path` (and not in the public roots).
fn trust(path: &PathBuf) -> Result<TlsConfig, Failure> {
    let pem = std::fs::read_to_string(path).map_err(|err| {
        Failure::new(
            Exit::File,
            format!("cannot read the CA file `{}`: {err}", path.display()),
            "Pass the PEM file `zenws serve --tls` printed, or your own CA's certificate",
        )
    })?;
    Ok(TlsConfig::default().add_root_certificates_pem(&pem)?)
}

/// `--request METHOD PARAMS_JSON` parsed; bad JSON is a usage error, found before dialling.
fn parse_request(values: &[String]) -> Result<(String, Value), Failure> {
    let [method, params] = values else {
        return Err(Failure::new(Exit::Usage, "--request takes METHOD and PARAMS_JSON", ""));
    };
    let params = serde_json::from_str(params).map_err(|err| {
        Failure::new(
            Exit::Usage,
            format!("the params of --request are not JSON: {err}"),
            "Quote them for the shell: --request public/get_time '{}'",
        )
    })?;
    Ok((method.clone(), params))
}

/// Says on stderr where the client is connected (secrets in the URL blanked).
fn announce(client: &Client, url: &str) {
    let shown = Redaction::default().redact_url(url);
    match client.subprotocol() {
        Some(protocol) => eprintln!("zenws: connected to {shown} (subprotocol {protocol})"),
        None => eprintln!("zenws: connected to {shown}"),
    }
}

/// Subscribes to `channels` in one request; the server must confirm every one.
async fn subscribe(
    client: &Client,
    channels: &[String],
    interrupt: &mut Interrupt,
) -> Result<(), Outcome> {
    tokio::select! {
        subscribed = client.subscribe(channels.iter().cloned()) => match subscribed {
            Ok(_) => {
                eprintln!("zenws: subscribed to {}", channels.join(", "));
                Ok(())
            }
            Err(err) => Err(Err(Failure::from(err))),
        },
        () = interrupt.wait() => Err(Ok(Exit::Interrupted)),
    }
}

/// One JSON-RPC call: the result on stdout, exit 0; an error answer exits 4.
async fn request(
    client: &Client,
    method: &str,
    params: Value,
    style: Style,
    interrupt: &mut Interrupt,
) -> Outcome {
    let answered = tokio::select! {
        answered = client.request(method, params) => Some(answered),
        () = interrupt.wait() => None,
    };
    let _ = client.close().await;
    match answered {
        None => Ok(Exit::Interrupted),
        Some(Ok(result)) => {
            // A closed stdout is no reason to fail a call that succeeded.
            let _ = style.print(&style.render_json(&result));
            Ok(Exit::Ok)
        }
        Some(Err(err)) => Err(Failure::from(err)),
    }
}

/// Why the interactive session ended.
enum End {
    /// Stdin reached its end: close and exit 0.
    Input,
    /// Ctrl-C: close and exit 130.
    Interrupted,
    /// Nobody reads stdout any more: close and exit 0.
    Output,
    /// The connection ended by itself, for good: exit 5 with this failure.
    Lost(Failure),
}

/// Stdin lines out, messages in, until stdin ends, Ctrl-C, or the connection is gone.
async fn session(client: &Client, json: bool, style: Style, interrupt: &mut Interrupt) -> Outcome {
    let lines = read_stdin()?;
    let mut sender = tokio::spawn(send_lines(client.clone(), lines, json));
    let mut lost = None;
    let end = loop {
        tokio::select! {
            event = client.recv() => match event {
                Some(Event::Message(message)) => {
                    if style.print_message(&message).is_err() {
                        break End::Output;
                    }
                }
                Some(event) => {
                    report_event(&event);
                    lost = ending(event).or(lost);
                }
                None => break End::Lost(lost.take().unwrap_or_else(closed_for_good)),
            },
            _ = &mut sender => break End::Input,
            () = interrupt.wait() => break End::Interrupted,
        }
    };
    sender.abort();
    finish(client, end, style).await
}

/// Closes (unless the connection already ended), prints what still arrives, and says how to
/// exit.
async fn finish(client: &Client, end: End, style: Style) -> Outcome {
    let exit = match end {
        End::Lost(failure) => return Err(failure),
        End::Input | End::Output => Exit::Ok,
        End::Interrupted => Exit::Interrupted,
    };
    let _ = client.close().await;
    let printing = !matches!(end, End::Output);
    let drain = async {
        while let Some(event) = client.recv().await {
            match event {
                Event::Message(message) if printing => {
                    if style.print_message(&message).is_err() {
                        return;
                    }
                }
                Event::Message(_)
                | Event::Disconnected { reason: DisconnectReason::ClientClosed, .. } => {}
                other => report_event(&other),
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_LIMIT, drain).await;
    Ok(exit)
}

/// The failure an event announces when it ends the connection for good.
fn ending(event: Event) -> Option<Failure> {
    match event {
        Event::Disconnected { reason, will_retry: false, .. } => Some(lost_failure(&reason)),
        Event::ReconnectFailed { attempts, last_error, .. } => {
            let mut failure = closed(&last_error);
            failure.message =
                format!("reconnection gave up after {attempts} attempt(s): {}", failure.message);
            Some(failure)
        }
        _ => None,
    }
}

/// Why a connection that is not to be re-dialled ended, as exit 5.
fn lost_failure(reason: &DisconnectReason) -> Failure {
    match reason {
        DisconnectReason::ServerClosed { code, reason } => {
            closed(&Error::ServerClosed { code: *code, reason: reason.clone() })
        }
        DisconnectReason::Error(err) => closed(err),
        _ => closed_for_good(),
    }
}

/// `error`, explained, with exit code 5 (the connection is over for good).
fn closed(error: &Error) -> Failure {
    let explanation = ErrorHandler::explain(error);
    Failure {
        exit: Exit::Closed,
        message: explanation.message,
        suggestion: explanation.suggestion,
        docs_url: Some(explanation.docs_url),
    }
}

/// The failure when the connection ended without saying why.
fn closed_for_good() -> Failure {
    Failure::new(
        Exit::Closed,
        "the connection ended for good",
        "Raise --retries (or --retry-delay) to keep reconnecting",
    )
}

/// Stdin's lines, read on a thread of their own: a blocking read must never hold up the
/// runtime's shutdown. The channel closes at the end of stdin.
fn read_stdin() -> Result<mpsc::Receiver<String>, Failure> {
    let (lines, receiver) = mpsc::channel(64);
    let reader = move || {
        for line in io::stdin().lock().lines() {
            match line {
                Ok(line) => {
                    if lines.blocking_send(line).is_err() {
                        return;
                    }
                }
                Err(err) if err.kind() == io::ErrorKind::InvalidData => {
                    eprintln!("zenws: a stdin line is not UTF-8; skipped");
                }
                Err(err) => {
                    eprintln!("zenws: cannot read stdin: {err}");
                    return;
                }
            }
        }
    };
    std::thread::Builder::new().name("zenws-stdin".into()).spawn(reader).map_err(|err| {
        Failure::new(Exit::Failed, format!("cannot start the stdin reader: {err}"), "")
    })?;
    Ok(receiver)
}

/// Sends every line (one at a time, so a rate limit paces them) until stdin ends.
async fn send_lines(client: Client, mut lines: mpsc::Receiver<String>, json: bool) {
    while let Some(line) = lines.recv().await {
        if json && !is_json_line(&line) {
            continue;
        }
        if let Err(err) = client.send_message(line).await {
            let explanation = ErrorHandler::explain(&err);
            eprintln!("zenws: not sent: {}", explanation.message);
            eprintln!("  fix: {}", explanation.suggestion);
        }
    }
}

/// With `--json`: whether the line is JSON worth sending; says why not on stderr. Blank lines
/// are skipped silently.
fn is_json_line(line: &str) -> bool {
    if line.trim().is_empty() {
        return false;
    }
    match serde_json::from_str::<Value>(line) {
        Ok(_) => true,
        Err(err) => {
            eprintln!("zenws: not sent: the line is not JSON ({err}): {line}");
            eprintln!("  fix: send one JSON document per line, or drop --json to send text");
            false
        }
    }
}
