//! What the host owns and nothing more: the plugin's whole process tree ends with it, and
//! go-plugin variables the host inherited from its own host do not reach its plugins.

use super::*;

/// `sh -c` starts a background child, records its pid with the case's, then becomes the plugin
/// (as go-plugin's example hosts start plugins through a shell).
fn through_a_shell(case: &Case, mode: &str) -> Command {
    let mut command = case.shell(r#"sleep 300 & : > "$FAULT_PID_DIR/$!"; exec "$0" "$1""#);
    command.arg(mode);
    command
}

#[test]
fn a_plugin_started_through_a_shell_leaves_no_child_after_kill() {
    // "serve" exits on Shutdown (its child would outlive it); "ignore-shutdown" is SIGKILLed
    // after the grace period (only the shell's pid would be signalled). Case::run fails if the
    // background `sleep` still runs afterwards.
    for mode in ["serve", "ignore-shutdown"] {
        let case = Case::new();
        case.run(Duration::from_secs(20), async {
            let host = Host::new(case.host_for(through_a_shell(&case, mode)));
            host.ping().await.unwrap();
            assert_eq!(case.pids().len(), 2, "{mode}: the plugin and its child");
            host.kill().await;
        });
    }
}

#[test]
fn go_plugin_variables_inherited_by_the_host_do_not_reach_its_plugin() {
    // A host that is itself someone's plugin inherits PLUGIN_CLIENT_CERT and friends; handed on,
    // its plugin would fail on a certificate meant for another host ("client cert provided but
    // failed to parse") and put its socket where the other host said.
    let case = Case::new();
    case.run(Duration::from_secs(20), async {
        let elsewhere = case.file("elsewhere");
        std::fs::create_dir(&elsewhere).unwrap();
        let mut host = case
            .command("host")
            .arg("serve")
            .env(
                "PLUGIN_CLIENT_CERT",
                "-----BEGIN CERTIFICATE-----\nnot one\n",
            )
            .env("PLUGIN_UNIX_SOCKET_DIR", &elsewhere)
            .env("PLUGIN_MULTIPLEX_GRPC", "true")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(host.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let started = line.trim().split_once(' ');
        host.kill().unwrap();
        host.wait().unwrap();
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut host.stderr.take().unwrap(), &mut stderr).unwrap();
        let (_, address) = started.unwrap_or_else(|| panic!("the host did not start:\n{stderr}"));
        assert!(
            Path::new(address).starts_with(case.tmp()),
            "the plugin's socket {address} is not in its own TMPDIR"
        );
        assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
    });
}

#[test]
fn a_host_configs_debug_shows_no_environment_values() {
    let mut command = Command::new("plugin");
    command.env("API_TOKEN", "s3cret-value");
    let config = HostConfig::new(handshake()).command(command);
    let text = format!("{config:?}");
    assert!(text.contains("API_TOKEN"), "{text}");
    assert!(!text.contains("s3cret-value"), "{text}");
}

#[test]
fn a_socket_the_plugin_announces_outside_its_own_places_is_never_removed() {
    // A plugin may announce any path, say the user's ssh agent. The host tries it, fails, and
    // must leave it alone: it removes only `plugin…` sockets in the plugin's socket dir or TMPDIR.
    let case = Case::new();
    case.run(Duration::from_secs(20), async {
        let agent_dir = case.file("ssh-agent");
        std::fs::create_dir(&agent_dir).unwrap();
        let victim = agent_dir.join("agent.42");
        drop(std::os::unix::net::UnixListener::bind(&victim).unwrap());
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(r#"echo "1|1|unix|$VICTIM|grpc|"; exec sleep 300"#)
            .env("VICTIM", &victim)
            .env("TMPDIR", case.tmp());
        let host = Host::new(case.host_for(command).start_timeout(Duration::from_secs(3)));
        assert!(host.ping().await.is_err());
        host.kill().await;
        assert!(victim.exists(), "the host removed {}", victim.display());
    });
}

#[test]
fn dropping_a_host_without_kill_closes_its_brokered_servers_and_removes_their_sockets() {
    // The host serves something through its broker, then the user drops the Host (and keeps a
    // clone of the broker, as a dispensed client would): the server stops and its socket goes,
    // with the plugin. Case::run then finds nothing in TMPDIR and no descriptor left open.
    let case = Case::new();
    case.run(Duration::from_secs(20), async {
        let host = Host::new(
            case.host("serve")
                .unix_socket(UnixSocketConfig::in_dir(case.tmp())),
        );
        let connection = host.connection().await.unwrap();
        let broker = connection.broker().clone();
        let routes = tonic::service::Routes::new(tonic_health::server::health_reporter().1);
        broker
            .accept_and_serve(broker.next_id(), routes)
            .await
            .unwrap();
        let sockets = || -> Vec<PathBuf> {
            walk(&case.tmp())
                .into_iter()
                .filter(|p| {
                    std::fs::symlink_metadata(p)
                        .is_ok_and(|m| std::os::unix::fs::FileTypeExt::is_socket(&m.file_type()))
                })
                .collect()
        };
        assert!(!sockets().is_empty(), "the brokered server has no socket");
        drop(connection);
        drop(host);
        let deadline = Instant::now() + Duration::from_secs(5);
        while !sockets().is_empty() {
            assert!(
                Instant::now() < deadline,
                "sockets left after the Host was dropped: {:?}",
                sockets()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        drop(broker);
    });
}

/// Every path under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk(&path));
        }
        found.push(path);
    }
    found
}
