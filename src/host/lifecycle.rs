//! [`Host`]: start, dispense, ping, kill — go-plugin's `Client` lifecycle (PROTOCOL.md §7).
//!
//! [`Host::start`] launches the plugin and validates its handshake (go-plugin's `Start`, in
//! `start.rs`); the gRPC
//! connection is made on first use ([`Host::connection`], [`Host::dispense`], [`Host::ping`]),
//! like go-plugin's `Client()`.

use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::attach::{self, AttachedProcess};
use super::config::{ClientSet, HostConfig, Sink};
use super::launch::Launched;
use super::{streams, GrpcBroker, PluginConnection};
use crate::error::{Error, TimedOut};
use crate::grpc::broker::BrokerTls;
use crate::grpc::broker_mux::Multiplex;
use crate::grpc::dial::{channel_over, connect, dial, with_tls};
use crate::handshake::{HandshakeLine, Network, Protocol};
use crate::lock::lock;
use crate::mux::{self, Role};
#[cfg(feature = "netrpc")]
use crate::netrpc::host_side::NetRpcSession;
use crate::reattach::ReattachConfig;

/// How long `kill` waits for the plugin to exit after Shutdown before killing it.
const EXIT_GRACE: Duration = Duration::from_secs(2);

/// A plugin as seen from its host (go-plugin's `Client`). Cheap to clone; clones share the
/// plugin. Dropping the last clone kills a plugin that is still running.
#[derive(Clone)]
pub struct Host {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub(super) config: Mutex<Option<HostConfig>>,
    pub(super) running: tokio::sync::Mutex<Option<Running>>,
    pub(super) reattach: Mutex<Option<ReattachConfig>>,
    pub(super) negotiated: Mutex<u32>,
    pub(super) handshake: Mutex<Option<HandshakeLine>>,
    pub(super) exit_status: Arc<Mutex<Option<ExitStatus>>>,
    pub(super) exited: CancellationToken,
    /// Cancelled by `kill`: a start in progress gives up at once.
    pub(super) killed: CancellationToken,
    /// Why the plugin is not running although its configuration was used: what a later call
    /// reports (a failed, cancelled or killed start).
    pub(super) start_failure: Mutex<Option<String>>,
}

/// What exists once the plugin has started.
pub(super) struct Running {
    /// The process, when this host launched it.
    pub(super) process: Option<Launched>,
    /// A reattached process this host owns (kills); `None` when launched or in test mode.
    pub(super) owned: Option<Arc<dyn AttachedProcess>>,
    pub(super) network: Network,
    pub(super) address: String,
    pub(super) protocol: Protocol,
    pub(super) tls: Option<Arc<rustls::ClientConfig>>,
    pub(super) broker_tls: BrokerTls,
    pub(super) multiplex: bool,
    pub(super) set: ClientSet,
    pub(super) sync: (Option<Sink>, Option<Sink>),
    pub(super) connected: Option<Connected>,
    pub(super) socket_dir: Option<PathBuf>,
    /// The launched plugin's temp dir (see [`plugin_temp_dir`]).
    pub(super) temp_dir: Option<PathBuf>,
    /// How long connecting may take (the start timeout): a peer that accepts the connection and
    /// never answers must not hold the host (and its `kill`) forever.
    pub(super) connect_timeout: Duration,
}

impl Running {
    fn socket_places(&self) -> SocketPlaces {
        SocketPlaces {
            socket_dir: self.socket_dir.clone(),
            temp_dir: self.temp_dir.clone(),
        }
    }
}

/// The protocol side, made on first use.
pub(super) enum Connected {
    Grpc(PluginConnection),
    #[cfg(feature = "netrpc")]
    NetRpc(NetRpcSession),
}

impl Drop for Inner {
    /// The last handle is gone without `kill`: the plugin process is killed by its watcher (its
    /// kill channel closes) and what it cannot clean up itself is removed here, the servers this
    /// side serves through the broker included (even while a dispensed client keeps the broker).
    fn drop(&mut self) {
        if let Some(running) = self.running.get_mut().take() {
            if let Some(Connected::Grpc(connection)) = &running.connected {
                connection.broker.close();
            }
            if running.process.is_some() && running.network == Network::Unix {
                remove_stale_socket(Path::new(&running.address), &running.socket_places());
            }
            remove_socket_dir(running.socket_dir.as_deref());
        }
    }
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host")
            .field("exited", &self.exited())
            .finish_non_exhaustive()
    }
}

