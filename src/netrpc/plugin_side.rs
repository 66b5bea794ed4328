//! The plugin's end of a net/rpc connection (PROTOCOL.md §5.2–§5.4, §7.6): every connection
//! (TLS-wrapped when configured) carries a yamux server session whose first three streams, in
//! acceptance order, are control, stdout and stderr. The control stream serves `Control.Ping`,
//! `Control.Quit` and `Dispenser.Dispense`; a dispensed plugin is served on a [`MuxBroker`]
//! stream under the service name `Plugin`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::sync::{mpsc, Mutex};
use tokio_util::sync::CancellationToken;

use super::{Empty, MuxBroker, RpcServer};
use crate::conn::Conn;
use crate::grpc::incoming::{incoming, Incoming};
use crate::grpc::stdio::StdioSource;
use crate::mux::{self, Role, StreamHandle};
use crate::plugin::listener::PluginListener;
use tokio_stream::StreamExt;

/// A plugin served over net/rpc (go-plugin's `Plugin.Server(broker)`): the methods it serves as
/// `Plugin.<Method>`. Closures `Fn(&MuxBroker) -> Result<RpcServer, String>` implement it.
pub trait NetRpcPlugin: Send + Sync + 'static {
    /// The server for one dispensed instance; an error text is returned to the host's Dispense.
    fn server(&self, broker: &MuxBroker) -> Result<RpcServer, String>;
}

impl<F> NetRpcPlugin for F
where
    F: Fn(&MuxBroker) -> Result<RpcServer, String> + Send + Sync + 'static,
{
    fn server(&self, broker: &MuxBroker) -> Result<RpcServer, String> {
        self(broker)
    }
}

/// The plugins of the negotiated set, by name.
pub type NetRpcPlugins = BTreeMap<String, Arc<dyn NetRpcPlugin>>;

/// Serves net/rpc on every connection of `listener` until `shutdown` (also triggered by
/// `Control.Quit`).
pub async fn serve(
    listener: Arc<PluginListener>,
    tls: Option<Arc<rustls::ServerConfig>>,
    plugins: NetRpcPlugins,
    stdio: Option<StdioSource>,
    shutdown: CancellationToken,
) {
    let mut connections: Incoming = incoming(listener, tls);
    let plugins = Arc::new(plugins);
    let stdio = Arc::new(Mutex::new(stdio));
    loop {
        let conn = tokio::select! {
            conn = connections.next() => match conn {
                Some(Ok(conn)) => conn,
                _ => return,
            },
            _ = shutdown.cancelled() => return,
        };
        tokio::spawn(session(
            conn,
            plugins.clone(),
            stdio.clone(),
            shutdown.clone(),
        ));
    }
}

async fn session(
    conn: Conn,
    plugins: Arc<NetRpcPlugins>,
    stdio: Arc<Mutex<Option<StdioSource>>>,
    shutdown: CancellationToken,
) {
    let (control, mut incoming) = mux::start(conn, Role::Server);
    let (Some(control_stream), Some(stdout), Some(stderr)) = (
        incoming.recv().await,
        incoming.recv().await,
        incoming.recv().await,
    ) else {
        tracing::debug!(target: "go_plugin", "net/rpc session ended before its three streams were open");
        return;
    };
    if let Some(source) = stdio.lock().await.take() {
        forward(source.stdout, stdout);
        forward(source.stderr, stderr);
    }
    let broker = MuxBroker::start(control, incoming);
    let quit = shutdown.clone();
    let server = RpcServer::new()
        .method("Control.Ping", |_: bool| async {
            Ok::<_, String>(Empty {})
        })
        .method("Control.Quit", move |_: bool| {
            let quit = quit.clone();
            async move {
                // Let the reply go out first; go-plugin's own plugins often exit before it does.
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    quit.cancel();
                });
                Ok::<_, String>(Empty {})
            }
        })
        .method("Dispenser.Dispense", move |name: String| {
            let (plugins, broker) = (plugins.clone(), broker.clone());
            async move { dispense(&plugins, &broker, &name) }
        });
    if let Err(e) = server.serve(mux::pumped(control_stream)).await {
        tracing::debug!(target: "go_plugin", error = %e, "net/rpc control stream ended");
    }
}

/// Reserves a broker id for the plugin `name` and serves it there once the host dials.
fn dispense(plugins: &NetRpcPlugins, broker: &MuxBroker, name: &str) -> Result<u32, String> {
    let plugin = plugins
        .get(name)
        .ok_or_else(|| format!("unknown plugin type: {name}"))?;
    let server = plugin.server(broker)?;
    let id = broker.next_id();
    broker.accept_and_serve(id, server);
    Ok(id)
}

/// Copies the plugin's redirected output into its yamux stream. The stream is also read (nothing
/// arrives on it): tokio-yamux handles a stream's window updates only while it is read, so a
/// stream that is only written stalls once its 256 KiB window is spent (see [`crate::mux`]).
fn forward(mut chunks: mpsc::Receiver<Vec<u8>>, stream: StreamHandle) {
    let (mut read, mut write) = tokio::io::split(stream);
    tokio::spawn(async move {
        let _ = tokio::io::copy(&mut read, &mut tokio::io::sink()).await;
    });
    tokio::spawn(async move {
        while let Some(chunk) = chunks.recv().await {
            if write.write_all(&chunk).await.is_err() {
                break;
            }
        }
    });
}
