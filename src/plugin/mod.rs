//! The plugin side: what a plugin executable calls from `main` (go-plugin's `plugin.Serve`).
//!
//! ```text
//! host                                     plugin (this module)
//!  | env: cookie, PLUGIN_PROTOCOL_VERSIONS,  |
//!  |      [PLUGIN_CLIENT_CERT], ...  -------> check cookie (else message on stderr, exit 1)
//!  |                                         negotiate the app version, bind the listener,
//!  |                                         redirect stdout/stderr into the stdio stream
//!  | <------ stdout: 1|3|unix|/tmp/plugin42|grpc|[cert]
//!  | ------- gRPC (TLS with AutoMTLS) ------> health `plugin` SERVING, reflection,
//!  |                                         GRPCBroker, GRPCStdio, GRPCController,
//!  |                                         the services of the negotiated plugin set
//!  | ------- GRPCController.Shutdown -------> reply, stop serving, remove the socket, return
//! ```
//!
//! A plugin registers its gRPC services through [`GrpcPlugin`] (go-plugin's `GRPCPlugin.GRPCServer`),
//! grouped in a [`PluginSet`] per app protocol version, and calls [`serve`]:
//!
//! ```no_run
//! use go_plugin::handshake::HandshakeConfig;
//! use go_plugin::plugin::{serve, PluginSet, ServeConfig};
//! use go_plugin_schemas::kv::kv_server::KvServer;
//! # #[derive(Default)] struct MyKv;
//! # #[go_plugin::tonic::async_trait] impl go_plugin_schemas::kv::kv_server::Kv for MyKv {
//! #   async fn get(&self, _: tonic::Request<go_plugin_schemas::kv::GetRequest>) -> Result<tonic::Response<go_plugin_schemas::kv::GetResponse>, tonic::Status> { unimplemented!() }
//! #   async fn put(&self, _: tonic::Request<go_plugin_schemas::kv::PutRequest>) -> Result<tonic::Response<go_plugin_schemas::kv::Empty>, tonic::Status> { unimplemented!() }
//! # }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), go_plugin::Error> {
//!     go_plugin::log::init().ok();
//!     let kv = PluginSet::new()
//!         .grpc("kv", |_broker| KvServer::new(MyKv))
//!         .reflection(go_plugin_schemas::kv::FILE_DESCRIPTOR_SET);
//!     serve(ServeConfig::new(HandshakeConfig::new(1, "BASIC_PLUGIN", "hello")).plugins(kv)).await
//! }
//! ```

pub(crate) mod listener;
mod parent_watch;
mod serve;
pub(crate) mod stdio_capture;

use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::sync::Arc;

use tonic::service::RoutesBuilder;

use crate::broker::GrpcBroker;
#[cfg(feature = "netrpc")]
pub use crate::netrpc::plugin_side::NetRpcPlugin;
#[cfg(feature = "netrpc")]
use crate::netrpc::plugin_side::NetRpcPlugins;
pub use listener::ListenerKind;
pub use serve::{serve, serve_test, TestServer};

use crate::error::Error;
use crate::handshake::HandshakeConfig;

/// A plugin served over gRPC: adds its services to the plugin's server (go-plugin's
/// `GRPCPlugin.GRPCServer`). Closures `Fn(&GrpcBroker, &mut RoutesBuilder) -> Result<(), Error>`
/// implement it.
pub trait GrpcPlugin: Send + Sync + 'static {
    /// Adds this plugin's services to `routes`; `broker` opens extra connections to the host.
    fn register(&self, broker: &GrpcBroker, routes: &mut RoutesBuilder) -> Result<(), Error>;

    /// Encoded `FileDescriptorSet`s of the services, offered through gRPC reflection.
    fn file_descriptor_sets(&self) -> Vec<&'static [u8]> {
        Vec::new()
    }
}

impl<F> GrpcPlugin for F
where
    F: Fn(&GrpcBroker, &mut RoutesBuilder) -> Result<(), Error> + Send + Sync + 'static,
{
    fn register(&self, broker: &GrpcBroker, routes: &mut RoutesBuilder) -> Result<(), Error> {
        self(broker, routes)
    }
}

/// One tonic service built with the plugin's broker: what [`PluginSet::grpc`] registers.
struct ServicePlugin<F, S> {
    make: F,
    service: PhantomData<fn() -> S>,
}

impl<F, S> GrpcPlugin for ServicePlugin<F, S>
where
    F: Fn(GrpcBroker) -> S + Send + Sync + 'static,
    S: GrpcService,
{
    fn register(&self, broker: &GrpcBroker, routes: &mut RoutesBuilder) -> Result<(), Error> {
        routes.add_service((self.make)(broker.clone()));
        Ok(())
    }
}

