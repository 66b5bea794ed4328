//! The host side: launching a plugin and using it (go-plugin's `Client`).
//!
//! ```text
//! Host::new(config) ── start() ──> spawn with env (cookie, PLUGIN_PROTOCOL_VERSIONS, [cert])
//!                                  read the first stdout line (start timeout), validate it
//!                                  connect (Unix/TCP, TLS with the plugin's pinned cert)
//!                                  open GRPCBroker.StartStream and GRPCStdio.StreamStdio
//!                    client::<T>(name)    local: a typed gRPC client on the connection
//!                    dispense::<T>(name)  local: the plugin set's factory builds a client
//!                    ping()               health of `plugin`
//!                    kill()               GRPCController.Shutdown, ≤ 2 s grace, then SIGKILL
//! ```
//!
//! ```no_run
//! use go_plugin::handshake::HandshakeConfig;
//! use go_plugin::host::{ClientSet, Host, HostConfig};
//! use go_plugin_schemas::kv::{kv_client::KvClient, GetRequest};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let host = Host::new(
//!     HostConfig::new(HandshakeConfig::new(1, "BASIC_PLUGIN", "hello"))
//!         .plugins(ClientSet::new().grpc("kv_grpc"))
//!         .command(std::process::Command::new("./kv-plugin")),
//! );
//! let mut kv: KvClient<_> = host.client("kv_grpc").await?;
//! let _value = kv.get(GetRequest { key: "hello".into() }).await?.into_inner().value;
//! host.kill().await;
//! # Ok(()) }
//! ```
//!
//! The default transport list is gRPC only (go-plugin's own default is net/rpc only); AutoMTLS is
//! off by default, as in go-plugin, so that plugins without TLS support still load.

mod attach;
mod checksum;
pub(crate) mod config;
mod death_signal;
mod discover;
mod dispense;
mod exec_verified;
mod launch;
mod lifecycle;
mod start;
mod streams;

use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

use crate::broker::GrpcBroker;
pub use attach::{AttachedProcess, PidProcess};
pub use checksum::sha256_file;
pub use config::{ClientSet, HostConfig, UnixSocketConfig};
pub use discover::discover;
pub use lifecycle::{cleanup_hosts, Host};

/// A gRPC client the host builds from the plugin's connection, by type: [`Host::client`]. The code
/// `go-plugin-build` generates implements it for every service client (`CalculatorClient<Channel>`);
/// implement it by hand for clients generated otherwise, or for a wrapper of one.
pub trait GrpcClient: Sized + Send + 'static {
    /// Builds the client on the plugin's connection (its channel, and its broker if it calls back).
    fn from_connection(connection: &PluginConnection) -> Self;
}

/// What a dispensed plugin client is built from: the shared gRPC channel, the broker, and a
/// token cancelled when the plugin process exits.
#[derive(Clone, Debug)]
pub struct PluginConnection {
    channel: Channel,
    broker: GrpcBroker,
    exited: CancellationToken,
}

impl PluginConnection {
    /// The gRPC channel to the plugin (cheap to clone; all clients share one HTTP/2 connection).
    pub fn channel(&self) -> Channel {
        self.channel.clone()
    }

    /// The host's broker.
    pub fn broker(&self) -> &GrpcBroker {
        &self.broker
    }

    /// Cancelled when the plugin process exits (go-plugin's client context).
    pub fn exited(&self) -> CancellationToken {
        self.exited.clone()
    }
}
