//! The schemas of go-plugin's examples (`kv`, `counter`, `streamer`), of its test suite
//! (`grpctest`) and of `make bench` (`bench`), compiled from `proto/`. Examples, tests and
//! benchmarks build them; no published crate exposes them.

/// `proto.KV` of go-plugin's `examples/grpc`.
pub mod kv {
    #![allow(missing_docs, clippy::all)]
    include!(concat!(env!("OUT_DIR"), "/kv/proto.rs"));
    /// Encoded file descriptor set, for gRPC reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/kv/proto.descriptor.bin"));
}

/// `proto.Counter` and `proto.AddHelper` of go-plugin's `examples/bidirectional`.
pub mod counter {
    #![allow(missing_docs, clippy::all)]
    include!(concat!(env!("OUT_DIR"), "/counter/proto.rs"));
    /// Encoded file descriptor set, for gRPC reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/counter/proto.descriptor.bin"));
}

/// `proto.StreamerService` of go-plugin's `examples/streaming`.
pub mod streamer {
    #![allow(missing_docs, clippy::all)]
    include!(concat!(env!("OUT_DIR"), "/streamer/proto.rs"));
    /// Encoded file descriptor set, for gRPC reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/streamer/proto.descriptor.bin"));
}

/// `grpctest.Test` and `grpctest.PingPong` of go-plugin's test suite.
pub mod grpctest {
    #![allow(missing_docs, clippy::all)]
    include!(concat!(env!("OUT_DIR"), "/grpctest/grpctest.rs"));
    /// Encoded file descriptor set, for gRPC reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(
        env!("OUT_DIR"),
        "/grpctest/grpctest.descriptor.bin"
    ));
}

/// `bench.Bench`, the service `make bench` measures (Rust and Go plugins and hosts).
pub mod bench {
    #![allow(missing_docs, clippy::all)]
    include!(concat!(env!("OUT_DIR"), "/bench/bench.rs"));
}
