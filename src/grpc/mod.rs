//! go-plugin's internal gRPC services (package `plugin`), each in its own file:
//!
//! | service | file | role |
//! | --- | --- | --- |
//! | `plugin.GRPCController` | [`controller`] | the host asks the plugin to shut down |
//! | `plugin.GRPCStdio` | [`stdio`] | the plugin's redirected stdout/stderr, streamed to the host |
//! | `plugin.GRPCBroker` | [`broker`] | announcements of extra connections between the two processes |
//!
//! Transport shared by both sides: `dial` opens a client connection (Unix or TCP, TLS inside)
//! and `incoming` turns a listener into a stream of accepted (TLS) connections for a server, each
//! read through `authority` (socket-path `:authority` values made acceptable to `h2`).
//!
//! Health (`grpc.health.v1.Health`, service `plugin` = SERVING) comes from tonic-health and
//! reflection from tonic-reflection; both are registered by [`crate::plugin::serve`].

pub(crate) mod authority;
pub mod broker;
pub(crate) mod broker_mux;
pub(crate) mod controller;
pub(crate) mod dial;
pub(crate) mod incoming;
pub(crate) mod stdio;
