//! `plugin.GRPCBroker`: extra gRPC connections between host and plugin (go-plugin's `GRPCBroker`,
//! PROTOCOL.md §4.6).
//!
//! One side serves an extra gRPC server under a numeric id, the other dials it by id. The host
//! opens the stream `StartStream` right after connecting and keeps it for the life of the plugin;
//! both directions carry `ConnInfo{service_id, network, address}` announcements:
//!
//! ```text
//! side A                                            side B
//! id = next_id()                     (ids are counted per side from 1)
//! accept_and_serve(id, services) ── listen on a new socket,
//!                                   ConnInfo{id, unix, /tmp/plugin77} ──> parked under id for 5 s
//! pass id inside an application call ───────────────────────────────>   dial(id) (waits ≤ 5 s)
//!                                   <──────── new gRPC connection ─────
//! ```
//!
//! Brokered connections get the same TLS as the main one: with AutoMTLS the accepting side is the
//! TLS server requiring the peer's certificate and the dialing side the TLS client presenting its
//! own, whichever process that is. In the multiplexed mode (go-plugin ≥ v1.6) connections are
//! yamux streams and announcements are knocks; see [`super::broker_mux`].

use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::StreamExt;
use tokio_util::sync::CancellationToken;
use tonic::service::Routes;
use tonic::transport::Channel;
use tonic::{Request, Response, Status, Streaming};

use super::broker_mux::Multiplex;
use super::dial::{channel_over, connect, with_tls as dial_with_tls};
use super::incoming::{incoming, with_tls, Incoming};
use crate::env::{Group, PluginEnv};
use crate::error::{Error, TimedOut};
use crate::handshake::Network;
use crate::lock::lock;
use crate::plugin::listener::{ListenerKind, PluginListener};
use crate::proto::plugin::grpc_broker_server::{GrpcBroker as GrpcBrokerService, GrpcBrokerServer};
use crate::proto::plugin::ConnInfo;
use crate::rendezvous::Rendezvous;

/// The longest address a broker announcement may carry (a socket path or `host:port` is far
/// shorter; announcements wait in memory until claimed).
pub const MAX_ANNOUNCED_ADDRESS: usize = 4096;

/// TLS for brokered connections: the server side is used by `accept_and_serve`, the client side by
/// `dial`. AutoMTLS fills both; explicit TLS the sides the user configured.
#[derive(Clone, Debug, Default)]
pub struct BrokerTls {
    /// Used when this side accepts.
    pub server: Option<Arc<rustls::ServerConfig>>,
    /// Used when this side dials.
    pub client: Option<Arc<rustls::ClientConfig>>,
    /// The main connection uses TLS, so brokered ones must too: a side without the
    /// configuration it needs refuses (an error naming the setter) instead of going plaintext.
    pub required: bool,
}

/// One side's broker (go-plugin's `GRPCBroker`). Cheap to clone.
#[derive(Clone, Debug)]
pub struct GrpcBroker {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    next_id: AtomicU32,
    outgoing: mpsc::UnboundedSender<ConnInfo>,
    announcements: Rendezvous<ConnInfo>,
    tls: BrokerTls,
    sockets: PluginEnv,
    listeners: Mutex<Vec<Arc<PluginListener>>>,
    mux: OnceLock<Arc<Multiplex>>,
    closed: CancellationToken,
}

impl GrpcBroker {
    /// A broker whose announcements go to `outgoing` (the broker stream). `socket_dir` and
    /// `socket_group` place the listeners of `accept_and_serve`.
    pub(crate) fn new(
        outgoing: mpsc::UnboundedSender<ConnInfo>,
        tls: BrokerTls,
        socket_dir: Option<PathBuf>,
        socket_group: Option<Group>,
    ) -> Self {
        GrpcBroker {
            inner: Arc::new(Inner {
                next_id: AtomicU32::new(0),
                outgoing,
                announcements: Rendezvous::default(),
                tls,
                sockets: PluginEnv {
                    unix_socket_dir: socket_dir,
                    unix_socket_group: socket_group,
                    ..PluginEnv::default()
                },
                listeners: Mutex::new(Vec::new()),
                mux: OnceLock::new(),
                closed: CancellationToken::new(),
            }),
        }
    }

