//! One connection to the broker, from CONNECT to its end: announce the box, publish the journal's
//! events as the in-flight window allows, pair acknowledgements with events, move the cursor.
//!
//! rumqttc's event loop runs in its own task and forwards every event through a channel, so
//! it is never cancelled mid-write (its `poll` is not cancel-safe); this task waits on that
//! channel and on a 50 ms tick that polls the journal. Each connection gets a fresh event
//! loop with a clean session: whatever was in flight is read from the journal and sent again.

use super::message::event_message;
use super::outbox::{Opened, Outbox};
use super::window::Window;
use super::{Cursor, Settings, UplinkError};
use crate::event::EventKind;
use crate::journal::JournalError;
use rumqttc::{AsyncClient, ConnectionError, Event, EventLoop, LastWill, Outgoing, Packet, QoS};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How often the journal is polled (and the stop flag read) while connected.
const TICK: Duration = Duration::from_millis(50);
/// The cursor is written at most this often while events flow (and at every stop).
const CURSOR_EVERY: Duration = Duration::from_secs(1);
/// How long a stop waits for outstanding acknowledgements before disconnecting.
const GOODBYE: Duration = Duration::from_secs(2);
/// The broker's answer to TCP and CONNECT must come within this.
const CONNECT_TIMEOUT_S: u64 = 10;

/// How a connection ended.
pub(super) enum End {
    /// SIGTERM or SIGINT: the box said `offline` and disconnected.
    Stopped,
    /// The network or the broker ended it; `connected` is how long it was up, if it was.
    Lost {
        why: String,
        connected: Option<Duration>,
    },
    /// Something that retrying cannot fix (the journal is no longer a picket journal).
    Fatal(UplinkError),
}

/// What outlives connections: the journal, the window, the cursor. Owned by `run`, lent to
/// each session in turn.
pub(super) struct Link<'a> {
    pub s: &'a Settings,
    pub stop: &'a AtomicBool,
    pub outbox: Outbox,
    pub window: Window,
    /// The cursor as last stored.
    pub cursor: Cursor,
    pub stored_at: Instant,
    /// Logged once until it changes: a failing cursor write, a failing journal read.
    pub cursor_trouble: Option<String>,
    pub journal_trouble: Option<String>,
    /// More events may be waiting beyond the last read.
    pub more: bool,
    pub checked_file_at: Instant,
    /// Home Assistant said `online`: send discovery again at this time.
    pub rediscover_at: Option<Instant>,
    /// The state topic's last message.
    pub state: super::state::StateMemo,
    /// What the hub asked to have again and is not sent yet.
    pub replay: Option<super::replay::Request>,
}

