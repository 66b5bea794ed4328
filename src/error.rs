//! One error type for the whole crate.
//!
//! Variants group faults so that a caller can match on what went wrong; the messages keep
//! go-plugin's own wording where go-plugin has a fixed text (so logs read the same on both sides)
//! and add what to do about it where that helps.

use std::io;
use std::path::PathBuf;
use std::process::ExitStatus;

/// Everything that can go wrong while serving or hosting a plugin.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The handshake line could not be parsed or was not acceptable (go-plugin's wording).
    #[error("{0}")]
    Handshake(String),
    /// The plugin speaks a core or app protocol version the host does not (go-plugin's wording).
    #[error("{message}")]
    Incompatible {
        /// The version the plugin announced, as it wrote it.
        plugin: String,
        /// The versions the host accepts (the core version, for a core mismatch).
        host: Vec<u32>,
        /// go-plugin's text, with what to do.
        message: String,
    },
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
    #[error("{message}")]
    Timeout {
        /// What did not finish in time.
        what: TimedOut,
        /// What happened, with what to do.
        message: String,
    },
    /// The plugin process exited before the host could connect to it.
    #[error("plugin exited before we could connect{}{}",
        .status.map(|s| format!(" ({s})")).unwrap_or_default(),
        if .last_stderr.is_empty() { String::new() } else { format!("; its last stderr lines:\n{}", .last_stderr.join("\n")) })]
    ExitedBeforeConnect {
        /// Its exit status, when known.
        status: Option<ExitStatus>,
        /// The last lines it wrote to stderr (its own explanation, usually).
        last_stderr: Vec<String>,
    },
    /// The plugin process exited (or was never reachable).
    #[error("{0}")]
    PluginExited(String),
    /// The plugin's executable does not have the expected SHA-256 (go-plugin's `SecureConfig`);
    /// nothing was started.
    #[error("checksums did not match: {} has SHA-256 {}, the host expects {}", .path.display(), hex(.actual), hex(.expected))]
    ChecksumMismatch {
        /// The executable that was checked.
        path: PathBuf,
        /// Its SHA-256.
        actual: Vec<u8>,
        /// The SHA-256 the host was configured with.
        expected: Vec<u8>,
    },
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

/// What did not finish in time ([`Error::Timeout`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimedOut {
    /// The plugin did not print its handshake line within the start timeout.
    Start,
    /// The plugin accepted the connection but did not answer within the start timeout.
    Connect,
    /// The other side did not announce a broker id within 5 s (gRPC broker).
    BrokerAnnouncement,
    /// The other side did not open a brokered stream within 5 s (net/rpc MuxBroker).
    BrokerAccept,
}

/// Lower-case hex, as go-plugin prints digests.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Error {
    pub(crate) fn timeout(what: TimedOut, message: impl Into<String>) -> Self {
        Error::Timeout {
            what,
            message: message.into(),
        }
    }

    /// Wraps an I/O error with a description of what was being done.
    pub fn io(context: impl Into<String>, source: io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

/// So that `?` works inside a tonic service method (a plugin dialing the host's broker, say): a
/// gRPC status passes through unchanged; a timeout becomes `DEADLINE_EXCEEDED`, a peer that went
/// away `UNAVAILABLE`, anything else `INTERNAL`, each with the error's text.
impl From<Error> for tonic::Status {
    fn from(error: Error) -> Self {
        match error {
            Error::Status(status) => status,
            Error::Timeout { message, .. } => tonic::Status::deadline_exceeded(message),
            e @ (Error::PluginExited(_)
            | Error::ExitedBeforeConnect { .. }
            | Error::Transport(_)) => tonic::Status::unavailable(e.to_string()),
            e => tonic::Status::internal(e.to_string()),
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::{Error, TimedOut};
    use tonic::Code;

    #[test]
    fn errors_become_statuses_a_grpc_caller_can_tell_apart() {
        let status = |e: Error| tonic::Status::from(e);
        assert_eq!(
            status(Error::Status(tonic::Status::not_found("x"))).code(),
            Code::NotFound
        );
        let timeout = status(Error::timeout(TimedOut::BrokerAnnouncement, "no id 3"));
        assert_eq!(
            (timeout.code(), timeout.message()),
            (Code::DeadlineExceeded, "no id 3")
        );
        assert_eq!(
            status(Error::PluginExited("gone".into())).code(),
            Code::Unavailable
        );
        let config = status(Error::Config("bad".into()));
        assert_eq!((config.code(), config.message()), (Code::Internal, "bad"));
    }
}
