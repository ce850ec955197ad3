//! The textual scan behind `Redaction::redact_url`: user info, query values and the fragment
//! removed from any string, a valid URL or not.
//!
//! It never parses: it looks for ASCII delimiters only, so every slice falls on a character
//! boundary and no input can make it panic. Where the text is ambiguous it errs on the side of
//! secrecy (more is blanked, never less).

use crate::redact::Redaction;

/// `url` with its user info, query values and fragment blanked or dropped.
pub(crate) fn redact_url(url: &str) -> String {
    let placeholder = Redaction::PLACEHOLDER;
    let mut out = String::with_capacity(url.len() + 2 * placeholder.len());
    let (start, end) = authority(url);
    // The user info ends at the last `@` before the end of the authority; `?` and `#` do not
    // end it here, so a password holding them is still blanked whole. An `@` before the
    // authority (`user:pass@host//path`, `ws:user@host`) blanks everything from the scheme on.
    let head = &url[..end];
    let rest = match (head.find('@'), head.rfind('@')) {
        (Some(first), Some(last)) => {
            let from = if first >= start { start } else { 0 };
            out.push_str(&url[..from]);
            out.push_str(placeholder);
            &url[last..]
        }
        _ => url,
    };
    let rest = rest.split_once('#').map_or(rest, |(kept, _fragment)| kept);
    match rest.split_once('?') {
        Some((path, query)) => {
            out.push_str(path);
            out.push('?');
            push_query(&mut out, query);
        }
        None => out.push_str(rest),
    }
    out
}

/// The byte range of the authority: after the slashes that follow a scheme or open the text
/// (`wss://`, `wss:/`, `//host`, `/host`), from the start otherwise (`user:pass@host/ws`,
/// `ws:user@host`, `host//path`); up to the next slash or the end.
fn authority(url: &str) -> (usize, usize) {
    let bytes = url.as_bytes();
    let is_slash = |byte: &u8| matches!(byte, b'/' | b'\\');
    let scheme = scheme_end(url);
    let start = match bytes.iter().position(is_slash) {
        // `scheme:` followed by slashes: the authority follows them. Without slashes
        // (`ws:user@host`, or `user:pass@host` read as a scheme) it starts at 0, so an `@`
        // blanks everything before it.
        _ if scheme > 0 && bytes.get(scheme).is_some_and(is_slash) => {
            scheme + bytes[scheme..].iter().take_while(|b| is_slash(b)).count()
        }
        _ if scheme > 0 => 0,
        Some(first) => {
            let run = bytes[first..].iter().take_while(|b| is_slash(b)).count();
            let after_colon = first > 0 && bytes[first - 1] == b':';
            // Slashes in the middle of the text, not after a `:`, belong to a path.
            if after_colon || first == 0 { first + run } else { 0 }
        }
        None => 0,
    };
    let end = bytes[start..].iter().position(is_slash).map_or(bytes.len(), |len| start + len);
    (start, end)
}

/// Where a leading `scheme:` ends (0 without one).
fn scheme_end(url: &str) -> usize {
    let scheme = url.bytes().take_while(|b| b.is_ascii_alphanumeric() || b"+-.".contains(b));
    let len = scheme.count();
    let starts_with_letter = url.bytes().next().is_some_and(|b| b.is_ascii_alphabetic());
    if starts_with_letter && url.as_bytes().get(len) == Some(&b':') { len + 1 } else { 0 }
}

