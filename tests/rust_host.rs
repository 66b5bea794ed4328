//! Cross-tests, Rust host → Go plugin (RH→GP): the Rust host launches real go-plugin plugins —
//! go-plugin's own test helper (`go test -c` of github.com/hashicorp/go-plugin, run in one of its
//! helper modes) and the example KV plugins of v1.8.0 and v1.7.0. Each test names the
//! PROTOCOL.md §8 item it checks.

#[path = "support/features.rs"]
mod features;
mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use go_plugin::handshake::{HandshakeConfig, Protocol};
use go_plugin::host::{cleanup_hosts, sha256_file, ClientSet, Host, HostConfig, UnixSocketConfig};
use go_plugin::log::LogEntry;
use go_plugin_schemas::grpctest::test_client::TestClient;
use go_plugin_schemas::grpctest::{
    print_kv_request, PrintKvRequest, PrintStdioRequest, TestRequest,
};
use go_plugin_schemas::kv::kv_client::KvClient;
use go_plugin_schemas::kv::{GetRequest, PutRequest};
use support::*;
use tonic::transport::Channel;

/// go-plugin's test helper in `mode` (cookie `TEST_MAGIC_COOKIE=test`).
fn helper(mode: &str) -> Command {
    let mut cmd = Command::new(go_subject("bin/gp-helper"));
    cmd.env("GO_WANT_HELPER_PROCESS", "1")
        .args(["-test.run=TestHelperProcess", "--", mode]);
    cmd
}

fn test_handshake() -> HandshakeConfig {
    HandshakeConfig::new(1, "TEST_MAGIC_COOKIE", "test")
}

fn test_plugins() -> ClientSet {
    ClientSet::new().plugin("test", |c| TestClient::new(c.channel()))
}

/// A host for a helper mode with the grpctest plugin set.
fn helper_host(mode: &str) -> HostConfig {
    HostConfig::new(test_handshake())
        .plugins(test_plugins())
        .command(helper(mode))
}

/// Collects the plugin log entries the host interprets.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<LogEntry>>>);

impl Logs {
    /// The entries with this message, in arrival order.
    fn named(&self, message: &str) -> Vec<LogEntry> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.message == message)
            .cloned()
            .collect()
    }

    fn hook(&self) -> impl Fn(&str, &LogEntry) + Send + Sync + 'static {
        let entries = self.0.clone();
        move |_, entry| entries.lock().unwrap().push(entry.clone())
    }
    fn find(&self, message: &str) -> Option<LogEntry> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .find(|e| e.message == message)
            .cloned()
    }
}

/// Waits for the plugin's two "PrintKV called" entries and checks each carries its key/value.
async fn assert_print_kv_entries(
    logs: &Logs,
    expected: [(&str, serde_json::Value); 2],
) -> Vec<LogEntry> {
    eventually(Duration::from_secs(5), "PrintKV log entries", || {
        logs.named("PrintKV called").len() == 2
    })
    .await;
    let entries = logs.named("PrintKV called");
    for (entry, (key, value)) in entries.iter().zip(expected) {
        assert!(entry.fields.contains(&(key.into(), value)), "{entries:?}");
    }
    entries
}

/// Waits until `pred` holds (checked every 20 ms), failing after `limit`.
async fn eventually(limit: Duration, what: &str, pred: impl Fn() -> bool) {
    let deadline = Instant::now() + limit;
    while !pred() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Kills the host and checks the plugin went away by itself, quickly, and left no socket.
async fn kill_and_check(host: &Host) {
    let reattach = host.reattach_config().expect("started");
    let started = Instant::now();
    host.kill().await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "kill took {:?}",
        started.elapsed()
    );
    assert!(host.exited());
    assert_process_gone(reattach.pid, Duration::from_secs(2));
    if reattach.network == go_plugin::handshake::Network::Unix {
        assert!(
            !Path::new(&reattach.address).exists(),
            "socket {} left behind",
            reattach.address
        );
    }
}

#[tokio::test]
async fn item01_26_27_28_test_grpc_double_stream_ping() {
    let host = Host::new(helper_host("test-grpc"));
    let mut test: TestClient<Channel> = host.dispense("test").await.unwrap();
    assert_eq!(double(&mut test, 21).await, 42);
    host.ping().await.unwrap();
    let inputs = tokio_stream::iter([1, 2, 3].map(|input| TestRequest { input }));
    let mut outputs = test.stream(inputs).await.unwrap().into_inner();
    let mut got = Vec::new();
    while let Some(r) = outputs.message().await.unwrap() {
        got.push(r.output);
    }
    assert_eq!(got, [1, 2, 3]);
    assert_eq!(host.negotiated_version(), 1);
    kill_and_check(&host).await;
}

