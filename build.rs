//! Compiles `proto/` into Rust with tonic-prost-build, parsing the files with protox so that no
//! system `protoc` is needed.
//!
//! Each proto package set is compiled on its own into a sub-folder of `OUT_DIR`: several example
//! schemas share go-plugin's package name `proto` (as they do in Go, where they live in separate Go
//! packages), so they cannot be compiled together.

use std::path::{Path, PathBuf};

/// (output sub-folder, proto files relative to `proto/`, emit a file descriptor set for reflection)
const SETS: &[(&str, &[&str], bool)] = &[
    (
        "plugin",
        &[
            "plugin/grpc_broker.proto",
            "plugin/grpc_controller.proto",
            "plugin/grpc_stdio.proto",
        ],
        true,
    ),
    ("kv", &["examples/kv/kv.proto"], true),
    ("counter", &["examples/counter/counter.proto"], true),
    ("streamer", &["examples/streamer/streamer.proto"], true),
    ("grpctest", &["grpctest/test.proto"], true),
    ("bench", &["bench/bench.proto"], false),
];

/// Terraform's provider protocols: the project's own schema files (see their header comments),
/// compiled under the `terraform` feature. (output sub-folder, proto file relative to `proto/`)
const TERRAFORM_SETS: &[(&str, &str)] = &[
    ("tfplugin5", "terraform/tfplugin5.proto"),
    ("tfplugin6", "terraform/tfplugin6.proto"),
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    for (name, files, descriptor) in SETS {
        compile_set(&out_dir.join(name), files, "proto", *descriptor, false)?;
    }
    if std::env::var_os("CARGO_FEATURE_TERRAFORM").is_some() {
        for (name, file) in TERRAFORM_SETS {
            // A provider implements only the calls it supports; Terraform treats `Unimplemented` on
            // the newer calls (identity, actions, state stores, ...) as "not supported".
            compile_set(&out_dir.join(name), &[file], "proto", true, true)?;
        }
    }
    Ok(())
}

fn compile_set(
    out: &Path,
    files: &[&str],
    include: &str,
    descriptor: bool,
    default_stubs: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(out)?;
    let fds = protox::compile(files, [include])?;
    if descriptor {
        std::fs::write(
            out.join("descriptor.bin"),
            prost::Message::encode_to_vec(&fds),
        )?;
    }
    tonic_prost_build::configure()
        .generate_default_stubs(default_stubs)
        .out_dir(out)
        .compile_fds(fds)?;
    Ok(())
}
