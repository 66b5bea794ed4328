//! Compiles `proto/` with go-plugin-build, as a user's crate would: the code goes through
//! go-plugin's re-exports, and each client can be dispensed typed (`Host::client`).
//!
//! Each schema is compiled into a sub-folder of `OUT_DIR` of its own: several share go-plugin's
//! package name `proto` (as in Go, where they live in separate Go packages).

use std::path::PathBuf;

/// (output sub-folder, schema file)
const SETS: &[(&str, &str)] = &[
    ("kv", "proto/examples/kv/kv.proto"),
    ("counter", "proto/examples/counter/counter.proto"),
    ("streamer", "proto/examples/streamer/streamer.proto"),
    ("grpctest", "proto/grpctest/test.proto"),
    ("bench", "proto/bench/bench.proto"),
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    for (name, file) in SETS {
        go_plugin_build::Builder::new()
            .out_dir(out_dir.join(name))
            .compile(&[file], &["proto"])?;
    }
    Ok(())
}