#[tokio::test]
async fn item29_print_stdio_arrives_byte_exact() {
    let (out, err) = (Buffer::default(), Buffer::default());
    let host = Host::new(
        helper_host("test-grpc")
            .sync_stdout(out.clone())
            .sync_stderr(err.clone()),
    );
    let mut test: TestClient<Channel> = host.dispense("test").await.unwrap();
    // The Go helper prints the bytes as a Go string: valid UTF-8 stays byte-exact.
    let stdout: Vec<u8> = (0..200_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let stderr = "ünïcødé\n".repeat(5000).into_bytes();
    test.print_stdio(PrintStdioRequest {
        stdout: stdout.clone(),
        stderr: stderr.clone(),
    })
    .await
    .unwrap();
    eventually(Duration::from_secs(10), "stdio", || {
        out.bytes().len() >= stdout.len() && err.bytes().len() >= stderr.len()
    })
    .await;
    assert!(out.bytes() == stdout, "stdout differs");
    assert!(err.bytes() == stderr, "stderr differs");
    kill_and_check(&host).await;
}

#[tokio::test]
async fn item48_hclog_json_from_a_go_plugin_becomes_structured_entries() {
    let logs = Logs::default();
    let host = Host::new(helper_host("test-grpc").on_log(logs.hook()));
    let mut test: TestClient<Channel> = host.dispense("test").await.unwrap();
    for (key, value) in [
        ("foo", print_kv_request::Value::ValueString("bar".into())),
        ("bar", print_kv_request::Value::ValueInt(12)),
    ] {
        test.print_kv(PrintKvRequest {
            key: key.into(),
            value: Some(value),
        })
        .await
        .unwrap();
    }
    let entries = assert_print_kv_entries(
        &logs,
        [
            ("foo", serde_json::Value::from("bar")),
            ("bar", serde_json::Value::from(12)),
        ],
    )
    .await;
    assert!(entries.iter().all(|e| e.level == tracing::Level::INFO));
    kill_and_check(&host).await;
}

#[tokio::test]
async fn item20_24_25_automtls_with_a_go_plugin() {
    let host = Host::new(helper_host("test-grpc").auto_mtls(true));
    let mut test: TestClient<Channel> = host.dispense("test").await.unwrap();
    assert_eq!(double(&mut test, 4).await, 8);
    kill_and_check(&host).await;
    // test-mtls serves app version 2.
    let host = Host::new(
        HostConfig::new(HandshakeConfig::new(2, "TEST_MAGIC_COOKIE", "test"))
            .plugins(test_plugins())
            .command(helper("test-mtls"))
            .auto_mtls(true),
    );
    let mut test: TestClient<Channel> = host.dispense("test").await.unwrap();
    assert_eq!(double(&mut test, 5).await, 10);
    assert_eq!(host.negotiated_version(), 2);
    kill_and_check(&host).await;
}

/// A PEM constant of go-plugin's plugin_test.go (read from the module cache through
/// `target/go/go-plugin-src`): the helper's explicit-TLS modes present `TestClusterServerCert`,
/// whose key is `TestClusterServerKey`.
fn plugin_test_pem(constant: &str) -> String {
    let source = std::fs::read_to_string(go_subject("go-plugin-src/plugin_test.go")).unwrap();
    let opening = format!("{constant} = `");
    let start = source
        .find(&opening)
        .unwrap_or_else(|| panic!("{constant} in plugin_test.go"))
        + opening.len();
    let end = source[start..].find('`').unwrap() + start;
    source[start..end]
        .lines()
        .map(|l| l.trim().to_string() + "\n")
        .collect()
}

fn helper_server_cert() -> rustls::pki_types::CertificateDer<'static> {
    use rustls::pki_types::pem::PemObject;
    let pem = plugin_test_pem("TestClusterServerCert");
    rustls::pki_types::CertificateDer::from_pem_slice(pem.as_bytes()).unwrap()
}

/// Under explicit TLS the host's brokered servers use TLS too: the Go helper dials them with its
/// one `tls.Config` (RootCAs: the test cluster CA, ServerName 127.0.0.1), so the host serves with
/// the test cluster's server certificate; without a broker server configuration the host refuses
/// to serve in plaintext.
#[tokio::test]
async fn explicit_tls_covers_the_hosts_brokered_servers_with_the_go_helper() {
    let dir = short_tempdir();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, plugin_test_pem("TestClusterServerCert")).unwrap();
    std::fs::write(&key, plugin_test_pem("TestClusterServerKey")).unwrap();
    let client = || go_plugin::tls::pinned_client_config(vec![helper_server_cert()]).unwrap();
    let server = go_plugin::tls::server_config_from_pem_files(&cert, &key).unwrap();
    let host = Host::new(
        helper_host("test-grpc-tls")
            .tls(client())
            .broker_server_tls(server),
    );
    bidirectional(&host).await.unwrap();
    kill_and_check(&host).await;

    let host = Host::new(helper_host("test-grpc-tls").tls(client()));
    let err = bidirectional(&host).await.unwrap_err().to_string();
    assert!(err.contains("HostConfig::broker_server_tls"), "{err}");
    kill_and_check(&host).await;
}

#[tokio::test]
async fn item23_explicit_tls_towards_the_go_helper() {
    let tls = go_plugin::tls::pinned_client_config(vec![helper_server_cert()]).unwrap();
    let host = Host::new(helper_host("test-grpc-tls").tls(tls));
    let mut test: TestClient<Channel> = host.dispense("test").await.unwrap();
    assert_eq!(double(&mut test, 7).await, 14);
    kill_and_check(&host).await;
    // Without a TLS configuration the connection cannot be made.
    let plain = Host::new(helper_host("test-grpc-tls"));
    assert!(plain.ping().await.is_err());
    plain.kill().await;
}

#[tokio::test]
async fn item13_versioned_plugins_of_the_go_helper() {
    let tls = go_plugin::tls::pinned_client_config(vec![helper_server_cert()]).unwrap();
    let host = Host::new(
        HostConfig::new(HandshakeConfig::new(0, "TEST_MAGIC_COOKIE", "test"))
            .version(1, ClientSet::new())
            .version(2, test_plugins())
            .command(helper("test-versioned-plugins"))
            .tls(tls),
    );
    let mut test: TestClient<Channel> = host.dispense("test").await.unwrap();
    assert_eq!(host.negotiated_version(), 2);
    assert_eq!(double(&mut test, 8).await, 16);
    kill_and_check(&host).await;
}

#[tokio::test]
async fn item22_33_broker_ping_pong_with_the_go_helper_both_ways_with_and_without_automtls() {
    for auto_mtls in [false, true] {
        // Go plugins leave their brokered sockets behind when they exit; a socket dir of the
        // host's (removed on kill) keeps them out of /tmp.
        let dir = short_tempdir();
        let sockets = UnixSocketConfig::in_dir(dir.path().to_path_buf());
        let host = Host::new(
            helper_host("test-grpc")
                .auto_mtls(auto_mtls)
                .unix_socket(sockets),
        );
        bidirectional(&host)
            .await
            .unwrap_or_else(|e| panic!("auto_mtls={auto_mtls}: {e}"));
        kill_and_check(&host).await;
    }
}

#[tokio::test]
async fn item34_multiplexed_broker_with_the_go_helper() {
    for auto_mtls in [false, true] {
        let host = Host::new(
            helper_host("test-grpc")
                .auto_mtls(auto_mtls)
                .multiplex(true),
        );
        let mut test: TestClient<Channel> = host.dispense("test").await.unwrap();
        assert_eq!(double(&mut test, 3).await, 6);
        bidirectional(&host)
            .await
            .unwrap_or_else(|e| panic!("auto_mtls={auto_mtls}: {e}"));
        kill_and_check(&host).await;
    }
}

