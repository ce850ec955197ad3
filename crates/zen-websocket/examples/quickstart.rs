//! The five functions, end to end.
//!
//! Run with: `cargo run --example quickstart` (starts an embedded local server)
//! or: `cargo run --example quickstart -- wss://test.deribit.com/ws/api/v2`

use std::time::Duration;

use anyhow::Context;
use serde_json::json;
use zen_websocket::{Client, Config, ErrorHandler, Event, TlsConfig};
use zen_websocket_testing::MockServer;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // With no URL, serve locally over wss with a generated CA the client is told to trust.
    let (url, config, _server) = match std::env::args().nth(1) {
        Some(url) => (url, Config::default(), None),
        None => {
            let server = MockServer::builder().tls(true).start().await?;
            let ca = server.ca_certificate().context("a TLS mock server has a CA")?;
            let config = Config::default().tls(TlsConfig::default().add_root_certificate(ca));
            println!("started an embedded mock server at {}", server.url());
            (server.url(), config, Some(server))
        }
    };

    let client = match Client::connect(&url, config.timeout(Duration::from_secs(10))).await {
        Ok(client) => client,
        Err(err) => {
            let explanation = ErrorHandler::explain(&err);
            anyhow::bail!(
                "{}. {} ({})",
                explanation.message,
                explanation.suggestion,
                explanation.docs_url
            );
        }
    };
    println!("1. connected to {url}");

    client
        .send_message(json!({"jsonrpc": "2.0", "id": "quickstart", "method": "public/test"}))
        .await?;
    println!("2. sent a JSON message");
    if let Ok(Some(Event::Message(reply))) =
        tokio::time::timeout(Duration::from_secs(5), client.recv()).await
    {
        println!("   received {}", reply.as_text().unwrap_or("<binary>"));
    }

    let version = client.request("public/test", json!({})).await?;
    println!("   request public/test answered {version}");

    let subscription = client.subscribe(["deribit_price_index.btc_usd"]).await?;
    println!("3. subscription {subscription} confirmed");

    println!("4. state: {}", client.get_state());

    client.close().await?;
    println!("5. closed; state: {}", client.get_state());
    Ok(())
}
