//! The plugin's one listener (go-plugin's `serverListener`).
//!
//! * **Unix** (the default on Unix, as go-plugin does): a socket named `plugin<random digits>` in
//!   `PLUGIN_UNIX_SOCKET_DIR` when the host set it, else in the temp dir (`$TMPDIR` or `/tmp`).
//!   With `PLUGIN_UNIX_SOCKET_GROUP` the socket is given to that group (name or gid) with mode
//!   0660. The socket file is removed when the listener is dropped.
//! * **TCP**: `127.0.0.1:<port>` for the first free port of `PLUGIN_MIN_PORT..=PLUGIN_MAX_PORT`
//!   (both unset: any free port).
//!
//! The listener is bound *before* the handshake line is printed, so the host can connect at once.

use std::ffi::CString;
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use tokio::net::{TcpListener, UnixListener};

use crate::env::{Group, PluginEnv, UNIX_SOCKET_GROUP};
use crate::error::Error;
use crate::handshake::Network;

/// Longest path a Unix socket can have (`sun_path` is 108 bytes including the final NUL).
pub(crate) const MAX_SOCKET_PATH: usize = 107;

/// Which kind of listener a plugin opens.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ListenerKind {
    /// What go-plugin does on this platform: a Unix socket.
    #[default]
    Auto,
    /// TCP on 127.0.0.1 within the host's port range.
    Tcp,
}

/// A bound listener and the address the handshake announces.
#[derive(Debug)]
pub enum PluginListener {
    /// A Unix socket; the file is removed on drop.
    Unix(UnixListener, SocketFile),
    /// A TCP socket.
    Tcp(TcpListener),
}

impl PluginListener {
    /// Binds the listener the environment asks for.
    pub async fn bind(kind: ListenerKind, env: &PluginEnv) -> Result<PluginListener, Error> {
        match kind {
            ListenerKind::Auto => bind_unix(env),
            ListenerKind::Tcp => bind_tcp(env).await,
        }
    }

    /// The network the handshake announces.
    pub fn network(&self) -> Network {
        match self {
            PluginListener::Unix(..) => Network::Unix,
            PluginListener::Tcp(_) => Network::Tcp,
        }
    }

    /// The address the handshake announces (socket path or `127.0.0.1:<port>`).
    pub fn address(&self) -> String {
        match self {
            PluginListener::Unix(_, file) => file.0.display().to_string(),
            PluginListener::Tcp(l) => l.local_addr().map(|a| a.to_string()).unwrap_or_default(),
        }
    }
}

impl PluginListener {
    /// Removes the socket file now (it is also removed on drop); the listener stops being reachable.
    pub fn remove_socket(&self) {
        if let PluginListener::Unix(_, file) = self {
            let _ = std::fs::remove_file(&file.0);
        }
    }
}

/// A socket file that is removed when dropped (go-plugin's `rmListener`).
#[derive(Debug)]
pub struct SocketFile(pub PathBuf);

impl Drop for SocketFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn bind_unix(env: &PluginEnv) -> Result<PluginListener, Error> {
    let dir = env
        .unix_socket_dir
        .clone()
        .unwrap_or_else(std::env::temp_dir);
    for _ in 0..100 {
        let path = dir.join(format!("plugin{}", random_digits()));
        if path.as_os_str().len() > MAX_SOCKET_PATH {
            return Err(Error::Listener(format!(
                "socket path {} is {} bytes, over the {MAX_SOCKET_PATH}-byte limit of Unix sockets; \
                 set PLUGIN_UNIX_SOCKET_DIR or TMPDIR to a shorter directory",
                path.display(),
                path.as_os_str().len()
            )));
        }
        match UnixListener::bind(&path) {
            Ok(listener) => {
                let file = SocketFile(path);
                if let Some(group) = &env.unix_socket_group {
                    set_group_permissions(&file.0, group)?;
                }
                return Ok(PluginListener::Unix(listener, file));
            }
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => continue,
            Err(e) => {
                return Err(Error::io(
                    format!("binding Unix socket {}", path.display()),
                    e,
                ))
            }
        }
    }
    Err(Error::Listener(format!(
        "no free socket name in {}",
        dir.display()
    )))
}

async fn bind_tcp(env: &PluginEnv) -> Result<PluginListener, Error> {
    let (min, max) = env.port_range()?;
    for port in min..=max {
        if let Ok(listener) = TcpListener::bind(("127.0.0.1", port)).await {
            return Ok(PluginListener::Tcp(listener));
        }
    }
    Err(Error::Listener(format!(
        "couldn't bind plugin TCP listener (no free port in {min}..={max})"
    )))
}