#[tokio::test]
async fn dialing_an_id_the_go_plugin_does_not_serve_fails_after_5_s_in_both_modes() {
    for multiplex in [false, true] {
        let host = Host::new(helper_host("test-grpc").multiplex(multiplex));
        let broker = host.connection().await.unwrap().broker().clone();
        let started = Instant::now();
        let err = broker.dial(999).await.unwrap_err().to_string();
        assert!(
            started.elapsed() < Duration::from_secs(7),
            "took {:?}",
            started.elapsed()
        );
        assert!(
            err.contains("999") && err.contains("timeout"),
            "multiplex={multiplex}: {err}"
        );
        kill_and_check(&host).await;
    }
}

#[tokio::test]
async fn yamux_session_with_a_go_plugin_survives_idle_keepalives_and_moves_a_mebibyte() {
    let (out, err) = (Buffer::default(), Buffer::default());
    let host = Host::new(
        helper_host("test-grpc")
            .multiplex(true)
            .sync_stdout(out.clone())
            .sync_stderr(err.clone()),
    );
    let mut test: TestClient<Channel> = host.dispense("test").await.unwrap();
    // hashicorp/yamux pings every 30 s and drops a session whose pings go unanswered for 10 s.
    tokio::time::sleep(Duration::from_secs(45)).await;
    // Each call gets a deadline: a stalled session fails the test instead of hanging the suite
    // (seen once under full-suite load, not reproduced alone).
    let within = Duration::from_secs(60);
    let doubled = tokio::time::timeout(within, double(&mut test, 9)).await;
    assert_eq!(
        doubled.expect("Double after 45 s idle did not answer within 60 s"),
        18
    );
    let payload: Vec<u8> = (0..(1u32 << 20)).map(|i| b'a' + (i % 26) as u8).collect();
    let printed = tokio::time::timeout(
        within,
        test.print_stdio(PrintStdioRequest {
            stdout: payload.clone(),
            stderr: payload.clone(),
        }),
    )
    .await;
    printed
        .expect("PrintStdio of 1 MiB did not answer within 60 s")
        .unwrap();
    eventually(Duration::from_secs(10), "stdio", || {
        out.bytes().len() >= payload.len() && err.bytes().len() >= payload.len()
    })
    .await;
    assert!(
        out.bytes() == payload && err.bytes() == payload,
        "stdio differs"
    );
    kill_and_check(&host).await;
}

#[tokio::test]
async fn item18_multiplexing_refused_by_plugins_without_support() {
    for (mode, expected) in [
        ("mux-grpc-with-old-plugin", "client requested gRPC broker multiplexing but plugin does not support the feature; for Go plugins, you will need to update the github.com/hashicorp/go-plugin dependency and recompile"),
        ("mux-grpc-with-unsupported-plugin", "client requested gRPC broker multiplexing but plugin does not support the feature"),
    ] {
        let host = Host::new(helper_host(mode).multiplex(true));
        let err = host.start().await.unwrap_err().to_string();
        assert_eq!(err, expected, "{mode}");
        assert!(host.exited());
    }
}

/// A host for a net/rpc helper mode, dispensing the net/rpc client itself.
fn netrpc_helper_host(mode: &str) -> HostConfig {
    HostConfig::new(test_handshake())
        .plugins(ClientSet::new().netrpc_plugin("test", |rpc, _| rpc))
        .allowed_protocols(&[Protocol::NetRpc])
        .command(helper(mode))
}

#[tokio::test]
async fn item37_38_netrpc_dispense_double_and_ping() {
    let host = Host::new(netrpc_helper_host("test-interface"));
    let test: go_plugin::netrpc::RpcClient = host.dispense("test").await.unwrap();
    assert_eq!(
        test.call::<i64, i64>("Plugin.Double", &21).await.unwrap(),
        42
    );
    host.ping().await.unwrap();
    let err = test
        .call::<i64, i64>("Plugin.Nope", &1)
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(err, "rpc: can't find method Plugin.Nope");
    kill_and_check(&host).await;
    assert!(host.ping().await.is_err());
}

/// Calls in flight together on one net/rpc client are answered by Go's server in completion
/// order and matched by `Seq`; a call dropped before its reply leaves the client usable.
#[tokio::test]
async fn netrpc_calls_run_concurrently_and_a_dropped_call_does_not_break_the_client() {
    let host = Host::new(netrpc_helper_host("test-interface"));
    let test: go_plugin::netrpc::RpcClient = host.dispense("test").await.unwrap();
    let answers = futures_util::future::join_all((0..32i64).map(|n| {
        let test = test.clone();
        async move { test.call::<i64, i64>("Plugin.Double", &n).await }
    }))
    .await;
    let answers: Vec<i64> = answers.into_iter().map(Result::unwrap).collect();
    assert_eq!(answers, (0..32).map(|n| n * 2).collect::<Vec<_>>());
    // Polled once (so sent), then dropped before its reply is read.
    let dropped =
        futures_util::FutureExt::now_or_never(test.call::<i64, i64>("Plugin.Double", &100));
    assert!(dropped.is_none());
    for n in 0..3i64 {
        assert_eq!(
            test.call::<i64, i64>("Plugin.Double", &n).await.unwrap(),
            n * 2
        );
    }
    kill_and_check(&host).await;
}

#[tokio::test]
async fn item21_netrpc_with_automtls() {
    let host = Host::new(netrpc_helper_host("test-interface").auto_mtls(true));
    let test: go_plugin::netrpc::RpcClient = host.dispense("test").await.unwrap();
    assert_eq!(
        test.call::<i64, i64>("Plugin.Double", &5).await.unwrap(),
        10
    );
    kill_and_check(&host).await;
}

#[tokio::test]
async fn item39_control_quit_lets_the_plugin_run_its_cleanup() {
    let dir = short_tempdir();
    let marker = dir.path().join("cleaned");
    let mut command = helper("cleanup");
    command.arg(&marker);
    let host = Host::new(
        HostConfig::new(test_handshake())
            .plugins(ClientSet::new().netrpc_plugin("test", |rpc, _| rpc))
            .allowed_protocols(&[Protocol::NetRpc])
            .command(command),
    );
    host.ping().await.unwrap();
    host.kill().await;
    assert!(
        host.exit_status().is_some_and(|s| s.success()),
        "{:?}",
        host.exit_status()
    );
    assert_eq!(
        std::fs::read_to_string(&marker).unwrap(),
        "foo",
        "the plugin's deferred cleanup did not run"
    );
}

