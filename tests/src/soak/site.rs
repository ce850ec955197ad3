//! The server process's side: one mock server (the ledger as its JSON-RPC handler), one fault
//! proxy in front of it, the notifier, and what each [`Command`] does to them.

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use tokio::{sync::watch, task::JoinHandle};
use zen_websocket::testing::{
    ConnectionId, DisconnectKind, Fault, FaultProxy, MockServer, ProxyConnectionId, Reply,
    ServerEvent,
};

use super::{
    ledger::Ledger,
    memory,
    notifier::{self, Pushed},
    protocol::{Answer, Command, Impairment, Stopped},
    tasks,
};

/// The server, the proxy, the ledger and the notifier, all on 127.0.0.1.
#[derive(Debug)]
pub(crate) struct Site {
    /// The mock server (shared with the notifier).
    server: Arc<MockServer>,
    /// The fault proxy every client dials.
    proxy: FaultProxy,
    /// What the server was asked to subscribe to, per connection.
    ledger: Arc<Ledger>,
    /// Stops the notifier.
    stop: watch::Sender<bool>,
    /// The notifier, once started.
    notifier: Option<JoinHandle<Pushed>>,
    /// Live tasks before anything started.
    tasks_at_start: usize,
}

impl Site {
    /// Starts the server and the proxy.
    ///
    /// # Errors
    ///
    /// When either cannot bind a port on 127.0.0.1.
    pub(crate) async fn start() -> anyhow::Result<Self> {
        let tasks_at_start = tasks::alive();
        let ledger = Arc::new(Ledger::default());
        let server = MockServer::builder()
            .rpc_handler(ledger.handler())
            .start()
            .await
            .context("starting the mock server")?;
        let proxy = FaultProxy::start(server.addr()).await.context("starting the fault proxy")?;
        let (stop, _) = watch::channel(false);
        let server = Arc::new(server);
        Ok(Self { server, proxy, ledger, stop, notifier: None, tasks_at_start })
    }

    /// The URL clients dial: the server's, through the proxy.
    pub(crate) fn url(&self) -> String {
        self.proxy.url_for(&self.server.url())
    }

    /// Carries out `command`.
    pub(crate) async fn execute(&mut self, command: Command) -> Answer {
        let (server, proxy) = (&self.server, &self.proxy);
        let mut answer = Answer::default();
        match command {
            Command::Notify => {
                let push = notifier::push(Arc::clone(server), self.stop.subscribe());
                self.notifier = Some(tokio::spawn(push));
            }
            Command::Reset { link: Some(link) } => {
                answer.count = usize::from(proxy.reset(ProxyConnectionId::new(link)).await);
            }
            Command::Reset { link: None } => answer.count = proxy.reset_all().await,
            Command::GoingAway { connection: Some(connection) } => {
                let close = Reply::Close { code: 1001, reason: "going away".to_owned() };
                let closed = server.inject_to(ConnectionId::new(connection), close).await;
                answer.count = usize::from(closed);
            }
            Command::GoingAway { connection: None } => {
                answer.count = server.simulate_disconnect(DisconnectKind::GoingAway).await;
            }
            Command::Impair { link, impairment, way } => {
                let fault = match impairment {
                    Impairment::Stall => Fault::stall(way.into()),
                    Impairment::Blackhole => Fault::blackhole(way.into()),
                };
                answer.links = self.impair(link, fault);
                answer.count = answer.links.len();
            }
            Command::Restart => {
                answer.count = server.connection_count();
                if let Err(err) = server.restart().await {
                    answer.error = Some(format!("the server could not restart: {err}"));
                }
            }
            Command::Refuse { link, millis } => answer.count = self.refuse(link, millis).await,
            Command::Uploads => answer.links = self.uploads(),
            Command::Channels { connection } => {
                answer.channels = self.ledger.channels(ConnectionId::new(connection));
            }
            Command::Forget => answer.count = self.forget(),
            Command::Stop => answer.stopped = Some(self.stop().await),
        }
        answer
    }

    /// Applies `fault` to one open link, or to every open one; the links it applied to.
    fn impair(&self, link: Option<u64>, fault: Fault) -> Vec<(u64, u64)> {
        let open = self.uploads();
        let chosen: Vec<(u64, u64)> =
            open.into_iter().filter(|(id, _)| link.is_none_or(|link| link == *id)).collect();
        chosen
            .into_iter()
            .filter(|(id, _)| self.proxy.apply(ProxyConnectionId::new(*id), fault))
            .collect()
    }

    /// Refuses upgrades with 429 while resetting `link` (or every link), for `millis`.
    async fn refuse(&self, link: Option<u64>, millis: u64) -> usize {
        self.server.reject_handshake(Some(429));
        let reset = match link {
            Some(link) => usize::from(self.proxy.reset(ProxyConnectionId::new(link)).await),
            None => self.proxy.reset_all().await,
        };
        if reset > 0 {
            tokio::time::sleep(Duration::from_millis(millis)).await;
        }
        self.server.reject_handshake(None);
        reset
    }

    /// Every open proxy connection and the bytes its client sent so far.
    fn uploads(&self) -> Vec<(u64, u64)> {
        let open = self.proxy.connections().into_iter().filter(|link| link.open);
        open.map(|link| (link.id.get(), link.client_to_server.forwarded)).collect()
    }

    /// Clears the server's logs and the ledger's closed connections; the upgrades refused with
    /// 429 since the last time.
    fn forget(&self) -> usize {
        let events = self.server.events();
        let refused = |event: &&ServerEvent| matches!(event, ServerEvent::HandshakeRejected { .. });
        let refusals = events.iter().filter(refused).count();
        self.server.clear_received();
        self.server.clear_events();
        self.ledger.retain(&self.server.open_connection_ids());
        refusals
    }

    /// Stops the notifier, the proxy and the server; the figures of the server process.
    async fn stop(&mut self) -> Stopped {
        let _ = self.stop.send(true);
        let pushed = match self.notifier.take() {
            // An injection waits at most ten seconds for the connections to send it.
            Some(notifier) => tokio::time::timeout(Duration::from_secs(12), notifier)
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or_default(),
            None => Pushed::default(),
        };
        let rss_bytes = memory::resident_pages().unwrap_or(0) * memory::page_size();
        self.proxy.stop().await;
        self.server.stop().await;
        let tasks_at_end = tasks::settle_to(self.tasks_at_start, Duration::from_secs(5)).await;
        Stopped {
            numbered: pushed.numbered,
            deliveries: pushed.deliveries,
            tasks_at_start: self.tasks_at_start,
            tasks_at_end,
            rss_bytes,
        }
    }
}
