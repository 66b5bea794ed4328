//! TFLint ruleset plugins over go-plugin, in Rust.
//!
//! TFLint runs every ruleset as a go-plugin plugin: cookie `TFLINT_RULESET_PLUGIN`, app protocol
//! version 11, plugin name `ruleset`, gRPC. It finds them as `tflint-ruleset-<name>` in
//! `TFLINT_PLUGIN_DIR` (or `.tflint.d/plugins`) and enables them from `.tflint.hcl`
//! (`plugin "<name>" { enabled = true }`).
//!
//! ```text
//! TFLint (host)                                     ruleset (this crate's serve)
//!   GetName, GetVersion, GetVersionConstraint,
//!   GetSDKVersion, GetRuleNames, GetConfigSchema --->
//!   ApplyGlobalConfig (which rules are on)       --->
//!   ApplyConfig (the plugin block)               --->
//!   serves its Runner through the GRPCBroker
//!   Check { runner: broker id }                  ---> dial the id; for each enabled rule:
//!                                         <--- Runner.GetModuleContent / EvaluateExpr /
//!                                              GetRuleConfigContent / EmitIssue
//! ```
//!
//! A ruleset is a [`RuleSet`] of [`Rule`]s; each rule reads the module through the [`Runner`]
//! and emits issues with exact ranges. [`serve`] runs it. The protocol's schema is the project's
//! own file (`proto/tflint.proto`, written from the wire facts tflint-plugin-sdk v0.25.0 speaks;
//! a test of the workspace compares it field by field with the SDK module's), so building needs
//! neither Go nor network.

#![warn(missing_docs)]

/// The README's example, compiled by `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod enablement;
mod ruleset;
mod runner;

pub use ruleset::{serve, Rule, RuleSet, Severity};
pub use runner::{Resource, Runner};

/// TFLint's plugin protocol (package `proto`): `rule_set_server`/`rule_set_client` for the
/// ruleset, `runner_server`/`runner_client` for TFLint's side.
pub mod proto {
    #![allow(missing_docs, clippy::all)]
    go_plugin::include_proto!("proto");
}

/// TFLint's magic cookie name.
pub const MAGIC_COOKIE_KEY: &str = "TFLINT_RULESET_PLUGIN";
/// TFLint's magic cookie value.
pub const MAGIC_COOKIE_VALUE: &str =
    "5adSn1bX8nrDfgBqiAqqEkC6OE1h3iD8SqbMc5UUONx8x3xCF0KlPDsBRNDjoYDP";
/// The app protocol version TFLint's rulesets speak.
pub const PROTOCOL_VERSION: u32 = 11;
/// The name TFLint dispenses a ruleset under.
pub const PLUGIN_NAME: &str = "ruleset";
/// The tflint-plugin-sdk version whose protocol this crate speaks (what `GetSDKVersion` answers:
/// TFLint checks it against the minimum it supports).
pub const SDK_VERSION: &str = "0.25.0";

/// The handshake of every TFLint ruleset.
pub fn handshake() -> go_plugin::handshake::HandshakeConfig {
    go_plugin::handshake::HandshakeConfig::new(
        PROTOCOL_VERSION,
        MAGIC_COOKIE_KEY,
        MAGIC_COOKIE_VALUE,
    )
}
