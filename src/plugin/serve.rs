//! [`serve`] and [`serve_test`]: the plugin's whole life, from the cookie check to the removal of
//! its socket. The order follows go-plugin's `Serve` (PROTOCOL.md §1.4, §2, §4.2, §7.6, §7.8).

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic::service::RoutesBuilder;
use tonic_health::ServingStatus;

use super::listener::PluginListener;
use super::stdio_capture::redirect_stdio;
use super::{GrpcBroker, PluginSet, ServeConfig};
use crate::env::{check_cookie, PluginEnv};
use crate::error::Error;
use crate::grpc::broker::{BrokerStreamService, BrokerTls};
use crate::grpc::broker_mux::Multiplex;
use crate::grpc::controller::Controller;
use crate::grpc::incoming::{accept, incoming, with_tls};
use crate::grpc::stdio::{StdioService, StdioSource};
use crate::handshake::{negotiate_version, HandshakeLine, Protocol};
use crate::mux::{self, Role};
#[cfg(feature = "netrpc")]
use crate::netrpc::plugin_side::NetRpcPlugins;
use crate::proto::plugin::ConnInfo;
use crate::reattach::ReattachConfig;
use crate::tls::{mtls_client_config, mtls_server_config, parse_pem_certificates, Identity};
use tokio::sync::mpsc;

/// How long open connections may take to finish after a shutdown request before the server is
/// dropped anyway (go-plugin stops hard; hosts wait at most 2 s before killing).
const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);

/// Serves the plugins of `config` as a go-plugin plugin and returns after the host asked it to
/// shut down (go-plugin's `plugin.Serve`). `main` should then return, so the process exits 0.
///
/// Like go-plugin, this **exits the process with status 1** when the magic cookie is missing or
/// wrong, after printing go-plugin's message on stderr: the binary was run by a person, not by a
/// host. It prints nothing but the handshake line on stdout; afterwards descriptors 1 and 2 feed
/// the host's stdio stream, and logs written with [`crate::log`] go to the real stderr. SIGINT is
/// ignored (the host decides when its plugins stop); SIGTERM and the death of the host process
/// end serving as a Shutdown request does. An error is also written to the real stderr as an
/// hclog entry, so that the host learns why the plugin stopped.
pub async fn serve(config: ServeConfig) -> Result<(), Error> {
    if let Err(e) = check_cookie(&config.handshake, |k| std::env::var(k).ok()) {
        crate::log::write_real_stderr(&e.to_string());
        std::process::exit(1);
    }
    crate::log::install_panic_hook();
    let init_error = |e| report_error("plugin init error", e);
    let captured = redirect_stdio().map_err(init_error)?;
    let shutdown = CancellationToken::new();
    handle_signals(shutdown.clone()).map_err(init_error)?;
    super::parent_watch::exit_with_parent(shutdown.clone());

    let env = PluginEnv::from_process();
    let ready = prepare(config, &env, Some(captured.source), shutdown.clone())
        .await
        .map_err(init_error)?;
    let line = ready.handshake_line(&env);
    tracing::debug!(target: "go_plugin", network = %ready.listener.network(), address = %ready.listener.address(), "plugin address");
    print_handshake(captured.real_stdout, &line).map_err(init_error)?;
    ready
        .run(shutdown, env.multiplex_enable)
        .await
        .map_err(|e| report_error("plugin serve error", e))
}

/// Writes `error` to the real stderr as an hclog error entry, as go-plugin's own logger does
/// (`plugin init error`), whether or not the plugin set up logging: descriptor 2 feeds the stdio
/// stream by now, so an error `main` returns would never reach the host.
fn report_error(message: &str, error: Error) -> Error {
    let mut fields = serde_json::Map::new();
    fields.insert("error".into(), error.to_string().into());
    let timestamp = crate::log::format_timestamp(time::OffsetDateTime::now_utc());
    let line = crate::log::format_line(
        tracing::Level::ERROR,
        message,
        Some("go_plugin"),
        &timestamp,
        fields,
    );
    crate::log::write_real_stderr(&line);
    error
}