#[tokio::test]
async fn item55_reattach_to_a_netrpc_plugin_also_with_an_empty_protocol() {
    let first = Host::new(netrpc_helper_host("test-interface"));
    first.start().await.unwrap();
    let config = first.reattach_config().unwrap();
    assert_eq!(config.protocol, Protocol::NetRpc);
    // Terraform-style JSON with "Protocol": "" means net/rpc.
    let mut json = config.to_json();
    json["Protocol"] = serde_json::Value::from("");
    let parsed = go_plugin::reattach::ReattachConfig::from_json(&json).unwrap();
    let second = Host::new(
        HostConfig::new(test_handshake())
            .plugins(ClientSet::new().netrpc_plugin("test", |rpc, _| rpc))
            .allowed_protocols(&[Protocol::NetRpc])
            .reattach(parsed),
    );
    let test: go_plugin::netrpc::RpcClient = second.dispense("test").await.unwrap();
    assert_eq!(test.call::<i64, i64>("Plugin.Double", &4).await.unwrap(), 8);
    second.kill().await;
    assert_process_gone(config.pid, Duration::from_secs(3));
    first.kill().await;
}

#[tokio::test]
async fn item23_netrpc_with_explicit_tls_towards_the_go_helper() {
    let tls = go_plugin::tls::pinned_client_config(vec![helper_server_cert()]).unwrap();
    let host = Host::new(netrpc_helper_host("test-interface-tls").tls(tls));
    let test: go_plugin::netrpc::RpcClient = host.dispense("test").await.unwrap();
    assert_eq!(test.call::<i64, i64>("Plugin.Double", &3).await.unwrap(), 6);
    kill_and_check(&host).await;
    let plain = Host::new(netrpc_helper_host("test-interface-tls"));
    assert!(
        plain.ping().await.is_err(),
        "a plaintext host talked to a TLS plugin"
    );
    plain.kill().await;
}

#[tokio::test]
async fn item21_netrpc_automtls_with_a_versioned_handshake() {
    // go-plugin's TestClient_mtlsNetRPCClient: legacy Plugins under app version 0, AutoMTLS.
    let host = Host::new(
        HostConfig::new(HandshakeConfig::new(0, "TEST_MAGIC_COOKIE", "test"))
            .plugins(ClientSet::new().netrpc_plugin("test", |rpc, _| rpc))
            .allowed_protocols(&[Protocol::NetRpc])
            .command(helper("test-interface-mtls"))
            .auto_mtls(true),
    );
    let test: go_plugin::netrpc::RpcClient = host.dispense("test").await.unwrap();
    assert_eq!(
        test.call::<i64, i64>("Plugin.Double", &8).await.unwrap(),
        16
    );
    kill_and_check(&host).await;
}

#[tokio::test]
async fn item42_48_netrpc_map_arguments_and_the_plugins_hclog_entries() {
    use gobwire::Interface;
    let logs = Logs::default();
    let host = Host::new(netrpc_helper_host("test-interface-logger-netrpc").on_log(logs.hook()));
    let test: go_plugin::netrpc::RpcClient = host.dispense("test").await.unwrap();
    for (key, value) in [
        ("foo", Interface::string("bar")),
        ("count", Interface::int(12)),
    ] {
        let args = std::collections::HashMap::from([
            ("key".to_string(), Some(Interface::string(key))),
            ("value".to_string(), Some(value)),
        ]);
        let _: go_plugin::netrpc::Empty = test.call("Plugin.PrintKV", &args).await.unwrap();
    }
    assert_print_kv_entries(
        &logs,
        [
            ("foo", serde_json::Value::from("bar")),
            ("count", serde_json::Value::from(12)),
        ],
    )
    .await;
    kill_and_check(&host).await;
}

#[tokio::test]
async fn item43_netrpc_mux_broker_callbacks_with_a_go_plugin_with_and_without_automtls() {
    for auto_mtls in [false, true] {
        let host = Host::new(
            HostConfig::new(test_handshake())
                .plugins(netrpc_test_plugins())
                .allowed_protocols(&[Protocol::NetRpc])
                .command(Command::new(go_subject("bin/goplugin")))
                .auto_mtls(auto_mtls),
        );
        netrpc_bidirectional(&host)
            .await
            .unwrap_or_else(|e| panic!("auto_mtls={auto_mtls}: {e}"));
        kill_and_check(&host).await;
    }
}

#[tokio::test]
async fn item44_netrpc_yamux_session_with_a_go_plugin_survives_45_s_idle() {
    // The Go plugin serves only after it has accepted our three eagerly opened streams; its
    // keep-alive pings every 30 s must be answered for the session to live through 45 s of silence.
    let host = Host::new(netrpc_helper_host("test-interface"));
    let test: go_plugin::netrpc::RpcClient = host.dispense("test").await.unwrap();
    tokio::time::sleep(Duration::from_secs(45)).await;
    assert_eq!(
        test.call::<i64, i64>("Plugin.Double", &10).await.unwrap(),
        20
    );
    host.ping().await.unwrap();
    kill_and_check(&host).await;
}

#[tokio::test]
async fn item40_netrpc_stdio_streams_of_a_go_plugin_are_byte_exact() {
    /// `Plugin.PrintStdio`'s argument.
    #[derive(gobwire::Gob, Default)]
    struct PrintStdioArgs {
        #[gob(name = "Stdout")]
        stdout: Vec<u8>,
        #[gob(name = "Stderr")]
        stderr: Vec<u8>,
    }
    let (out, err) = (Buffer::default(), Buffer::default());
    let host = Host::new(
        HostConfig::new(test_handshake())
            .plugins(netrpc_test_plugins())
            .allowed_protocols(&[Protocol::NetRpc])
            .command(Command::new(go_subject("bin/goplugin")))
            .sync_stdout(out.clone())
            .sync_stderr(err.clone()),
    );
    let test: NetRpcTest = host.dispense("test").await.unwrap();
    let stdout: Vec<u8> = (0..(1u32 << 20))
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let stderr: Vec<u8> = stdout.iter().rev().copied().collect();
    let args = PrintStdioArgs {
        stdout: stdout.clone(),
        stderr: stderr.clone(),
    };
    let _: go_plugin::netrpc::Empty = test.rpc.call("Plugin.PrintStdio", &args).await.unwrap();
    eventually(Duration::from_secs(10), "stdio", || {
        out.bytes().len() >= stdout.len() && err.bytes().len() >= stderr.len()
    })
    .await;
    assert!(
        out.bytes() == stdout && err.bytes() == stderr,
        "stdio differs"
    );
    kill_and_check(&host).await;
}

