//! Marks: waits and lists that only count what came after a point in the logs.

use std::time::Duration;

use zen_websocket_testing::{AssertionError, MockServer, ServerEvent};

use crate::support::{WAIT, connect, send_text};

const SHORT: Duration = Duration::from_millis(100);

fn texts(server: &MockServer, mark: zen_websocket_testing::Mark) -> Vec<String> {
    let received = server.received_since(mark);
    received.iter().map(|m| m.text().unwrap_or_default().to_owned()).collect()
}

#[tokio::test]
async fn a_frame_before_the_mark_is_not_matched_one_after_is() {
    let server = MockServer::start().await.expect("start");
    let mut ws = connect(&server).await;
    send_text(&mut ws, "subscribe").await;
    let first = server.assert_message_sent("subscribe", WAIT).await.expect("first");
    let mark = server.mark();

    let error = server.assert_message_sent_since(mark, "subscribe", SHORT).await.unwrap_err();
    let AssertionError::NoMatchingMessage { count, ref expected, .. } = error else {
        panic!("unexpected error {error:?}");
    };
    assert_eq!(count, 0, "only frames since the mark are listed");
    assert!(expected.contains("since the mark"), "{expected}");

    send_text(&mut ws, "subscribe").await;
    let again = server.assert_message_sent_since(mark, "subscribe", WAIT).await.expect("again");
    assert!(again.at >= first.at);
    assert_eq!(server.received_since(mark), [again]);
    // The markless assertion still finds the first one.
    assert_eq!(server.assert_message_sent("subscribe", WAIT).await.expect("first"), first);
}

#[tokio::test]
async fn marks_keep_their_place_across_clear_received() {
    let server = MockServer::start().await.expect("start");
    let mut ws = connect(&server).await;
    let origin = server.mark();
    send_text(&mut ws, "a").await;
    server.assert_message_sent("a", WAIT).await.expect("a");
    let after_a = server.mark();
    send_text(&mut ws, "b").await;
    server.assert_message_sent("b", WAIT).await.expect("b");
    assert_eq!(texts(&server, after_a), ["b"]);

    server.clear_received();
    assert!(server.received_since(origin).is_empty());
    assert!(server.received_since(after_a).is_empty());
    let after_clear = server.mark();
    assert_ne!(after_clear, after_a, "a mark counts cleared frames too");

    send_text(&mut ws, "c").await;
    server.assert_message_sent_since(after_a, "c", WAIT).await.expect("c after a");
    assert!(server.assert_message_sent_since(after_a, "b", SHORT).await.is_err(), "b was cleared");
    assert_eq!(texts(&server, origin), ["c"]);
    assert_eq!(texts(&server, after_clear), ["c"]);
    let after_c = server.mark();
    send_text(&mut ws, "d").await;
    server.assert_message_sent_since(after_c, "d", WAIT).await.expect("d");
    assert_eq!(texts(&server, after_c), ["d"]);
    assert_eq!(texts(&server, after_clear), ["c", "d"]);
}

#[tokio::test]
async fn event_waits_since_a_mark_ignore_earlier_events() {
    let server = MockServer::start().await.expect("start");
    let connected = |e: &ServerEvent| matches!(e, ServerEvent::Connected(_));
    let _first = connect(&server).await;
    let first = server.wait_for_event(connected, WAIT).await.expect("first");
    let mark = server.mark();
    assert!(server.wait_for_event_since(mark, connected, SHORT).await.is_err());

    server.clear_events();
    let _second = connect(&server).await;
    let second = server.wait_for_event_since(mark, connected, WAIT).await.expect("second");
    assert_ne!(second, first);
    assert_eq!(server.events_since(mark), [second]);
}