/// Every `&`-separated parameter as `name=[REDACTED]`; one without `=` may itself be a
/// secret (a bare token), so it becomes `[REDACTED]`. Empty parameters stay empty.
fn push_query(out: &mut String, query: &str) {
    for (n, parameter) in query.split('&').enumerate() {
        if n > 0 {
            out.push('&');
        }
        if parameter.is_empty() {
            continue;
        }
        if let Some((name, _value)) = parameter.split_once('=') {
            out.push_str(name);
            out.push('=');
        }
        out.push_str(Redaction::PLACEHOLDER);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn blanks_user_info_and_query_values_and_drops_the_fragment() {
        assert_eq!(
            redact_url("wss://alice:s3cret@example.com:443/ws/v2?api_key=abc&debug&sig=x=y#token"),
            "wss://[REDACTED]@example.com:443/ws/v2?api_key=[REDACTED]&[REDACTED]&sig=[REDACTED]"
        );
        assert_eq!(redact_url("ws://bob@host"), "ws://[REDACTED]@host");
        assert_eq!(redact_url("wss://host/ws?a=1&&b="), "wss://host/ws?a=[REDACTED]&&b=[REDACTED]");
    }

    #[test]
    fn leaves_urls_without_secrets_alone() {
        for url in
            ["wss://test.deribit.com/ws/api/v2", "ws://127.0.0.1:9000", "localhost:9000/ws", ""]
        {
            assert_eq!(redact_url(url), url);
        }
        assert_eq!(redact_url("wss://host/path/@me"), "wss://host/path/@me");
    }

    #[test]
    fn invalid_urls_lose_their_secrets_too() {
        assert_eq!(redact_url("user:pass@host/ws"), "[REDACTED]@host/ws");
        assert_eq!(redact_url("wss:/user:pass@host/ws"), "wss:/[REDACTED]@host/ws");
        assert_eq!(redact_url("wss://u:p?ss#w@host/ws"), "wss://[REDACTED]@host/ws");
        assert_eq!(redact_url("wss:\\\\u:p@host\\ws"), "wss:\\\\[REDACTED]@host\\ws");
        assert_eq!(
            redact_url("http ://u:p@h ost/?k=v v"),
            "http ://[REDACTED]@h ost/?k=[REDACTED]"
        );
        assert_eq!(redact_url("u:p@host//path"), "[REDACTED]@host//path");
        assert_eq!(redact_url("mailto:a@b"), "[REDACTED]@b");
        assert_eq!(redact_url("wss://host?email=a@b.com"), "wss://[REDACTED]@b.com");
        assert_eq!(redact_url("//u@h/ü?ß=ø#é"), "//[REDACTED]@h/ü?ß=[REDACTED]");
        assert_eq!(redact_url("ws:S3CR3T@0//?_=S3CR3T@"), "[REDACTED]@0//?_=[REDACTED]");
        assert_eq!(redact_url("S3CR3T@-//?_=S3CR3T@"), "[REDACTED]@-//?_=[REDACTED]");
    }

    proptest! {
        #[test]
        fn never_panics_on_any_text(text in "(.*[:/\\\\@?#&=]){0,6}.*") {
            let _ = redact_url(&text);
        }

        #[test]
        fn secrets_never_survive_and_the_rest_does(
            scheme in "(wss?|https?|)",
            slashes in "(//|/|\\\\\\\\|)",
            user in "[^/\\\\]{0,10}",
            password in proptest::option::of("[^/\\\\]{0,10}"),
            host in "[a-z0-9.-]{1,12}(:[0-9]{1,5})?",
            path in "(/[a-zA-Z0-9_.~-]{0,8}){1,3}",
            query in proptest::collection::vec(("[a-z_]{1,8}", "[^&#]{0,10}"), 0..4),
            fragment in proptest::option::of(".{0,10}"),
        ) {
            let mut url = format!("{scheme}{}{slashes}S3CR3T{user}", if scheme.is_empty() { "" } else { ":" });
            if let Some(password) = &password {
                url.push_str(&format!(":S3CR3T{password}"));
            }
            url.push_str(&format!("@{host}{path}"));
            for (n, (name, value)) in query.iter().enumerate() {
                url.push_str(&format!("{}{name}=S3CR3T{value}", if n == 0 { '?' } else { '&' }));
            }
            if let Some(fragment) = &fragment {
                url.push_str(&format!("#S3CR3T{fragment}"));
            }
            let redacted = redact_url(&url);
            prop_assert!(!redacted.contains("S3CR3T"), "{} -> {}", url, redacted);
            let kept = format!("[REDACTED]@{host}{path}");
            prop_assert!(redacted.contains(&kept), "{} -> {}", url, redacted);
            for (name, _) in &query {
                let name = format!("{name}=[REDACTED]");
                prop_assert!(redacted.contains(&name), "{} -> {}", url, redacted);
            }
        }
    }
}