#[test]
fn item41_greeter_host_greets_through_the_go_and_the_rust_basic_plugin() {
    for plugin in [
        go_subject("examples/basic_plugin/plugin"),
        rust_example("greeter_plugin"),
    ] {
        let dir = dir_with_plugin("greeter", &plugin);
        let mut cmd = Command::new(rust_example("greeter_host"));
        cmd.current_dir(dir.path());
        let done = run(cmd, Duration::from_secs(30));
        done.assert_success();
        assert_eq!(done.stdout, "Hello!\n", "{}", plugin.display());
    }
}

#[tokio::test]
async fn item10_four_field_line_means_netrpc_over_tcp() {
    let host =
        Host::new(helper_host("mock").allowed_protocols(&[Protocol::NetRpc, Protocol::Grpc]));
    host.start().await.unwrap();
    let reattach = host.reattach_config().unwrap();
    assert_eq!(reattach.protocol, Protocol::NetRpc);
    assert_eq!(reattach.network, go_plugin::handshake::Network::Tcp);
    assert_eq!(reattach.address, ":1234");
    host.kill().await;
    assert!(host.exited());
}

#[tokio::test]
async fn item12_plugin_version_not_offered_uses_go_text() {
    let host = Host::new(helper_host("bad-version").allowed_protocols(&[Protocol::NetRpc]));
    let err = host.start().await.unwrap_err().to_string();
    assert_eq!(
        err,
        "incompatible API version with plugin. Plugin version: 11, Client versions: [1]"
    );
    assert!(
        host.exited(),
        "the process must be gone after a failed start"
    );
}

#[tokio::test]
async fn item15_transport_not_allowed_uses_go_text() {
    let host = Host::new(helper_host("mock"));
    let err = host.start().await.unwrap_err().to_string();
    assert_eq!(
        err,
        "unsupported plugin protocol \"netrpc\". Supported: [grpc]"
    );
}

#[tokio::test]
async fn item16_start_timeout_kills_the_plugin() {
    let host = Host::new(helper_host("start-timeout").start_timeout(Duration::from_millis(500)));
    let started = Instant::now();
    let err = host.start().await.unwrap_err().to_string();
    assert_eq!(err, "timeout while waiting for plugin to start");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(host.exited());
}

#[tokio::test]
async fn item17_bad_first_line_is_unrecognized_and_the_process_is_reaped() {
    let host = Host::new(helper_host("invalid-rpc-address"));
    let err = host.start().await.unwrap_err().to_string();
    assert!(
        err.starts_with("Unrecognized remote plugin message: lolinvalid\nThis usually means"),
        "{err}"
    );
    host.kill().await;
    assert!(host.exited());
}

#[tokio::test]
async fn item02_plugin_without_cookie_fails_to_start() {
    // The Go helper checks the cookie; a host with a different one gets no handshake line.
    let host = Host::new(
        HostConfig::new(HandshakeConfig::new(1, "TEST_MAGIC_COOKIE", "other"))
            .plugins(test_plugins())
            .command(helper("test-grpc")),
    );
    let err = host.start().await.unwrap_err().to_string();
    assert!(
        err.contains("Unrecognized remote plugin message")
            || err.contains("plugin exited before we could connect"),
        "{err}"
    );
    assert!(host.exited());
}

#[tokio::test]
async fn item36_unknown_plugin_name() {
    let host = Host::new(helper_host("test-grpc"));
    let err = host
        .dispense::<TestClient<Channel>>("nope")
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(err, "unknown plugin type: nope");
    kill_and_check(&host).await;
}

#[tokio::test]
async fn item45_46_47_stderr_lines_pass_through_and_are_classified() {
    for (mode, lines) in [
        (
            "stderr",
            vec![
                ("HELLO", tracing::Level::DEBUG),
                ("WORLD", tracing::Level::DEBUG),
            ],
        ),
        (
            "stderr-json",
            vec![
                ("[\"HELLO\"]", tracing::Level::DEBUG),
                ("12345", tracing::Level::DEBUG),
                ("{\"a\":1}", tracing::Level::DEBUG),
            ],
        ),
        (
            "level-warn-text",
            vec![("[WARN] test line 98765", tracing::Level::WARN)],
        ),
    ] {
        let (raw, logs) = (Buffer::default(), Logs::default());
        let host = Host::new(
            helper_host(mode)
                .allowed_protocols(&[Protocol::NetRpc])
                .stderr(raw.clone())
                .on_log(logs.hook()),
        );
        host.start().await.unwrap();
        eventually(Duration::from_secs(5), "the plugin to exit", || {
            host.exited()
        })
        .await;
        let expected_raw: String = lines.iter().map(|(l, _)| format!("{l}\n")).collect();
        assert_eq!(
            String::from_utf8(raw.bytes()).unwrap(),
            expected_raw,
            "{mode}"
        );
        for (line, level) in lines {
            let entry = logs
                .find(line)
                .unwrap_or_else(|| panic!("{mode}: no entry {line}"));
            assert_eq!(entry.level, level, "{mode}: {line}");
        }
        host.kill().await;
    }
}

#[tokio::test]
async fn item04_skip_host_env() {
    // SAFETY: the variable is only read by the plugins these tests start.
    unsafe { std::env::set_var("PLUGIN_TEST_SKIP_HOST_ENV", "1") };
    for (mode, skip) in [
        ("test-skip-host-env-true", true),
        ("test-skip-host-env-false", false),
    ] {
        let host = Host::new(
            helper_host(mode)
                .allowed_protocols(&[Protocol::NetRpc])
                .skip_host_env(skip),
        );
        host.start().await.unwrap();
        eventually(Duration::from_secs(5), "the plugin to exit", || {
            host.exited()
        })
        .await;
        let status = host.exit_status().unwrap();
        assert!(
            status.success(),
            "{mode}: the plugin saw the wrong environment ({status})"
        );
        host.kill().await;
    }
}