/// A plugin served in test mode, in this process (go-plugin's `ServeTestConfig`).
#[derive(Debug)]
#[non_exhaustive]
pub struct TestServer {
    /// What a host needs to attach (`Test: true`, this process's pid).
    pub reattach: ReattachConfig,
    stop: CancellationToken,
    task: JoinHandle<Result<(), Error>>,
}

impl TestServer {
    /// Stops serving (closes the listener and removes the socket) and waits until that is done.
    pub async fn stop(self) -> Result<(), Error> {
        self.stop.cancel();
        self.task
            .await
            .map_err(|e| Error::Config(format!("test server task failed: {e}")))?
    }
}

/// Serves `config` in test mode: no cookie check, no handshake line, no SIGINT handling, no stdio
/// redirection; the reattach configuration is returned instead of printed. Version negotiation
/// still reads `PLUGIN_PROTOCOL_VERSIONS` and AutoMTLS still reacts to `PLUGIN_CLIENT_CERT`.
pub async fn serve_test(config: ServeConfig) -> Result<TestServer, Error> {
    let env = PluginEnv::from_process();
    let stop = CancellationToken::new();
    let ready = prepare(config, &env, None, stop.clone()).await?;
    let reattach = ReattachConfig {
        protocol: ready.protocol,
        protocol_version: ready.version,
        network: ready.listener.network(),
        address: ready.listener.address(),
        pid: std::process::id(),
        test: true,
    };
    let task = tokio::spawn(ready.run(stop.clone(), false));
    Ok(TestServer {
        reattach,
        stop,
        task,
    })
}

/// A bound listener and a complete router, ready to announce and serve.
struct Ready {
    version: u32,
    protocol: Protocol,
    /// The net/rpc plugins and the stdio they get through yamux streams.
    #[cfg(feature = "netrpc")]
    netrpc: (NetRpcPlugins, Option<StdioSource>),
    broker: GrpcBroker,
    listener: Arc<PluginListener>,
    tls: Option<Arc<rustls::ServerConfig>>,
    server_cert: Option<Vec<u8>>,
    routes: RoutesBuilder,
}

async fn prepare(
    config: ServeConfig,
    env: &PluginEnv,
    stdio: Option<StdioSource>,
    shutdown: CancellationToken,
) -> Result<Ready, Error> {
    for bad in &env.invalid_versions {
        crate::log::write_real_stderr(&format!("server sent invalid plugin version {bad:?}\n"));
    }
    let ServeConfig {
        handshake,
        mut versions,
        tls,
        broker_client_tls,
        listener,
    } = config;
    let version = negotiate_version(&env.host_versions, versions.keys().copied())
        .unwrap_or(handshake.protocol_version);
    #[allow(unused_mut)] // only net/rpc takes its plugins out
    let mut set = versions.remove(&version).unwrap_or_default();
    let protocol = set.protocol();
    // net/rpc plugins get the redirected stdio through yamux streams, gRPC ones through GRPCStdio.
    #[cfg(feature = "netrpc")]
    let (netrpc, grpc_stdio) = match protocol {
        Protocol::NetRpc => ((std::mem::take(&mut set.netrpc), stdio), None),
        Protocol::Grpc => ((NetRpcPlugins::default(), None), stdio),
    };
    #[cfg(not(feature = "netrpc"))]
    let grpc_stdio = stdio;

    let listener = Arc::new(PluginListener::bind(listener, env).await?);
    let (tls, broker_tls, server_cert) = match (tls, &env.client_cert_pem) {
        (Some(user), _) => (
            Some(user.clone()),
            BrokerTls {
                server: Some(user),
                client: broker_client_tls,
                required: true,
            },
            None,
        ),
        (None, Some(pem)) => {
            let (broker_tls, cert) = auto_mtls(pem)?;
            (broker_tls.server.clone(), broker_tls, Some(cert))
        }
        (None, None) => (None, BrokerTls::default(), None),
    };
    let (announce, announcements) = mpsc::unbounded_channel();
    let broker = GrpcBroker::new(
        announce,
        broker_tls,
        env.unix_socket_dir.clone(),
        env.unix_socket_group.clone(),
    );
    let routes = routes(&set, broker.clone(), announcements, grpc_stdio, shutdown).await?;
    Ok(Ready {
        version,
        protocol,
        #[cfg(feature = "netrpc")]
        netrpc,
        broker,
        listener,
        tls,
        server_cert,
        routes,
    })
}

