//! How `zenws` ends: exit codes scripts can rely on, and failures printed in plain words
//! (`ErrorHandler::explain`), never as a debug dump.

use std::process::ExitCode;

use zen_websocket::{Error, ErrorHandler};

/// The documented exit codes (docs/cli.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    /// Done.
    Ok = 0,
    /// Anything not listed below.
    Failed = 1,
    /// Bad arguments: an invalid URL, option or value (clap uses 2 for its own errors too).
    Usage = 2,
    /// Could not connect: name resolution, refused port, TLS, a rejected upgrade (e.g. 429),
    /// a timeout.
    Connect = 3,
    /// The peer broke the protocol, or a JSON-RPC call was answered with an error.
    Protocol = 4,
    /// The server closed the connection (or it was lost) and the client gave up.
    Closed = 5,
    /// A file could not be read or written (recordings).
    File = 6,
    /// Interrupted (Ctrl-C), after closing cleanly.
    Interrupted = 130,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit as u8)
    }
}

/// A failure to report: what happened, what to do, where to read, and the exit code.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) exit: Exit,
    pub(crate) message: String,
    pub(crate) suggestion: String,
    pub(crate) docs_url: Option<String>,
}

impl Failure {
    /// A failure of the tool's own (bad input, files).
    pub(crate) fn new(
        exit: Exit,
        message: impl Into<String>,
        suggestion: impl Into<String>,
    ) -> Self {
        Self { exit, message: message.into(), suggestion: suggestion.into(), docs_url: None }
    }

    /// Prints it to stderr: `zenws: <message>`, then the suggestion and the guide's link.
    pub(crate) fn report(&self) {
        eprintln!("zenws: {}", self.message);
        if !self.suggestion.is_empty() {
            eprintln!("  fix: {}", self.suggestion);
        }
        if let Some(url) = &self.docs_url {
            eprintln!("  see: {url}");
        }
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        let explanation = ErrorHandler::explain(&error);
        Self {
            exit: exit_for(&error),
            message: explanation.message,
            suggestion: explanation.suggestion,
            docs_url: Some(explanation.docs_url),
        }
    }
}

impl From<zen_websocket::deribit::Error> for Failure {
    fn from(error: zen_websocket::deribit::Error) -> Self {
        let explanation = error.explain();
        let exit = match &error {
            zen_websocket::deribit::Error::Client(inner) => exit_for(inner),
            zen_websocket::deribit::Error::InvalidConfig { .. }
            | zen_websocket::deribit::Error::MissingCredentials { .. } => Exit::Usage,
            _ => Exit::Protocol,
        };
        Self {
            exit,
            message: explanation.message,
            suggestion: explanation.suggestion,
            docs_url: Some(explanation.docs_url),
        }
    }
}

/// The exit code of a client error.
pub(crate) fn exit_for(error: &Error) -> Exit {
    match error {
        Error::InvalidUrl { .. } | Error::InvalidConfig { .. } | Error::InvalidArgument { .. } => {
            Exit::Usage
        }
        Error::Resolve { .. }
        | Error::Io(_)
        | Error::Tls(_)
        | Error::Timeout { .. }
        | Error::HandshakeRejected { .. }
        | Error::SessionSetup(_) => Exit::Connect,
        Error::WebSocket(_)
        | Error::JsonRpc { .. }
        | Error::InvalidResponse(_)
        | Error::SubscriptionRejected { .. }
        | Error::Json(_) => Exit::Protocol,
        Error::ServerClosed { .. }
        | Error::Disconnected
        | Error::NotConnected(_)
        | Error::HeartbeatTimeout { .. }
        | Error::WriteTimeout { .. }
        | Error::ConnectionTaskEnded => Exit::Closed,
        Error::Recording(_) => Exit::File,
        _ => Exit::Failed,
    }
}

/// The result of a subcommand: the exit code to end with, or a failure to report.
pub(crate) type Outcome = Result<Exit, Failure>;