/// What tonic's generated servers are (`CalculatorServer<T>`, ...): a service [`PluginSet::grpc`]
/// can serve. Implemented for every type that qualifies; never implemented by hand.
pub trait GrpcService:
    tower::Service<
        http::Request<tonic::body::Body>,
        Response = http::Response<tonic::body::Body>,
        Error = std::convert::Infallible,
        Future: Send + 'static,
    > + tonic::server::NamedService
    + Clone
    + Send
    + Sync
    + 'static
{
}

impl<S> GrpcService for S where
    S: tower::Service<
            http::Request<tonic::body::Body>,
            Response = http::Response<tonic::body::Body>,
            Error = std::convert::Infallible,
            Future: Send + 'static,
        > + tonic::server::NamedService
        + Clone
        + Send
        + Sync
        + 'static
{
}

/// A plugin together with the descriptors of its services, for reflection.
pub struct Reflected<P> {
    plugin: P,
    descriptors: Vec<&'static [u8]>,
}

impl<P: GrpcPlugin> Reflected<P> {
    /// Offers `descriptor` (an encoded `FileDescriptorSet`) through reflection next to `plugin`.
    pub fn new(plugin: P, descriptor: &'static [u8]) -> Self {
        Reflected {
            plugin,
            descriptors: vec![descriptor],
        }
    }
}

impl<P: GrpcPlugin> GrpcPlugin for Reflected<P> {
    fn register(&self, broker: &GrpcBroker, routes: &mut RoutesBuilder) -> Result<(), Error> {
        self.plugin.register(broker, routes)
    }
    fn file_descriptor_sets(&self) -> Vec<&'static [u8]> {
        let mut all = self.plugin.file_descriptor_sets();
        all.extend(&self.descriptors);
        all
    }
}

/// The plugins served for one app protocol version, by name (go-plugin's `PluginSet`).
#[derive(Clone, Default)]
pub struct PluginSet {
    plugins: BTreeMap<String, Arc<dyn GrpcPlugin>>,
    descriptors: Vec<&'static [u8]>,
    #[cfg(feature = "netrpc")]
    pub(crate) netrpc: NetRpcPlugins,
}

impl PluginSet {
    /// An empty set.
    pub fn new() -> Self {
        PluginSet::default()
    }

    /// Adds a plugin made of one gRPC service under `name` (the name a host dispenses): `make`
    /// builds the service (a tonic-generated `XServer`) and may keep the broker to call back into
    /// the host.
    ///
    /// ```
    /// # use go_plugin::plugin::PluginSet;
    /// # use go_plugin_example_calc::calc::calculator_server::CalculatorServer;
    /// # use go_plugin::tonic::{async_trait, Request, Response, Status};
    /// # use go_plugin_example_calc::calc::{calculator_server::Calculator, FoldRequest, Number, Operands, Range};
    /// # struct MyCalc { broker: go_plugin::broker::GrpcBroker }
    /// # #[async_trait] impl Calculator for MyCalc {
    /// #   async fn add(&self, _: Request<Operands>) -> Result<Response<Number>, Status> { todo!() }
    /// #   type CountStream = go_plugin::tokio_stream::Empty<Result<Number, Status>>;
    /// #   async fn count(&self, _: Request<Range>) -> Result<Response<Self::CountStream>, Status> { todo!() }
    /// #   async fn fold(&self, _: Request<FoldRequest>) -> Result<Response<Number>, Status> { todo!() }
    /// # }
    /// let plugins = PluginSet::new().grpc("calc", |broker| CalculatorServer::new(MyCalc { broker }));
    /// ```
    pub fn grpc<S, F>(self, name: impl Into<String>, make: F) -> Self
    where
        F: Fn(GrpcBroker) -> S + Send + Sync + 'static,
        S: GrpcService,
    {
        self.plugin(
            name,
            ServicePlugin {
                make,
                service: PhantomData,
            },
        )
    }

    /// Offers `descriptor` (an encoded `FileDescriptorSet`, such as the `FILE_DESCRIPTOR_SET` of
    /// [`crate::include_proto!`]) through gRPC reflection, which lets `grpcurl` and the `goplugin`
    /// CLI list and call the set's services. Served with the feature `reflection`; kept and
    /// unused without it.
    pub fn reflection(mut self, descriptor: &'static [u8]) -> Self {
        if !self.descriptors.contains(&descriptor) {
            self.descriptors.push(descriptor);
        }
        self
    }

