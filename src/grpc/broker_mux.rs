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

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::error::Error;
use crate::mux::{Control, StreamHandle};
use crate::proto::plugin::conn_info::Knock;
use crate::proto::plugin::ConnInfo;

/// How long a dial waits for the knock's acknowledgement (go-plugin: 5 s).
const ACK_TIMEOUT: Duration = Duration::from_secs(5);

/// The multiplexed state of one side's broker.
pub struct Multiplex {
    control: Control,
    doors: Mutex<VecDeque<u32>>,
    listeners: Mutex<HashMap<u32, mpsc::Sender<StreamHandle>>>,
    acks: Mutex<HashMap<u32, oneshot::Sender<Knock>>>,
    dialing: tokio::sync::Mutex<()>,
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
            acks: Mutex::new(HashMap::new()),
            dialing: tokio::sync::Mutex::new(()),
        });
        let router = Arc::downgrade(&mux);
        tokio::spawn(async move {
            while let Some(stream) = streams.recv().await {
                let Some(mux) = router.upgrade() else { return };
                let door = lock(&mux.doors).pop_front();
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
            lock(&self.doors).push_back(id);
            String::new()
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
        let _one_at_a_time = self.dialing.lock().await;
        let (tx, rx) = oneshot::channel();
        lock(&self.acks).insert(id, tx);
        outgoing
            .send(knock(id, false, String::new()))
            .map_err(|_| failed("the broker stream is closed".into()))?;
        let ack = match tokio::time::timeout(ACK_TIMEOUT, rx).await {
            Ok(Ok(ack)) => ack,
            _ => {
                lock(&self.acks).remove(&id);
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

    /// Opens a new stream (the main connection, or a brokered one after its knock).
    pub async fn open(&self) -> Result<StreamHandle, Error> {
        self.control
            .clone()
            .open_stream()
            .await
            .map_err(|e| Error::PluginExited(format!("opening a yamux stream: {e:?}")))
    }

    /// Ends the session.
    pub async fn close(&self) {
        self.control.clone().close().await;
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

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mux::{start, Role};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Two sides of one session, each with its knock protocol, wired through channels as the
    /// broker stream would be.
    #[tokio::test]
    async fn a_knocked_stream_reaches_the_listener_and_others_reach_main() {
        let (a, b) = tokio::io::duplex(1 << 20);
        let (host_control, host_streams) = start(a, Role::Client);
        let (plugin_control, plugin_streams) = start(b, Role::Server);
        let (main_tx, mut main_rx) = mpsc::channel(4);
        let host = Multiplex::start(host_control, host_streams, None);
        let plugin = Multiplex::start(plugin_control, plugin_streams, Some(main_tx));
        let (to_plugin, mut plugin_inbox) = mpsc::unbounded_channel();
        let (to_host, mut host_inbox) = mpsc::unbounded_channel();

        // The main connection: no knock.
        let mut main = host.open().await.unwrap();
        main.write_all(b"main").await.unwrap();
        let mut got = [0u8; 4];
        main_rx
            .recv()
            .await
            .unwrap()
            .read_exact(&mut got)
            .await
            .unwrap();
        assert_eq!(&got, b"main");

        // The plugin serves id 1; the host knocks and opens.
        let mut served = plugin.listen(1);
        let dial = tokio::spawn({
            let host = host.clone();
            async move { host.knock_and_open(1, &to_plugin).await }
        });
        let knock = plugin_inbox.recv().await.unwrap();
        assert_eq!(
            knock.knock.as_ref().map(|k| (k.knock, k.ack)),
            Some((true, false))
        );
        plugin.on_knock(knock.service_id, &to_host);
        let ack = host_inbox.recv().await.unwrap();
        host.on_ack(ack.service_id, ack.knock.unwrap());
        let mut stream = dial.await.unwrap().unwrap();
        stream.write_all(b"id-1").await.unwrap();
        served
            .recv()
            .await
            .unwrap()
            .read_exact(&mut got)
            .await
            .unwrap();
        assert_eq!(&got, b"id-1");
    }

    #[tokio::test]
    async fn knocking_on_an_id_nobody_serves_fails_with_go_text() {
        let (a, b) = tokio::io::duplex(1 << 20);
        let (host_control, host_streams) = start(a, Role::Client);
        let (plugin_control, plugin_streams) = start(b, Role::Server);
        let host = Multiplex::start(host_control, host_streams, None);
        let plugin = Multiplex::start(plugin_control, plugin_streams, None);
        let (to_plugin, mut plugin_inbox) = mpsc::unbounded_channel();
        let (to_host, mut host_inbox) = mpsc::unbounded_channel();
        let dial = tokio::spawn({
            let host = host.clone();
            async move { host.knock_and_open(9, &to_plugin).await }
        });
        let knock = plugin_inbox.recv().await.unwrap();
        plugin.on_knock(knock.service_id, &to_host);
        let ack = host_inbox.recv().await.unwrap();
        host.on_ack(ack.service_id, ack.knock.unwrap());
        let err = dial.await.unwrap().unwrap_err().to_string();
        assert_eq!(err, "failed to knock before dialling client: failed to knock for id 9: no listener for id 9");
    }
}
