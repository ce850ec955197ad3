//! Against the real Deribit testnet: ignored by default; run with network access (and, for the
//! private tests, `DERIBIT_CLIENT_ID` / `DERIBIT_CLIENT_SECRET` of a testnet key):
//! `cargo test -p zen-websocket-deribit -- --ignored`.

use std::time::Duration;

use zen_websocket_deribit::{Credentials, DeribitClient, DeribitConfig, DeribitEvent};

async fn within<F: std::future::Future>(future: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(30), future).await.expect("timed out waiting")
}

#[tokio::test]
#[ignore = "needs network access to test.deribit.com"]
async fn testnet_public_ticker() {
    let deribit = within(DeribitClient::connect(DeribitConfig::default())).await.unwrap();
    let ticker = within(deribit.ticker("BTC-PERPETUAL")).await.unwrap();
    assert_eq!(ticker.instrument_name, "BTC-PERPETUAL");
    deribit.subscribe(["ticker.BTC-PERPETUAL.100ms"]).await.unwrap();
    loop {
        if let DeribitEvent::Notification(notification) = within(deribit.recv()).await.unwrap() {
            assert!(notification.ticker().unwrap().mark_price.is_some());
            break;
        }
    }
    deribit.close().await.unwrap();
}

#[tokio::test]
#[ignore = "needs network access and DERIBIT_CLIENT_ID / DERIBIT_CLIENT_SECRET of a testnet key"]
async fn testnet_login_account_summary_and_open_orders() {
    let credentials = Credentials::from_env().expect("testnet credentials in the environment");
    let config = DeribitConfig::default().credentials(credentials).cancel_on_disconnect(true);
    let deribit = within(DeribitClient::connect(config)).await.unwrap();
    assert!(deribit.scope().is_some());
    let summary = within(deribit.account_summary("BTC")).await.unwrap();
    assert_eq!(summary.currency, "BTC");
    within(deribit.open_orders("BTC")).await.unwrap();
    deribit.close().await.unwrap();
}
