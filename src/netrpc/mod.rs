//! go-plugin's net/rpc protocol (PROTOCOL.md §5): Go's `net/rpc` with gob encoding, over a yamux
//! session.
//!
//! * `gob_stream` — gob values over async streams. The codec is the `gobwire` crate, evaluated
//!   first as the house rules ask: it decodes every value of a Go-written corpus and Go decodes
//!   what it writes (`tests/gob.rs`), and it carries every net/rpc cross-test (interfaces, maps of
//!   interfaces, split messages), so there is no codec of our own;
//! * `rpc` — net/rpc's request/response framing, client and server;
//! * `mux_broker` — the MuxBroker (extra yamux streams by id);
//! * `host_side`, `plugin_side` — the two ends of a plugin connection.

pub(crate) mod gob_stream;
pub(crate) mod host_side;
pub(crate) mod mux_broker;
pub(crate) mod plugin_side;
pub(crate) mod rpc;

pub use mux_broker::MuxBroker;
pub use rpc::{Empty, RpcClient, RpcServer};
