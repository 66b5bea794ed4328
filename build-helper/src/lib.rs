//! # go-plugin-build
//!
//! Compiles your own `.proto` files for [go-plugin] from `build.rs`, with no `protoc` installed
//! (the files are parsed by [protox]):
//!
//! ```no_run
//! // build.rs
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     go_plugin_build::compile(&["proto/calc.proto"], &["proto"])
//! }
//! ```
//!
//! and in the crate, one line per protobuf package:
//!
//! ```text
//! mod calc {
//!     go_plugin::include_proto!("calc");
//! }
//! ```
//!
//! For each protobuf package `P` the build writes into `OUT_DIR`:
//!
//! - `P.rs`: the messages (prost) and the services' clients and servers (tonic), whose paths go
//!   through go-plugin's re-exports (`::go_plugin::tonic`, `::go_plugin::prost`, ...), so the crate
//!   needs no `tonic` or `prost` dependency of its own; plus, for each service client, an
//!   implementation of `go_plugin::host::GrpcClient`, so that a host gets it typed with
//!   `host.client::<CalculatorClient<_>>("calc")`;
//! - `P.descriptor.bin`: the encoded `FileDescriptorSet` of the compiled files and their imports,
//!   which `include_proto!` names `FILE_DESCRIPTOR_SET` and a plugin offers through gRPC
//!   reflection with `PluginSet::reflection`.
//!
//! [go-plugin]: https://docs.rs/go-plugin
//! [protox]: https://docs.rs/protox

#![warn(missing_docs)]

mod paths;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use paths::{client_impls, reroot};

/// The error of a build step: a schema that does not parse, a file that cannot be written.
pub type Error = Box<dyn std::error::Error>;

/// Compiles `protos` (paths of `.proto` files), resolving imports in `includes`, into `OUT_DIR`
/// with the defaults of [`Builder`]. Call it from `build.rs`.
pub fn compile(protos: &[impl AsRef<Path>], includes: &[impl AsRef<Path>]) -> Result<(), Error> {
    Builder::new().compile(protos, includes)
}

/// How schemas are compiled; [`compile`] uses the defaults.
#[derive(Clone, Debug)]
pub struct Builder {
    out_dir: Option<PathBuf>,
    through_go_plugin: bool,
    client_impls: bool,
    default_stubs: bool,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    /// Code through go-plugin's re-exports, with `GrpcClient` implementations, into `OUT_DIR`.
    pub fn new() -> Self {
        Builder {
            out_dir: None,
            through_go_plugin: true,
            client_impls: true,
            default_stubs: false,
        }
    }