    /// Every descriptor offered through reflection: the set's and its plugins'.
    #[cfg_attr(not(feature = "reflection"), allow(dead_code))]
    pub(crate) fn descriptors(&self) -> Vec<&'static [u8]> {
        let mut all = self.descriptors.clone();
        for plugin in self.plugins.values() {
            for d in plugin.file_descriptor_sets() {
                if !all.contains(&d) {
                    all.push(d);
                }
            }
        }
        all
    }

    /// Adds `plugin` under `name` (the name a host dispenses): for plugins that register several
    /// services, or none the usual way; [`PluginSet::grpc`] is the short form for one service.
    pub fn plugin(mut self, name: impl Into<String>, plugin: impl GrpcPlugin) -> Self {
        self.plugins.insert(name.into(), Arc::new(plugin));
        self
    }

    /// Adds a net/rpc plugin under `name`. A set holds plugins of one transport, as in go-plugin:
    /// a set with only net/rpc plugins is served over net/rpc.
    #[cfg(feature = "netrpc")]
    pub fn netrpc_plugin(mut self, name: impl Into<String>, plugin: impl NetRpcPlugin) -> Self {
        self.netrpc.insert(name.into(), Arc::new(plugin));
        self
    }

    /// The transport this set is served with.
    pub(crate) fn protocol(&self) -> crate::handshake::Protocol {
        #[cfg(feature = "netrpc")]
        if self.plugins.is_empty() && !self.netrpc.is_empty() {
            return crate::handshake::Protocol::NetRpc;
        }
        crate::handshake::Protocol::Grpc
    }

    /// The plugins by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Arc<dyn GrpcPlugin>)> {
        self.plugins.iter().map(|(k, v)| (k.as_str(), v))
    }
}

impl std::fmt::Debug for PluginSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut list = f.debug_list();
        list.entries(self.plugins.keys());
        #[cfg(feature = "netrpc")]
        list.entries(self.netrpc.keys());
        list.finish()
    }
}

/// Everything [`serve`] needs (go-plugin's `ServeConfig`).
#[derive(Debug)]
pub struct ServeConfig {
    pub(crate) handshake: HandshakeConfig,
    pub(crate) versions: BTreeMap<u32, PluginSet>,
    pub(crate) tls: Option<Arc<rustls::ServerConfig>>,
    pub(crate) broker_client_tls: Option<Arc<rustls::ClientConfig>>,
    pub(crate) listener: ListenerKind,
}

impl ServeConfig {
    /// A configuration with the given handshake and no plugins yet.
    pub fn new(handshake: HandshakeConfig) -> Self {
        ServeConfig {
            handshake,
            versions: BTreeMap::new(),
            tls: None,
            broker_client_tls: None,
            listener: ListenerKind::Auto,
        }
    }

    /// Serves `set` when the host negotiates app version `version` (go-plugin's
    /// `VersionedPlugins`); the host gets the highest version both sides know.
    pub fn version(mut self, version: u32, set: PluginSet) -> Self {
        self.versions.insert(version, set);
        self
    }

    /// Serves `set` under the handshake's legacy `protocol_version` (go-plugin's `Plugins`);
    /// replaces a versioned set of the same number, as in go-plugin.
    pub fn plugins(self, set: PluginSet) -> Self {
        let version = self.handshake.protocol_version;
        self.version(version, set)
    }

    /// Uses this TLS configuration instead of AutoMTLS (go-plugin's `TLSProvider`); the host must
    /// then be configured with matching TLS. ALPN `h2` is added to it when missing (grpc-go
    /// hosts refuse TLS without it).
    pub fn tls(mut self, mut config: rustls::ServerConfig) -> Self {
        crate::tls::with_alpn_h2(&mut config.alpn_protocols);
        self.tls = Some(Arc::new(config));
        self
    }

    /// The TLS client configuration for dialing the host's brokered servers when this plugin
    /// uses [`ServeConfig::tls`] (go-plugin uses its one `tls.Config` both ways: its `RootCAs`
    /// then verify the host's brokered servers). Without it, dialing a host-served broker id fails
    /// rather than connect in plaintext. ALPN `h2` is added when missing.
    pub fn broker_client_tls(mut self, mut config: rustls::ClientConfig) -> Self {
        crate::tls::with_alpn_h2(&mut config.alpn_protocols);
        self.broker_client_tls = Some(Arc::new(config));
        self
    }

    /// Chooses the listener; the default is a Unix socket, as go-plugin does on Unix.
    pub fn listener(mut self, kind: ListenerKind) -> Self {
        self.listener = kind;
        self
    }
}
