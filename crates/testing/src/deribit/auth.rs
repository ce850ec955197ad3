//! Logging in: `public/auth` with its three grants, connection-scoped tokens, and the check
//! every private method makes.

use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::dispatch::{Answer, Ctx};
use super::protocol::{RpcError, now_millis, optional_str, required_number, required_str};
use super::server::DeribitSimulator;
use super::state::Inner;
use crate::message::ConnectionId;

/// How far a `client_signature` timestamp may be from the simulator's clock.
const SIGNATURE_WINDOW: Duration = Duration::from_secs(60);

/// A connection's login: its tokens die with the socket.
#[derive(Debug)]
pub(crate) struct Login {
    access_token: String,
    /// `None` once used: a refresh token works once.
    refresh_token: Option<String>,
    expires_at: Instant,
}

impl Login {
    fn active(&self, now: Instant) -> bool {
        now < self.expires_at
    }
}

/// `hex(HMAC-SHA256(secret, timestamp + "\n" + nonce + "\n" + data))`.
pub(crate) fn signature(secret: &str, timestamp: u64, nonce: &str, data: &str) -> String {
    // HMAC takes keys of any length, so this never fails.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(format!("{timestamp}\n{nonce}\n{data}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

impl DeribitSimulator {
    /// The signature a `client_signature` login sends:
    /// `hex(HMAC-SHA256(secret, timestamp + "\n" + nonce + "\n" + data))`, where an empty
    /// `data` still leaves both newlines in place. `timestamp` is in milliseconds.
    ///
    /// # Examples
    ///
    /// ```
    /// use zen_websocket_testing::DeribitSimulator;
    ///
    /// let signature = DeribitSimulator::client_signature("secret", 1_576_074_319_000, "1iqt2wls", "");
    /// assert_eq!(signature.len(), 64);
    /// ```
    pub fn client_signature(secret: &str, timestamp: u64, nonce: &str, data: &str) -> String {
        signature(secret, timestamp, nonce, data)
    }
}

/// `public/auth`: checks the grant, then logs the connection in with fresh tokens.
pub(crate) fn authenticate(ctx: &mut Ctx<'_>) -> Result<Answer, RpcError> {
    if ctx.inner.refuse_auth {
        return Err(RpcError::invalid_credentials());
    }
    let params = ctx.params;
    match required_str(params, "grant_type")? {
        "client_credentials" => {
            let client_id = required_str(params, "client_id")?;
            let secret = required_str(params, "client_secret")?;
            if client_id != ctx.config.client_id || secret != ctx.config.client_secret {
                return Err(RpcError::invalid_credentials());
            }
        }
        "client_signature" => check_signature(ctx)?,
        "refresh_token" => {
            let token = required_str(params, "refresh_token")?;
            use_refresh_token(ctx.inner, token)?;
        }
        _ => return Err(RpcError::invalid_params("unknown grant_type", "grant_type")),
    }
    let access_token = issue(ctx.inner, "A");
    let refresh_token = issue(ctx.inner, "R");
    let expires_at = ctx.now + ctx.config.expires_in;
    let login = Login {
        access_token: access_token.clone(),
        refresh_token: Some(refresh_token.clone()),
        expires_at,
    };
    ctx.conn()?.login = Some(login);
    let mut result = json!({
        "access_token": access_token,
        "expires_in": ctx.config.expires_in.as_secs(),
        "refresh_token": refresh_token,
        "scope": "connection",
        "token_type": "bearer",
        "enabled_features": [],
    });
    if let Some(state) = optional_str(params, "state")? {
        result["state"] = state.into();
    }
    Ok(Answer::Result(result))
}

/// `client_signature`: the right client id, a fresh timestamp and a matching signature.
fn check_signature(ctx: &Ctx<'_>) -> Result<(), RpcError> {
    let params = ctx.params;
    let client_id = required_str(params, "client_id")?;
    let timestamp = required_number(params, "timestamp")?;
    let nonce = required_str(params, "nonce")?;
    let signature_sent = required_str(params, "signature")?;
    let data = optional_str(params, "data")?.unwrap_or("");
    if client_id != ctx.config.client_id {
        return Err(RpcError::invalid_credentials());
    }
    if timestamp < 0.0 || timestamp.fract() != 0.0 {
        return Err(RpcError::invalid_params("must be a timestamp in milliseconds", "timestamp"));
    }
    let timestamp = timestamp as u64;
    if now_millis().abs_diff(timestamp) > SIGNATURE_WINDOW.as_millis() as u64 {
        return Err(RpcError::unauthorized());
    }
    let expected = signature(&ctx.config.client_secret, timestamp, nonce, data);
    if !signature_sent.eq_ignore_ascii_case(&expected) {
        return Err(RpcError::unauthorized());
    }
    Ok(())
}

/// Uses up a refresh token issued on a connection that is still open.
fn use_refresh_token(inner: &mut Inner, token: &str) -> Result<(), RpcError> {
    let owner = inner
        .connections
        .values_mut()
        .filter_map(|conn| conn.login.as_mut())
        .find(|login| login.refresh_token.as_deref() == Some(token));
    match owner {
        Some(login) => {
            login.refresh_token = None;
            Ok(())
        }
        None => Err(RpcError::unauthorized()),
    }
}

/// A fresh token, unique within the simulator, shaped like Deribit's (`<ms>.<tag><hex>`).
fn issue(inner: &mut Inner, tag: &str) -> String {
    inner.tokens_issued += 1;
    let mixed = splitmix(inner.tokens_issued);
    format!("{}.{tag}{mixed:016x}", now_millis())
}

/// SplitMix64: spreads a counter over all 64 bits, so tokens do not look sequential.
fn splitmix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Whether `connection` is logged in with a token that has not expired.
pub(crate) fn is_authenticated(inner: &Inner, connection: ConnectionId, now: Instant) -> bool {
    let login = inner.connections.get(&connection).and_then(|conn| conn.login.as_ref());
    login.is_some_and(|login| login.active(now))
}

/// What a private method needs: a logged-in connection and, when the request names an
/// `access_token`, that connection's current one.
pub(crate) fn check_access(ctx: &Ctx<'_>) -> Result<(), RpcError> {
    let login = ctx.inner.connections.get(&ctx.id).and_then(|conn| conn.login.as_ref());
    let Some(login) = login.filter(|login| login.active(ctx.now)) else {
        return Err(RpcError::unauthorized());
    };
    match ctx.params.get("access_token") {
        None | Some(Value::Null) => Ok(()),
        Some(token) if token.as_str() == Some(login.access_token.as_str()) => Ok(()),
        Some(_) => Err(RpcError::unauthorized()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_like_deribit_documents() {
        // The documented example: client secret "AMANDASECRECT", empty data.
        let signature = signature("AMANDASECRECT", 1_576_074_319_000, "1iqt2wls", "");
        assert_eq!(signature, "56590594f97921b09b18f166befe0d1319b198bbcdad7ca73382de2f88fe9aa1");
    }

    #[test]
    fn tokens_are_unique() {
        assert_ne!(splitmix(1), splitmix(2));
    }
}
