//! Compiles go-plugin's internal services (`proto/plugin`: the broker, the controller, stdio) into
//! Rust with tonic-prost-build, parsing the files with protox so that no system `protoc` is
//! needed. (Terraform's protocols are compiled by the `go-plugin-terraform` crate, the schemas of
//! go-plugin's examples and tests by `go-plugin-schemas`.)

use std::path::PathBuf;

const FILES: &[&str] = &[
    "plugin/grpc_broker.proto",
    "plugin/grpc_controller.proto",
    "plugin/grpc_stdio.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let out = PathBuf::from(std::env::var("OUT_DIR")?).join("plugin");
    std::fs::create_dir_all(&out)?;
    let fds = protox::compile(FILES, ["proto"])?;
    // Served by gRPC reflection next to the plugin's own services.
    std::fs::write(
        out.join("descriptor.bin"),
        prost::Message::encode_to_vec(&fds),
    )?;
    tonic_prost_build::configure()
        .out_dir(&out)
        .compile_fds(fds)?;
    Ok(())
}
