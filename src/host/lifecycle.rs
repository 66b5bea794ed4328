//! [`Host`]: start, dispense, ping, kill — go-plugin's `Client` lifecycle (PROTOCOL.md §7).
//!
//! [`Host::start`] launches the plugin and validates its handshake (go-plugin's `Start`); the gRPC
//! connection is made on first use ([`Host::connection`], [`Host::dispense`], [`Host::ping`]),
//! like go-plugin's `Client()`.

use std::any::Any;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::attach::{self, AttachedProcess, PidProcess};
use super::config::{ClientSet, HostConfig, Launch, Sink, UnixSocketConfig};
use super::launch::{
    launch, prepare_command, resolve_program, wait_for_handshake, with_diagnosis, Launched,
    StderrOutputs,
};
use super::{checksum, streams, GrpcBroker, PluginConnection};
use crate::env::HostEnv;
use crate::error::Error;
use crate::grpc::broker::BrokerTls;
use crate::grpc::broker_mux::Multiplex;
use crate::grpc::dial::{channel_over, connect, dial, with_tls};
use crate::handshake::{HandshakeLine, HostExpectations, Network, Protocol};
use crate::mux::{self, Role};
use crate::netrpc::host_side::NetRpcSession;
use crate::reattach::ReattachConfig;
use crate::tls::{mtls_client_config, mtls_server_config, Identity};

/// How long `kill` waits for the plugin to exit after Shutdown before killing it.
const EXIT_GRACE: Duration = Duration::from_secs(2);

/// A plugin as seen from its host (go-plugin's `Client`). Cheap to clone; clones share the
/// plugin. Dropping the last clone kills a plugin that is still running.
#[derive(Clone)]
pub struct Host {
    inner: Arc<Inner>,
}

struct Inner {
    config: Mutex<Option<HostConfig>>,
    running: tokio::sync::Mutex<Option<Running>>,
    reattach: Mutex<Option<ReattachConfig>>,
    negotiated: Mutex<u32>,
    exit_status: Arc<Mutex<Option<ExitStatus>>>,
    exited: CancellationToken,
}

/// What exists once the plugin has started.
struct Running {
    /// The process, when this host launched it.
    process: Option<Launched>,
    /// A reattached process this host owns (kills); `None` when launched or in test mode.
    owned: Option<Arc<dyn AttachedProcess>>,
    network: Network,
    address: String,
    protocol: Protocol,
    tls: Option<Arc<rustls::ClientConfig>>,
    broker_tls: BrokerTls,
    multiplex: bool,
    set: ClientSet,
    sync: (Option<Sink>, Option<Sink>),
    connected: Option<Connected>,
    socket_dir: Option<PathBuf>,
}

/// The protocol side, made on first use.
enum Connected {
    Grpc(PluginConnection),
    NetRpc(NetRpcSession),
}

