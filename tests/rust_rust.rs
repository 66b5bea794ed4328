//! Rust host ↔ Rust plugin: the crate's two halves together (no Go needed), over Unix sockets and
//! TCP, with and without AutoMTLS.

#[path = "support/features.rs"]
mod features;
mod support;

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use go_plugin::handshake::{HandshakeConfig, Network};
use go_plugin::host::{ClientSet, Host, HostConfig};
use go_plugin::log::LogEntry;
use go_plugin::reattach::ReattachConfig;
use go_plugin_schemas::grpctest::test_client::TestClient;
use go_plugin_schemas::grpctest::{print_kv_request, PrintKvRequest, PrintStdioRequest};
use support::*;
use tonic::transport::Channel;

fn host_config(args: &[&str]) -> HostConfig {
    let mut command = Command::new(rust_example("grpctest_plugin"));
    command.args(args);
    HostConfig::new(HandshakeConfig::new(1, "TEST_MAGIC_COOKIE", "test"))
        .version(
            1,
            ClientSet::new().plugin("test", |c| TestClient::new(c.channel())),
        )
        .version(
            2,
            ClientSet::new().plugin("test", |c| TestClient::new(c.channel())),
        )
        .command(command)
}

async fn double_and_kill(host: Host, expected_network: Network) {
    let mut test: TestClient<Channel> = host.dispense("test").await.unwrap();
    assert_eq!(double(&mut test, 21).await, 42);
    host.ping().await.unwrap();
    assert_eq!(host.negotiated_version(), 2);
    let reattach = host.reattach_config().unwrap();
    assert_eq!(reattach.network, expected_network);
    let started = Instant::now();
    host.kill().await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "kill took {:?}",
        started.elapsed()
    );
    assert!(
        host.exit_status().unwrap().success(),
        "the plugin did not exit by itself"
    );
    assert_process_gone(reattach.pid, Duration::from_secs(1));
    if expected_network == Network::Unix {
        assert!(!Path::new(&reattach.address).exists(), "socket left behind");
    }
}

#[tokio::test]
async fn unix_without_and_with_automtls() {
    double_and_kill(Host::new(host_config(&[])), Network::Unix).await;
    double_and_kill(Host::new(host_config(&[]).auto_mtls(true)), Network::Unix).await;
}

#[tokio::test]
async fn tcp_without_and_with_automtls() {
    double_and_kill(Host::new(host_config(&["--tcp"])), Network::Tcp).await;
    double_and_kill(
        Host::new(host_config(&["--tcp"]).auto_mtls(true)),
        Network::Tcp,
    )
    .await;
}

#[tokio::test]
async fn explicit_tls_on_both_sides() {
    let dir = short_tempdir();
    let identity = go_plugin::tls::Identity::generate().unwrap();
    std::fs::write(dir.path().join("cert.pem"), identity.cert_pem()).unwrap();
    std::fs::write(dir.path().join("key.pem"), identity.key_pem()).unwrap();
    let tls_dir = dir.path().to_str().unwrap();
    let client_tls = go_plugin::tls::pinned_client_config(vec![identity.cert.clone()]).unwrap();
    double_and_kill(
        Host::new(host_config(&["--tls-dir", tls_dir]).tls(client_tls.clone())),
        Network::Unix,
    )
    .await;
    // Brokered connections both ways use TLS too: the host serves with the same certificate,
    // which the plugin pins.
    let server_tls = go_plugin::tls::server_config_from_pem_files(
        &dir.path().join("cert.pem"),
        &dir.path().join("key.pem"),
    )
    .unwrap();
    let host = Host::new(
        host_config(&["--tls-dir", tls_dir])
            .tls(client_tls)
            .broker_server_tls(server_tls),
    );
    bidirectional(&host).await.unwrap();
    host.kill().await;
    // A host without TLS cannot talk to it.
    let host = Host::new(host_config(&["--tls-dir", tls_dir]));
    assert!(host.ping().await.is_err());
    host.kill().await;
}

#[tokio::test]
async fn broker_ping_pong_both_ways_with_and_without_automtls() {
    for auto_mtls in [false, true] {
        let host = Host::new(host_config(&[]).auto_mtls(auto_mtls));
        bidirectional(&host)
            .await
            .unwrap_or_else(|e| panic!("auto_mtls={auto_mtls}: {e}"));
        host.kill().await;
    }
}

