//! What a host is told before it starts a plugin (go-plugin's `ClientConfig`).

use std::any::Any;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::attach::AttachedProcess;
use super::PluginConnection;
use crate::handshake::{HandshakeConfig, Protocol};
use crate::log::LogEntry;
#[cfg(feature = "netrpc")]
use crate::netrpc::{MuxBroker, RpcClient};
use crate::reattach::ReattachConfig;

/// A writer shared with a background task (stdout/stderr sinks).
pub type Sink = Arc<Mutex<dyn Write + Send>>;

/// A hook called with every interpreted stderr line of the plugin: `(plugin name, entry)`.
pub type LogHook = Arc<dyn Fn(&str, &LogEntry) + Send + Sync>;

type Factory = Arc<dyn Fn(&PluginConnection) -> Box<dyn Any + Send> + Send + Sync>;
#[cfg(feature = "netrpc")]
type NetRpcFactory = Arc<dyn Fn(RpcClient, &MuxBroker) -> Box<dyn Any + Send> + Send + Sync>;

/// The plugins a host can dispense for one app version, by name (go-plugin's `PluginSet` on the
/// host side): each turns the connection into a typed client.
#[derive(Clone, Default)]
pub struct ClientSet {
    pub(crate) factories: BTreeMap<String, Factory>,
    #[cfg(feature = "netrpc")]
    pub(crate) netrpc_factories: BTreeMap<String, NetRpcFactory>,
}

impl ClientSet {
    /// An empty set.
    pub fn new() -> Self {
        ClientSet::default()
    }

    /// Adds a gRPC plugin whose client the host builds by its type, checked by the compiler:
    /// `host.client::<CalculatorClient<_>>(name)` ([`super::Host::client`]). Dispensed untyped
    /// ([`super::Host::dispense`]), it is the [`PluginConnection`].
    pub fn grpc(self, name: impl Into<String>) -> Self {
        self.plugin(name, PluginConnection::clone)
    }

    /// Adds a plugin: `make` builds its client from the connection (for example
    /// `|c| KvClient::new(c.channel())`). [`super::Host::dispense`] returns what it builds.
    pub fn plugin<T, F>(mut self, name: impl Into<String>, make: F) -> Self
    where
        T: Any + Send,
        F: Fn(&PluginConnection) -> T + Send + Sync + 'static,
    {
        self.factories.insert(
            name.into(),
            Arc::new(move |c: &PluginConnection| Box::new(make(c)) as Box<dyn Any + Send>),
        );
        self
    }
}

impl ClientSet {
    /// Adds a net/rpc plugin: `make` wraps the net/rpc client of the dispensed plugin (calls are
    /// `Plugin.<Method>`) into a typed client, as go-plugin's `Plugin.Client(broker, rpc)`.
    #[cfg(feature = "netrpc")]
    pub fn netrpc_plugin<T, F>(mut self, name: impl Into<String>, make: F) -> Self
    where
        T: Any + Send,
        F: Fn(RpcClient, &MuxBroker) -> T + Send + Sync + 'static,
    {
        self.netrpc_factories.insert(
            name.into(),
            Arc::new(move |rpc: RpcClient, broker: &MuxBroker| {
                Box::new(make(rpc, broker)) as Box<dyn Any + Send>
            }),
        );
        self
    }
}

impl std::fmt::Debug for ClientSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut list = f.debug_list();
        list.entries(self.factories.keys());
        #[cfg(feature = "netrpc")]
        list.entries(self.netrpc_factories.keys());
        list.finish()
    }
}

/// How the plugin is reached: a new process, or one already running.
pub(crate) enum Launch {
    Command(std::process::Command),
    Reattach(ReattachConfig, Option<Arc<dyn AttachedProcess>>),
}

impl std::fmt::Debug for Launch {
    /// The program, its arguments and the names of the variables set on it; never their values
    /// (a command may carry secrets in its environment).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Launch::Command(command) => f
                .debug_struct("Command")
                .field("program", &command.get_program())
                .field("args", &command.get_args().collect::<Vec<_>>())
                .field(
                    "env",
                    &command
                        .get_envs()
                        .map(|(name, value)| (name, value.map(|_| "<redacted>")))
                        .collect::<Vec<_>>(),
                )
                .finish(),
            Launch::Reattach(config, _) => f.debug_tuple("Reattach").field(config).finish(),
        }
    }
}

/// Unix socket options (go-plugin's `UnixSocketConfig`).
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct UnixSocketConfig {
    /// Parent of the per-plugin socket directory the host creates (`PLUGIN_UNIX_SOCKET_DIR`);
    /// `None` lets the plugin use its temp dir.
    pub temp_dir: Option<PathBuf>,
    /// Group (name or gid) that must own the plugin's sockets (`PLUGIN_UNIX_SOCKET_GROUP`).
    pub group: Option<String>,
}

