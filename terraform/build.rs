//! Compiles Terraform's plugin protocols from the project's own schema files in `proto/` with
//! go-plugin-build (protox parses, tonic-prost-build generates): neither Go, nor network, nor
//! `protoc` is needed.
//!
//! A provider implements only the calls it supports: the generated servers answer the others
//! `Unimplemented`, which Terraform reads as "not supported" for the newer calls (identity,
//! actions, state stores, ...). Each version is compiled on its own, so that its descriptor set
//! (served through reflection) holds only itself.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for schema in ["proto/tfplugin5.proto", "proto/tfplugin6.proto"] {
        go_plugin_build::Builder::new()
            .through_go_plugin(false)
            .default_stubs(true)
            .compile(&[schema], &["proto"])?;
    }
    Ok(())
}