impl Host {
    /// A host for the plugin described by `config`; nothing starts until [`Host::start`] or the
    /// first [`Host::dispense`].
    pub fn new(config: HostConfig) -> Host {
        let managed = config.managed;
        let host = Host {
            inner: Arc::new(Inner {
                config: Mutex::new(Some(config)),
                running: tokio::sync::Mutex::new(None),
                reattach: Mutex::new(None),
                negotiated: Mutex::new(0),
                handshake: Mutex::new(None),
                exit_status: Arc::default(),
                exited: CancellationToken::new(),
                killed: CancellationToken::new(),
                start_failure: Mutex::new(None),
            }),
        };
        if managed {
            lock(managed_hosts()).push(Arc::downgrade(&host.inner));
        }
        host
    }

    /// Launches the plugin and validates its handshake, or checks a reattached one is alive
    /// (go-plugin's `Start`); does nothing once started. On any error the process is gone again.
    pub async fn start(&self) -> Result<(), Error> {
        let mut running = self.inner.running.lock().await;
        if running.is_some() {
            return Ok(());
        }
        let Some(config) = lock(&self.inner.config).take() else {
            return Err(Error::Config(
                match lock(&self.inner.start_failure).as_deref() {
                    Some(why) => format!("this plugin is not running: {why}; make a new Host"),
                    None => "this plugin was started and killed; make a new Host".into(),
                },
            ));
        };
        // Stays if this future is dropped before the start ends.
        *lock(&self.inner.start_failure) =
            Some("its start was cancelled before it finished".into());
        match self.start_with(config).await {
            Ok(started) => {
                *lock(&self.inner.start_failure) = None;
                *running = Some(started);
                Ok(())
            }
            Err(e) => {
                *lock(&self.inner.start_failure) = Some(if self.inner.killed.is_cancelled() {
                    "it was killed while it was starting".into()
                } else {
                    format!("it failed to start ({e})")
                });
                Err(e)
            }
        }
    }

    /// The connection to the plugin, made on first use (go-plugin's `Client()`): the gRPC channel,
    /// checked with one health call (a TLS mismatch fails here, named), then the broker and stdio
    /// streams.
    pub async fn connection(&self) -> Result<PluginConnection, Error> {
        self.start().await?;
        let mut guard = self.inner.running.lock().await;
        let running = guard
            .as_mut()
            .ok_or_else(|| Error::PluginExited("the plugin was killed".into()))?;
        match &running.connected {
            Some(Connected::Grpc(connection)) => return Ok(connection.clone()),
            #[cfg(feature = "netrpc")]
            Some(Connected::NetRpc(_)) => return Err(netrpc_has_no_grpc_connection()),
            None => {}
        }
        if running.protocol != Protocol::Grpc {
            return Err(netrpc_has_no_grpc_connection());
        }
        let (announce, announcements) = mpsc::unbounded_channel();
        let broker = GrpcBroker::new(
            announce,
            running.broker_tls.clone(),
            running.socket_dir.clone(),
            None,
        );
        let describe = format!("{}:{}", running.network, running.address);
        let connecting = async {
            let channel = if running.multiplex {
                // One raw connection carries a yamux session; TLS runs inside each stream.
                let raw = dial(running.network, &running.address, None)
                    .await
                    .map_err(|e| {
                        Error::PluginExited(format!(
                            "error connecting to the plugin at {}: {e}",
                            running.address
                        ))
                    })?;
                let (control, streams) = mux::start(raw, Role::Client);
                let session = Multiplex::start(control, streams, None);
                broker.set_multiplex(session.clone());
                let tls = running.tls.clone();
                channel_over("the plugin's yamux session".into(), move || {
                    let (session, tls) = (session.clone(), tls.clone());
                    async move {
                        let stream = session.open().await.map_err(std::io::Error::other)?;
                        with_tls(stream, tls).await
                    }
                })
                .await?
            } else {
                connect(running.network, &running.address, running.tls.clone()).await?
            };
            streams::check_connection(channel.clone(), &describe, running.tls.is_some()).await?;
            Ok::<_, Error>(channel)
        };
        let channel = tokio::time::timeout(running.connect_timeout, connecting)
            .await
            .map_err(|_| connect_timed_out(&describe, running.connect_timeout))??;
        streams::start_broker_stream(channel.clone(), announcements, broker.clone());
        let (stdout, stderr) = running.sync.clone();
        streams::start_stdio_stream(channel.clone(), stdout, stderr);
        let connection = PluginConnection {
            channel,
            broker,
            exited: self.inner.exited.clone(),
        };
        running.connected = Some(Connected::Grpc(connection.clone()));
        Ok(connection)
    }

