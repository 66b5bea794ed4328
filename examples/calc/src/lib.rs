//! The calc example: a plugin (`calc_plugin`) and a host (`calc_host`) of a service of their own,
//! `calc.Calculator` in `proto/calc.proto`, compiled by go-plugin-build from `build.rs`. The Go
//! counterparts are in `go-testdata/calc`; `tests/calc.rs` runs each Rust side against the other
//! language's.

use go_plugin::handshake::HandshakeConfig;

/// The code of `proto/calc.proto`: messages, `calculator_server`, `calculator_client`,
/// `operator_server`, `operator_client`, and `FILE_DESCRIPTOR_SET`.
pub mod calc {
    go_plugin::include_proto!("calc");
}

/// The handshake both sides share (the Go ones too).
pub fn handshake() -> HandshakeConfig {
    HandshakeConfig::new(1, "CALC_PLUGIN", "calculate")
}
