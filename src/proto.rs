//! Generated protobuf code: go-plugin's internal services (package `plugin`), compiled from
//! `proto/` by `build.rs`. (Terraform's protocols are the `go-plugin-terraform`
//! crate's; the schemas of go-plugin's examples and test suite are the unpublished
//! `go-plugin-schemas` crate's.)

/// go-plugin's internal services: `plugin.GRPCBroker`, `plugin.GRPCController`, `plugin.GRPCStdio`.
pub mod plugin {
    #![allow(missing_docs, clippy::all)]
    include!(concat!(env!("OUT_DIR"), "/plugin.rs"));
    /// Encoded file descriptor set, for gRPC reflection.
    #[cfg(feature = "reflection")]
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/plugin.descriptor.bin"));
}
