//! TFLint both ways (the crate `go-plugin-tflint`):
//!
//! - `ruleset`: real TFLint v0.64.0 (from the Go module proxy) runs the Rust ruleset
//!   `tflint_ruleset` (`rust`): issues with exact ranges, none for a clean configuration, its name
//!   and version in `tflint --version`, and the plugin's message for a broken rule configuration.
//!   Every check goes through TFLint's Runner, which TFLint serves through the GRPCBroker.
//! - `host`: the Rust host `tflint_host` launches a real Go ruleset, tflint-ruleset-terraform
//!   v0.15.0, and reads its name, version and rule names.
//! - `schema`: the project's own `tflint/proto/tflint.proto` matches tflint-plugin-sdk v0.25.0's,
//!   field by field.

#[path = "../support/features.rs"]
mod features;
#[path = "../support/mod.rs"]
mod support;

mod host;
mod ruleset;
mod schema;