    /// The net/rpc session of a net/rpc plugin, made on first use.
    #[cfg(feature = "netrpc")]
    pub(super) async fn netrpc(&self) -> Result<NetRpcSession, Error> {
        self.start().await?;
        let mut guard = self.inner.running.lock().await;
        let running = guard
            .as_mut()
            .ok_or_else(|| Error::PluginExited("the plugin was killed".into()))?;
        if let Some(Connected::NetRpc(session)) = &running.connected {
            return Ok(session.clone());
        }
        let (stdout, stderr) = running.sync.clone();
        let connecting = NetRpcSession::connect(
            running.network,
            &running.address,
            running.tls.clone(),
            stdout,
            stderr,
        );
        let describe = format!("{}:{}", running.network, running.address);
        let session = tokio::time::timeout(running.connect_timeout, connecting)
            .await
            .map_err(|_| connect_timed_out(&describe, running.connect_timeout))??;
        running.connected = Some(Connected::NetRpc(session.clone()));
        Ok(session)
    }

    /// Checks that the plugin answers (go-plugin's `Ping`: the health of service `plugin`).
    pub async fn ping(&self) -> Result<(), Error> {
        self.start().await?;
        #[cfg(feature = "netrpc")]
        if self.protocol().await == Some(Protocol::NetRpc) {
            return self.netrpc().await?.ping().await;
        }
        streams::ping(self.connection().await?.channel()).await
    }

    /// True once the plugin process has exited (go-plugin's `Exited`).
    pub fn exited(&self) -> bool {
        self.inner.exited.is_cancelled()
    }

    /// How the launched plugin process ended, once it has.
    pub fn exit_status(&self) -> Option<ExitStatus> {
        *lock(&self.inner.exit_status)
    }

    /// A token cancelled when the plugin exits.
    pub fn exited_token(&self) -> CancellationToken {
        self.inner.exited.clone()
    }

    /// The app protocol version agreed on (0 before start and for non-test reattach).
    pub fn negotiated_version(&self) -> u32 {
        *lock(&self.inner.negotiated)
    }

    /// The handshake line the launched plugin printed, once started: app version, network,
    /// address, transport, its AutoMTLS certificate (present only when the host asked for
    /// AutoMTLS) and its answer to multiplexing (present only when asked). `None` before start and
    /// for a reattached plugin, which prints no handshake.
    pub fn handshake(&self) -> Option<HandshakeLine> {
        lock(&self.inner.handshake).clone()
    }

    /// The plugin's transport, once started.
    pub async fn protocol(&self) -> Option<Protocol> {
        self.inner.running.lock().await.as_ref().map(|r| r.protocol)
    }

    /// How to reattach to this plugin: the input for a reattached host, `{protocol, address, pid}`
    /// for a launched one, `None` before start.
    pub fn reattach_config(&self) -> Option<ReattachConfig> {
        lock(&self.inner.reattach).clone()
    }

    /// Stops the plugin: asks it to shut down, waits up to 2 s, then kills it (go-plugin's
    /// `Kill`). Safe to call more than once; a test-mode reattached plugin is left running.
    pub async fn kill(&self) {
        self.inner.killed.cancel();
        if lock(&self.inner.config).take().is_some() {
            *lock(&self.inner.start_failure) = Some("it was killed before it started".into());
        }
        let Some(running) = self.inner.running.lock().await.take() else {
            return;
        };
        let places = running.socket_places();
        let Running {
            process,
            owned,
            connected,
            socket_dir,
            network,
            address,
            ..
        } = running;
        if process.is_none() && owned.is_none() {
            return; // reattached in test mode: not ours to stop
        }
        let graceful = match connected {
            Some(Connected::Grpc(connection)) => {
                connection.broker.close();
                streams::shutdown(connection.channel()).await;
                true
            }
            #[cfg(feature = "netrpc")]
            Some(Connected::NetRpc(session)) => {
                // The plugin often exits before its reply is written; its exit is what counts. A
                // wedged plugin never answers: the call gets the same grace as gRPC's Shutdown.
                match tokio::time::timeout(EXIT_GRACE, session.quit()).await {
                    Ok(Err(e)) => {
                        tracing::debug!(target: "go_plugin", error = %e, "Control.Quit ended");
                        true
                    }
                    Ok(Ok(_)) => true,
                    Err(_) => {
                        tracing::warn!(target: "go_plugin", "plugin did not answer Control.Quit; killing it");
                        false
                    }
                }
            }
            None => false,
        };
        if let Some(process) = &process {
            let in_time = if graceful {
                tokio::time::timeout(EXIT_GRACE, process.wait()).await.ok()
            } else {
                None
            };
            let status = match in_time {
                Some(status) => {
                    tracing::debug!(target: "go_plugin", "plugin exited");
                    status
                }
                None => {
                    if graceful {
                        tracing::warn!(target: "go_plugin", "plugin failed to exit gracefully");
                    }
                    process.kill();
                    process.wait().await
                }
            };
            process.kill_group_remnants();
            // Recorded here too, so that it is known when kill returns.
            *lock(&self.inner.exit_status) = status;
            self.inner.exited.cancel();
        }
        if let Some(owned) = owned {
            attach::stop(owned, &self.inner.exited).await;
        }
        if process.is_some() && network == Network::Unix {
            remove_stale_socket(Path::new(&address), &places);
        }
        remove_socket_dir(socket_dir.as_deref());
    }
}

