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

/// The Go module that ships Terraform's protocol schemas, and the version they are taken from.
const TERRAFORM_PLUGIN_GO: &str = "github.com/hashicorp/terraform-plugin-go@v0.31.0";

/// (output sub-folder, schema path inside the terraform-plugin-go module)
const TERRAFORM_SETS: &[(&str, &str)] = &[
    ("tfplugin5", "tfprotov5/internal/tfplugin5/tfplugin5.proto"),
    ("tfplugin6", "tfprotov6/internal/tfplugin6/tfplugin6.proto"),
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    println!("cargo:rerun-if-env-changed=TFPLUGIN_PROTO_DIR");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    for (name, files, descriptor) in SETS {
        compile_set(&out_dir.join(name), files, "proto", *descriptor, false)?;
    }
    if std::env::var_os("CARGO_FEATURE_TERRAFORM").is_some() {
        let module = terraform_plugin_go_dir()?;
        for (name, file) in TERRAFORM_SETS {
            // A provider implements only the calls it supports; Terraform treats `Unimplemented` on
            // the newer calls (identity, actions, state stores, ...) as "not supported".
            compile_set(&out_dir.join(name), &[file], &module, true, true)?;
        }
    }
    Ok(())
}

/// The folder of the terraform-plugin-go module: `TFPLUGIN_PROTO_DIR`, or the Go module cache after
/// `go mod download`.
fn terraform_plugin_go_dir() -> Result<String, Box<dyn std::error::Error>> {
    if let Ok(dir) = std::env::var("TFPLUGIN_PROTO_DIR") {
        return Ok(dir);
    }
    let output = std::process::Command::new("go")
        .args(["mod", "download", "-json", TERRAFORM_PLUGIN_GO])
        .env("GOTOOLCHAIN", "local")
        .env("GOFLAGS", "")
        .output()
        .map_err(|e| {
            format!(
                "the `terraform` feature needs Go to fetch Terraform's protocol schemas \
                 ({TERRAFORM_PLUGIN_GO}), but `go` could not be run: {e}. Install Go, or set \
                 TFPLUGIN_PROTO_DIR to a checkout of that module."
            )
        })?;
    let info: serde_json::Value = serde_json::from_slice(&output.stdout).map_err(|e| {
        format!(
            "`go mod download -json {TERRAFORM_PLUGIN_GO}` did not print JSON ({e}); stderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    })?;
    match info["Dir"].as_str() {
        Some(dir) if output.status.success() => Ok(dir.to_string()),
        _ => Err(format!(
            "`go mod download {TERRAFORM_PLUGIN_GO}` failed: {}",
            info["Error"]
                .as_str()
                .unwrap_or("no module folder reported")
        )
        .into()),
    }
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
