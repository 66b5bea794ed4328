//! TLS confusion, AutoMTLS pinning in both directions, socket permissions, secrets in logs.

use super::*;

#[test]
fn automtls_refuses_a_plugin_presenting_a_different_certificate() {
    let case = Case::new();
    case.run(Duration::from_secs(20), async {
        let host = Host::new(case.host("wrong-cert").auto_mtls(true));
        host.start().await.unwrap();
        let text = host.ping().await.unwrap_err().to_string();
        assert_contains(&text, "error connecting to the plugin");
        assert_contains(&text, "pinned certificate mismatch");
        host.kill().await;
    });
}

#[test]
fn automtls_plugin_refuses_a_host_presenting_a_different_certificate() {
    let case = Case::new();
    case.run(Duration::from_secs(20), async {
        let announced = Identity::generate().unwrap();
        let stranger = Identity::generate().unwrap();
        let mut plugin = case
            .command("serve")
            .env("TEST_MAGIC_COOKIE", "test")
            .env("PLUGIN_PROTOCOL_VERSIONS", "1")
            .env("PLUGIN_CLIENT_CERT", announced.cert_pem())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(plugin.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let expect = HostExpectations::new(&[1], &[Protocol::Grpc], false);
        let line = HandshakeLine::parse(&line, &expect).unwrap();
        let plugin_cert = line.server_cert.clone().expect("an AutoMTLS certificate");
        let ping = |own: &Identity| {
            let tls = mtls_client_config(own, vec![plugin_cert.clone().into()]).unwrap();
            let address = line.address.clone();
            async move {
                let channel = tls_channel(&address, tls).await?;
                let request = tonic_health::pb::HealthCheckRequest {
                    service: "plugin".into(),
                };
                tonic_health::pb::health_client::HealthClient::new(channel)
                    .check(request)
                    .await?;
                Ok::<_, Box<dyn std::error::Error>>(())
            }
        };
        // The stranger sees the connection refused (an alert or a closed connection, depending on
        // timing); the plugin says why in its log, checked below.
        let refused = ping(&stranger).await.unwrap_err().to_string();
        println!("stranger: {refused}");
        // The announced certificate gets in: the refusal above was about the certificate.
        ping(&announced).await.unwrap();
        // SIGTERM: the plugin shuts down as if asked, removing its socket.
        // SAFETY: kill(2) of the plugin this case started.
        unsafe { libc::kill(plugin.id() as i32, libc::SIGTERM) };
        let output = tokio::task::spawn_blocking(move || plugin.wait_with_output().unwrap())
            .await
            .unwrap();
        assert!(output.status.success(), "{}", output.status);
        let log = String::from_utf8_lossy(&output.stderr);
        assert_contains(&log, "TLS handshake with the peer failed");
        assert_contains(&log, "pinned certificate mismatch");
    });
}

#[test]
fn plaintext_peer_when_tls_is_expected() {
    let case = Case::new();
    case.run(Duration::from_secs(20), async {
        // AutoMTLS: the plugin announces a certificate but speaks plain gRPC.
        let host = Host::new(case.host("plaintext").auto_mtls(true));
        host.start().await.unwrap();
        let text = host.ping().await.unwrap_err().to_string();
        println!("plaintext plugin, AutoMTLS host: {text}");
        assert_contains(&text, "error connecting to the plugin");
        host.kill().await;
        // Explicit TLS on the host, a plugin without TLS.
        let pinned = pinned_client_config(vec![Identity::generate().unwrap().cert]).unwrap();
        let host = Host::new(case.host("serve").tls(pinned));
        host.start().await.unwrap();
        let text = host.ping().await.unwrap_err().to_string();
        println!("plaintext plugin, TLS host: {text}");
        assert_contains(&text, "error connecting to the plugin");
        host.kill().await;
    });
}

#[test]
fn tls_peer_when_plaintext_is_expected() {
    let case = Case::new();
    case.run(Duration::from_secs(20), async {
        let host = Host::new(case.host("tls-unasked"));
        host.start().await.unwrap();
        let text = host.ping().await.unwrap_err().to_string();
        println!("TLS plugin, plaintext host: {text}");
        assert_contains(&text, "error connecting to the plugin");
        assert_contains(
            &text,
            "if the plugin expects TLS, configure TLS or AutoMTLS on the host",
        );
        host.kill().await;
    });
}

#[test]
fn socket_directories_are_private_and_removed() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    // SAFETY: getegid has no preconditions.
    let gid = unsafe { libc::getegid() };
    for group in [None, Some(gid.to_string())] {
        let case = Case::new();
        case.run(Duration::from_secs(20), async {
            let mut sockets = UnixSocketConfig::in_dir(case.tmp());
            sockets.group = group.clone();
            let host = Host::new(case.host("serve").unix_socket(sockets));
            host.ping().await.unwrap();
            let socket = PathBuf::from(host.reattach_config().unwrap().address);
            let dir = socket.parent().unwrap();
            assert_eq!(dir.parent(), Some(case.tmp().as_path()));
            let meta = std::fs::metadata(dir).unwrap();
            let expected = if group.is_some() { 0o770 } else { 0o700 };
            assert_eq!(meta.permissions().mode() & 0o777, expected, "{group:?}");
            if group.is_some() {
                assert_eq!(meta.gid(), gid);
                let socket_meta = std::fs::metadata(&socket).unwrap();
                assert_eq!(socket_meta.permissions().mode() & 0o777, 0o660);
                assert_eq!(socket_meta.gid(), gid);
            }
            host.kill().await;
        });
    }
}

