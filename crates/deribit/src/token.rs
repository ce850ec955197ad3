//! The login of the current socket: its tokens, when they expire, and the task that refreshes
//! them at 80 % of their life.

use std::{
    fmt,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use serde_json::{Value, json};
use tokio::{sync::Notify, time::Instant};
use tokio_util::sync::CancellationToken;
use zen_websocket_core::Client;

/// Part of a token's life after which it is refreshed.
const REFRESH_AT: f64 = 0.8;

/// The tokens Deribit issued for the current socket.
#[derive(Clone)]
struct Tokens {
    refresh_token: String,
    expires_in: Duration,
    obtained: Instant,
    scope: String,
}

/// Shared between the session set-up (a login per socket), the refresh task and the client.
#[derive(Default)]
pub(crate) struct TokenState {
    current: Mutex<Option<Tokens>>,
    changed: Notify,
}

impl fmt::Debug for TokenState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let current = self.lock();
        f.debug_struct("TokenState")
            .field("logged_in", &current.is_some())
            .field("scope", &current.as_ref().map(|tokens| tokens.scope.clone()))
            .finish_non_exhaustive()
    }
}

impl TokenState {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Tokens>> {
        self.current.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Keeps the tokens of a `public/auth` result; `false` when it has none.
    pub(crate) fn store(&self, result: &Value) -> bool {
        let (Some(refresh_token), Some(expires_in)) =
            (result["refresh_token"].as_str(), result["expires_in"].as_u64())
        else {
            return false;
        };
        let tokens = Tokens {
            refresh_token: refresh_token.to_owned(),
            expires_in: Duration::from_secs(expires_in),
            obtained: Instant::now(),
            scope: result["scope"].as_str().unwrap_or_default().to_owned(),
        };
        *self.lock() = Some(tokens);
        self.changed.notify_waiters();
        true
    }

    /// The socket is gone: its tokens died with it.
    pub(crate) fn forget(&self) {
        *self.lock() = None;
    }

    /// The scope Deribit granted the current login (it may be narrower than asked).
    pub(crate) fn scope(&self) -> Option<String> {
        self.lock().as_ref().map(|tokens| tokens.scope.clone())
    }

    /// When the current tokens are due for refresh, and the refresh token.
    fn due(&self) -> Option<(Instant, String)> {
        self.lock().as_ref().map(|tokens| {
            let life = tokens.expires_in.mul_f64(REFRESH_AT);
            (tokens.obtained + life, tokens.refresh_token.clone())
        })
    }
}

/// Refreshes the login at 80 % of its life with `grant_type: refresh_token`, on the socket it
/// belongs to, until `stop`. A refresh that fails waits for the next login (a new socket logs
/// in afresh in its set-up).
pub(crate) async fn refresh(client: Client, tokens: Arc<TokenState>, stop: CancellationToken) {
    loop {
        let changed = tokens.changed.notified();
        let Some((due, refresh_token)) = tokens.due() else {
            tokio::select! {
                () = changed => continue,
                () = stop.cancelled() => return,
            }
        };
        tokio::select! {
            () = tokio::time::sleep_until(due) => {}
            () = changed => continue,
            () = stop.cancelled() => return,
        }
        let params = json!({"grant_type": "refresh_token", "refresh_token": refresh_token});
        let refreshed = tokio::select! {
            refreshed = client.request("public/auth", params) => refreshed,
            () = stop.cancelled() => return,
        };
        match refreshed {
            Ok(result) if tokens.store(&result) => tracing::debug!("Deribit login refreshed"),
            Ok(_) => tracing::warn!("Deribit's refresh answer had no tokens"),
            Err(error) => {
                tracing::warn!(%error, "refreshing the Deribit login failed; waiting for the next login");
                tokens.forget();
            }
        }
    }
}