#[test]
fn item05_plugin_reads_the_hosts_stdin() {
    // Re-run this test binary as the host, with "hello" on its stdin.
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "stdin_host_helper",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("GP_STDIN_HOST", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"hello").unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("stdin plugin exited: exit status: 0"),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn stdin_host_helper() {
    if std::env::var_os("GP_STDIN_HOST").is_none() {
        return; // only meaningful as the child process of item05
    }
    let host = Host::new(helper_host("stdin").allowed_protocols(&[Protocol::NetRpc]));
    host.start().await.unwrap();
    eventually(Duration::from_secs(5), "the plugin to exit", || {
        host.exited()
    })
    .await;
    println!("stdin plugin exited: {}", host.exit_status().unwrap());
}

#[tokio::test]
async fn item32_plugin_crash_is_noticed_and_calls_fail_clearly() {
    let host = Host::new(helper_host("test-grpc"));
    let mut test: TestClient<Channel> = host.dispense("test").await.unwrap();
    let pid = host.reattach_config().unwrap().pid;
    // SAFETY: killing the plugin process this test started.
    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    tokio::time::timeout(Duration::from_secs(2), host.exited_token().cancelled())
        .await
        .expect("exit noticed within 2 s");
    assert!(host.exit_status().is_some_and(|s| !s.success()));
    assert!(test.double(TestRequest { input: 1 }).await.is_err());
    host.kill().await;
    let socket = host.reattach_config().unwrap().address;
    assert!(
        !Path::new(&socket).exists(),
        "the killed plugin's socket {socket} was left behind"
    );
    // The host program carries on and can start a new instance.
    let again = Host::new(helper_host("test-grpc"));
    let mut test: TestClient<Channel> = again.dispense("test").await.unwrap();
    assert_eq!(double(&mut test, 2).await, 4);
    kill_and_check(&again).await;
}

#[tokio::test]
async fn item49_a_go_panic_is_logged_at_error_with_its_stack() {
    let logs = Logs::default();
    let host = Host::new(helper_host("test-grpc").on_log(logs.hook()));
    let mut test: TestClient<Channel> = host.dispense("test").await.unwrap();
    let request = go_plugin_schemas::grpctest::PanicRequest {
        message: "invalid foo bar".into(),
    };
    assert!(test.panic(request).await.is_err());
    tokio::time::timeout(Duration::from_secs(5), host.exited_token().cancelled())
        .await
        .expect("the plugin died");
    eventually(Duration::from_secs(2), "the panic line", || {
        logs.find("panic: invalid foo bar").is_some()
    })
    .await;
    assert_eq!(
        logs.find("panic: invalid foo bar").unwrap().level,
        tracing::Level::ERROR
    );
    let stack_at_error = logs
        .0
        .lock()
        .unwrap()
        .iter()
        .any(|e| e.message.starts_with("goroutine ") && e.level == tracing::Level::ERROR);
    assert!(
        stack_at_error,
        "the stack trace after the panic must be logged at error"
    );
    host.kill().await;
}

#[tokio::test]
async fn item31_kill_asks_for_shutdown_and_the_go_plugin_exits_by_itself() {
    let host = Host::new(helper_host("test-grpc"));
    host.ping().await.unwrap();
    kill_and_check(&host).await;
    // A hard kill would end it with SIGKILL; after Shutdown a Go plugin returns from Serve, exit 0.
    assert!(
        host.exit_status().is_some_and(|s| s.success()),
        "{:?}",
        host.exit_status()
    );
}

#[tokio::test]
async fn item28_ping_fails_once_the_plugin_is_stopped() {
    let host = Host::new(helper_host("test-grpc"));
    host.ping().await.unwrap();
    kill_and_check(&host).await;
    assert!(host.ping().await.is_err());
}

#[tokio::test]
async fn item54_clean_start_and_stop_log_no_errors() {
    let logs = Logs::default();
    let host = Host::new(helper_host("test-grpc").on_log(logs.hook()));
    host.ping().await.unwrap();
    kill_and_check(&host).await;
    let errors: Vec<_> = logs
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.level == tracing::Level::ERROR)
        .cloned()
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
}

#[tokio::test]
async fn item19_stdout_after_the_handshake_never_blocks_the_plugin() {
    let dir = short_tempdir();
    let done = dir.path().join("done");
    let script = write_script(
        dir.path(),
        "chatty",
        &format!(
            "echo '1|1|tcp|:1234'; head -c 4000000 /dev/zero; touch {}; exec sleep 30",
            done.display()
        ),
    );
    let host = Host::new(
        HostConfig::new(test_handshake())
            .allowed_protocols(&[Protocol::NetRpc])
            .command(Command::new(&script)),
    );
    host.start().await.unwrap();
    eventually(
        Duration::from_secs(10),
        "4 MB of stdout to be drained",
        || done.exists(),
    )
    .await;
    host.kill().await;
    assert!(host.exited());
}

#[tokio::test]
async fn dropping_the_last_host_handle_kills_the_plugin() {
    let host = Host::new(helper_host("test-grpc"));
    host.ping().await.unwrap();
    let reattach = host.reattach_config().unwrap();
    let pid = reattach.pid;
    drop(host);
    assert!(
        !Path::new(&reattach.address).exists(),
        "the plugin's socket was left behind"
    );
    // The kill happens in a task of this runtime: wait without blocking it.
    eventually(
        Duration::from_secs(2),
        "the dropped host's plugin to be killed",
        || !process_alive(pid),
    )
    .await;
}

#[tokio::test]
async fn item53_handshake_for_an_address_nobody_listens_on() {
    let dir = short_tempdir();
    let script = write_script(
        dir.path(),
        "ghost",
        "echo '1|1|unix|/nonexistent/plugin.sock|grpc|'; exec sleep 30",
    );
    let host = Host::new(
        HostConfig::new(test_handshake())
            .plugins(test_plugins())
            .command(Command::new(&script)),
    );
    host.start().await.unwrap();
    let err = host.ping().await.unwrap_err().to_string();
    assert!(
        err.contains("error connecting to the plugin at unix:/nonexistent/plugin.sock"),
        "{err}"
    );
    let pid = host.reattach_config().unwrap().pid;
    host.kill().await;
    assert!(host.exited());
    assert_process_gone(pid, Duration::from_secs(2));
}