#[test]
fn no_certificate_or_key_material_in_any_log() {
    let case = Case::new();
    case.run(Duration::from_secs(20), async {
        // Everything the host logs (this runtime runs on this thread), and everything the plugin
        // logs at trace level.
        let (host_log, _capture) = capture_host_log();
        let (raw, logs) = (Buffer::default(), Logs::default());
        // The plugin's own default filter (its crate and go_plugin down to trace).
        let command = case.command("serve");
        let host = Host::new(
            case.host_for(command)
                .auto_mtls(true)
                .stderr(raw.clone())
                .on_log(logs.hook()),
        );
        let mut test: TestClient<Channel> = host.dispense("test").await.unwrap();
        assert_eq!(double(&mut test, 1).await, 2);
        drop(test);
        host.kill().await;
        let host_log = String::from_utf8_lossy(&host_log.bytes()).into_owned();
        let plugin_log = String::from_utf8_lossy(&raw.bytes()).into_owned();
        assert!(
            host_log.contains("plugin started"),
            "the host's log was not captured"
        );
        assert!(
            plugin_log.contains("configuring server automatic mTLS"),
            "{plugin_log}"
        );
        for (whose, text) in [("host", &host_log), ("plugin", &plugin_log)] {
            assert!(
                !text.contains("-----BEGIN"),
                "PEM in the {whose} log:\n{text}"
            );
            assert!(
                longest_base64_run(text).len() < 64,
                "base64 material in the {whose} log: {}",
                text.lines()
                    .find(|l| l.contains(longest_base64_run(text)))
                    .unwrap()
            );
        }
    });
}

/// A gRPC channel over TLS to a Unix socket, as a host would open it.
async fn tls_channel(
    address: &str,
    tls: rustls::ClientConfig,
) -> Result<Channel, tonic::transport::Error> {
    let (address, tls) = (address.to_string(), Arc::new(tls));
    let connector = tower::service_fn(move |_: tonic::transport::Uri| {
        let (address, tls) = (address.clone(), tls.clone());
        async move {
            let socket = tokio::net::UnixStream::connect(address).await?;
            let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
            let stream = tokio_rustls::TlsConnector::from(tls)
                .connect(name, socket)
                .await?;
            Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(stream))
        }
    });
    tonic::transport::Endpoint::from_static("http://unused")
        .connect_with_connector(connector)
        .await
}

/// The longest run of base64 characters (certificates and keys are hundreds long).
fn longest_base64_run(text: &str) -> &str {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '+' || c == '/'))
        .max_by_key(|run| run.len())
        .unwrap_or("")
}

#[test]
fn automtls_together_with_a_tls_configuration_is_a_configuration_error() {
    let case = Case::new();
    case.run(Duration::from_secs(20), async {
        let tls = pinned_client_config(vec![Identity::generate().unwrap().cert]).unwrap();
        let host = Host::new(case.host("serve").auto_mtls(true).tls(tls));
        let err = host.start().await.unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err}");
        assert!(
            err.to_string()
                .contains("both AutoMTLS and a TLS configuration"),
            "{err}"
        );
        assert!(case.pids().is_empty(), "a plugin was started");
        host.kill().await;
    });
}

#[test]
fn alpn_h2_is_added_to_a_users_tls_configuration() {
    let mut protocols = Vec::new();
    go_plugin::tls::with_alpn_h2(&mut protocols);
    assert_eq!(protocols, vec![b"h2".to_vec()]);
    let mut protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    go_plugin::tls::with_alpn_h2(&mut protocols);
    assert_eq!(protocols.len(), 2);
}