    /// Writes into `dir` instead of `OUT_DIR` (created when missing). Schemas of the same
    /// protobuf package that are used apart need folders of their own.
    pub fn out_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.out_dir = Some(dir.into());
        self
    }

    /// `false` makes the code name `tonic`, `prost`, `prost_types` and `tonic_prost` directly
    /// (as tonic-prost-build does) and leaves out the `GrpcClient` implementations: for crates
    /// that depend on those crates themselves, go-plugin included.
    pub fn through_go_plugin(mut self, on: bool) -> Self {
        self.through_go_plugin = on;
        self
    }

    /// `false` leaves out the `go_plugin::host::GrpcClient` implementations of the clients.
    pub fn client_impls(mut self, on: bool) -> Self {
        self.client_impls = on;
        self
    }

    /// `true` gives the generated service traits default methods that answer `Unimplemented`
    /// (useful for large protocols implemented in part).
    pub fn default_stubs(mut self, on: bool) -> Self {
        self.default_stubs = on;
        self
    }

    /// Compiles `protos`, resolving imports in `includes`; see the crate docs for what is written.
    pub fn compile(
        &self,
        protos: &[impl AsRef<Path>],
        includes: &[impl AsRef<Path>],
    ) -> Result<(), Error> {
        let out = match &self.out_dir {
            Some(dir) => dir.clone(),
            None => PathBuf::from(std::env::var("OUT_DIR").map_err(|_| {
                "OUT_DIR is not set: call go_plugin_build from a build script, or set Builder::out_dir"
            })?),
        };
        std::fs::create_dir_all(&out)?;
        for include in includes {
            println!("cargo:rerun-if-changed={}", include.as_ref().display());
        }
        for proto in protos {
            println!("cargo:rerun-if-changed={}", proto.as_ref().display());
        }
        let fds = protox::compile(protos, includes).map_err(|e| match e.file() {
            Some(file) => format!("{file}: {e}"),
            None => e.to_string(),
        })?;
        // Well-known types come from prost-types; every other package gets code of its own.
        let packages: BTreeSet<String> = fds
            .file
            .iter()
            .map(|f| f.package().to_string())
            .filter(|package| package != "google.protobuf")
            .collect();
        let descriptor = prost::Message::encode_to_vec(&fds);
        for package in &packages {
            std::fs::write(out.join(format!("{package}.descriptor.bin")), &descriptor)?;
        }

        let mut config = tonic_prost_build::Config::new();
        let mut builder = tonic_prost_build::configure()
            .out_dir(&out)
            .generate_default_stubs(self.default_stubs);
        if self.through_go_plugin {
            config.prost_path("::go_plugin::prost");
            config.prost_types_path("::go_plugin::prost_types");
            builder = builder.codec_path("::go_plugin::tonic_prost::ProstCodec");
        }
        builder.compile_fds_with_config(fds, config)?;

        if self.through_go_plugin {
            for package in &packages {
                let file = out.join(format!("{}.rs", rust_file_stem(package)));
                let Ok(code) = std::fs::read_to_string(&file) else {
                    continue;
                };
                let mut code = reroot(&code, "tonic", "::go_plugin::tonic");
                if self.client_impls {
                    code.push_str(&client_impls(&code));
                }
                std::fs::write(&file, code)?;
            }
        }
        Ok(())
    }
}

/// The file prost-build writes a package's code into (`_` for the package-less).
fn rust_file_stem(package: &str) -> &str {
    if package.is_empty() {
        "_"
    } else {
        package
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiles_a_schema_into_code_and_a_descriptor() {
        let dir = std::env::temp_dir().join(format!("gpb-{}", std::process::id()));
        let proto_dir = dir.join("proto");
        std::fs::create_dir_all(&proto_dir).unwrap();
        std::fs::write(
            proto_dir.join("calc.proto"),
            "syntax = \"proto3\"; package calc;\n\
             import \"google/protobuf/timestamp.proto\";\n\
             message Number { int64 value = 1; google.protobuf.Timestamp at = 2; }\n\
             service Calculator { rpc Zero(Number) returns (Number); }\n",
        )
        .unwrap();
        let out = dir.join("out");
        Builder::new()
            .out_dir(&out)
            .compile(&[proto_dir.join("calc.proto")], &[&proto_dir])
            .unwrap();
        let code = std::fs::read_to_string(out.join("calc.rs")).unwrap();
        assert!(code.contains("::go_plugin::prost::Message"), "{code}");
        assert!(
            code.contains("use ::go_plugin::tonic::codegen::*;"),
            "{code}"
        );
        assert!(
            code.contains("::go_plugin::prost_types::Timestamp"),
            "{code}"
        );
        assert!(
            code.contains("::go_plugin::tonic_prost::ProstCodec"),
            "{code}"
        );
        assert!(!code.contains(" tonic::"), "{code}");
        assert!(
            code.contains("impl ::go_plugin::host::GrpcClient for calculator_client::CalculatorClient<::go_plugin::tonic::transport::Channel>"),
            "{code}"
        );
        let descriptor = std::fs::read(out.join("calc.descriptor.bin")).unwrap();
        let fds: tonic_prost_build::FileDescriptorSet =
            prost::Message::decode(descriptor.as_slice()).unwrap();
        let names: Vec<&str> = fds.file.iter().map(|f| f.name()).collect();
        assert!(names.contains(&"calc.proto"), "{names:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_schema_that_does_not_parse_names_the_file_and_line() {
        let dir = std::env::temp_dir().join(format!("gpb-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("bad.proto"), "syntax = \"proto3\";\nmessage {").unwrap();
        let err = Builder::new()
            .out_dir(dir.join("out"))
            .compile(&[dir.join("bad.proto")], &[&dir])
            .unwrap_err()
            .to_string();
        assert!(err.contains("bad.proto"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// The README's examples, compiled by `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
