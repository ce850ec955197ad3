//! JSON-RPC: the default answers and custom rpc handlers.

use std::time::Duration;

use serde_json::json;
use zen_websocket_testing::{MockServer, RpcReply};

use crate::support::{connect, next_json, send_text};

#[tokio::test]
async fn default_rpc_answers() {
    let server = MockServer::start().await.expect("start");
    let mut ws = connect(&server).await;
    let subscribe = r#"{"jsonrpc":"2.0","id":1,"method":"public/subscribe","params":{"channels":["book.BTC","trades.BTC"]}}"#;
    send_text(&mut ws, subscribe).await;
    assert_eq!(
        next_json(&mut ws).await,
        json!({"jsonrpc":"2.0","id":1,"result":["book.BTC","trades.BTC"]})
    );
    send_text(&mut ws, r#"{"jsonrpc":"2.0","id":2,"method":"private/unsubscribe"}"#).await;
    assert_eq!(next_json(&mut ws).await, json!({"jsonrpc":"2.0","id":2,"result":[]}));
    send_text(&mut ws, r#"{"jsonrpc":"2.0","id":"abc","method":"public/test"}"#).await;
    assert_eq!(
        next_json(&mut ws).await,
        json!({"jsonrpc":"2.0","id":"abc","result":{"version":"1.2.26"}})
    );
    send_text(&mut ws, r#"{"jsonrpc":"2.0","id":4,"method":"public/whatever","params":{"n":4}}"#)
        .await;
    assert_eq!(next_json(&mut ws).await, json!({"jsonrpc":"2.0","id":4,"result":{"n":4}}));
}

#[tokio::test]
async fn custom_results_errors_and_silence() {
    let server = MockServer::builder()
        .rpc_handler(|request| match request.method.as_str() {
            "public/get_time" => RpcReply::Result(json!(42)),
            "private/buy" => RpcReply::Error {
                code: 13009,
                message: "unauthorized".into(),
                data: Some(json!({"reason": "no token"})),
            },
            "public/black_hole" => RpcReply::None,
            _ => RpcReply::Default,
        })
        .start()
        .await
        .expect("start");
    let mut ws = connect(&server).await;
    send_text(&mut ws, r#"{"jsonrpc":"2.0","id":1,"method":"public/black_hole"}"#).await;
    send_text(&mut ws, r#"{"jsonrpc":"2.0","id":2,"method":"public/get_time"}"#).await;
    assert_eq!(next_json(&mut ws).await, json!({"jsonrpc":"2.0","id":2,"result":42}));
    send_text(&mut ws, r#"{"jsonrpc":"2.0","id":3,"method":"private/buy"}"#).await;
    assert_eq!(
        next_json(&mut ws).await,
        json!({"jsonrpc":"2.0","id":3,"error":{"code":13009,"message":"unauthorized","data":{"reason":"no token"}}})
    );
}

#[tokio::test]
async fn delayed_answers_arrive_out_of_order() {
    let server = MockServer::builder()
        .rpc_handler(|request| match request.method.as_str() {
            "slow" => RpcReply::delayed(Duration::from_millis(200), RpcReply::Default),
            _ => RpcReply::Default,
        })
        .start()
        .await
        .expect("start");
    let mut ws = connect(&server).await;
    send_text(&mut ws, r#"{"id":1,"method":"slow","params":{"who":"slow"}}"#).await;
    send_text(&mut ws, r#"{"id":2,"method":"fast","params":{"who":"fast"}}"#).await;
    let first = next_json(&mut ws).await;
    let second = next_json(&mut ws).await;
    assert_eq!((first["id"].clone(), first["result"]["who"].clone()), (json!(2), json!("fast")));
    assert_eq!((second["id"].clone(), second["result"]["who"].clone()), (json!(1), json!("slow")));
}

#[tokio::test]
async fn set_rpc_handler_applies_to_open_connections() {
    let server = MockServer::start().await.expect("start");
    let mut ws = connect(&server).await;
    server.set_rpc_handler(|request| RpcReply::error(-32601, format!("no {}", request.method)));
    send_text(&mut ws, r#"{"id":9,"method":"m"}"#).await;
    assert_eq!(
        next_json(&mut ws).await,
        json!({"jsonrpc":"2.0","id":9,"error":{"code":-32601,"message":"no m"}})
    );
}

#[tokio::test]
async fn concurrent_callers_get_their_own_answers() {
    let server = MockServer::start().await.expect("start");
    let mut a = connect(&server).await;
    let mut b = connect(&server).await;
    send_text(&mut a, r#"{"id":1,"method":"echo","params":{"caller":"a"}}"#).await;
    send_text(&mut b, r#"{"id":1,"method":"echo","params":{"caller":"b"}}"#).await;
    assert_eq!(next_json(&mut a).await["result"], json!({"caller":"a"}));
    assert_eq!(next_json(&mut b).await["result"], json!({"caller":"b"}));
}
