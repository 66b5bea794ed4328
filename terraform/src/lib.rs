//! Terraform providers over go-plugin: the layer of the `go-plugin` crate for Terraform.
//!
//! Terraform runs every provider as a go-plugin plugin: cookie `TF_PLUGIN_MAGIC_COOKIE`, app
//! protocol versions 5 and 6 (`tfplugin5.Provider` / `tfplugin6.Provider` over gRPC), plugin name
//! `provider`, AutoMTLS. The protocol schemas are the project's own files (`proto/`,
//! written from the wire facts terraform-plugin-go v0.31.0 speaks and checked against it field by
//! field by a test), so building needs neither Go nor network ([`crate::proto::tfplugin5`],
//! [`crate::proto::tfplugin6`]).
//!
//! Values cross the wire as `DynamicValue`s — msgpack (or JSON) bytes that only make sense
//! against the schema's type. This crate holds the pieces both sides need:
//!
//! - [`Type`] (cty types, parsed from schema JSON) and [`Value`] (null, unknown and known
//!   values), with the two codecs [`msgpack`] and [`json`] — all pure;
//! - [`schema`]: the provider's schema, the same for both protocol versions;
//! - [`Provider`]: a host-side client for a running provider that speaks values instead of
//!   bytes, whichever protocol version was negotiated.

#![warn(missing_docs)]

// `#[derive(Schema)]` names this crate by its path, in its own tests too.
extern crate self as go_plugin_terraform;

mod cty_type;
pub mod json;
pub mod msgpack;
mod path;
mod value;

pub mod diagnostic;
pub mod proto;
pub mod provider;
pub mod schema;
pub mod sdk;

pub use cty_type::{ObjectType, Type, TypeError};
pub use diagnostic::{Diagnostic, Severity};
pub use path::{AttributePath, Step, ValueError};
pub use provider::{Provider, ProviderError};
pub use value::{Number, Value};

/// Decodes a `DynamicValue` (its `msgpack` and `json` fields) as type `ty`: msgpack when present,
/// else JSON, and null when both are empty (a value that was never set).
pub fn decode_dynamic_value(msgpack: &[u8], json: &[u8], ty: &Type) -> Result<Value, ValueError> {
    match (msgpack.is_empty(), json.is_empty()) {
        (false, _) => msgpack::decode(msgpack, ty),
        (true, false) => json::from_json_bytes(json, ty),
        (true, true) => Ok(Value::Null),
    }
}

/// The handshake every Terraform provider expects.
pub fn handshake() -> go_plugin::handshake::HandshakeConfig {
    // Terraform's legacy version number is 5; the versions it accepts are 5 and 6.
    go_plugin::handshake::HandshakeConfig::new(5, MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE)
}

/// Terraform's magic cookie name.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
/// Terraform's magic cookie value.
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// The name Terraform dispenses a provider under.
pub const PLUGIN_NAME: &str = "provider";

/// The crate README's example, compiled by `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