    /// Switches to the multiplexed mode: brokered connections become streams of `mux`'s session.
    pub(crate) fn set_multiplex(&self, mux: Arc<Multiplex>) {
        let _ = self.inner.mux.set(mux);
    }

    /// The next unused id of this side (1, 2, 3, …), as go-plugin's `NextId`.
    pub fn next_id(&self) -> u32 {
        self.inner.next_id.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Listens on a new socket, announces it to the other side under `id` and serves `routes` on
    /// it until the broker closes or the returned handle's [`BrokeredServer::stop`] (go-plugin's
    /// `AcceptAndServe`). Returns once the announcement is sent; serving continues in the
    /// background, also when the handle is dropped.
    pub async fn accept_and_serve(&self, id: u32, routes: Routes) -> Result<BrokeredServer, Error> {
        if self.inner.tls.required && self.inner.tls.server.is_none() {
            return Err(Error::Config(format!(
                "cannot serve broker id {id}: the plugin connection uses TLS, and brokered \
                 servers would be plaintext; give a TLS server configuration for them \
                 (HostConfig::broker_server_tls on a host)"
            )));
        }
        if let Some(mux) = self.inner.mux.get() {
            let streams = mux.listen(id);
            let incoming = with_tls(streams, self.inner.tls.server.clone());
            return Ok(self.serve(id, routes, incoming, None));
        }
        let listener =
            Arc::new(PluginListener::bind(ListenerKind::Auto, &self.inner.sockets).await?);
        lock(&self.inner.listeners).push(listener.clone());
        let network = listener.network();
        let info = ConnInfo {
            service_id: id,
            network: network.as_str().to_string(),
            address: listener.address(),
            knock: None,
        };
        self.inner.outgoing.send(info).map_err(|_| {
            Error::PluginExited(format!("broker stream closed; cannot announce id {id}"))
        })?;
        let accepting = incoming(listener.clone(), self.inner.tls.server.clone());
        Ok(self.serve(id, routes, accepting, Some(listener)))
    }

    /// Serves `routes` on `incoming` until the broker closes or the handle stops it.
    fn serve(
        &self,
        id: u32,
        routes: Routes,
        incoming: Incoming,
        listener: Option<Arc<PluginListener>>,
    ) -> BrokeredServer {
        let stop = self.inner.closed.child_token();
        let until = stop.clone().cancelled_owned();
        let task = tokio::spawn(async move {
            let served = tonic::transport::Server::builder()
                .max_frame_size(crate::grpc::dial::MAX_FRAME_SIZE)
                .add_routes(routes)
                .serve_with_incoming_shutdown(incoming, until)
                .await;
            if let Err(e) = served {
                tracing::error!(target: "go_plugin", error = %e, "plugin acceptAndServe error");
            }
        });
        BrokeredServer {
            id,
            stop,
            task,
            listener,
            broker: Arc::downgrade(&self.inner),
        }
    }

    /// Connects to the server the other side announced under `id`, waiting up to 5 s for the
    /// announcement (go-plugin's `Dial`).
    pub async fn dial(&self, id: u32) -> Result<Channel, Error> {
        if self.inner.tls.required && self.inner.tls.client.is_none() {
            return Err(Error::Config(format!(
                "cannot dial broker id {id}: the plugin connection uses TLS, and the brokered \
                 one would be plaintext; give a TLS client configuration for it \
                 (ServeConfig::broker_client_tls in a plugin)"
            )));
        }
        if let Some(mux) = self.inner.mux.get() {
            let stream = mux.knock_and_open(id, &self.inner.outgoing).await?;
            let stream = Arc::new(Mutex::new(Some(stream)));
            let tls = self.inner.tls.client.clone();
            return channel_over(format!("brokered id {id}"), move || {
                let (stream, tls) = (lock(&stream).take(), tls.clone());
                async move {
                    let stream = stream.ok_or_else(|| {
                        std::io::Error::other("a brokered stream cannot be reopened")
                    })?;
                    dial_with_tls(stream, tls).await
                }
            })
            .await;
        }
        let info = self.wait_for(id).await?;
        let network = Network::parse(&info.network)
            .ok_or_else(|| Error::Handshake(format!("unknown address type: {}", info.address)))?;
        connect(network, &info.address, self.inner.tls.client.clone()).await
    }

    async fn wait_for(&self, id: u32) -> Result<ConnInfo, Error> {
        self.inner.announcements.take(id).await.ok_or_else(|| {
            Error::timeout(TimedOut::BrokerAnnouncement, format!(
                "timeout waiting for connection info (broker id {id}: the other side did not announce it within 5 s)"
            ))
        })
    }

    /// Takes an announcement from the other side: hands it to a waiting dial, or parks it for 5 s
    /// (at most 1024 at once; a later one under the same id
    /// replaces an earlier one). An address longer than [`MAX_ANNOUNCED_ADDRESS`] is dropped.
    pub(crate) fn receive(&self, info: ConnInfo) {
        if info.address.len() > MAX_ANNOUNCED_ADDRESS || info.network.len() > 16 {
            tracing::warn!(target: "go_plugin", service_id = info.service_id, address_bytes = info.address.len(), "broker announcement with an oversized address; dropped");
            return;
        }
        if let Some(knock) = info.knock.clone().filter(|k| k.knock) {
            match self.inner.mux.get() {
                Some(mux) if knock.ack => mux.on_ack(info.service_id, knock),
                Some(mux) => mux.on_knock(info.service_id, &self.inner.outgoing),
                None => {
                    tracing::warn!(target: "go_plugin", service_id = info.service_id, "multiplexing knock received, but the session is not multiplexed")
                }
            }
            return;
        }
        self.inner.announcements.deliver(info.service_id, info);
    }

    /// Stops every server this side serves through the broker and removes their sockets.
    pub fn close(&self) {
        self.inner.close();
    }
}

impl Inner {
    fn close(&self) {
        self.closed.cancel();
        for listener in lock(&self.listeners).drain(..) {
            listener.remove_socket();
        }
    }
}

impl Drop for Inner {
    /// The last handle is gone: nobody can reach these servers any more.
    fn drop(&mut self) {
        self.close();
    }
}

/// One server the broker serves ([`GrpcBroker::accept_and_serve`]). Dropping the handle leaves it
/// serving until the broker closes; [`BrokeredServer::stop`] ends it alone.
#[derive(Debug)]
pub struct BrokeredServer {
    id: u32,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
    listener: Option<Arc<PluginListener>>,
    broker: std::sync::Weak<Inner>,
}

impl BrokeredServer {
    /// How long [`BrokeredServer::stop`] lets calls in flight finish before it ends them.
    pub const STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

