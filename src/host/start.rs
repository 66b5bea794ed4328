//! Starting a plugin (go-plugin's `Start`): launching it and validating its handshake, or
//! attaching to one that runs already (reattach).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::attach::{self, AttachedProcess, PidProcess};
use super::checksum;
use super::config::{HostConfig, Launch, UnixSocketConfig};
use super::launch::{
    launch, prepare_command, resolve_program, wait_for_handshake, with_diagnosis, Ended,
    StderrOutputs,
};
use super::lifecycle::{
    plugin_temp_dir, remove_socket_dir, remove_stale_socket, Host, Running, SocketPlaces,
};
use crate::env::HostEnv;
use crate::error::Error;
use crate::grpc::broker::BrokerTls;
use crate::grpc::dial::dial;
use crate::handshake::{HandshakeLine, HostExpectations, Protocol};
use crate::lock::lock;
use crate::plugin::listener::MAX_SOCKET_PATH;
use crate::reattach::ReattachConfig;
use crate::tls::{mtls_client_config, mtls_server_config, Identity};

impl Host {
    pub(super) async fn start_with(&self, mut config: HostConfig) -> Result<Running, Error> {
        if !cfg!(feature = "netrpc") && config.protocols.contains(&Protocol::NetRpc) {
            return Err(Error::Config(
                "net/rpc plugins are allowed, but this build has no net/rpc support: enable the \
                 go-plugin crate's feature `netrpc`"
                    .into(),
            ));
        }
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
        let program = resolve_program(&command);
        if config.auto_mtls && config.tls.is_some() {
            return Err(Error::Config(
                "both AutoMTLS and a TLS configuration were given: AutoMTLS makes its own \
                 certificates and pins the plugin's, so use HostConfig::auto_mtls(true) or \
                 HostConfig::tls(..), not both"
                    .into(),
            ));
        }
        let verified = match config.checksum.clone() {
            // Off the runtime's workers: a provider binary can be hundreds of MB.
            Some(expected) => {
                let path = program.clone();
                let verified =
                    tokio::task::spawn_blocking(move || checksum::open_verified(&path, &expected))
                        .await
                        .map_err(|e| Error::Config(format!("error verifying checksum: {e}")))??;
                Some(verified)
            }
            None => None,
        };
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
        let temp_dir = plugin_temp_dir(&command, config.skip_host_env);
        let prepared = prepare_command(
            command,
            config.skip_host_env,
            env.variables(),
            config.own_process_group,
            verified,
        );
        tracing::debug!(target: "go_plugin", path = %program.display(), "starting plugin");
        let outputs = StderrOutputs {
            name: program
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            raw: config.stderr.take(),
            hook: config.log_hook.take(),
            max_json_line: config.max_log_json_line,
        };
        let launched = match prepared {
            Ok(command) => launch(command, outputs, config.own_process_group).await,
            Err(e) => Err(e),
        };
        let mut process = match launched {
            Ok(process) => process,
            Err(e) => {
                remove_socket_dir(socket_dir.as_deref());
                return Err(e);
            }
        };
        let (mut exit, host_exited, status) = (
            process.exit.clone(),
            self.inner.exited.clone(),
            self.inner.exit_status.clone(),
        );
        tokio::spawn(async move {
            if let Ok(ended) = exit.wait_for(Option::is_some).await {
                *lock(&status) = ended.as_ref().and_then(Ended::status);
            }
            host_exited.cancel();
        });

        // The socket a rejected line announced: the plugin created it, and once it is killed
        // nobody else will remove it.
        let mut announced_socket = None;
        let killed = self.inner.killed.clone();
        let handshake = async {
            let line = tokio::select! {
                line = wait_for_handshake(&mut process, config.start_timeout, &program) => line?,
                _ = killed.cancelled() => {
                    return Err(Error::PluginExited(
                        "the plugin was killed while it was starting".into(),
                    ))
                }
            };
            announced_socket = announced_unix_socket(&line);
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
                    BrokerTls {
                        server,
                        client,
                        required: true,
                    }
                }
                (Some(_), None) => {
                    return Err(Error::Tls(
                        "AutoMTLS is on but the plugin sent no certificate in its handshake: \
                         it does not support AutoMTLS; turn AutoMTLS off for this plugin"
                            .into(),
                    ))
                }
                (None, _) => BrokerTls {
                    server: config.broker_server_tls.clone(),
                    client: config.tls.clone(),
                    required: config.tls.is_some(),
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
                if let Some(path) = announced_socket {
                    let places = SocketPlaces {
                        socket_dir: socket_dir.clone(),
                        temp_dir: Some(temp_dir.clone()),
                    };
                    remove_stale_socket(Path::new(&path), &places);
                }
                remove_socket_dir(socket_dir.as_deref());
                return Err(e);
            }
        };
        tracing::debug!(target: "go_plugin", version = line.app_version, "using plugin");
        *lock(&self.inner.negotiated) = line.app_version;
        *lock(&self.inner.handshake) = Some(line.clone());
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
            temp_dir: Some(temp_dir),
            connect_timeout: config.start_timeout,
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
                server: config.broker_server_tls.clone(),
                client: config.tls.clone(),
                required: config.tls.is_some(),
            },
            multiplex: false,
            tls: config.tls,
            set,
            sync: (config.sync_stdout, config.sync_stderr),
            connected: None,
            socket_dir: None,
            temp_dir: None,
            connect_timeout: config.start_timeout,
        })
    }
}

/// The Unix socket path a handshake line announces (field 4 when field 3 is `unix`), even when
/// the line is rejected for another reason.
fn announced_unix_socket(line: &str) -> Option<String> {
    let fields: Vec<&str> = line.trim_end().split('|').collect();
    match fields.as_slice() {
        [_, _, "unix", path, ..] if path.starts_with('/') => Some(path.to_string()),
        _ => None,
    }
}

/// Creates `plugin-dir*` inside `parent` for the plugin's sockets: mode 0700, or 0770 owned by
/// `group` when one is configured (go-plugin's `setGroupWritable`).
fn make_socket_dir(parent: &Path, group: Option<&str>) -> Result<PathBuf, Error> {
    use std::os::unix::fs::PermissionsExt;
    // `<parent>/plugin-dirXXXXXX/plugin<up to 10 digits>`: refused here rather than by the plugin.
    let longest = parent.as_os_str().len() + "/plugin-dir".len() + 6 + "/plugin".len() + 10;
    if longest > MAX_SOCKET_PATH {
        return Err(Error::Config(format!(
            "socket directory {}: plugin sockets in it would have paths of up to {longest} bytes, \
             over the {MAX_SOCKET_PATH}-byte limit of Unix socket paths; choose a shorter \
             UnixSocketConfig::temp_dir",
            parent.display()
        )));
    }
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

#[cfg(test)]
mod tests {
    use super::announced_unix_socket;

    #[test]
    fn announced_socket_is_read_even_from_a_line_that_is_refused() {
        assert_eq!(
            announced_unix_socket("1|7|unix|/tmp/plugin42|grpc|\n").as_deref(),
            Some("/tmp/plugin42")
        );
        assert_eq!(announced_unix_socket("1|1|tcp|127.0.0.1:1234|grpc|"), None);
        assert_eq!(announced_unix_socket("1|1|unix|relative|grpc|"), None);
        assert_eq!(announced_unix_socket("garbage"), None);
    }
}
