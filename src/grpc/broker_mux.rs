//! The multiplexed broker (go-plugin ≥ v1.6, PROTOCOL.md §4.7): every gRPC connection between the
//! two processes is a yamux stream of one session, and the broker stream carries *knocks* instead
//! of addresses.
//!
//! ```text
//! dialing side                                  accepting side (accept_and_serve(id) earlier)
//! ConnInfo{id, knock{knock}}          ──────>   "open the door": the next stream is id's
//!                                     <──────   ConnInfo{id, knock{knock, ack, error: ""}}
//! open a yamux stream, gRPC (TLS) in it ─────>  routed to id's server
//! ```
//!
//! There is no tag inside a stream: routing relies on knock → ack → open being strictly
//! sequential, so a side dials one id at a time. Streams that arrive with no open door are the
//! main gRPC connection (plugin side) or unexpected (host side, dropped).
//!
//! A door must never outlive its dial, or every later stream would be routed one id off. Two
//! rules close it:
//! * the dialing side, when its wait for the ack times out, keeps the dial slot until the late
//!   ack arrives (at most another 5 s) and then opens and drops one stream: the door
//!   it opened is used up, in order, before any later dial opens its stream;
//! * the accepting side closes a door that no stream came through within 7 s (a
//!   dialer gives up 5 s after knocking), for dialers that do not follow the first
//!   rule (go-plugin's own). A stream arriving after that goes where a stream without a door goes.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::error::Error;
use crate::lock::lock;
use crate::mux::{Control, StreamHandle};
use crate::proto::plugin::conn_info::Knock;
use crate::proto::plugin::ConnInfo;

/// How long a dial waits for the knock's acknowledgement (go-plugin: 5 s).
const ACK_TIMEOUT: Duration = Duration::from_secs(5);

/// How long an open door waits for its stream: the dialer's ack timeout and a margin for the
/// stream to cross the session.
const DOOR_TIMEOUT: Duration = Duration::from_secs(7);

/// The most doors open at once (the other side knocks faster than it opens streams otherwise).
const MAX_OPEN_DOORS: usize = 64;

/// The multiplexed state of one side's broker.
pub struct Multiplex {
    control: Control,
    /// Doors opened by knocks, oldest first, with when they opened.
    doors: Mutex<VecDeque<(u32, Instant)>>,
    listeners: Mutex<HashMap<u32, mpsc::Sender<StreamHandle>>>,
    acks: Arc<Mutex<HashMap<u32, oneshot::Sender<Knock>>>>,
    dialing: Arc<tokio::sync::Mutex<()>>,
}

impl std::fmt::Debug for Multiplex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Multiplex")
            .field("doors", &self.doors)
            .finish_non_exhaustive()
    }
}

impl Multiplex {
    /// Takes over the streams the peer opens: each goes to the id whose door is open, else to
    /// `main` (the plugin's main gRPC server), else it is dropped.
    pub fn start(
        control: Control,
        mut streams: mpsc::UnboundedReceiver<StreamHandle>,
        main: Option<mpsc::Sender<StreamHandle>>,
    ) -> Arc<Multiplex> {
        let mux = Arc::new(Multiplex {
            control,
            doors: Mutex::new(VecDeque::new()),
            listeners: Mutex::new(HashMap::new()),
            acks: Arc::new(Mutex::new(HashMap::new())),
            dialing: Arc::new(tokio::sync::Mutex::new(())),
        });
        let router = Arc::downgrade(&mux);
        tokio::spawn(async move {
            while let Some(stream) = streams.recv().await {
                let Some(mux) = router.upgrade() else { return };
                let door = mux.next_door();
                let target = match door {
                    Some(id) => lock(&mux.listeners).get(&id).cloned(),
                    None => main.clone(),
                };
                match target {
                    Some(target) => {
                        let _ = target.send(stream).await;
                    }
                    None => {
                        tracing::warn!(target: "go_plugin", door, "yamux stream with no listener; dropped")
                    }
                }
            }
        });
        mux
    }

    /// The id the arriving stream belongs to: the oldest door still open.
    fn next_door(&self) -> Option<u32> {
        let mut doors = lock(&self.doors);
        while let Some((id, opened)) = doors.pop_front() {
            if opened.elapsed() < DOOR_TIMEOUT {
                return Some(id);
            }
            tracing::warn!(target: "go_plugin", id, "a knock's door closed: no stream came within {DOOR_TIMEOUT:?}");
        }
        None
    }

    /// Registers a brokered server under `id`: the streams routed to it.
    pub fn listen(&self, id: u32) -> mpsc::Receiver<StreamHandle> {
        let (tx, rx) = mpsc::channel(4);
        lock(&self.listeners).insert(id, tx);
        rx
    }