    /// The broker id it was announced under.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// Stops accepting, removes its socket, lets calls in flight finish for up to
    /// [`BrokeredServer::STOP_GRACE`], then ends the rest. New dials of its id fail.
    pub async fn stop(self) {
        self.stop.cancel();
        if let Some(listener) = &self.listener {
            listener.remove_socket();
            if let Some(broker) = self.broker.upgrade() {
                lock(&broker.listeners).retain(|l| !Arc::ptr_eq(l, listener));
            }
        }
        let mut task = self.task;
        if tokio::time::timeout(Self::STOP_GRACE, &mut task)
            .await
            .is_err()
        {
            task.abort();
        }
    }
}

/// The plugin's end of `StartStream`: announcements from the host go to the broker, the broker's
/// announcements go to the host.
#[derive(Clone, Debug)]
pub struct BrokerStreamService {
    broker: GrpcBroker,
    outgoing: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<ConnInfo>>>,
    shutdown: CancellationToken,
}

impl BrokerStreamService {
    /// Connects `broker` (whose announcements arrive on `outgoing`) to the host's stream until
    /// `shutdown` is cancelled.
    pub fn new(
        broker: GrpcBroker,
        outgoing: mpsc::UnboundedReceiver<ConnInfo>,
        shutdown: CancellationToken,
    ) -> Self {
        BrokerStreamService {
            broker,
            outgoing: Arc::new(tokio::sync::Mutex::new(outgoing)),
            shutdown,
        }
    }

