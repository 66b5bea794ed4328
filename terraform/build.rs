//! Compiles Terraform's plugin protocols from the project's own schema files in `proto/` with
//! tonic-prost-build, parsing them with protox: neither Go, nor network, nor `protoc` is needed.
//!
//! A provider implements only the calls it supports: the generated servers answer the others
//! `Unimplemented`, which Terraform reads as "not supported" for the newer calls (identity,
//! actions, state stores, ...).

use std::path::PathBuf;

/// (output sub-folder, schema file relative to `proto/`)
const SETS: &[(&str, &str)] = &[
    ("tfplugin5", "tfplugin5.proto"),
    ("tfplugin6", "tfplugin6.proto"),
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    for (name, file) in SETS {
        let out = out_dir.join(name);
        std::fs::create_dir_all(&out)?;
        let fds = protox::compile([file], ["proto"])?;
        std::fs::write(
            out.join("descriptor.bin"),
            prost::Message::encode_to_vec(&fds),
        )?;
        tonic_prost_build::configure()
            .generate_default_stubs(true)
            .out_dir(&out)
            .compile_fds(fds)?;
    }
    Ok(())
}
