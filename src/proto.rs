//! Generated protobuf code: go-plugin's internal services (package `plugin`) and the schemas of
//! go-plugin's examples and test suite, compiled from `proto/` by `build.rs`.

/// go-plugin's internal services: `plugin.GRPCBroker`, `plugin.GRPCController`, `plugin.GRPCStdio`.
pub mod plugin {
    #![allow(missing_docs, clippy::all)]
    include!(concat!(env!("OUT_DIR"), "/plugin/plugin.rs"));
    /// Encoded file descriptor set, for gRPC reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/plugin/descriptor.bin"));
}

/// `proto.KV` of go-plugin's `examples/grpc`.
pub mod kv {
    #![allow(missing_docs, clippy::all)]
    include!(concat!(env!("OUT_DIR"), "/kv/proto.rs"));
    /// Encoded file descriptor set, for gRPC reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/kv/descriptor.bin"));
}

/// `proto.Counter` and `proto.AddHelper` of go-plugin's `examples/bidirectional`.
pub mod counter {
    #![allow(missing_docs, clippy::all)]
    include!(concat!(env!("OUT_DIR"), "/counter/proto.rs"));
    /// Encoded file descriptor set, for gRPC reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/counter/descriptor.bin"));
}

/// `proto.StreamerService` of go-plugin's `examples/streaming`.
pub mod streamer {
    #![allow(missing_docs, clippy::all)]
    include!(concat!(env!("OUT_DIR"), "/streamer/proto.rs"));
    /// Encoded file descriptor set, for gRPC reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/streamer/descriptor.bin"));
}

/// `grpctest.Test` and `grpctest.PingPong` of go-plugin's test suite.
pub mod grpctest {
    #![allow(missing_docs, clippy::all)]
    include!(concat!(env!("OUT_DIR"), "/grpctest/grpctest.rs"));
    /// Encoded file descriptor set, for gRPC reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/grpctest/descriptor.bin"));
}

/// `bench.Bench`, the service `make bench` measures (Rust and Go plugins and hosts).
pub mod bench {
    #![allow(missing_docs, clippy::all)]
    include!(concat!(env!("OUT_DIR"), "/bench/bench.rs"));
}

/// Terraform's plugin protocol 5 (`tfplugin5.Provider`), from the project's own schema
/// file `proto/terraform/tfplugin5.proto`.
#[cfg(feature = "terraform")]
pub mod tfplugin5 {
    #![allow(missing_docs, clippy::all)]
    include!(concat!(env!("OUT_DIR"), "/tfplugin5/tfplugin5.rs"));
    /// Encoded file descriptor set, for gRPC reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/tfplugin5/descriptor.bin"));
}

/// Terraform's plugin protocol 6 (`tfplugin6.Provider`), from the project's own schema
/// file `proto/terraform/tfplugin6.proto`.
#[cfg(feature = "terraform")]
pub mod tfplugin6 {
    #![allow(missing_docs, clippy::all)]
    include!(concat!(env!("OUT_DIR"), "/tfplugin6/tfplugin6.rs"));
    /// Encoded file descriptor set, for gRPC reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/tfplugin6/descriptor.bin"));
}
