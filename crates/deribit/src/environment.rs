//! Where to connect: production, testnet, or a URL of your own (a simulator, a proxy).

/// A Deribit environment.
///
/// # Examples
///
/// ```
/// use zen_websocket_deribit::Environment;
///
/// assert_eq!(Environment::Testnet.url(), "wss://test.deribit.com/ws/api/v2");
/// assert_eq!(Environment::Custom("ws://127.0.0.1:9000".into()).url(), "ws://127.0.0.1:9000");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Environment {
    /// `wss://www.deribit.com/ws/api/v2`: real money.
    Production,
    /// `wss://test.deribit.com/ws/api/v2`: separate accounts and credit pools. The default.
    #[default]
    Testnet,
    /// Any other URL (the testing kit's `DeribitSimulator`, a proxy).
    Custom(String),
}

impl Environment {
    /// The WebSocket URL.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(zen_websocket_deribit::Environment::Production.url(), "wss://www.deribit.com/ws/api/v2");
    /// ```
    #[must_use]
    pub fn url(&self) -> &str {
        match self {
            Self::Production => "wss://www.deribit.com/ws/api/v2",
            Self::Testnet => "wss://test.deribit.com/ws/api/v2",
            Self::Custom(url) => url,
        }
    }
}
