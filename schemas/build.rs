//! Compiles `proto/` with tonic-prost-build, parsing with protox (no system `protoc`).
//!
//! Each schema is compiled on its own into a sub-folder of `OUT_DIR`: several share go-plugin's
//! package name `proto` (as in Go, where they live in separate Go packages).

use std::path::PathBuf;

/// (output sub-folder, proto file relative to `proto/`, emit a file descriptor set for reflection)
const SETS: &[(&str, &str, bool)] = &[
    ("kv", "examples/kv/kv.proto", true),
    ("counter", "examples/counter/counter.proto", true),
    ("streamer", "examples/streamer/streamer.proto", true),
    ("grpctest", "grpctest/test.proto", true),
    ("bench", "bench/bench.proto", false),
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    for (name, file, descriptor) in SETS {
        let out = out_dir.join(name);
        std::fs::create_dir_all(&out)?;
        let fds = protox::compile([file], ["proto"])?;
        if *descriptor {
            std::fs::write(
                out.join("descriptor.bin"),
                prost::Message::encode_to_vec(&fds),
            )?;
        }
        tonic_prost_build::configure()
            .out_dir(&out)
            .compile_fds(fds)?;
    }
    Ok(())
}
