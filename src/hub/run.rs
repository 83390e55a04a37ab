//! The hub's life: open the hub journal, connect (clean session off, so the broker keeps the
//! hub's subscriptions and queues what arrives while it is away), and reconnect with the
//! uplink's backoff, until SIGTERM or SIGINT.
//!
//! Acknowledgements are manual: a received event is acknowledged (PUBACK) only after the
//! transaction holding its row committed, so a hub killed at any moment loses nothing the
//! broker still holds; what it receives again is a duplicate, dropped by `(box, box_event)`.

use super::inbox::{self, Rejected, Topic};
use super::ledger::BoxLedger;
use super::{HubError, Settings};
use crate::event::{EventKind, Value};
use crate::journal::{HubWriter, JournalItem, Origin};
use crate::uplink::describe::describe;
use crate::uplink::replay::Request;
use crate::uplink::run::{sleep_unless_stopped, Backoff};
use crate::uplink::session::drive;
use rumqttc::{AsyncClient, ConnectionError, Event, Packet, Publish, QoS};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How long received events wait for companions before their batch commits.
const BATCH_WAIT: Duration = Duration::from_millis(20);
/// At most this many events per transaction.
const BATCH_MAX: usize = 256;
/// Messages the broker may send before the hub acknowledges (`max_inflight_messages` on the
/// broker's side caps it too).
const INFLIGHT: u16 = 1000;
const CONNECT_TIMEOUT_S: u64 = 10;
/// How often the boxes' ledgers are looked at for holes (and silence).
const LOOK_EVERY: Duration = Duration::from_millis(500);

/// What the hub counted since it started; logged at stop.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub written: u64,
    pub duplicates: u64,
    pub rejected: u64,
    /// Replay requests sent.
    pub asked: u64,
    /// Transactions committed (each one fsync of the WAL, `synchronous=FULL`).
    pub commits: u64,
}

struct Hub<'a> {
    s: &'a Settings,
    stop: &'a AtomicBool,
    journal: HubWriter,
    counts: Counts,
    /// `(box, reason)` already logged: a bad message is logged once per box and reason.
    logged: BTreeSet<(String, &'static str)>,
    /// Received events not yet committed, with the messages to acknowledge after.
    batch: Vec<(Origin, JournalItem)>,
    unacked: Vec<Publish>,
    boxes: BTreeMap<String, BoxLedger>,
    looked_at: Instant,
}

/// Runs the hub until `stop` is set. Returns an error only for what retrying cannot fix.
pub fn run(s: &Settings, stop: &AtomicBool) -> Result<Counts, HubError> {
    let journal = HubWriter::open(&s.journal)?;
    log::info!(
        "hub: {} ← {} as {}, topics {}/+/…",
        journal.path().display(),
        s.connection.broker,
        s.client_id,
        s.topic_prefix
    );
    let mut hub = Hub {
        s,
        stop,
        journal,
        counts: Counts::default(),
        logged: BTreeSet::new(),
        batch: Vec::new(),
        unacked: Vec::new(),
        boxes: BTreeMap::new(),
        looked_at: Instant::now(),
    };
    hub.load_ledgers()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|cause| HubError::Runtime { cause })?;
    rt.block_on(hub.main())?;
    if let Err(e) = hub.journal.checkpoint() {
        log::warn!("hub: {e}");
    }
    let c = hub.counts;
    log::info!(
        "hub: stopped; {} events written, {} duplicates dropped, {} messages rejected, {} \
         replays asked for; {} commits",
        c.written,
        c.duplicates,
        c.rejected,
        c.asked,
        c.commits
    );
    Ok(c)
}