impl UnixSocketConfig {
    /// Socket directories are made inside `temp_dir` (go-plugin's `UnixSocketConfig.TempDir`).
    pub fn in_dir(temp_dir: impl Into<PathBuf>) -> Self {
        UnixSocketConfig {
            temp_dir: Some(temp_dir.into()),
            group: None,
        }
    }

    /// The plugin's sockets are made to belong to `group` (a name or a gid).
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.group = Some(group.into());
        self
    }
}

/// Everything a [`super::Host`] needs. Built with the methods below; `handshake` and either
/// [`HostConfig::command`] or [`HostConfig::reattach`] are required.
pub struct HostConfig {
    pub(crate) handshake: HandshakeConfig,
    pub(crate) versions: BTreeMap<u32, ClientSet>,
    pub(crate) launch: Vec<Launch>,
    pub(crate) protocols: Vec<Protocol>,
    pub(crate) auto_mtls: bool,
    pub(crate) multiplex: bool,
    pub(crate) tls: Option<Arc<rustls::ClientConfig>>,
    pub(crate) broker_server_tls: Option<Arc<rustls::ServerConfig>>,
    pub(crate) start_timeout: Duration,
    pub(crate) skip_host_env: bool,
    pub(crate) unix_socket: Option<UnixSocketConfig>,
    pub(crate) sync_stdout: Option<Sink>,
    pub(crate) sync_stderr: Option<Sink>,
    pub(crate) stderr: Option<Sink>,
    pub(crate) log_hook: Option<LogHook>,
    pub(crate) managed: bool,
    pub(crate) checksum: Option<Vec<u8>>,
    pub(crate) own_process_group: bool,
    pub(crate) max_log_json_line: usize,
}

impl HostConfig {
    /// A configuration with go-plugin's defaults: gRPC only (go-plugin's own default is net/rpc
    /// only; this crate speaks gRPC), no AutoMTLS, a start timeout of one minute.
    pub fn new(handshake: HandshakeConfig) -> Self {
        HostConfig {
            handshake,
            versions: BTreeMap::new(),
            launch: Vec::new(),
            protocols: vec![Protocol::Grpc],
            auto_mtls: false,
            multiplex: false,
            tls: None,
            broker_server_tls: None,
            start_timeout: Duration::from_secs(60),
            skip_host_env: false,
            unix_socket: None,
            sync_stdout: None,
            sync_stderr: None,
            stderr: None,
            log_hook: None,
            managed: false,
            checksum: None,
            own_process_group: true,
            max_log_json_line: crate::log::DEFAULT_MAX_JSON_LINE,
        }
    }

    /// The plugins offered for app version `version` (go-plugin's `VersionedPlugins`).
    pub fn version(mut self, version: u32, set: ClientSet) -> Self {
        self.versions.insert(version, set);
        self
    }

    /// The plugins under the handshake's legacy `protocol_version` (go-plugin's `Plugins`).
    pub fn plugins(self, set: ClientSet) -> Self {
        let version = self.handshake.protocol_version;
        self.version(version, set)
    }

    /// Launches this command (go-plugin's `Cmd`). Its own environment variables are kept.
    pub fn command(mut self, command: std::process::Command) -> Self {
        self.launch.push(Launch::Command(command));
        self
    }

    /// Attaches to a running plugin instead of launching one (go-plugin's `Reattach`).
    pub fn reattach(mut self, config: ReattachConfig) -> Self {
        self.launch.push(Launch::Reattach(config, None));
        self
    }

    /// Attaches to a running plugin whose liveness and stopping are up to `process` instead of
    /// its pid (go-plugin's `ReattachFunc`).
    pub fn reattach_with(mut self, config: ReattachConfig, process: impl AttachedProcess) -> Self {
        self.launch
            .push(Launch::Reattach(config, Some(Arc::new(process))));
        self
    }

    /// The transports accepted from the plugin.
    pub fn allowed_protocols(mut self, protocols: &[Protocol]) -> Self {
        self.protocols = protocols.to_vec();
        self
    }

    /// Turns AutoMTLS on: fresh certificates on both sides, each pinning the other's.
    pub fn auto_mtls(mut self, on: bool) -> Self {
        self.auto_mtls = on;
        self
    }

    /// Asks for gRPC broker multiplexing (go-plugin ≥ v1.6's `GRPCBrokerMultiplex`): the main
    /// connection and every brokered one become streams of one yamux session. A plugin that does
    /// not support it fails to start with go-plugin's error; not available with reattach.
    pub fn multiplex(mut self, on: bool) -> Self {
        self.multiplex = on;
        self
    }

