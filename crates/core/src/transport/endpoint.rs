//! Parses and checks the URL a client connects to, before any socket opens.

use url::Url;
use zen_websocket_recorder::Redaction;

use crate::error::{Error, Result};

/// A checked `ws://` or `wss://` address.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    pub(crate) url: Url,
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) secure: bool,
}

impl Endpoint {
    /// Parses `raw`, rejecting anything that is not an absolute ws/wss URL with a host; the
    /// error shows the URL through `redaction` (no credentials, no query values).
    pub(crate) fn parse(raw: &str, redaction: &Redaction) -> Result<Self> {
        let invalid = |reason: &str| Error::InvalidUrl {
            url: redaction.redact_url(raw),
            reason: reason.to_owned(),
        };
        if raw.trim().is_empty() {
            return Err(invalid("the URL is empty; pass an address such as wss://host/path"));
        }
        let url = Url::parse(raw).map_err(|err| invalid(&parse_reason(err)))?;
        let secure = match url.scheme() {
            "ws" => false,
            "wss" => true,
            "http" | "https" => {
                return Err(invalid("http(s) is not a WebSocket scheme; use ws:// or wss://"));
            }
            other => {
                return Err(invalid(&format!(
                    "scheme `{other}` is not supported; use ws:// or wss://"
                )));
            }
        };
        let host = match url.host_str() {
            Some(host) if !host.is_empty() => {
                host.trim_start_matches('[').trim_end_matches(']').to_owned()
            }
            _ => return Err(invalid("the URL has no host")),
        };
        let port = url.port_or_known_default().unwrap_or(if secure { 443 } else { 80 });
        if port == 0 {
            return Err(invalid("port 0 cannot be connected to; use the server's real port"));
        }
        Ok(Self { url, host, port, secure })
    }
}

fn parse_reason(err: url::ParseError) -> String {
    use url::ParseError as P;
    match err {
        P::RelativeUrlWithoutBase => "the URL has no scheme; start it with ws:// or wss://".into(),
        P::EmptyHost => "the URL has no host".into(),
        P::InvalidPort => "the port is not a number between 1 and 65535".into(),
        P::InvalidIpv4Address | P::InvalidIpv6Address => {
            "the host is not a valid IP address".into()
        }
        P::IdnaError | P::InvalidDomainCharacter => {
            "the host name contains invalid characters".into()
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(raw: &str) -> String {
        match Endpoint::parse(raw, &Redaction::default()) {
            Err(Error::InvalidUrl { reason, .. }) => reason,
            other => panic!("expected InvalidUrl for {raw:?}, got {other:?}"),
        }
    }

    #[test]
    fn good_urls_get_default_ports() {
        let plain = Endpoint::parse("ws://example.com/ws", &Redaction::default()).unwrap();
        assert_eq!((plain.port, plain.secure), (80, false));
        let secure =
            Endpoint::parse("wss://test.deribit.com/ws/api/v2", &Redaction::default()).unwrap();
        assert_eq!(
            (secure.host.as_str(), secure.port, secure.secure),
            ("test.deribit.com", 443, true)
        );
        let v6 = Endpoint::parse("ws://[::1]:9000", &Redaction::default()).unwrap();
        assert_eq!((v6.host.as_str(), v6.port), ("::1", 9000));
    }

    #[test]
    fn bad_urls_say_what_is_wrong() {
        assert!(reason("").contains("empty"));
        assert!(reason("example.com/ws").contains("no scheme"));
        assert!(reason("http://example.com").contains("ws://"));
        assert!(reason("ftp://example.com").contains("ftp"));
        assert!(reason("ws://").contains("no host"));
        assert!(reason("ws://example.com:99999").contains("port"));
        assert!(reason("ws://example.com:0").contains("port 0"));
    }
}