impl Hub<'_> {
    /// The ledgers from what the hub journal holds.
    fn load_ledgers(&mut self) -> Result<(), HubError> {
        let now = Instant::now();
        for (box_id, id, kind, detail) in self.journal.held()? {
            let b = self
                .boxes
                .entry(box_id)
                .or_insert_with(|| BoxLedger::new(now, 1));
            match id {
                Some(id) => note(b, id, &kind, detail.as_deref()),
                None => b.online = kind != EventKind::BoxOffline.as_str(),
            }
        }
        for b in self.boxes.values_mut() {
            b.floor = b.have.min().unwrap_or(1);
        }
        Ok(())
    }

    /// Asks each quiet box for its first hole.
    fn look(&mut self, client: &AsyncClient) {
        let now = Instant::now();
        if now.duration_since(self.looked_at) < LOOK_EVERY {
            return;
        }
        self.looked_at = now;
        let silent: Vec<String> = self
            .boxes
            .iter()
            .filter(|(_, b)| b.online && now.duration_since(b.last_heard) >= self.s.silence)
            .map(|(k, _)| k.clone())
            .collect();
        for box_id in silent {
            self.availability(&box_id, false, "silent");
        }
        for (box_id, b) in &mut self.boxes {
            let Some((from, to)) = b.to_ask(now) else {
                continue;
            };
            let topic = format!("{}/{box_id}/replay", self.s.topic_prefix);
            let payload = Request { from, to }.payload();
            match client.try_publish(topic, QoS::AtLeastOnce, false, payload) {
                Ok(()) => {
                    log::info!("hub: box {box_id} lacks events {from} to {to}; asked for them");
                    b.asked = Some(((from, to), now));
                    self.counts.asked += 1;
                }
                Err(e) => log::warn!("hub: cannot ask box {box_id} for {from} to {to}: {e}"),
            }
        }
    }

    async fn main(&mut self) -> Result<(), HubError> {
        let mut backoff = Backoff::default();
        let mut last_why: Option<String> = None;
        while !self.stop.load(Ordering::SeqCst) {
            match self.session().await? {
                None => break,
                Some((why, connected)) => {
                    if connected {
                        backoff = Backoff::default();
                        log::warn!(
                            "hub: connection to {} lost: {why}; reconnecting",
                            self.s.connection.broker
                        );
                    } else if last_why.as_ref() != Some(&why) {
                        log::error!(
                            "hub: cannot connect to {}: {why}; retrying",
                            self.s.connection.broker
                        );
                    }
                    last_why = Some(why);
                    if !sleep_unless_stopped(backoff.next_delay(), self.stop).await {
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    /// One connection; `None` when stopped, else why it ended and whether it was up.
    async fn session(&mut self) -> Result<Option<(String, bool)>, HubError> {
        let mut o = self
            .s
            .connection
            .mqtt_options(self.s.client_id.clone(), self.s.keepalive);
        o.set_clean_session(false);
        o.set_manual_acks(true);
        o.set_inflight(INFLIGHT);
        // Incoming: far above what a box sends, so that an oversized message arrives and is
        // rejected (counted, acknowledged) instead of breaking the connection, after which
        // the broker would send it again forever. The broker's `message_size_limit` caps it.
        o.set_max_packet_size(64 * 1024 * 1024, 64 * 1024);
        // Room for an acknowledgement of every message in flight.
        let (client, mut eventloop) = AsyncClient::new(o, usize::from(INFLIGHT) + 16);
        let mut net = eventloop.network_options();
        net.set_connection_timeout(CONNECT_TIMEOUT_S);
        eventloop.set_network_options(net);
        let (tx, mut rx) = mpsc::unbounded_channel();
        let driver = tokio::spawn(drive(eventloop, tx));
        let end = self.connection(&client, &mut rx).await;
        driver.abort();
        // Whatever was not committed is not acknowledged either: the broker sends it again.
        self.batch.clear();
        self.unacked.clear();
        end
    }

    async fn connection(
        &mut self,
        client: &AsyncClient,
        rx: &mut mpsc::UnboundedReceiver<Result<Event, ConnectionError>>,
    ) -> Result<Option<(String, bool)>, HubError> {
        let host = self.s.connection.broker.host.clone();
        let mut connected = false;
        let mut tick = tokio::time::interval(BATCH_WAIT);
        loop {
            tokio::select! {
                ev = rx.recv() => match ev {
                    Some(Ok(Event::Incoming(Packet::ConnAck(_)))) => {
                        connected = true;
                        log::info!("hub: connected to {}", self.s.connection.broker);
                        for leaf in ["events", "availability", "state"] {
                            let t = format!("{}/+/{leaf}", self.s.topic_prefix);
                            if let Err(e) = client.try_subscribe(t.clone(), QoS::AtLeastOnce) {
                                log::warn!("hub: cannot subscribe to {t}: {e}");
                            }
                        }
                    }
                    Some(Ok(Event::Incoming(Packet::Publish(p)))) => {
                        self.received(client, p)?;
                        if self.batch.len() >= BATCH_MAX {
                            self.commit(client)?;
                        }
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Ok(Some((describe(&e, &host, CONNECT_TIMEOUT_S), connected))),
                    None => return Ok(Some(("the client stopped".into(), connected))),
                },
                _ = tick.tick() => {
                    self.commit(client)?;
                    if connected {
                        self.look(client);
                    }
                    if self.stop.load(Ordering::SeqCst) {
                        let _ = client.try_disconnect();
                        return Ok(None);
                    }
                }
            }
        }
    }

    /// One message: an event joins the batch; anything else is acknowledged at once.
    fn received(&mut self, client: &AsyncClient, p: Publish) -> Result<(), HubError> {
        let topic = p.topic.clone();
        match inbox::topic(&self.s.topic_prefix, &topic) {
            Topic::Events(box_id) => match inbox::event(box_id, &p.payload) {
                Ok(row) => {
                    let now = Instant::now();
                    self.heard(box_id, now).last_event = now;
                    self.batch.push(row);
                    self.unacked.push(p);
                    return Ok(());
                }
                Err(why) => self.reject(box_id, &topic, &why),
            },
            Topic::State(box_id) => {
                let last_id = serde_json::from_slice::<serde_json::Value>(&p.payload)
                    .ok()
                    .and_then(|v| v.get("last_id").and_then(serde_json::Value::as_i64));
                let b = self.heard(box_id, Instant::now());
                if last_id.is_some() {
                    b.last_id = last_id;
                }
            }
            Topic::Availability(box_id) => {
                let online = &p.payload[..] == b"online";
                self.availability(box_id, online, "offline");
            }
            Topic::Other => {}
        }
        if !self.batch.is_empty() {
            // Acknowledgements go in the order the messages came.
            self.unacked.push(p);
        } else {
            ack(client, &p);
        }
        Ok(())
    }

    /// The box's ledger; a box first met now is looked at from id 1.
    fn ledger(&mut self, box_id: &str, now: Instant) -> &mut BoxLedger {
        self.boxes
            .entry(box_id.to_owned())
            .or_insert_with(|| BoxLedger::new(now, 1))
    }

    /// Notes that `box_id` was heard from now; a box that was offline is back.
    fn heard(&mut self, box_id: &str, now: Instant) -> &mut BoxLedger {
        if !self.ledger(box_id, now).online {
            self.availability(box_id, true, "");
        }
        let b = self.ledger(box_id, now);
        b.last_heard = now;
        b
    }

    /// Journals `box_offline` (with `why`) or `box_back` when the box's availability changes.
    fn availability(&mut self, box_id: &str, online: bool, why: &str) {
        let now = Instant::now();
        let b = self.ledger(box_id, now);
        if online {
            b.last_heard = now;
        }
        if b.online == online {
            return;
        }
        b.online = online;
        let mut ev = if online {
            log::info!("hub: box {box_id} is back");
            crate::event::Event::new(EventKind::BoxBack, crate::journal::time_now_ms(), 0, true)
        } else {
            log::warn!("hub: box {box_id} is {why}");
            crate::event::Event::new(
                EventKind::BoxOffline,
                crate::journal::time_now_ms(),
                0,
                true,
            )
            .with_detail(&[("why", Value::from(why))])
        };
        ev = ev.with_place(box_id);
        self.batch.push((
            Origin {
                box_id: box_id.to_owned(),
                box_event: None,
                detail: None,
            },
            JournalItem {
                event: ev,
                snapshot: None,
                urgent: true,
            },
        ));
    }

    fn reject(&mut self, box_id: &str, topic: &str, why: &Rejected) {
        self.counts.rejected += 1;
        if self.logged.insert((box_id.to_owned(), why.reason())) {
            log::warn!(
                "hub: rejected a message from box {box_id} on {topic} ({}): {why}; further \
                 ones like it from this box are counted, not logged",
                why.reason()
            );
        }
    }

    /// Commits the batch, then acknowledges its messages.
    fn commit(&mut self, client: &AsyncClient) -> Result<(), HubError> {
        if self.batch.is_empty() {
            for p in self.unacked.drain(..) {
                ack(client, &p);
            }
            return Ok(());
        }
        let done = self.journal.append(&self.batch)?;
        self.counts.commits += 1;
        let now = Instant::now();
        for (o, item) in std::mem::take(&mut self.batch) {
            if let Some(id) = o.box_event {
                let b = self
                    .boxes
                    .entry(o.box_id)
                    .or_insert_with(|| BoxLedger::new(now, 1));
                note(b, id, item.event.kind.as_str(), o.detail.as_deref());
            }
        }
        self.counts.written += done.written;
        self.counts.duplicates += done.duplicates;
        if done.duplicates > 0 {
            log::debug!("hub: dropped {} duplicates", done.duplicates);
        }
        self.batch.clear();
        for p in self.unacked.drain(..) {
            ack(client, &p);
        }
        Ok(())
    }
}

/// Notes box event `id` as held; an `uplink_gap` also notes the ids it says are gone.
fn note(b: &mut BoxLedger, id: i64, kind: &str, detail: Option<&str>) {
    b.have.add(id, id);
    if kind == "uplink_gap" {
        let range = detail
            .and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok())
            .and_then(|v| Some((v.get("from")?.as_i64()?, v.get("to")?.as_i64()?)));
        if let Some((from, to)) = range {
            b.have.add(from, to);
        }
    }
}

fn ack(client: &AsyncClient, p: &Publish) {
    if let Err(e) = client.try_ack(p) {
        log::warn!("hub: cannot acknowledge a message on {:?}: {e}", p.topic);
    }
}
