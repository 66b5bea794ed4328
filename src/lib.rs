//! # go-plugin for Rust
//!
//! HashiCorp [go-plugin]'s wire protocol, so that Rust plugins run under real Go hosts (Terraform,
//! go-plugin's example hosts, anything calling `plugin.NewClient`) and Rust hosts launch real Go
//! plugins.
//!
//! ## A plugin in ten lines
//!
//! ```no_run
//! use go_plugin::handshake::HandshakeConfig;
//! use go_plugin::plugin::{serve, PluginSet, ServeConfig};
//! use go_plugin_schemas::kv::kv_server::{Kv, KvServer};
//! # #[derive(Default)] struct MyKv;
//! # #[go_plugin::tonic::async_trait] impl Kv for MyKv {
//! #   async fn get(&self, _: tonic::Request<go_plugin_schemas::kv::GetRequest>) -> Result<tonic::Response<go_plugin_schemas::kv::GetResponse>, tonic::Status> { unimplemented!() }
//! #   async fn put(&self, _: tonic::Request<go_plugin_schemas::kv::PutRequest>) -> Result<tonic::Response<go_plugin_schemas::kv::Empty>, tonic::Status> { unimplemented!() }
//! # }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), go_plugin::Error> {
//!     go_plugin::log::init().ok(); // tracing → hclog JSON on stderr
//!     let set = PluginSet::new().grpc("kv", |_broker| KvServer::new(MyKv));
//!     let handshake = HandshakeConfig::new(1, "BASIC_PLUGIN", "hello");
//!     serve(ServeConfig::new(handshake).plugins(set)).await
//! }
//! ```
//!
//! Your own `.proto` is compiled by the `go-plugin-build` crate from `build.rs` and included with
//! [`include_proto!`]; the README's "Your own service" shows a whole plugin and host.
//!
//! ## The protocol in one picture
//!
//! ```text
//! host (go-plugin "client")                 plugin (go-plugin "server")
//!   spawn with env: cookie, PLUGIN_PROTOCOL_VERSIONS=1,3, [PLUGIN_CLIENT_CERT]
//!                                  ------>  check cookie, pick version, listen
//!   read first stdout line        <------  1|3|unix|/tmp/plugin42|grpc|[cert]
//!   gRPC over the socket (mTLS)   ------>  health, broker, stdio, controller, app services
//!   GRPCController.Shutdown       ------>  exit; host kills after 2 s otherwise
//! ```
//!
//! ## Go → Rust names
//!
//! | go-plugin | here |
//! | --- | --- |
//! | `Client`, `ClientConfig` (the host side) | [`host::Host`], [`host::HostConfig`] |
//! | `Plugin.Client`, `GRPCPlugin.GRPCClient`, `Dispense` | [`host::ClientSet`], [`host::Host::client`] (typed), [`host::Host::dispense`] |
//! | `MuxBroker`, net/rpc `Plugin.Server` | [`netrpc::MuxBroker`], [`plugin::NetRpcPlugin`] |
//! | `Serve`, `ServeConfig` | [`plugin::serve`], [`plugin::ServeConfig`] |
//! | `ServeTestConfig` | [`plugin::serve_test`] |
//! | `HandshakeConfig` | [`handshake::HandshakeConfig`] |
//! | `PluginSet`, `Plugins`, `VersionedPlugins` | [`plugin::PluginSet`], [`plugin::ServeConfig::plugins`], [`plugin::ServeConfig::version`] |
//! | `GRPCPlugin.GRPCServer` | [`plugin::PluginSet::grpc`], [`plugin::GrpcPlugin`] |
//! | `GRPCBroker` (both sides) | [`broker::GrpcBroker`] |
//! | `ReattachConfig` | [`reattach::ReattachConfig`] |
//! | hclog JSON on stderr | [`log::HclogLayer`] |
//!
//! [go-plugin]: https://github.com/hashicorp/go-plugin

#![warn(missing_docs)]

pub(crate) mod conn;
pub(crate) mod env;
pub mod error;

/// go-plugin's `GRPCBroker`, the same on both sides: extra gRPC connections between host and
/// plugin, each under an id one side announces ([`GrpcBroker::accept_and_serve`](broker::GrpcBroker::accept_and_serve)) and the other
/// dials ([`GrpcBroker::dial`](broker::GrpcBroker::dial)). A host gets its side with `host.broker()`, a plugin with the
/// argument of [`plugin::PluginSet::grpc`]'s closure.
pub mod broker {
    pub use crate::grpc::broker::{BrokeredServer, GrpcBroker};
}
pub(crate) mod grpc;
pub mod handshake;
pub mod host;
mod lock;
pub mod log;
pub(crate) mod mux;
#[cfg(feature = "netrpc")]
pub mod netrpc;
pub mod plugin;
pub(crate) mod proto;
pub mod reattach;
mod rendezvous;
pub mod tls;

pub use error::{Error, Result, TimedOut};

// What the code generated for a user's own schemas needs (`go-plugin-build` points its paths
// here), so that a plugin or host crate needs no dependency on these crates of its own: their
// versions are go-plugin's (README, "Your own service").
#[doc(no_inline)]
pub use prost;
#[doc(no_inline)]
pub use prost_types;
/// Streams for server-streaming replies (`tokio_stream::iter`, `ReceiverStream`, ...).
#[doc(no_inline)]
pub use tokio_stream;
#[doc(no_inline)]
pub use tonic;
#[doc(no_inline)]
pub use tonic_prost;
/// The logging API a plugin logs with ([`log::init`] sends its events to the host as hclog JSON).
#[doc(no_inline)]
pub use tracing;

/// Includes the code `go-plugin-build` generated for protobuf package `$package` (from `build.rs`),
/// and its descriptor set as `FILE_DESCRIPTOR_SET` (for [`plugin::PluginSet::reflection`]).
///
/// ```text
/// pub mod calc {
///     go_plugin::include_proto!("calc");
/// }
/// ```
///
/// (It reads `build.rs`'s output, so it is compiled in `examples/calc/src/lib.rs`.)
#[macro_export]
macro_rules! include_proto {
    ($package:literal) => {
        include!(concat!(env!("OUT_DIR"), "/", $package, ".rs"));
        /// The encoded `FileDescriptorSet` of this package's schema files and their imports.
        pub const FILE_DESCRIPTOR_SET: &[u8] =
            include_bytes!(concat!(env!("OUT_DIR"), "/", $package, ".descriptor.bin"));
    };
}

/// The README's examples, compiled by `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// Internal parsers of peer input, public only for the fuzz targets in `fuzz/` (feature
/// `fuzzing`; not part of the API).
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::env::*;
    pub use crate::grpc::authority::AuthorityNormaliser;
    pub use crate::netrpc::gob_stream::GobReader;
    pub use crate::netrpc::rpc::{Request, Response};
    pub use crate::proto::plugin::ConnInfo;

    use crate::grpc::broker::{BrokerTls, GrpcBroker};

    /// A broker whose announcements go nowhere, without TLS.
    pub fn broker() -> GrpcBroker {
        let (outgoing, _) = tokio::sync::mpsc::unbounded_channel();
        GrpcBroker::new(outgoing, BrokerTls::default(), None, None)
    }

    /// Hands `info` to `broker` as if the other side had sent it.
    pub fn receive(broker: &GrpcBroker, info: ConnInfo) {
        broker.receive(info);
    }
}