    /// The tonic service.
    pub fn into_service(self) -> GrpcBrokerServer<Self> {
        GrpcBrokerServer::new(self)
    }
}

type ConnInfoStream = Pin<Box<dyn tokio_stream::Stream<Item = Result<ConnInfo, Status>> + Send>>;

#[tonic::async_trait]
impl GrpcBrokerService for BrokerStreamService {
    type StartStreamStream = ConnInfoStream;

    async fn start_stream(
        &self,
        request: Request<Streaming<ConnInfo>>,
    ) -> Result<Response<ConnInfoStream>, Status> {
        let mut incoming = request.into_inner();
        let broker = self.broker.clone();
        let shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    message = incoming.next() => match message {
                        Some(Ok(info)) => broker.receive(info),
                        _ => break,
                    },
                    _ = shutdown.cancelled() => break,
                }
            }
        });
        let (tx, rx) = mpsc::channel(16);
        let outgoing = self.outgoing.clone();
        let shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            // One host stream at a time takes the announcements (a reattached host takes over).
            let mut outgoing = outgoing.lock().await;
            loop {
                tokio::select! {
                    info = outgoing.recv() => match info {
                        Some(info) => if tx.send(Ok(info)).await.is_err() { break },
                        None => break,
                    },
                    _ = tx.closed() => break,
                    _ = shutdown.cancelled() => break,
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn broker() -> (GrpcBroker, mpsc::UnboundedReceiver<ConnInfo>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (GrpcBroker::new(tx, BrokerTls::default(), None, None), rx)
    }

    fn info(id: u32) -> ConnInfo {
        ConnInfo {
            service_id: id,
            network: "unix".into(),
            address: format!("/tmp/x{id}"),
            knock: None,
        }
    }

    #[tokio::test]
    async fn ids_start_at_one_and_are_shared_by_clones() {
        let (broker, _rx) = broker();
        let clone = broker.clone();
        assert_eq!(broker.next_id(), 1);
        assert_eq!(clone.next_id(), 2);
        assert_eq!(broker.next_id(), 3);
    }

    #[tokio::test]
    async fn an_announcement_reaches_a_dial_that_waits_and_one_that_comes_later() {
        let (broker, _rx) = broker();
        let waiting = {
            let broker = broker.clone();
            tokio::spawn(async move { broker.wait_for(1).await })
        };
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        broker.receive(info(1));
        assert_eq!(waiting.await.unwrap().unwrap().address, "/tmp/x1");
        broker.receive(info(2));
        assert_eq!(broker.wait_for(2).await.unwrap().address, "/tmp/x2");
    }

    #[tokio::test(start_paused = true)]
    async fn unclaimed_announcements_expire_and_dials_time_out_after_5_s() {
        let (broker, _rx) = broker();
        broker.receive(info(7));
        tokio::time::sleep(Duration::from_secs(6)).await;
        let err = broker.wait_for(7).await.unwrap_err().to_string();
        assert!(
            err.starts_with("timeout waiting for connection info"),
            "{err}"
        );
        assert!(err.contains("broker id 7"), "{err}");
    }

    #[tokio::test]
    async fn accept_and_serve_announces_a_socket_and_removes_it_on_close() {
        let (broker, mut rx) = broker();
        let routes = Routes::new(tonic_health::server::health_reporter().1);
        broker.accept_and_serve(5, routes).await.unwrap();
        let announced = rx.recv().await.unwrap();
        assert_eq!(
            (announced.service_id, announced.network.as_str()),
            (5, "unix")
        );
        assert!(std::path::Path::new(&announced.address).exists());
        broker.close();
        assert!(
            !std::path::Path::new(&announced.address).exists(),
            "brokered socket left behind"
        );
    }

    #[tokio::test]
    async fn oversized_announcements_are_dropped() {
        let (broker, _rx) = broker();
        let mut huge = info(3);
        huge.address = "x".repeat(MAX_ANNOUNCED_ADDRESS + 1);
        broker.receive(huge);
        broker.receive(info(4));
        assert_eq!(broker.wait_for(4).await.unwrap().address, "/tmp/x4");
        let waited = tokio::time::timeout(Duration::from_millis(50), broker.wait_for(3)).await;
        assert!(waited.is_err(), "the oversized announcement was kept");
    }
}