/// Where a launched plugin may make its socket: the socket directory this host created for it
/// (`PLUGIN_UNIX_SOCKET_DIR`) and the plugin's temp dir.
#[derive(Clone, Debug, Default)]
pub(super) struct SocketPlaces {
    pub(super) socket_dir: Option<PathBuf>,
    pub(super) temp_dir: Option<PathBuf>,
}

impl SocketPlaces {
    /// Whether `path` is a socket name go-plugin plugins make (`plugin…`, Go's
    /// `os.CreateTemp(dir, "plugin*")` and this crate's plugins alike) directly inside one of the
    /// places: the only files the host may delete on a plugin's behalf. A plugin can announce
    /// any path (`$SSH_AUTH_SOCK`, another program's socket); that announcement alone must never
    /// get a file removed.
    pub(super) fn may_remove(&self, path: &Path) -> bool {
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
            return false;
        };
        if !name.to_string_lossy().starts_with("plugin") {
            return false;
        }
        let same = |dir: &Path| {
            parent == dir
                || matches!(
                    (parent.canonicalize(), dir.canonicalize()),
                    (Ok(a), Ok(b)) if a == b
                )
        };
        [&self.socket_dir, &self.temp_dir]
            .into_iter()
            .flatten()
            .any(|dir| same(dir))
    }
}

/// Removes the socket of a launched plugin that is gone (a plugin that was killed or crashed
/// cannot remove it itself): only a socket, and only where [`SocketPlaces::may_remove`] allows.
pub(super) fn remove_stale_socket(path: &Path, places: &SocketPlaces) {
    use std::os::unix::fs::FileTypeExt;
    if !places.may_remove(path) {
        tracing::debug!(target: "go_plugin", path = %path.display(), "not removing the plugin's announced socket: it is not where the plugin was told to make it");
        return;
    }
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket()) {
        let _ = std::fs::remove_file(path);
    }
}

/// The temp dir a plugin started by `command` sees: the command's own `TMPDIR`, else (unless the
/// host's environment is skipped) the host's, else `/tmp`, as Go's `os.TempDir` and Rust's
/// `std::env::temp_dir` decide on Unix.
pub(super) fn plugin_temp_dir(command: &std::process::Command, skip_host_env: bool) -> PathBuf {
    let own = command
        .get_envs()
        .find(|(name, _)| *name == "TMPDIR")
        .map(|(_, value)| value.map(std::ffi::OsStr::to_os_string));
    let value = match own {
        Some(value) => value,
        None if skip_host_env => None,
        None => std::env::var_os("TMPDIR"),
    };
    value
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp"))
}

fn connect_timed_out(describe: &str, limit: Duration) -> Error {
    Error::timeout(
        TimedOut::Connect,
        format!(
        "connecting to the plugin at {describe} did not finish within {limit:?}: it accepted the \
         connection but did not answer; is it a go-plugin plugin, and does it expect TLS (or not)?"
    ),
    )
}

fn netrpc_has_no_grpc_connection() -> Error {
    Error::Config("this plugin speaks net/rpc: use dispense (net/rpc plugins) or ping; it has no gRPC connection".into())
}

pub(super) fn remove_socket_dir(dir: Option<&Path>) {
    if let Some(dir) = dir {
        let _ = std::fs::remove_dir_all(dir);
    }
}

fn managed_hosts() -> &'static Mutex<Vec<Weak<Inner>>> {
    static HOSTS: OnceLock<Mutex<Vec<Weak<Inner>>>> = OnceLock::new();
    HOSTS.get_or_init(Default::default)
}

