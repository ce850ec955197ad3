//! Deribit's BTC-PERPETUAL ticker through `DeribitClient`.
//!
//! Run with: `cargo run --example deribit_ticker --features deribit` (plays the venue with the
//! testing kit's `DeribitSimulator`) or, for the real testnet:
//! `cargo run --example deribit_ticker --features deribit -- wss://test.deribit.com/ws/api/v2`

use std::time::Duration;

use zen_websocket::deribit::{DeribitClient, DeribitConfig, DeribitEvent, Environment};
use zen_websocket_testing::DeribitSimulator;

const CHANNEL: &str = "ticker.BTC-PERPETUAL.100ms";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (url, _simulator) = match std::env::args().nth(1) {
        Some(url) => (url, None),
        None => {
            let simulator = DeribitSimulator::start().await?;
            println!("started a Deribit simulator at {}", simulator.url());
            (simulator.url(), Some(simulator))
        }
    };
    let config = DeribitConfig::default().environment(Environment::Custom(url.clone()));
    let deribit = match DeribitClient::connect(config).await {
        Ok(deribit) => deribit,
        Err(err) => {
            let explanation = err.explain();
            anyhow::bail!(
                "{}. {} ({})",
                explanation.message,
                explanation.suggestion,
                explanation.docs_url
            );
        }
    };
    println!("connected to {url}; subscribing {CHANNEL}");
    deribit.subscribe([CHANNEL]).await?;
    let mut shown = 0;
    while shown < 5 {
        let event = tokio::time::timeout(Duration::from_secs(10), deribit.recv()).await?;
        match event {
            Some(DeribitEvent::Notification(notification)) if notification.channel == CHANNEL => {
                let ticker = notification.ticker()?;
                println!(
                    "{} mark {:?} bid {:?} ask {:?}",
                    ticker.instrument_name,
                    ticker.mark_price,
                    ticker.best_bid_price,
                    ticker.best_ask_price
                );
                shown += 1;
            }
            Some(_) => {}
            None => anyhow::bail!("the connection ended"),
        }
    }
    deribit.close().await?;
    println!("closed");
    Ok(())
}