impl Drop for Inner {
    /// The last handle is gone without `kill`: the plugin process is killed by its watcher (its
    /// kill channel closes) and what it cannot clean up itself is removed here.
    fn drop(&mut self) {
        if let Some(running) = self.running.get_mut().take() {
            if running.process.is_some() && running.network == Network::Unix {
                remove_stale_socket(Path::new(&running.address));
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
                exit_status: Arc::default(),
                exited: CancellationToken::new(),
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
        let config = lock(&self.inner.config).take().ok_or_else(|| {
            Error::Config("this plugin was already started and killed; make a new Host".into())
        })?;
        *running = Some(self.start_with(config).await?);
        Ok(())
    }

    async fn start_with(&self, mut config: HostConfig) -> Result<Running, Error> {
        if config.launch.len() != 1 {
            return Err(Error::Config(
                "exactly one of Cmd, or Reattach, or RunnerFunc must be set".into(),
            ));
        }
        match config.launch.pop().expect("one launch") {
            Launch::Reattach(..) if config.checksum.is_some() => Err(Error::Config(
                "only one of Reattach or SecureConfig can be set".into(),
            )),
            Launch::Reattach(..) if config.multiplex => Err(Error::Config(
                "gRPC broker multiplexing is not supported with Reattach config".into(),
            )),
            Launch::Reattach(reattach, process) => {
                let process = process.unwrap_or_else(|| Arc::new(PidProcess(reattach.pid)));
                self.attach(config, reattach, process).await
            }
            Launch::Command(command) => self.spawn(config, command).await,
        }
    }

    /// Launches the process and performs the handshake.
    async fn spawn(
        &self,
        mut config: HostConfig,
        command: std::process::Command,
    ) -> Result<Running, Error> {
        let program = resolve_program(command.get_program().as_ref());
        if let Some(expected) = &config.checksum {
            checksum::verify(&program, expected)?;
        }
        let versions: Vec<u32> = if config.versions.is_empty() {
            vec![config.handshake.protocol_version]
        } else {
            config.versions.keys().copied().collect()
        };
        let identity = config.auto_mtls.then(Identity::generate).transpose()?;
        let socket_dir = match &config.unix_socket {
            Some(UnixSocketConfig {
                temp_dir: Some(parent),
                group,
            }) => Some(make_socket_dir(parent, group.as_deref())?),
            _ => None,
        };
        let env = HostEnv {
            cookie: (
                config.handshake.magic_cookie_key.clone(),
                config.handshake.magic_cookie_value.clone(),
            ),
            versions: versions.clone(),
            ports: (10000, 25000),
            multiplex: config.multiplex,
            client_cert_pem: identity.as_ref().map(Identity::cert_pem),
            socket_group: config.unix_socket.as_ref().and_then(|u| u.group.clone()),
            socket_dir: socket_dir.clone(),
        };
        let command = prepare_command(command, config.skip_host_env, env.variables());
        tracing::debug!(target: "go_plugin", path = %program.display(), "starting plugin");
        let outputs = StderrOutputs {
            name: program
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            raw: config.stderr.take(),
            hook: config.log_hook.take(),
        };
        let mut process = launch(command, outputs)?;
        let (mut exit, host_exited, status) = (
            process.exit.clone(),
            self.inner.exited.clone(),
            self.inner.exit_status.clone(),
        );
        tokio::spawn(async move {
            if let Ok(code) = exit.wait_for(Option::is_some).await {
                *lock(&status) = *code;
            }
            host_exited.cancel();
        });

        let handshake = async {
            let line = wait_for_handshake(&mut process, config.start_timeout, &program).await?;
            let expect = HostExpectations {
                versions: &versions,
                protocols: &config.protocols,
                multiplex: config.multiplex,
            };
            let line =
                HandshakeLine::parse(&line, &expect).map_err(|e| with_diagnosis(e, &program))?;
            let tls = match (&identity, &line.server_cert) {
                (Some(own), Some(cert)) => {
                    let trusted = vec![cert.clone().into()];
                    let server = Some(Arc::new(mtls_server_config(own, trusted.clone())?));
                    let client = Some(Arc::new(mtls_client_config(own, trusted)?));
                    BrokerTls { server, client }
                }
                (Some(_), None) => {
                    return Err(Error::Tls(
                        "AutoMTLS is on but the plugin sent no certificate in its handshake: \
                         it does not support AutoMTLS; turn AutoMTLS off for this plugin"
                            .into(),
                    ))
                }
                (None, _) => BrokerTls {
                    server: None,
                    client: config.tls.clone(),
                },
            };
            Ok((line, tls))
        }
        .await;
        let (line, tls) = match handshake {
            Ok(ok) => ok,
            Err(e) => {
                process.kill();
                process.wait().await;
                remove_socket_dir(socket_dir.as_deref());
                return Err(e);
            }
        };
        tracing::debug!(target: "go_plugin", version = line.app_version, "using plugin");
        *lock(&self.inner.negotiated) = line.app_version;
        *lock(&self.inner.reattach) = Some(ReattachConfig {
            protocol: line.protocol,
            protocol_version: 0,
            network: line.network,
            address: line.address.clone(),
            pid: process.pid,
            test: false,
        });
        Ok(Running {
            process: Some(process),
            owned: None,
            network: line.network,
            address: line.address,
            protocol: line.protocol,
            tls: tls.client.clone(),
            broker_tls: tls,
            multiplex: config.multiplex && line.protocol == Protocol::Grpc,
            set: config
                .versions
                .remove(&line.app_version)
                .unwrap_or_default(),
            sync: (config.sync_stdout, config.sync_stderr),
            connected: None,
            socket_dir,
        })
    }

    /// Attaches to a running plugin: no process launch, no handshake; one dial proves it is there.
    async fn attach(
        &self,
        mut config: HostConfig,
        reattach: ReattachConfig,
        process: Arc<dyn AttachedProcess>,
    ) -> Result<Running, Error> {
        let not_found = |detail: String| {
            Error::PluginExited(format!("reattachment process not found: {detail}"))
        };
        if !process.alive() {
            return Err(not_found(format!("no process {}", reattach.pid)));
        }
        dial(reattach.network, &reattach.address, None)
            .await
            .map_err(|e| not_found(format!("{}: {e}", reattach.address)))?;
        *lock(&self.inner.negotiated) = if reattach.test {
            reattach.protocol_version
        } else {
            0
        };
        *lock(&self.inner.reattach) = Some(reattach.clone());
        attach::watch(process.clone(), self.inner.exited.clone());
        let set = match config.versions.remove(&reattach.protocol_version) {
            Some(set) => set,
            None => config
                .versions
                .remove(&config.handshake.protocol_version)
                .unwrap_or_default(),
        };
        Ok(Running {
            process: None,
            owned: (!reattach.test).then_some(process),
            network: reattach.network,
            address: reattach.address,
            protocol: reattach.protocol,
            broker_tls: BrokerTls {
                server: None,
                client: config.tls.clone(),
            },
            multiplex: false,
            tls: config.tls,
            set,
            sync: (config.sync_stdout, config.sync_stderr),
            connected: None,
            socket_dir: None,
        })
    }

    /// The connection to the plugin, made on first use (go-plugin's `Client()`): the gRPC channel,
    /// then the broker and stdio streams.
    pub async fn connection(&self) -> Result<PluginConnection, Error> {
        self.start().await?;
        let mut guard = self.inner.running.lock().await;
        let running = guard
            .as_mut()
            .ok_or_else(|| Error::PluginExited("the plugin was killed".into()))?;
        match &running.connected {
            Some(Connected::Grpc(connection)) => return Ok(connection.clone()),
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
    async fn netrpc(&self) -> Result<NetRpcSession, Error> {
        self.start().await?;
        let mut guard = self.inner.running.lock().await;
        let running = guard
            .as_mut()
            .ok_or_else(|| Error::PluginExited("the plugin was killed".into()))?;
        if let Some(Connected::NetRpc(session)) = &running.connected {
            return Ok(session.clone());
        }
        let (stdout, stderr) = running.sync.clone();
        let session = NetRpcSession::connect(
            running.network,
            &running.address,
            running.tls.clone(),
            stdout,
            stderr,
        )
        .await?;
        running.connected = Some(Connected::NetRpc(session.clone()));
        Ok(session)
    }

    /// Builds the client of plugin `name` from the negotiated set (go-plugin's `Dispense`; no RPC
    /// is made). `T` must be the type the set's factory builds.
    pub async fn dispense<T: Any + Send>(&self, name: &str) -> Result<T, Error> {
        self.start().await?;
        if self.protocol().await == Some(Protocol::NetRpc) {
            return self.dispense_netrpc(name).await;
        }
        let connection = self.connection().await?;
        let running = self.inner.running.lock().await;
        let running = running
            .as_ref()
            .ok_or_else(|| Error::PluginExited("the plugin was killed".into()))?;
        let factory = running
            .set
            .factories
            .get(name)
            .ok_or_else(|| unknown_plugin(name))?;
        factory(&connection)
            .downcast::<T>()
            .map(|b| *b)
            .map_err(|_| wrong_type::<T>(name))
    }

    async fn dispense_netrpc<T: Any + Send>(&self, name: &str) -> Result<T, Error> {
        let factory = {
            let running = self.inner.running.lock().await;
            let running = running
                .as_ref()
                .ok_or_else(|| Error::PluginExited("the plugin was killed".into()))?;
            running
                .set
                .netrpc_factories
                .get(name)
                .cloned()
                .ok_or_else(|| unknown_plugin(name))?
        };
        let session = self.netrpc().await?;
        let rpc = session.dispense(name).await?;
        factory(rpc, session.broker())
            .downcast::<T>()
            .map(|b| *b)
            .map_err(|_| wrong_type::<T>(name))
    }

    /// Checks that the plugin answers (go-plugin's `Ping`: the health of service `plugin`).
    pub async fn ping(&self) -> Result<(), Error> {
        self.start().await?;
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
        lock(&self.inner.config).take();
        let Some(running) = self.inner.running.lock().await.take() else {
            return;
        };
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
            Some(Connected::NetRpc(session)) => {
                // The plugin often exits before its reply is written; its exit is what counts.
                if let Err(e) = session.quit().await {
                    tracing::debug!(target: "go_plugin", error = %e, "Control.Quit ended");
                }
                true
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
            // Recorded here too, so that it is known when kill returns.
            *lock(&self.inner.exit_status) = Some(status);
            self.inner.exited.cancel();
        }
        if let Some(owned) = owned {
            attach::stop(owned, &self.inner.exited).await;
        }
        if process.is_some() && network == Network::Unix {
            remove_stale_socket(Path::new(&address));
        }
        remove_socket_dir(socket_dir.as_deref());
    }
}

/// Creates `plugin-dir*` inside `parent` for the plugin's sockets: mode 0700, or 0770 owned by
/// `group` when one is configured (go-plugin's `setGroupWritable`).
fn make_socket_dir(parent: &Path, group: Option<&str>) -> Result<PathBuf, Error> {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::Builder::new()
        .prefix("plugin-dir")
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir_in(parent)
        .map_err(|e| {
            Error::io(
                format!("creating a socket directory in {}", parent.display()),
                e,
            )
        })?
        .keep();
    if let Some(group) = group {
        let gid = crate::plugin::listener::resolve_group(&crate::env::Group::parse(group))?;
        std::os::unix::fs::chown(&dir, None, Some(gid))
            .map_err(|e| Error::io(format!("chgrp {gid} {}", dir.display()), e))?;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o770))
            .map_err(|e| Error::io(format!("chmod 0770 {}", dir.display()), e))?;
    }
    Ok(dir)
}

/// Removes the socket of a launched plugin that is gone: a plugin that was killed (or crashed)
/// cannot remove it itself.
fn remove_stale_socket(path: &Path) {
    use std::os::unix::fs::FileTypeExt;
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket()) {
        let _ = std::fs::remove_file(path);
    }
}

fn unknown_plugin(name: &str) -> Error {
    Error::Config(format!("unknown plugin type: {name}"))
}

fn wrong_type<T>(name: &str) -> Error {
    Error::Config(format!(
        "plugin {name:?} builds a different type than the {} asked for",
        std::any::type_name::<T>()
    ))
}

fn netrpc_has_no_grpc_connection() -> Error {
    Error::Config("this plugin speaks net/rpc: use dispense (net/rpc plugins) or ping; it has no gRPC connection".into())
}

fn remove_socket_dir(dir: Option<&Path>) {
    if let Some(dir) = dir {
        let _ = std::fs::remove_dir_all(dir);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
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
    use super::*;
    use crate::handshake::Network;

    #[test]
    fn bare_program_names_are_found_in_path() {
        assert!(resolve_program(Path::new("sh")).is_absolute());
        assert_eq!(resolve_program(Path::new("./x")), PathBuf::from("./x"));
    }

    #[test]
    fn skip_host_env_keeps_only_the_commands_own_variables_and_go_plugins() {
        let mut command = std::process::Command::new("true");
        command.env("OWN", "1");
        let prepared = prepare_command(command, true, vec![("COOKIE".into(), "v".into())]);
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