/// Kills every host created with [`HostConfig::managed`], all at once (go-plugin's
/// `CleanupClients`); call it once before the host program exits.
pub async fn cleanup_hosts() {
    let hosts: Vec<Host> = std::mem::take(&mut *lock(managed_hosts()))
        .into_iter()
        .filter_map(|weak| weak.upgrade())
        .map(|inner| Host { inner })
        .collect();
    futures_util::future::join_all(hosts.iter().map(Host::kill)).await;
}

#[cfg(test)]
mod tests {
    use super::super::launch::{prepare_command, resolve_program};
    use super::*;

    #[test]
    fn only_plugin_sockets_in_the_plugins_own_places_may_be_removed() {
        let places = SocketPlaces {
            socket_dir: Some(PathBuf::from("/run/host/plugin-dir")),
            temp_dir: Some(PathBuf::from("/tmp")),
        };
        for ok in ["/tmp/plugin123", "/run/host/plugin-dir/plugin9"] {
            assert!(places.may_remove(Path::new(ok)), "{ok}");
        }
        for refused in [
            "/tmp/ssh-XXXX/agent.42",
            "/tmp/agent.42",
            "/home/user/.gnupg/S.gpg-agent",
            "/tmp/sub/plugin1",
            "/run/user/1000/bus",
            "plugin1",
            "/",
        ] {
            assert!(!places.may_remove(Path::new(refused)), "{refused}");
        }
    }

    #[test]
    fn the_plugins_temp_dir_is_the_commands_then_the_hosts() {
        let mut command = std::process::Command::new("true");
        command.env("TMPDIR", "/var/plugin-tmp");
        assert_eq!(
            plugin_temp_dir(&command, false),
            Path::new("/var/plugin-tmp")
        );
        let command = std::process::Command::new("true");
        assert_eq!(plugin_temp_dir(&command, true), Path::new("/tmp"));
        let mut command = std::process::Command::new("true");
        command.env_remove("TMPDIR");
        assert_eq!(plugin_temp_dir(&command, false), Path::new("/tmp"));
    }

    #[test]
    fn programs_are_found_as_the_commands_exec_finds_them() {
        let command = |program: &str| std::process::Command::new(program);
        assert!(resolve_program(&command("sh")).is_absolute());
        assert_eq!(resolve_program(&command("./x")), PathBuf::from("./x"));
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("bin")).unwrap();
        std::fs::write(dir.path().join("bin/only-here"), b"").unwrap();
        // The command's own PATH, a relative entry taken from its current directory.
        let mut own = command("only-here");
        own.env("PATH", "bin").current_dir(dir.path());
        assert_eq!(resolve_program(&own), dir.path().join("bin/only-here"));
        // A relative path from its current directory.
        let mut relative = command("bin/only-here");
        relative.current_dir(dir.path());
        assert_eq!(resolve_program(&relative), dir.path().join("bin/only-here"));
        // PATH removed: the name stays as given.
        let mut none = command("sh");
        none.env_remove("PATH");
        assert_eq!(resolve_program(&none), PathBuf::from("sh"));
    }

    #[test]
    fn skip_host_env_keeps_only_the_commands_own_variables_and_go_plugins() {
        let mut command = std::process::Command::new("true");
        command.env("OWN", "1");
        let prepared = prepare_command(
            command,
            true,
            vec![("COOKIE".into(), "v".into())],
            true,
            None,
        )
        .unwrap();
        let envs: Vec<_> = prepared
            .as_std()
            .get_envs()
            .map(|(k, v)| {
                (
                    k.to_str().unwrap().to_string(),
                    v.map(|v| v.to_str().unwrap().to_string()),
                )
            })
            .collect();
        assert!(envs.contains(&("OWN".into(), Some("1".into()))));
        assert!(envs.contains(&("COOKIE".into(), Some("v".into()))));
    }

    #[tokio::test]
    async fn item59_command_and_reattach_together_are_refused_with_go_text() {
        let reattach = ReattachConfig {
            protocol: Protocol::Grpc,
            protocol_version: 1,
            network: Network::Unix,
            address: "/nonexistent".into(),
            pid: 1,
            test: false,
        };
        let handshake = crate::handshake::HandshakeConfig::new(1, "K", "V");
        let both = HostConfig::new(handshake.clone())
            .command(std::process::Command::new("true"))
            .reattach(reattach.clone());
        let err = Host::new(both).start().await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "exactly one of Cmd, or Reattach, or RunnerFunc must be set"
        );
        let none = HostConfig::new(handshake.clone());
        assert!(Host::new(none).start().await.is_err());
        let secure = HostConfig::new(handshake)
            .reattach(reattach)
            .checksum_sha256(vec![1]);
        let err = Host::new(secure).start().await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "only one of Reattach or SecureConfig can be set"
        );
    }
}
