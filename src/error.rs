//! One error type for the whole crate.
//!
//! Variants group faults so that a caller can match on what went wrong; the messages keep
//! go-plugin's own wording where go-plugin has a fixed text (so logs read the same on both sides)
//! and add what to do about it where that helps.

use std::io;

/// Everything that can go wrong while serving or hosting a plugin.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The handshake line could not be parsed or was not acceptable (go-plugin's wording).
    #[error("{0}")]
    Handshake(String),
    /// The peer speaks an incompatible core or app protocol version.
    #[error("{0}")]
    Incompatible(String),
    /// The environment contract between host and plugin was broken (a variable had a bad value).
    #[error("{0}")]
    Env(String),
    /// The magic cookie was missing or wrong: the binary was started by something other than a host.
    #[error("{0}")]
    Cookie(String),
    /// Certificate generation, parsing or TLS configuration failed.
    #[error("TLS: {0}")]
    Tls(String),
    /// A listener could not be created or configured.
    #[error("listener: {0}")]
    Listener(String),
    /// Something took longer than allowed.
    #[error("{0}")]
    Timeout(String),
    /// The plugin process exited (or was never reachable).
    #[error("{0}")]
    PluginExited(String),
    /// A gRPC transport-level failure.
    #[error("gRPC transport: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// A gRPC call failed.
    #[error("gRPC call failed: {0}")]
    Status(#[from] tonic::Status),
    /// A net/rpc call returned an error (the remote error text, verbatim).
    #[error("{0}")]
    Rpc(String),
    /// A gob stream could not be read or written.
    #[error("gob: {0}")]
    Gob(String),
    /// The configuration given to this crate is inconsistent.
    #[error("{0}")]
    Config(String),
    /// An operating-system error, with what was being done.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        source: io::Error,
    },
}

impl Error {
    /// Wraps an I/O error with a description of what was being done.
    pub fn io(context: impl Into<String>, source: io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