    /// Answers the other side's knock on `id`: opens the door (before the ack leaves, so the
    /// stream that follows is routed to `id`) and acknowledges, with an error when nothing listens.
    pub fn on_knock(&self, id: u32, outgoing: &mpsc::UnboundedSender<ConnInfo>) {
        let error = if lock(&self.listeners).contains_key(&id) {
            let mut doors = lock(&self.doors);
            doors.retain(|(_, opened)| opened.elapsed() < DOOR_TIMEOUT);
            if doors.len() >= MAX_OPEN_DOORS {
                format!("too many knocks waiting for their streams (id {id})")
            } else {
                doors.push_back((id, Instant::now()));
                String::new()
            }
        } else {
            format!("no listener for id {id}")
        };
        let _ = outgoing.send(knock(id, true, error));
    }

    /// Delivers an acknowledgement to the dial waiting for it.
    pub fn on_ack(&self, id: u32, ack: Knock) {
        match lock(&self.acks).remove(&id) {
            Some(waiter) => {
                let _ = waiter.send(ack);
            }
            None => {
                tracing::debug!(target: "go_plugin", id, "knock acknowledgement nobody waits for")
            }
        }
    }

    /// Knocks on the other side's `id`, waits for the ack, then opens the stream for it.
    pub async fn knock_and_open(
        &self,
        id: u32,
        outgoing: &mpsc::UnboundedSender<ConnInfo>,
    ) -> Result<StreamHandle, Error> {
        let failed = |why: String| {
            Error::PluginExited(format!("failed to knock before dialling client: {why}"))
        };
        let one_at_a_time = self.dialing.clone().lock_owned().await;
        let (tx, mut rx) = oneshot::channel();
        lock(&self.acks).insert(id, tx);
        outgoing
            .send(knock(id, false, String::new()))
            .map_err(|_| failed("the broker stream is closed".into()))?;
        let ack = match tokio::time::timeout(ACK_TIMEOUT, &mut rx).await {
            Ok(Ok(ack)) => ack,
            Ok(Err(_)) => return Err(failed("the broker stream is closed".into())),
            Err(_) => {
                self.use_up_a_late_door(id, rx, one_at_a_time);
                return Err(failed(format!(
                    "timeout waiting for multiplexing knock handshake on id {id}"
                )));
            }
        };
        if !ack.error.is_empty() {
            return Err(failed(format!(
                "failed to knock for id {id}: {}",
                ack.error
            )));
        }
        if !(ack.knock && ack.ack) {
            return Err(failed(format!(
                "handshake failed for multiplexing on id {id}; expected knock and ack, but got {ack:?}"
            )));
        }
        self.open().await
    }

    /// After a dial gave up waiting for its ack: keeps the dial slot until the ack comes (or
    /// another [`ACK_TIMEOUT`] passes), and if it opened a door, goes through it with a stream that
    /// is dropped at once, so the next dial's stream is routed to the next dial's id.
    fn use_up_a_late_door(
        &self,
        id: u32,
        late_ack: oneshot::Receiver<Knock>,
        one_at_a_time: tokio::sync::OwnedMutexGuard<()>,
    ) {
        let control = self.control.clone();
        let acks = Arc::downgrade(&self.acks);
        tokio::spawn(async move {
            let _one_at_a_time = one_at_a_time;
            let ack = tokio::time::timeout(ACK_TIMEOUT, late_ack).await;
            if let Some(acks) = acks.upgrade() {
                lock(&acks).remove(&id);
            }
            if let Ok(Ok(ack)) = ack {
                if ack.error.is_empty() && ack.knock && ack.ack {
                    tracing::debug!(target: "go_plugin", id, "late knock acknowledgement: its door is used up");
                    let _ = control.clone().open_stream().await;
                }
            }
        });
    }

    /// Opens a new stream (the main connection, or a brokered one after its knock).
    pub async fn open(&self) -> Result<StreamHandle, Error> {
        self.control
            .clone()
            .open_stream()
            .await
            .map_err(|e| Error::PluginExited(format!("opening a yamux stream: {e:?}")))
    }
}