/// chgrp + chmod 0660, as go-plugin does for `PLUGIN_UNIX_SOCKET_GROUP`.
fn set_group_permissions(path: &Path, group: &Group) -> Result<(), Error> {
    let gid = resolve_group(group)?;
    let c_path = CString::new(path.as_os_str().as_bytes()).map_err(|_| {
        Error::Listener(format!(
            "socket path {} contains a NUL byte",
            path.display()
        ))
    })?;
    // SAFETY: c_path is a valid NUL-terminated string; uid -1 leaves the owner unchanged.
    if unsafe { libc::chown(c_path.as_ptr(), u32::MAX, gid) } != 0 {
        return Err(Error::io(
            format!(
                "setting group {gid} on {} ({UNIX_SOCKET_GROUP})",
                path.display()
            ),
            io::Error::last_os_error(),
        ));
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))
        .map_err(|e| Error::io(format!("chmod 0660 {}", path.display()), e))
}

/// The gid of a group given by number or name.
pub fn resolve_group(group: &Group) -> Result<u32, Error> {
    match group {
        Group::Id(gid) => Ok(*gid),
        Group::Name(name) => lookup_gid(name),
    }
}

/// The gid of a group name (`getgrnam_r`).
fn lookup_gid(name: &str) -> Result<u32, Error> {
    let not_found = || {
        Error::Listener(format!(
            "failed to find gid from {name:?}: no such group ({UNIX_SOCKET_GROUP} names a group that does not exist here)"
        ))
    };
    let c_name = CString::new(name).map_err(|_| not_found())?;
    let mut buf = vec![0u8; 16 * 1024];
    // SAFETY: all pointers refer to live, correctly sized buffers for the duration of the call.
    unsafe {
        let mut group: libc::group = std::mem::zeroed();
        let mut result: *mut libc::group = std::ptr::null_mut();
        let rc = libc::getgrnam_r(
            c_name.as_ptr(),
            &mut group,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut result,
        );
        if rc != 0 || result.is_null() {
            return Err(not_found());
        }
        Ok(group.gr_gid)
    }
}

/// Random decimal digits for a socket name (like Go's `os.CreateTemp` pattern `plugin*`).
fn random_digits() -> u32 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    hasher.finish() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_with_dir(dir: &Path) -> PluginEnv {
        PluginEnv {
            unix_socket_dir: Some(dir.to_path_buf()),
            ..PluginEnv::default()
        }
    }

    #[tokio::test]
    async fn unix_socket_is_made_in_the_requested_dir_and_removed_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let listener = PluginListener::bind(ListenerKind::Auto, &env_with_dir(dir.path()))
            .await
            .unwrap();
        let address = PathBuf::from(listener.address());
        assert_eq!(listener.network(), Network::Unix);
        assert_eq!(address.parent(), Some(dir.path()));
        assert!(address
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("plugin"));
        assert!(address.exists());
        drop(listener);
        assert!(!address.exists());
    }

    #[tokio::test]
    async fn group_by_number_sets_mode_0660() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let dir = tempfile::tempdir().unwrap();
        // SAFETY: getegid has no preconditions.
        let gid = unsafe { libc::getegid() };
        let env = PluginEnv {
            unix_socket_group: Some(Group::Id(gid)),
            ..env_with_dir(dir.path())
        };
        let listener = PluginListener::bind(ListenerKind::Auto, &env)
            .await
            .unwrap();
        let meta = std::fs::metadata(listener.address()).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o660);
        assert_eq!(meta.gid(), gid);
    }

    #[tokio::test]
    async fn unknown_group_name_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let env = PluginEnv {
            unix_socket_group: Some(Group::Name("no-such-group-xyz".into())),
            ..env_with_dir(dir.path())
        };
        let err = PluginListener::bind(ListenerKind::Auto, &env)
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("failed to find gid from \"no-such-group-xyz\""),
            "{err}"
        );
    }

    #[tokio::test]
    async fn overlong_socket_path_is_refused_with_advice() {
        let long = PathBuf::from(format!("/tmp/{}", "d".repeat(120)));
        let err = PluginListener::bind(ListenerKind::Auto, &env_with_dir(&long))
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("108") || err.to_string().contains("limit"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn tcp_listens_on_loopback_within_the_range() {
        let env = PluginEnv::default();
        let listener = PluginListener::bind(ListenerKind::Tcp, &env).await.unwrap();
        assert_eq!(listener.network(), Network::Tcp);
        assert!(listener.address().starts_with("127.0.0.1:"));
    }
}