#[tokio::test]
async fn item49_50_panics_and_long_lines() {
    let dir = short_tempdir();
    let long = "x".repeat(200_000);
    let script = write_script(
        dir.path(),
        "noisy",
        &format!("echo '1|1|tcp|:1234'; echo '{long}' >&2; echo 'panic: boom' >&2; echo 'goroutine 1 [running]:' >&2"),
    );
    let (raw, logs) = (Buffer::default(), Logs::default());
    let host = Host::new(
        HostConfig::new(test_handshake())
            .allowed_protocols(&[Protocol::NetRpc])
            .command(Command::new(&script))
            .stderr(raw.clone())
            .on_log(logs.hook()),
    );
    host.start().await.unwrap();
    eventually(Duration::from_secs(5), "the plugin to exit", || {
        host.exited()
    })
    .await;
    assert_eq!(
        String::from_utf8(raw.bytes()).unwrap(),
        format!("{long}\npanic: boom\ngoroutine 1 [running]:\n")
    );
    assert_eq!(logs.find(&long).unwrap().level, tracing::Level::DEBUG);
    assert_eq!(
        logs.find("panic: boom").unwrap().level,
        tracing::Level::ERROR
    );
    assert_eq!(
        logs.find("goroutine 1 [running]:").unwrap().level,
        tracing::Level::ERROR
    );
    host.kill().await;
}

#[tokio::test]
async fn item56_58_reattach_to_a_running_go_plugin_and_to_one_that_is_gone() {
    let first = Host::new(helper_host("test-grpc"));
    first.start().await.unwrap();
    let config = first.reattach_config().unwrap();
    let second = Host::new(
        HostConfig::new(test_handshake())
            .plugins(test_plugins())
            .reattach(config.clone()),
    );
    let mut test: TestClient<Channel> = second.dispense("test").await.unwrap();
    assert_eq!(double(&mut test, 3).await, 6);
    assert_eq!(second.reattach_config(), Some(config.clone()));
    assert_eq!(second.negotiated_version(), 0);
    // Not a test-mode plugin: the reattached host owns it and kills it.
    second.kill().await;
    assert_process_gone(config.pid, Duration::from_secs(3));
    first.kill().await;
    // Reattaching to what is gone fails clearly.
    let gone = Host::new(
        HostConfig::new(test_handshake())
            .plugins(test_plugins())
            .reattach(config),
    );
    let err = gone.start().await.unwrap_err().to_string();
    assert!(err.starts_with("reattachment process not found"), "{err}");
}

#[tokio::test]
async fn item56_reattach_with_a_custom_attach_function() {
    /// Counts how often the host asks whether the plugin lives; delegates to the pid.
    struct Watched(
        go_plugin::host::PidProcess,
        Arc<std::sync::atomic::AtomicUsize>,
    );
    impl go_plugin::host::AttachedProcess for Watched {
        fn alive(&self) -> bool {
            self.1.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            self.0.alive()
        }
        fn kill(&self) {
            self.0.kill()
        }
    }
    let first = Host::new(helper_host("test-grpc"));
    first.start().await.unwrap();
    let config = first.reattach_config().unwrap();
    let asked = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let process = Watched(go_plugin::host::PidProcess(config.pid), asked.clone());
    let second = Host::new(
        HostConfig::new(test_handshake())
            .plugins(test_plugins())
            .reattach_with(config.clone(), process),
    );
    let mut test: TestClient<Channel> = second.dispense("test").await.unwrap();
    assert_eq!(double(&mut test, 6).await, 12);
    second.kill().await;
    assert!(
        asked.load(std::sync::atomic::Ordering::SeqCst) > 0,
        "the custom attach function was not used"
    );
    assert_process_gone(config.pid, Duration::from_secs(3));
    first.kill().await;
}

/// Starts go-plugin's helper in `mode` in its own session (as a daemon would run, not a child of
/// this process) and returns its reattach configuration, read from its handshake line.
async fn start_daemon(dir: &Path, mode: &str) -> go_plugin::reattach::ReattachConfig {
    let (line_file, pid_file) = (dir.join("line"), dir.join("pid"));
    let script = format!(
        "echo $$ > {pid}; exec {helper} -test.run=TestHelperProcess -- {mode} > {line} 2>/dev/null",
        pid = pid_file.display(),
        helper = go_subject("bin/gp-helper").display(),
        line = line_file.display()
    );
    let status = Command::new("setsid")
        .args(["-f", "sh", "-c", &script])
        .env("GO_WANT_HELPER_PROCESS", "1")
        .env("TEST_MAGIC_COOKIE", "test")
        .env("PLUGIN_PROTOCOL_VERSIONS", "1")
        .env("PLUGIN_UNIX_SOCKET_DIR", dir)
        .status()
        .unwrap();
    assert!(status.success());
    eventually(Duration::from_secs(5), "the daemon's handshake", || {
        std::fs::read_to_string(&line_file).is_ok_and(|l| l.ends_with('\n'))
    })
    .await;
    let line = std::fs::read_to_string(&line_file).unwrap();
    let fields: Vec<&str> = line.trim().split('|').collect();
    let mut config = go_plugin::reattach::ReattachConfig::new(
        Protocol::parse(fields.get(4).copied().unwrap_or("netrpc")).unwrap(),
        go_plugin::handshake::Network::parse(fields[2]).unwrap(),
        fields[3],
        std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap(),
    );
    config.protocol_version = 1;
    config
}

#[tokio::test]
async fn item57_reattach_to_a_daemonized_go_plugin_grpc_and_netrpc() {
    let dir = short_tempdir();
    let config = start_daemon(dir.path(), "test-grpc").await;
    let host = Host::new(
        HostConfig::new(test_handshake())
            .plugins(test_plugins())
            .reattach(config.clone()),
    );
    let mut test: TestClient<Channel> = host.dispense("test").await.unwrap();
    assert_eq!(double(&mut test, 7).await, 14);
    assert_eq!(host.reattach_config(), Some(config.clone()));
    host.kill().await;
    assert_process_gone(config.pid, Duration::from_secs(3));

    let dir = short_tempdir();
    let config = start_daemon(dir.path(), "test-interface-daemon").await;
    assert_eq!(config.protocol, Protocol::NetRpc);
    let host = Host::new(
        HostConfig::new(test_handshake())
            .plugins(ClientSet::new().netrpc_plugin("test", |rpc, _| rpc))
            .allowed_protocols(&[Protocol::NetRpc])
            .reattach(config.clone()),
    );
    let test: go_plugin::netrpc::RpcClient = host.dispense("test").await.unwrap();
    assert_eq!(
        test.call::<i64, i64>("Plugin.Double", &9).await.unwrap(),
        18
    );
    host.kill().await;
    assert_process_gone(config.pid, Duration::from_secs(3));
}

