//! Per-connection observation: the open connection ids and the frames of one connection.

use zen_websocket_testing::MockServer;

use crate::support::{WAIT, connect, send_text};

#[tokio::test]
async fn open_ids_and_frames_per_connection() {
    let server = MockServer::start().await.expect("start");
    assert!(server.open_connection_ids().is_empty());
    let mut a = connect(&server).await;
    send_text(&mut a, "1").await;
    let a_id = server.assert_message_sent("1", WAIT).await.expect("1").connection;
    let mut b = connect(&server).await;
    send_text(&mut b, "2").await;
    let b_id = server.assert_message_sent("2", WAIT).await.expect("2").connection;
    send_text(&mut a, "3").await;
    server.assert_message_sent("3", WAIT).await.expect("3");

    assert_eq!(server.open_connection_ids(), [a_id, b_id]);
    let texts = |id| -> Vec<String> {
        let frames = server.received_by(id);
        frames.iter().map(|m| m.text().unwrap_or_default().to_owned()).collect()
    };
    assert_eq!(texts(a_id), ["1", "3"]);
    assert_eq!(texts(b_id), ["2"]);

    drop(a);
    server.wait_for_connection_count(1, WAIT).await.expect("a left");
    assert_eq!(server.open_connection_ids(), [b_id]);
    assert_eq!(texts(a_id), ["1", "3"], "frames outlive their connection");
    server.clear_received();
    assert!(server.received_by(b_id).is_empty());
}