/// AutoMTLS on the plugin side: a fresh certificate, and the host's certificate as the only one
/// trusted, for the main listener and for brokered connections in both directions. A host
/// certificate that does not parse is logged, as go-plugin does; every connection will then fail.
fn auto_mtls(host_pem: &str) -> Result<(BrokerTls, Vec<u8>), Error> {
    tracing::debug!(target: "go_plugin", "configuring server automatic mTLS");
    let trusted = parse_pem_certificates(host_pem).unwrap_or_else(|e| {
        tracing::error!(target: "go_plugin", error = %e, "client cert provided but failed to parse");
        Vec::new()
    });
    let own = Identity::generate()?;
    let tls = BrokerTls {
        server: Some(Arc::new(mtls_server_config(&own, trusted.clone())?)),
        client: Some(Arc::new(mtls_client_config(&own, trusted)?)),
        required: true,
    };
    Ok((tls, own.cert.to_vec()))
}

/// The services of a go-plugin gRPC server: health, reflection, broker, controller, stdio and the
/// negotiated plugin set.
async fn routes(
    set: &PluginSet,
    broker: GrpcBroker,
    announcements: mpsc::UnboundedReceiver<ConnInfo>,
    stdio: Option<StdioSource>,
    shutdown: CancellationToken,
) -> Result<RoutesBuilder, Error> {
    let mut routes = RoutesBuilder::default();
    for (name, plugin) in set.iter() {
        plugin
            .register(&broker, &mut routes)
            .map_err(|e| Error::Config(format!("error registering {name:?}: {e}")))?;
    }

    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("plugin", ServingStatus::Serving)
        .await;
    reporter
        .set_service_status("", ServingStatus::Serving)
        .await;
    routes.add_service(health);

    #[cfg(feature = "reflection")]
    add_reflection(&mut routes, set)?;

    routes.add_service(
        BrokerStreamService::new(broker, announcements, shutdown.clone()).into_service(),
    );
    routes.add_service(Controller::new(shutdown.clone()).into_service());
    if let Some(source) = stdio {
        routes.add_service(StdioService::new(source, shutdown).into_service());
    }
    Ok(routes)
}

/// gRPC reflection, v1 and v1alpha, each describing every service, themselves included, as Go's
/// do.
#[cfg(feature = "reflection")]
fn add_reflection(routes: &mut RoutesBuilder, set: &PluginSet) -> Result<(), Error> {
    let mut descriptors: Vec<&'static [u8]> = vec![
        crate::proto::plugin::FILE_DESCRIPTOR_SET,
        tonic_health::pb::FILE_DESCRIPTOR_SET,
        tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET,
        tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
    ];
    for d in set.descriptors() {
        if !descriptors.contains(&d) {
            descriptors.push(d);
        }
    }
    let mut reflection_v1 =
        tonic_reflection::server::Builder::configure().include_reflection_service(false);
    let mut reflection_v1alpha =
        tonic_reflection::server::Builder::configure().include_reflection_service(false);
    for d in &descriptors {
        reflection_v1 = reflection_v1.register_encoded_file_descriptor_set(d);
        reflection_v1alpha = reflection_v1alpha.register_encoded_file_descriptor_set(d);
    }
    let reflection_err =
        |e: tonic_reflection::server::Error| Error::Config(format!("gRPC reflection: {e}"));
    routes.add_service(reflection_v1.build_v1().map_err(reflection_err)?);
    routes.add_service(reflection_v1alpha.build_v1alpha().map_err(reflection_err)?);
    Ok(())
}

