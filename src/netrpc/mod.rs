//! go-plugin's net/rpc protocol (PROTOCOL.md §5): Go's `net/rpc` with gob encoding, over a yamux
//! session.
//!
//! * [`gob_stream`] — gob values over async streams (the codec is the `gobwire` crate);
//! * [`rpc`] — net/rpc's request/response framing, client and server.

pub mod gob_stream;
pub mod host_side;
pub mod mux_broker;
pub mod plugin_side;
pub mod rpc;

pub use mux_broker::MuxBroker;
pub use rpc::{Empty, RpcClient, RpcServer};
