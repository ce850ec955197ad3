//! What every new socket does before it counts as open, in Deribit's order: the heartbeat
//! request (the core sends it first), the login, cancel-on-disconnect; the core then restores
//! the subscriptions, and only then is any request of the user's written.

use std::sync::Arc;

use serde_json::json;
use zen_websocket_core::{Error as ClientError, Session};

use crate::{Credentials, Grant, token::TokenState};

/// The set-up's inputs.
#[derive(Debug, Clone)]
pub(crate) struct Setup {
    pub(crate) credentials: Option<Credentials>,
    pub(crate) grant: Grant,
    pub(crate) cancel_on_disconnect: bool,
    pub(crate) tokens: Arc<TokenState>,
}

impl Setup {
    /// Logs in and enables cancel-on-disconnect on the new socket.
    pub(crate) async fn run(self, session: Session) -> zen_websocket_core::Result<()> {
        self.tokens.forget();
        let Some(credentials) = &self.credentials else { return Ok(()) };
        let result = session.request("public/auth", credentials.auth_params(self.grant)).await?;
        if !self.tokens.store(&result) {
            return Err(ClientError::InvalidResponse("public/auth returned no tokens".into()));
        }
        if self.cancel_on_disconnect {
            let scope = json!({"scope": "connection"});
            session.request("private/enable_cancel_on_disconnect", scope).await?;
        }
        Ok(())
    }
}