impl Ready {
    fn handshake_line(&self, env: &PluginEnv) -> HandshakeLine {
        HandshakeLine {
            app_version: self.version,
            network: self.listener.network(),
            address: self.listener.address(),
            protocol: self.protocol,
            server_cert: self.server_cert.clone(),
            multiplex: env.multiplex_announce.then_some(true),
        }
    }

    /// Serves until `shutdown` is cancelled, then gives open calls a short grace, removes the
    /// socket file and returns. `multiplex`: the host asked for the multiplexed broker, so its one
    /// connection carries a yamux session whose unknocked streams are the main gRPC connections.
    async fn run(self, shutdown: CancellationToken, multiplex: bool) -> Result<(), Error> {
        #[cfg(feature = "netrpc")]
        if self.protocol == Protocol::NetRpc {
            let (plugins, stdio) = self.netrpc;
            crate::netrpc::plugin_side::serve(
                self.listener.clone(),
                self.tls,
                plugins,
                stdio,
                shutdown,
            )
            .await;
            self.listener.remove_socket();
            return Ok(());
        }
        let incoming = if multiplex {
            let raw = tokio::select! {
                raw = accept(&self.listener) => raw.map_err(|e| Error::io("accepting the host's connection", e))?,
                _ = shutdown.cancelled() => return Ok(()),
            };
            let (control, streams) = mux::start(raw, Role::Server);
            let (main, main_streams) = mpsc::channel(16);
            self.broker
                .set_multiplex(Multiplex::start(control, streams, Some(main)));
            with_tls(main_streams, self.tls)
        } else {
            incoming(self.listener.clone(), self.tls)
        };
        let server = tonic::transport::Server::builder()
            .max_frame_size(crate::grpc::dial::MAX_FRAME_SIZE)
            .add_routes(self.routes.routes())
            .serve_with_incoming_shutdown(incoming, shutdown.clone().cancelled_owned());
        let deadline = async {
            shutdown.cancelled().await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        };
        tokio::select! {
            result = server => result?,
            _ = deadline => tracing::debug!(target: "go_plugin", "connections still open after shutdown; closing them"),
        }
        self.broker.close();
        self.listener.remove_socket();
        Ok(())
    }
}

fn print_handshake(mut real_stdout: std::fs::File, line: &HandshakeLine) -> Result<(), Error> {
    real_stdout
        .write_all(format!("{line}\n").as_bytes())
        .and_then(|_| real_stdout.flush())
        .map_err(|e| Error::io("writing the handshake line to stdout", e))?;
    // Keep the real stdout open for the life of the process, as a Go plugin does: hosts read it
    // until it closes.
    std::mem::forget(real_stdout);
    Ok(())
}

/// Ignores SIGINT for as long as the plugin serves, logging each one at trace level like go-plugin,
/// and treats SIGTERM as a Shutdown request: a Rust host sends it to its plugins when it dies
/// (`PR_SET_PDEATHSIG`), and the plugin then still removes its socket. (go-plugin leaves SIGTERM at
/// its default action, which ends the process without that cleanup.)
fn handle_signals(shutdown: CancellationToken) -> Result<(), Error> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupts = signal(SignalKind::interrupt())
        .map_err(|e| Error::io("installing the SIGINT handler", e))?;
    let mut terminate = signal(SignalKind::terminate())
        .map_err(|e| Error::io("installing the SIGTERM handler", e))?;
    tokio::spawn(async move {
        let mut count = 0u64;
        loop {
            tokio::select! {
                Some(()) = interrupts.recv() => {
                    count += 1;
                    tracing::trace!(target: "go_plugin", count, "plugin received interrupt signal, ignoring");
                }
                Some(()) = terminate.recv() => {
                    tracing::debug!(target: "go_plugin", "plugin received SIGTERM, shutting down");
                    shutdown.cancel();
                    break;
                }
                _ = shutdown.cancelled() => break,
            }
        }
    });
    Ok(())
}