impl Link<'_> {
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Connects once and runs the connection until it ends.
    pub async fn session(&mut self, attempt: u64) -> End {
        let (client, eventloop) = connect(self.s);
        log::debug!(
            "uplink: connecting to {} (attempt {attempt})",
            self.s.connection.broker
        );
        let (tx, mut rx) = mpsc::unbounded_channel();
        let driver = tokio::spawn(drive(eventloop, tx));
        let end = self.run_connection(&client, &mut rx).await;
        driver.abort();
        end
    }

    async fn run_connection(
        &mut self,
        client: &AsyncClient,
        rx: &mut mpsc::UnboundedReceiver<Result<Event, ConnectionError>>,
    ) -> End {
        // CONNECT and CONNACK, watching the stop flag meanwhile.
        loop {
            tokio::select! {
                ev = rx.recv() => match ev {
                    Some(Ok(Event::Incoming(Packet::ConnAck(_)))) => break,
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return lost(&e, &self.s.connection.broker.host, None),
                    None => return End::Lost { why: "the client stopped".into(), connected: None },
                },
                _ = tokio::time::sleep(TICK) => if self.stopping() { return End::Stopped },
            }
        }
        let up = Instant::now();
        log::info!(
            "uplink: connected to {} as picket-{}",
            self.s.connection.broker,
            self.s.box_id
        );
        self.window.reset();
        self.more = true;
        self.announce(client);
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                ev = rx.recv() => match ev {
                    Some(Ok(ev)) => {
                        self.on_event(ev);
                        // Catching up: refill the window as the acks come, not per tick.
                        if self.more && self.window.in_flight() <= self.s.inflight / 2 {
                            if let Err(e) = self.pump(client) {
                                return End::Fatal(e);
                            }
                        }
                    }
                    Some(Err(e)) => {
                        self.store_cursor(true);
                        return lost(&e, &self.s.connection.broker.host, Some(up.elapsed()));
                    }
                    None => return End::Lost {
                        why: "the client stopped".into(),
                        connected: Some(up.elapsed()),
                    },
                },
                _ = tick.tick() => {
                    if self.stopping() {
                        self.goodbye(client, rx).await;
                        return End::Stopped;
                    }
                    if let Err(e) = self.pump(client) {
                        return End::Fatal(e);
                    }
                    self.pump_replay(client);
                    self.store_cursor(false);
                    self.tick_state(client);
                    if self.rediscover_at.is_some_and(|t| Instant::now() >= t) {
                        self.rediscover_at = None;
                        self.send_discovery(client);
                    }
                }
            }
        }
    }

    /// `online` (retained), the command subscription, then Home Assistant's status
    /// subscription and discovery configs; the state follows at the next tick.
    fn announce(&mut self, client: &AsyncClient) {
        self.publish(
            client,
            &self.s.topic("availability"),
            true,
            b"online".to_vec(),
        );
        self.subscribe_commands(client);
        let replay = self.s.topic("replay");
        if let Err(e) = client.try_subscribe(replay.clone(), QoS::AtLeastOnce) {
            log::warn!("uplink: cannot subscribe to {replay}: {e}");
        }
        self.state.republish();
        if let Some((status, _)) = &self.s.homeassistant {
            if let Err(e) = client.try_subscribe(status.clone(), QoS::AtLeastOnce) {
                log::warn!("uplink: cannot subscribe to {status}: {e}");
            }
            self.send_discovery(client);
        }
    }

    fn send_discovery(&mut self, client: &AsyncClient) {
        let Some((_, messages)) = &self.s.homeassistant else {
            return;
        };
        for m in messages {
            self.publish(client, &m.topic, true, m.payload());
        }
        log::debug!("uplink: sent {} discovery configs", messages.len());
    }

    /// Publishes a message that is not a journal event (QoS 1), keeping the window in step.
    pub(super) fn publish(
        &mut self,
        client: &AsyncClient,
        topic: &str,
        retain: bool,
        payload: Vec<u8>,
    ) {
        match client.try_publish(topic, QoS::AtLeastOnce, retain, payload) {
            Ok(()) => self.window.sent(None),
            Err(e) => log::warn!("uplink: cannot queue a message to {topic}: {e}"),
        }
    }

    fn on_event(&mut self, ev: Event) {
        match ev {
            Event::Incoming(Packet::Publish(p)) if self.is_replay(&p.topic) => {
                self.replay_request(&p.payload);
            }
            Event::Outgoing(Outgoing::Publish(pkid)) => self.window.assigned(pkid),
            Event::Incoming(Packet::PubAck(ack)) => {
                self.window.acked(ack.pkid);
            }
            Event::Incoming(Packet::Publish(p)) if self.is_command(&p.topic) => {
                self.command(&p.payload, p.retain);
            }
            Event::Incoming(Packet::Publish(p)) => {
                let birth = self
                    .s
                    .homeassistant
                    .as_ref()
                    .is_some_and(|(status, _)| p.topic == *status && p.payload == "online");
                if birth {
                    // Spread the boxes of a house over a second, as Home Assistant asks.
                    let jitter = self.s.box_id.bytes().map(u64::from).sum::<u64>() % 1000;
                    self.rediscover_at = Some(Instant::now() + Duration::from_millis(jitter));
                    log::info!("uplink: Home Assistant is online; sending discovery again");
                }
            }
            Event::Incoming(Packet::SubAck(ack))
                if ack
                    .return_codes
                    .iter()
                    .any(|c| matches!(c, rumqttc::SubscribeReasonCode::Failure)) =>
            {
                log::warn!(
                    "uplink: the broker refused a subscription (ACL?): to Home Assistant's \
                     status topic, discovery is sent only at connect; to the command topic, \
                     no command arrives"
                );
            }
            _ => {}
        }
    }

    /// Reads new events while the window has room and publishes them.
    fn pump(&mut self, client: &AsyncClient) -> Result<(), UplinkError> {
        if self.checked_file_at.elapsed() >= Duration::from_secs(2) {
            self.checked_file_at = Instant::now();
            self.follow_replaced_journal()?;
        }
        let room = self.s.inflight.saturating_sub(self.window.in_flight());
        if room == 0 {
            return Ok(());
        }
        let read = self.outbox.changed().and_then(|changed| {
            if changed || self.more {
                self.outbox.read_after(self.window.last_sent(), room)
            } else {
                Ok(Vec::new())
            }
        });
        let events = match read {
            Ok(v) => {
                if let Some(was) = self.journal_trouble.take() {
                    log::info!("uplink: journal readable again (after: {was})");
                }
                v
            }
            Err(e @ (JournalError::Unusable { .. } | JournalError::NewerSchema { .. })) => {
                return Err(e.into())
            }
            Err(e) => {
                let why = e.to_string();
                if self.journal_trouble.as_ref() != Some(&why) {
                    log::warn!("uplink: {why}; retrying");
                    self.journal_trouble = Some(why);
                }
                return Ok(());
            }
        };
        self.more = events.len() == room;
        if let Some((first, _)) = events.first() {
            let expected = self.window.last_sent() + 1;
            if first.id > expected {
                log::warn!(
                    "uplink: journal events {expected} to {} were pruned before they were sent",
                    first.id - 1
                );
            }
        }
        let events_topic = self.s.topic("events");
        for (ev, jpeg) in events {
            let m = event_message(&self.s.box_id, &ev, jpeg.as_deref());
            if m.snapshot_dropped {
                log::warn!(
                    "uplink: event {}: its snapshot ({} bytes) makes the message larger than \
                     256 KiB; sent without it",
                    ev.id,
                    jpeg.as_ref().map_or(0, Vec::len)
                );
            }
            if let Err(e) =
                client.try_publish(events_topic.as_str(), QoS::AtLeastOnce, false, m.payload)
            {
                log::warn!("uplink: cannot queue event {}: {e}", ev.id);
                self.more = true;
                break;
            }
            self.window.sent(Some(ev.id));
            let rule = EventKind::parse(&ev.kind).is_some_and(EventKind::is_rule);
            if let (Some(jpeg), true) = (jpeg, rule) {
                self.publish(client, &self.s.topic("snapshot"), true, jpeg);
            }
        }
        Ok(())
    }

    /// When `[journal] path` names a new journal (the old one was moved aside), switch to it and
    /// publish it from its first event.
    fn follow_replaced_journal(&mut self) -> Result<(), UplinkError> {
        if !self.outbox.replaced() {
            return Ok(());
        }
        let Opened::Ready(new) = Outbox::open(&self.s.journal, self.s.snapshots)? else {
            return Ok(());
        };
        let created = new.created_ms()?;
        if created == self.cursor.journal_created_ms {
            self.outbox = new;
            return Ok(());
        }
        log::warn!(
            "uplink: journal {} is a new journal; publishing it from its first event",
            self.s.journal.display()
        );
        self.outbox = new;
        self.window.restart_at(0);
        self.cursor = Cursor::start(created);
        self.stored_at = Instant::now() - CURSOR_EVERY;
        self.store_cursor(true);
        self.more = true;
        Ok(())
    }

    /// Writes the cursor when the frontier moved, at most every [`CURSOR_EVERY`] unless `now`.
    pub fn store_cursor(&mut self, now: bool) {
        let frontier = self.window.frontier();
        let moved = frontier != self.cursor.acked_through;
        if !moved || (!now && self.stored_at.elapsed() < CURSOR_EVERY) {
            return;
        }
        let next = Cursor {
            acked_through: frontier,
            updated_ms: crate::journal::time_now_ms(),
            ..self.cursor
        };
        self.stored_at = Instant::now();
        match next.store(&self.s.state_file) {
            Ok(()) => {
                self.cursor = next;
                if self.cursor_trouble.take().is_some() {
                    log::info!("uplink: cursor written again");
                }
            }
            Err(e) => {
                let why = e.to_string();
                if self.cursor_trouble.as_ref() != Some(&why) {
                    log::warn!("uplink: {why}; events will be sent again after a restart");
                    self.cursor_trouble = Some(why);
                }
            }
        }
    }

    /// On stop: say `offline`, wait briefly for outstanding acknowledgements, store the
    /// cursor, disconnect.
    async fn goodbye(
        &mut self,
        client: &AsyncClient,
        rx: &mut mpsc::UnboundedReceiver<Result<Event, ConnectionError>>,
    ) {
        self.publish(
            client,
            &self.s.topic("availability"),
            true,
            b"offline".to_vec(),
        );
        let deadline = tokio::time::Instant::now() + GOODBYE;
        while !self.window.idle() {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(Ok(ev))) => self.on_event(ev),
                _ => break,
            }
        }
        self.store_cursor(true);
        let _ = client.try_disconnect();
        let _ = tokio::time::timeout(Duration::from_millis(500), async {
            while let Some(Ok(ev)) = rx.recv().await {
                if ev == Event::Outgoing(Outgoing::Disconnect) {
                    break;
                }
            }
        })
        .await;
    }
}