fn knock(id: u32, ack: bool, error: String) -> ConnInfo {
    ConnInfo {
        service_id: id,
        network: String::new(),
        address: String::new(),
        knock: Some(Knock {
            knock: true,
            ack,
            error,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mux::{start, Role};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Two sides of one session, each with its knock protocol, wired through channels as the
    /// broker stream would be.
    /// A host and a plugin side of one session, and the broker stream between them as channels.
    struct Pair {
        host: Arc<Multiplex>,
        plugin: Arc<Multiplex>,
        main: mpsc::Receiver<StreamHandle>,
        to_plugin: mpsc::UnboundedSender<ConnInfo>,
        plugin_inbox: mpsc::UnboundedReceiver<ConnInfo>,
        to_host: mpsc::UnboundedSender<ConnInfo>,
        host_inbox: mpsc::UnboundedReceiver<ConnInfo>,
    }

    fn pair() -> Pair {
        let (a, b) = tokio::io::duplex(1 << 20);
        let (host_control, host_streams) = start(a, Role::Client);
        let (plugin_control, plugin_streams) = start(b, Role::Server);
        let (main_tx, main) = mpsc::channel(4);
        let (to_plugin, plugin_inbox) = mpsc::unbounded_channel();
        let (to_host, host_inbox) = mpsc::unbounded_channel();
        Pair {
            host: Multiplex::start(host_control, host_streams, None),
            plugin: Multiplex::start(plugin_control, plugin_streams, Some(main_tx)),
            main,
            to_plugin,
            plugin_inbox,
            to_host,
            host_inbox,
        }
    }

    impl Pair {
        /// The host dials `id` in the background.
        fn dial(&self, id: u32) -> tokio::task::JoinHandle<Result<StreamHandle, Error>> {
            let (host, to_plugin) = (self.host.clone(), self.to_plugin.clone());
            tokio::spawn(async move { host.knock_and_open(id, &to_plugin).await })
        }

        /// Takes the host's next knock to the plugin: the plugin answers it and its answer
        /// reaches the host. Returns the knock.
        async fn answer_knock(&mut self) -> ConnInfo {
            let knock = self.plugin_inbox.recv().await.unwrap();
            self.plugin.on_knock(knock.service_id, &self.to_host);
            let ack = self.host_inbox.recv().await.unwrap();
            self.host.on_ack(ack.service_id, ack.knock.unwrap());
            knock
        }
    }

    /// Reads what arrives on the next stream routed to `to`, failing after 10 s.
    async fn next_text(to: &mut mpsc::Receiver<StreamHandle>) -> String {
        let within = Duration::from_secs(10);
        let mut stream = tokio::time::timeout(within, to.recv())
            .await
            .expect("no stream arrived within 10 s")
            .unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).await.unwrap();
        text
    }

    async fn send(mut stream: StreamHandle, text: &str) {
        stream.write_all(text.as_bytes()).await.unwrap();
        stream.shutdown().await.unwrap();
    }

    #[tokio::test]
    async fn a_knocked_stream_reaches_the_listener_and_others_reach_main() {
        let mut p = pair();
        // The main connection: no knock.
        send(p.host.open().await.unwrap(), "main").await;
        assert_eq!(next_text(&mut p.main).await, "main");

        // The plugin serves id 1; the host knocks and opens.
        let mut served = p.plugin.listen(1);
        let dial = p.dial(1);
        let knock = p.answer_knock().await;
        assert_eq!(
            knock.knock.as_ref().map(|k| (k.knock, k.ack)),
            Some((true, false))
        );
        send(dial.await.unwrap().unwrap(), "id-1").await;
        assert_eq!(next_text(&mut served).await, "id-1");
    }

    #[tokio::test]
    async fn knocking_on_an_id_nobody_serves_fails_with_go_text() {
        let mut p = pair();
        let dial = p.dial(9);
        p.answer_knock().await;
        let err = dial.await.unwrap().unwrap_err().to_string();
        assert_eq!(err, "failed to knock before dialling client: failed to knock for id 9: no listener for id 9");
    }

    #[tokio::test(start_paused = true)]
    async fn a_door_opened_for_a_dial_that_timed_out_is_used_up_before_the_next_dial() {
        let mut p = pair();
        let mut one = p.plugin.listen(1);
        let mut two = p.plugin.listen(2);
        // The knock is answered only after the dial gave up.
        let dial = p.dial(1);
        let knock = p.plugin_inbox.recv().await.unwrap();
        let err = dial.await.unwrap().unwrap_err().to_string();
        assert!(
            err.contains("timeout waiting for multiplexing knock"),
            "{err}"
        );
        p.plugin.on_knock(knock.service_id, &p.to_host);
        let late = p.host_inbox.recv().await.unwrap();
        p.host.on_ack(late.service_id, late.knock.unwrap());
        // Then a dial of id 2: its stream must reach 2, not 1's stale door.
        let dial = p.dial(2);
        p.answer_knock().await;
        send(dial.await.unwrap().unwrap(), "for-2").await;
        let used_up = tokio::time::timeout(Duration::from_secs(10), one.recv()).await;
        assert!(used_up.unwrap().is_some());
        assert_eq!(next_text(&mut two).await, "for-2");
    }

    #[tokio::test(start_paused = true)]
    async fn a_door_no_stream_came_through_closes_and_later_streams_go_where_they_belong() {
        let mut p = pair();
        let mut one = p.plugin.listen(1);
        // A knock from a dialer that then never opens its stream (go-plugin's dialer after its
        // own timeout).
        p.plugin.on_knock(1, &p.to_host);
        tokio::time::sleep(DOOR_TIMEOUT).await;
        send(p.host.open().await.unwrap(), "main").await;
        assert_eq!(next_text(&mut p.main).await, "main");
        assert!(
            one.try_recv().is_err(),
            "a stream went through a stale door"
        );
    }
}
