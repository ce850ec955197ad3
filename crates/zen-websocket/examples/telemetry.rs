//! Wiring the client's telemetry: metrics rendered by Prometheus' exporter, traces printed by
//! a `tracing` subscriber.
//!
//! Run with: `cargo run --example telemetry`

use std::time::Duration;

use metrics_exporter_prometheus::PrometheusBuilder;
use serde_json::json;
use zen_websocket::{Client, Config, HeartbeatConfig};
use zen_websocket_testing::MockServer;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Traces: connection lifecycle at INFO, every frame at DEBUG when `Config::debug` is on.
    tracing_subscriber::fmt().with_max_level(tracing_subscriber::filter::LevelFilter::INFO).init();
    // Metrics: install the recorder BEFORE connecting; each connection registers its handles once.
    let prometheus = PrometheusBuilder::new().install_recorder()?;

    let server = MockServer::start().await?;
    let heartbeat = HeartbeatConfig::ping().interval(Duration::from_millis(100));
    let client = Client::connect(&server.url(), Config::default().heartbeat(heartbeat)).await?;

    client.send_message("hello").await?;
    let _echo = client.recv().await;
    client.request("public/test", json!({})).await?;
    let subscription = client.subscribe(["deribit_price_index.btc_usd"]).await?;
    client.unsubscribe(subscription).await?;
    tokio::time::sleep(Duration::from_millis(250)).await; // let a few heartbeats go by

    println!("monitors: {:?}", client.get_state_metrics());
    println!("latency:  {:?}", client.get_latency_stats());
    println!("heartbeat: {:?}", client.get_heartbeat_health());
    client.close().await?;

    println!("\n# Prometheus exposition\n{}", prometheus.render());
    Ok(())
}