#[tokio::test]
async fn item61_checksum_is_verified_before_start() {
    let plugin = go_subject("bin/gp-helper");
    let wrong = Host::new(helper_host("test-grpc").checksum_sha256(vec![0; 32]));
    let err = wrong.start().await.unwrap_err().to_string();
    assert!(err.starts_with("checksums did not match"), "{err}");
    assert!(
        wrong.reattach_config().is_none(),
        "the process must not have been started"
    );
    let right = Host::new(helper_host("test-grpc").checksum_sha256(sha256_file(&plugin).unwrap()));
    right.ping().await.unwrap();
    kill_and_check(&right).await;
}

#[tokio::test]
async fn item06_socket_dir_is_created_for_the_plugin_and_removed() {
    let dir = short_tempdir();
    let host = Host::new(
        helper_host("test-grpc").unix_socket(UnixSocketConfig::in_dir(dir.path().to_path_buf())),
    );
    host.ping().await.unwrap();
    let address = PathBuf::from(host.reattach_config().unwrap().address);
    let socket_dir = address.parent().unwrap().to_path_buf();
    assert_eq!(socket_dir.parent(), Some(dir.path()));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&socket_dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    kill_and_check(&host).await;
    assert!(!socket_dir.exists(), "socket dir left behind");
}

#[tokio::test]
async fn item64_cleanup_hosts_kills_every_managed_host_in_parallel() {
    let hosts: Vec<Host> = (0..3)
        .map(|_| Host::new(helper_host("test-grpc").managed(true)))
        .collect();
    for host in &hosts {
        host.ping().await.unwrap();
    }
    let started = Instant::now();
    cleanup_hosts().await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "cleanup took {:?}",
        started.elapsed()
    );
    assert!(hosts.iter().all(Host::exited));
}

#[tokio::test]
async fn item21_kv_host_round_trip_with_go_plugins_grpc_v1_8_v1_7_and_netrpc_with_and_without_automtls(
) {
    for (proto, plugin, suffix) in [
        (
            "grpc",
            "examples/grpc_plugin-go-grpc/plugin-go-grpc",
            "plugin-go-grpc",
        ),
        ("grpc", "examples/v1.7.0/plugin-go-grpc", "plugin-go-grpc"),
        (
            "netrpc",
            "examples/grpc_plugin-go-netrpc/plugin-go-netrpc",
            "plugin-go-netrpc",
        ),
    ] {
        for auto_mtls in [false, true] {
            let dir = short_tempdir();
            let run_kv = |args: &[&str]| {
                let mut cmd = Command::new(rust_example("kv_host"));
                cmd.env("KV_PROTO", proto)
                    .env("KV_PLUGIN", go_subject(plugin))
                    .env("KV_AUTO_MTLS", if auto_mtls { "1" } else { "0" })
                    .current_dir(dir.path())
                    .args(args);
                run(cmd, Duration::from_secs(30))
            };
            run_kv(&["put", "hello", "world"]).assert_success();
            let done = run_kv(&["get", "hello"]);
            done.assert_success();
            assert_eq!(
                done.stdout,
                format!("world\n\nWritten from {suffix}\n"),
                "{plugin} mtls={auto_mtls}"
            );
        }
    }
}

#[test]
fn streamer_host_streams_through_the_go_and_the_rust_streamer_plugin() {
    for plugin in [
        go_subject("examples/streaming_plugin/plugin"),
        rust_example("streamer_plugin"),
    ] {
        let dir = dir_with_plugin("streamer", &plugin);
        let mut cmd = Command::new(rust_example("streamer_host"));
        cmd.current_dir(dir.path()).arg("myfile");
        let done = run(cmd, Duration::from_secs(30));
        done.assert_success();
        assert_eq!(
            done.stdout,
            "received 26 bytes: Lorem ipsum dolor sit amet\n",
            "{}",
            plugin.display()
        );
        assert_eq!(
            std::fs::read(dir.path().join("myfile")).unwrap(),
            b"Lorem ipsum dolor sit amet"
        );
    }
}

#[test]
fn counter_host_counts_through_the_go_and_the_rust_counter_plugin() {
    for plugin in [
        go_subject("examples/bidirectional_plugin-go-grpc/plugin-go-grpc"),
        rust_example("counter_plugin"),
    ] {
        let dir = short_tempdir();
        let counter = |args: &[&str]| {
            let mut cmd = Command::new(rust_example("counter_host"));
            cmd.env("COUNTER_PLUGIN", &plugin)
                .current_dir(dir.path())
                .args(args);
            let done = run(cmd, Duration::from_secs(30));
            done.assert_success();
            done.stdout
        };
        counter(&["put", "x", "3"]);
        counter(&["put", "x", "4"]);
        assert_eq!(counter(&["get", "x"]), "7\n", "{}", plugin.display());
    }
}

#[tokio::test]
async fn item13_14_negotiates_grpc_version_3_over_netrpc_version_2_with_the_negotiated_example() {
    let plugins = ClientSet::new().plugin("kv", |c| KvClient::new(c.channel()));
    let dir = short_tempdir();
    let mut command = Command::new(go_subject("examples/negotiated_plugin-go/plugin-go"));
    command.current_dir(dir.path());
    let host = Host::new(
        HostConfig::new(HandshakeConfig::new(1, "BASIC_PLUGIN", "hello"))
            .version(2, ClientSet::new())
            .version(3, plugins)
            .command(command),
    );
    let mut kv: KvClient<Channel> = host.dispense("kv").await.unwrap();
    assert_eq!(host.negotiated_version(), 3);
    kv.put(PutRequest {
        key: "k".into(),
        value: b"v".to_vec(),
    })
    .await
    .unwrap();
    let value = kv
        .get(GetRequest { key: "k".into() })
        .await
        .unwrap()
        .into_inner()
        .value;
    assert_eq!(
        String::from_utf8(value).unwrap(),
        "v\n\nWritten from plugin version 3\nRead by plugin version 3\n"
    );
    kill_and_check(&host).await;
}

#[tokio::test]
async fn fifty_start_kill_cycles_leave_nothing_behind() {
    let fds_before = open_fds();
    for _ in 0..50 {
        let host = Host::new(helper_host("test-grpc"));
        host.ping().await.unwrap();
        kill_and_check(&host).await;
    }
    let fds_after = open_fds();
    assert!(
        fds_after <= fds_before + 5,
        "file descriptors grew from {fds_before} to {fds_after}"
    );
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

fn write_script(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}
