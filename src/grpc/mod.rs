//! go-plugin's internal gRPC services (package `plugin`), each in its own file:
//!
//! | service | file | role |
//! | --- | --- | --- |
//! | `plugin.GRPCController` | [`controller`] | the host asks the plugin to shut down |
//! | `plugin.GRPCStdio` | [`stdio`] | the plugin's redirected stdout/stderr, streamed to the host |
//! | `plugin.GRPCBroker` | [`broker`] | announcements of extra connections between the two processes |
//!
//! Health (`grpc.health.v1.Health`, service `plugin` = SERVING) comes from tonic-health and
//! reflection from tonic-reflection; both are registered by [`crate::plugin::serve`].

pub mod broker;
pub mod controller;
pub mod stdio;