#[tokio::test]
async fn multiplexed_broker_with_and_without_automtls() {
    for auto_mtls in [false, true] {
        let host = Host::new(host_config(&[]).auto_mtls(auto_mtls).multiplex(true));
        bidirectional(&host)
            .await
            .unwrap_or_else(|e| panic!("auto_mtls={auto_mtls}: {e}"));
        double_and_kill(host, Network::Unix).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_sequential_and_a_hundred_concurrent_broker_dials_in_both_modes() {
    for multiplex in [false, true] {
        let host = Host::new(host_config(&[]).multiplex(multiplex));
        let started = Instant::now();
        // Each ping-pong is two dials: the plugin dials the host's server, the host the plugin's.
        for _ in 0..500 {
            bidirectional(&host)
                .await
                .unwrap_or_else(|e| panic!("multiplex={multiplex}: {e}"));
        }
        let sequential = started.elapsed();
        let concurrent =
            futures_util::future::join_all((0..100).map(|_| bidirectional(&host))).await;
        for result in concurrent {
            result.unwrap_or_else(|e| panic!("multiplex={multiplex}, concurrent: {e}"));
        }
        println!("multiplex={multiplex}: 1000 sequential dials in {sequential:?}, 200 concurrent in {:?}", started.elapsed() - sequential);
        double_and_kill(host, Network::Unix).await;
    }
}

#[tokio::test]
async fn dialing_an_id_nobody_serves_fails_clearly_in_both_modes() {
    for multiplex in [false, true] {
        let host = Host::new(host_config(&[]).multiplex(multiplex));
        let broker = host.connection().await.unwrap().broker().clone();
        let started = Instant::now();
        let err = broker.dial(999).await.unwrap_err().to_string();
        assert!(
            started.elapsed() < Duration::from_secs(7),
            "took {:?}",
            started.elapsed()
        );
        assert!(err.contains("999"), "multiplex={multiplex}: {err}");
        host.kill().await;
    }
}

#[test]
fn kv_host_and_kv_plugin_over_grpc_and_netrpc() {
    for proto in ["grpc", "netrpc"] {
        let dir = short_tempdir();
        let kv = |args: &[&str]| {
            let mut cmd = Command::new(rust_example("kv_host"));
            cmd.env("KV_PROTO", proto)
                .env("KV_PLUGIN", rust_example("kv_plugin"))
                .current_dir(dir.path())
                .args(args);
            run(cmd, Duration::from_secs(30))
        };
        kv(&["put", "k", proto]).assert_success();
        let done = kv(&["get", "k"]);
        done.assert_success();
        assert_eq!(
            done.stdout,
            format!("{proto}\n\nWritten from plugin-rust\n")
        );
    }
}

/// `Plugin.PrintStdio`'s argument over net/rpc.
#[derive(gobwire::Gob, Default)]
struct PrintStdioArgs {
    #[gob(name = "Stdout")]
    stdout: Vec<u8>,
    #[gob(name = "Stderr")]
    stderr: Vec<u8>,
}

#[tokio::test]
async fn netrpc_carries_mebibyte_arguments_and_stdio_both_ways() {
    let (out, err) = (Buffer::default(), Buffer::default());
    let host = Host::new(
        host_config(&["--netrpc"])
            .allowed_protocols(&[go_plugin::handshake::Protocol::NetRpc])
            .version(1, ClientSet::new().netrpc_plugin("test", |rpc, _| rpc))
            .version(2, ClientSet::new().netrpc_plugin("test", |rpc, _| rpc))
            .sync_stdout(out.clone())
            .sync_stderr(err.clone()),
    );
    let test: go_plugin::netrpc::RpcClient = host.dispense("test").await.unwrap();
    assert_eq!(test.call::<i64, i64>("Plugin.Double", &4).await.unwrap(), 8);
    let stdout: Vec<u8> = (0..(1u32 << 20)).map(|i| (i % 253) as u8).collect();
    let stderr: Vec<u8> = stdout.iter().rev().copied().collect();
    let args = PrintStdioArgs {
        stdout: stdout.clone(),
        stderr: stderr.clone(),
    };
    let call = test.call::<_, go_plugin::netrpc::Empty>("Plugin.PrintStdio", &args);
    tokio::time::timeout(Duration::from_secs(10), call)
        .await
        .expect("a 2 MiB argument stalled")
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while out.bytes().len() < stdout.len() || err.bytes().len() < stderr.len() {
        assert!(Instant::now() < deadline, "stdio did not arrive");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(out.bytes() == stdout && err.bytes() == stderr);
    double_and_kill_netrpc(host).await;
}

#[tokio::test]
async fn netrpc_mux_broker_callbacks_both_ways() {
    let host = Host::new(
        host_config(&["--netrpc"])
            .allowed_protocols(&[go_plugin::handshake::Protocol::NetRpc])
            .version(1, netrpc_test_plugins())
            .version(2, netrpc_test_plugins()),
    );
    netrpc_bidirectional(&host).await.unwrap();
    double_and_kill_netrpc(host).await;
}

async fn double_and_kill_netrpc(host: Host) {
    let pid = host.reattach_config().unwrap().pid;
    host.kill().await;
    assert!(host.exit_status().is_some_and(|s| s.success()));
    assert_process_gone(pid, Duration::from_secs(1));
}

#[tokio::test]
async fn stdio_of_a_rust_plugin_reaches_a_rust_host_byte_exact() {
    let (out, err) = (Buffer::default(), Buffer::default());
    let host = Host::new(
        host_config(&[])
            .sync_stdout(out.clone())
            .sync_stderr(err.clone()),
    );
    let mut test: TestClient<Channel> = host.dispense("test").await.unwrap();
    let stdout: Vec<u8> = (0..(1u32 << 20))
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let stderr: Vec<u8> = stdout.iter().rev().copied().collect();
    test.print_stdio(PrintStdioRequest {
        stdout: stdout.clone(),
        stderr: stderr.clone(),
    })
    .await
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while out.bytes().len() < stdout.len() || err.bytes().len() < stderr.len() {
        assert!(Instant::now() < deadline, "stdio did not arrive");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(out.bytes() == stdout);
    assert!(err.bytes() == stderr);
    host.kill().await;
}

#[tokio::test]
async fn tracing_events_of_a_rust_plugin_arrive_as_entries_at_their_levels() {
    let entries: Arc<Mutex<Vec<LogEntry>>> = Arc::default();
    let sink = entries.clone();
    let host = Host::new(host_config(&[]).on_log(move |_, e| sink.lock().unwrap().push(e.clone())));
    let mut test: TestClient<Channel> = host.dispense("test").await.unwrap();
    let request = PrintKvRequest {
        key: "foo".into(),
        value: Some(print_kv_request::Value::ValueString("bar".into())),
    };
    test.print_kv(request).await.unwrap();
    host.kill().await;
    let entries = entries.lock().unwrap();
    let levels: Vec<tracing::Level> = entries
        .iter()
        .filter(|e| e.message == "message from plugin")
        .inspect(|e| {
            assert!(e
                .fields
                .contains(&("value".into(), serde_json::Value::from("bar"))))
        })
        .map(|e| e.level)
        .collect();
    use tracing::Level;
    assert_eq!(
        levels,
        [
            Level::TRACE,
            Level::DEBUG,
            Level::INFO,
            Level::WARN,
            Level::ERROR
        ]
    );
}

#[tokio::test]
async fn test_mode_plugin_is_reattached_and_not_killed() {
    let (mut plugin, line) = start_test_mode_plugin(&[]);
    let reattach = ReattachConfig::from_json(&serde_json::from_str(&line).unwrap()).unwrap();
    assert!(reattach.test);
    let config = HostConfig::new(HandshakeConfig::new(1, "TEST_MAGIC_COOKIE", "test"))
        .plugins(ClientSet::new().plugin("test", |c| TestClient::new(c.channel())))
        .reattach(reattach.clone());
    let host = Host::new(config);
    let mut test: TestClient<Channel> = host.dispense("test").await.unwrap();
    assert_eq!(double(&mut test, 1).await, 2);
    assert_eq!(host.negotiated_version(), 1);
    host.kill().await;
    assert!(
        process_alive(plugin.id()),
        "kill must leave a test-mode plugin running"
    );
    drop(plugin.stdin.take());
    assert!(plugin.wait().unwrap().success());
    assert!(!Path::new(&reattach.address).exists(), "socket left behind");
}