/// A fresh client and event loop for `s`: clean session, the last will, TLS when asked.
fn connect(s: &Settings) -> (AsyncClient, EventLoop) {
    let mut o = s
        .connection
        .mqtt_options(format!("picket-{}", s.box_id), s.keepalive);
    o.set_clean_session(true);
    o.set_last_will(LastWill::new(
        s.topic("availability"),
        "offline",
        QoS::AtLeastOnce,
        true,
    ));
    // Outgoing: an event message with its topic and header; incoming: Home Assistant's status.
    o.set_max_packet_size(64 * 1024, super::message::MAX_MESSAGE + 4096);
    // Besides events: their snapshots, availability and the discovery configs (sent twice at
    // most when Home Assistant restarts right after a connect).
    // And the state, at most one per tick.
    let others = 2 * s.homeassistant.as_ref().map_or(0, |(_, m)| m.len()) + 6;
    let cap = 2 * s.inflight + others;
    o.set_inflight(u16::try_from(cap).unwrap_or(u16::MAX));
    let (client, mut eventloop) = AsyncClient::new(o, cap);
    let mut net = eventloop.network_options();
    net.set_connection_timeout(CONNECT_TIMEOUT_S);
    eventloop.set_network_options(net);
    (client, eventloop)
}

/// Polls the event loop until it fails, forwarding everything (the hub's connection too).
pub(crate) async fn drive(
    mut eventloop: EventLoop,
    tx: mpsc::UnboundedSender<Result<Event, ConnectionError>>,
) {
    loop {
        let ev = eventloop.poll().await;
        let failed = ev.is_err();
        if tx.send(ev).is_err() || failed {
            break;
        }
    }
}

fn lost(e: &ConnectionError, host: &str, connected: Option<Duration>) -> End {
    End::Lost {
        why: super::describe::describe(e, host, CONNECT_TIMEOUT_S),
        connected,
    }
}