    /// Uses this TLS client configuration (go-plugin's `TLSConfig`). ALPN `h2` is added to it
    /// when missing (grpc-go ≥ 1.67 refuses TLS without it). Not together with
    /// [`HostConfig::auto_mtls`]: starting fails with a configuration error (go-plugin silently
    /// drops this configuration then).
    pub fn tls(mut self, mut config: rustls::ClientConfig) -> Self {
        crate::tls::with_alpn_h2(&mut config.alpn_protocols);
        self.tls = Some(Arc::new(config));
        self
    }

    /// The TLS server configuration for the servers this host serves through the broker when it
    /// uses [`HostConfig::tls`] (go-plugin uses its one `tls.Config` both ways; the plugin then
    /// dials them with its own TLS configuration). Without it, `accept_and_serve` fails under
    /// explicit TLS rather than serve in plaintext. ALPN `h2` is added when missing.
    pub fn broker_server_tls(mut self, mut config: rustls::ServerConfig) -> Self {
        crate::tls::with_alpn_h2(&mut config.alpn_protocols);
        self.broker_server_tls = Some(Arc::new(config));
        self
    }

    /// How long the plugin may take to print its handshake, and then to answer the connection
    /// to it (default one minute each).
    pub fn start_timeout(mut self, timeout: Duration) -> Self {
        self.start_timeout = timeout;
        self
    }

    /// Starts the plugin without the host's environment: it gets only the command's own variables
    /// and go-plugin's (go-plugin's `SkipHostEnv`).
    pub fn skip_host_env(mut self, skip: bool) -> Self {
        self.skip_host_env = skip;
        self
    }

    /// Whether the plugin runs in a process group of its own, which the host signals as a whole
    /// when it kills the plugin (default: yes). A plugin started through a shell or a wrapper
    /// (`sh -c`, as go-plugin's example hosts do) then leaves no grandchild behind
    /// (hashicorp/go-plugin#136). Its own group also keeps a terminal's Ctrl-C from reaching the
    /// plugin directly, as go-plugin plugins ignore SIGINT anyway. Turn it off for a plugin that
    /// must stay in the host's group (job control of an interactive plugin).
    pub fn own_process_group(mut self, own: bool) -> Self {
        self.own_process_group = own;
        self
    }

    /// Socket directory and group for the plugin.
    pub fn unix_socket(mut self, config: UnixSocketConfig) -> Self {
        self.unix_socket = Some(config);
        self
    }

    /// Receives what the plugin writes to its stdout (go-plugin's `SyncStdout`).
    pub fn sync_stdout(mut self, sink: impl Write + Send + 'static) -> Self {
        self.sync_stdout = Some(Arc::new(Mutex::new(sink)));
        self
    }

    /// Receives what the plugin writes to its stderr (go-plugin's `SyncStderr`).
    pub fn sync_stderr(mut self, sink: impl Write + Send + 'static) -> Self {
        self.sync_stderr = Some(Arc::new(Mutex::new(sink)));
        self
    }

    /// Receives the plugin's raw stderr log lines (go-plugin's `Stderr`).
    pub fn stderr(mut self, sink: impl Write + Send + 'static) -> Self {
        self.stderr = Some(Arc::new(Mutex::new(sink)));
        self
    }

    /// Calls `hook` with every interpreted stderr line of the plugin (structured entries).
    pub fn on_log(mut self, hook: impl Fn(&str, &LogEntry) + Send + Sync + 'static) -> Self {
        self.log_hook = Some(Arc::new(hook));
        self
    }

    /// The longest plugin stderr line parsed as hclog JSON (default 64 KiB, go-plugin's piece
    /// size). Longer lines still reach the stderr sink whole and are logged as text: parsing
    /// costs memory in proportion to the line, and the plugin chooses the line.
    pub fn max_log_json_line(mut self, bytes: usize) -> Self {
        self.max_log_json_line = bytes;
        self
    }

    /// Registers the host for [`super::cleanup_hosts`] (go-plugin's `Managed`).
    pub fn managed(mut self, managed: bool) -> Self {
        self.managed = managed;
        self
    }

    /// Refuses to start an executable whose SHA-256 differs from `checksum` (go-plugin's
    /// `SecureConfig`).
    pub fn checksum_sha256(mut self, checksum: Vec<u8>) -> Self {
        self.checksum = Some(checksum);
        self
    }
}

impl std::fmt::Debug for HostConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostConfig")
            .field("handshake", &self.handshake)
            .field("versions", &self.versions)
            .field("launch", &self.launch)
            .field("protocols", &self.protocols)
            .field("auto_mtls", &self.auto_mtls)
            .field("start_timeout", &self.start_timeout)
            .finish_non_exhaustive()
    }
}
