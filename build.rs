//! Compiles go-plugin's internal services (`proto/plugin`: the broker, the controller, stdio) into
//! Rust with go-plugin-build (protox parses, tonic-prost-build generates: no system `protoc`).
//! Terraform's protocols are compiled by the `go-plugin-terraform` crate, the schemas of
//! go-plugin's examples and tests by `go-plugin-schemas`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    go_plugin_build::Builder::new()
        // This crate is where the re-exports live: its code names tonic and prost directly.
        .through_go_plugin(false)
        .compile(
            &[
                "proto/plugin/grpc_broker.proto",
                "proto/plugin/grpc_controller.proto",
                "proto/plugin/grpc_stdio.proto",
            ],
            &["proto"],
        )
}
