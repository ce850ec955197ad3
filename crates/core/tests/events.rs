//! `Client::events`: batches in order, a stream that ends with the connection, nothing lost when
//! a reader goes away, and readers sharing one inbox.

mod support;

use futures_util::StreamExt;
use support::{connect_with, next_message, within};
use zen_websocket_core::Event;
use zen_websocket_testing::{MockServer, Reply};

fn texts(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|event| match event {
            Event::Message(message) => message.as_text().map(str::to_owned),
            _ => None,
        })
        .collect()
}

async fn push(server: &MockServer, count: usize) {
    let replies = (0..count).map(|n| Reply::Text(format!("{n:04}"))).collect();
    within(server.inject(Reply::Many(replies))).await;
}

#[tokio::test]
async fn recv_many_takes_what_arrived_in_order_and_the_stream_ends_with_the_connection() {
    let server = MockServer::start().await.unwrap();
    let client = connect_with(&server, |config| config).await;
    within(server.wait_for_connections(1, support::WAIT)).await.unwrap();
    let mut events = client.events();
    push(&server, 500).await;
    let mut batch = Vec::new();
    let mut calls = 0;
    while batch.len() < 500 {
        let read = within(events.recv_many(&mut batch, 1000)).await;
        assert!(read > 0);
        calls += 1;
    }
    let expected: Vec<String> = (0..500).map(|n| format!("{n:04}")).collect();
    assert_eq!(texts(&batch), expected);
    assert!(calls < 500, "batches, not one call per message ({calls} calls)");
    assert_eq!(client.get_state_metrics().inbox_len, 0, "the charge went back");

    within(client.close()).await.unwrap();
    let rest: Vec<Event> = within(events.by_ref().collect()).await;
    assert!(matches!(rest.last(), Some(Event::Disconnected { .. })), "{rest:?}");
    assert!(within(events.next()).await.is_none(), "the stream stays ended");
}

#[tokio::test]
async fn a_reader_dropped_with_events_in_hand_gives_them_back_in_order() {
    let server = MockServer::start().await.unwrap();
    let client = connect_with(&server, |config| config).await;
    within(server.wait_for_connections(1, support::WAIT)).await.unwrap();
    push(&server, 100).await;
    let mut events = client.events();
    // `recv` takes a batch from the inbox and hands out one event.
    let first = within(events.recv()).await.unwrap();
    assert!(matches!(&first, Event::Message(m) if m.as_text() == Some("0000")));
    drop(events);
    for n in 1..100 {
        assert_eq!(next_message(&client).await.as_text(), Some(format!("{n:04}").as_str()));
    }
}

#[tokio::test]
async fn readers_share_the_inbox_and_each_event_reaches_one() {
    let server = MockServer::start().await.unwrap();
    let client = connect_with(&server, |config| config).await;
    within(server.wait_for_connections(1, support::WAIT)).await.unwrap();
    push(&server, 300).await;
    let mut events = client.events();
    let (mut seen, mut by_events) = (Vec::new(), 0);
    // Each reader takes batches of its own: read from whichever has something.
    while seen.len() < 300 {
        let event = within(async {
            tokio::select! {
                event = events.recv() => { by_events += 1; event }
                event = client.recv() => event,
            }
        })
        .await;
        seen.push(event.unwrap());
    }
    assert!(by_events > 0);
    let mut got = texts(&seen);
    got.sort();
    let expected: Vec<String> = (0..300).map(|n| format!("{n:04}")).collect();
    assert_eq!(got, expected, "no event twice, none missing");
}

#[tokio::test]
async fn with_a_message_handler_the_stream_ends_at_once() {
    let server = MockServer::start().await.unwrap();
    let client = connect_with(&server, |config| config.message_handler(|_| {})).await;
    let mut events = client.events();
    assert!(within(events.next()).await.is_none());
    let mut batch = Vec::new();
    assert_eq!(within(events.recv_many(&mut batch, 10)).await, 0);
}
