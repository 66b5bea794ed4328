//! Cross-tests, Go host → Rust plugin (GH→RP): real go-plugin v1.8.0 hosts launch the Rust
//! example plugins. Each test names the PROTOCOL.md §8 item it checks.
//!
//! Hosts: `gohost` (go-testdata, a `plugin.NewClient` host with one action per run and grpc-go
//! 1.80, which enforces ALPN h2) and go-plugin's own example hosts. Plugins: `grpctest_plugin`
//! (go-plugin's test service), `kv_plugin`, `streamer_plugin`.

#[path = "support/features.rs"]
mod features;
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use support::*;

const LIMIT: Duration = Duration::from_secs(60);

/// One gohost run against `grpctest_plugin`, with the host log in `dir/host.log`.
struct GoHost {
    dir: tempfile::TempDir,
    plugin: PathBuf,
}

impl GoHost {
    fn new() -> Self {
        GoHost {
            dir: short_tempdir(),
            plugin: rust_example("grpctest_plugin"),
        }
    }

    fn log(&self) -> PathBuf {
        self.dir.path().join("host.log")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(go_subject("bin/gohost"));
        // TMPDIR: the plugin's socket lands in this test's dir, so even a plugin the Go host
        // hard-kills (and that cannot remove its socket) leaves nothing behind.
        cmd.current_dir(self.dir.path())
            .env("TMPDIR", self.dir.path())
            .arg("-plugin")
            .arg(&self.plugin)
            .arg("-log")
            .arg(self.log())
            .args(args);
        cmd
    }

    fn run(&self, args: &[&str]) -> Finished {
        run(self.command(args), LIMIT)
    }

    /// Runs and asserts success, an orderly kill (not a hard kill) and no leftover process or socket.
    fn run_ok(&self, args: &[&str]) -> Finished {
        let done = self.run(args);
        done.assert_success();
        self.assert_orderly_end(&done);
        done
    }

    fn assert_orderly_end(&self, done: &Finished) {
        let kill_ms: u64 = done.value("kill_ms").parse().unwrap();
        assert!(
            kill_ms < 2000,
            "Kill took {kill_ms} ms: the plugin did not exit by itself"
        );
        let messages: Vec<String> = log_entries(&self.log())
            .iter()
            .filter_map(|e| e["@message"].as_str().map(str::to_string))
            .collect();
        assert!(
            !messages
                .iter()
                .any(|m| m.contains("plugin failed to exit gracefully")),
            "the Go host had to hard-kill the plugin: {messages:?}"
        );
        assert!(
            messages.iter().any(|m| m == "plugin exited"),
            "no 'plugin exited' in {messages:?}"
        );
        if let Ok(pid) = done.value("id").parse::<u32>() {
            assert_process_gone(pid, Duration::from_secs(2));
        }
        if done.value("network") == "unix" {
            assert!(
                !Path::new(&done.value("address")).exists(),
                "socket file left behind"
            );
        }
    }

    /// Has the plugin print `out` and `err` (PrintStdio) and checks the Go host's SyncStdout and
    /// SyncStderr received exactly those bytes; `flags` go before the action.
    fn assert_stdio_round_trip(&self, flags: &[&str], out: &[u8], err: &[u8]) {
        let dir = self.dir.path();
        std::fs::write(dir.join("out.in"), out).unwrap();
        std::fs::write(dir.join("err.in"), err).unwrap();
        let (sync_out, sync_err) = (dir.join("out.sync"), dir.join("err.sync"));
        let (out_in, err_in) = (dir.join("out.in"), dir.join("err.in"));
        let mut args: Vec<&str> = flags.to_vec();
        args.extend([
            "-sync-stdout",
            sync_out.to_str().unwrap(),
            "-sync-stderr",
            sync_err.to_str().unwrap(),
            "print-stdio",
            out_in.to_str().unwrap(),
            err_in.to_str().unwrap(),
        ]);
        self.run_ok(&args);
        assert!(std::fs::read(&sync_out).unwrap() == out, "stdout differs");
        assert!(std::fs::read(&sync_err).unwrap() == err, "stderr differs");
    }

    /// Entries of the host log that the host parsed from the plugin's JSON log lines (the host adds
    /// the plugin's own `timestamp` to those).
    fn plugin_entries(&self) -> Vec<Value> {
        log_entries(&self.log())
            .into_iter()
            .filter(|e| e.get("timestamp").is_some())
            .collect()
    }
}

#[test]
fn item01_26_go_host_dispenses_and_calls_double() {
    let host = GoHost::new();
    let done = host.run_ok(&["double", "21"]);
    assert_eq!(done.value("double"), "42");
    assert_eq!(done.value("negotiated"), "1");
    assert_eq!(done.value("network"), "unix");
}

#[test]
fn item02_missing_or_wrong_cookie_prints_go_text_and_exits_1() {
    let plugin = rust_example("grpctest_plugin");
    for cookie in [None, Some("wrong")] {
        let mut cmd = Command::new(&plugin);
        cmd.env_remove("TEST_MAGIC_COOKIE");
        if let Some(value) = cookie {
            cmd.env("TEST_MAGIC_COOKIE", value);
        }
        let done = run(cmd, LIMIT);
        assert_eq!(done.status.code(), Some(1), "cookie {cookie:?}");
        assert_eq!(done.stdout, "", "nothing may be printed on stdout");
        assert_eq!(
            done.stderr,
            "This binary is a plugin. These are not meant to be executed directly.\n\
             Please execute the program that consumes these plugins, which will\n\
             load any plugins automatically\n"
        );
    }
    // And the Go host's view of it.
    let host = GoHost::new();
    let done = host.run(&["-cookie", "TEST_MAGIC_COOKIE=other", "ping"]);
    assert!(!done.status.success());
    assert!(
        done.stderr.contains("Unrecognized remote plugin message")
            || done
                .stderr
                .contains("plugin exited before we could connect"),
        "{}",
        done.stderr
    );
}

#[test]
fn item03_plugin_reads_the_port_range_a_go_host_sets() {
    // The Go host always sets PLUGIN_MIN_PORT=10000 and PLUGIN_MAX_PORT=25000; a TCP listener must
    // honour them.
    let mut host = GoHost::new();
    host.plugin = write_wrapper(
        host.dir.path(),
        "tcp",
        &format!("exec {} --tcp", host.plugin.display()),
    );
    let done = host.run_ok(&["double", "2"]);
    assert_eq!(done.value("network"), "tcp");
    let address = done.value("address");
    let port: u16 = address
        .strip_prefix("127.0.0.1:")
        .expect("loopback address")
        .parse()
        .unwrap();
    assert!(
        (10000..=25000).contains(&port),
        "port {port} outside the host's range"
    );
}

#[test]
fn item07_socket_is_created_in_plugin_unix_socket_dir() {
    let host = GoHost::new();
    let dir = host.dir.path().join("sockets");
    std::fs::create_dir(&dir).unwrap();
    let done = host.run_ok(&["-socket-dir", dir.to_str().unwrap(), "ping"]);
    let address = PathBuf::from(done.value("address"));
    let socket_dir = address.parent().unwrap();
    assert_eq!(
        socket_dir.parent(),
        Some(dir.as_path()),
        "socket {address:?} not in the host's dir"
    );
    assert!(socket_dir
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("plugin-dir"));
}

#[test]
fn item08_socket_group_by_number_and_by_name() {
    // SAFETY: getegid has no preconditions.
    let gid = unsafe { libc::getegid() };
    let name = group_name(gid);
    for group in [gid.to_string(), name] {
        let host = GoHost::new();
        let done = host.run_ok(&["-group", &group, "ping"]);
        assert_eq!(done.value("ping"), "ok", "group {group}");
    }
}

#[test]
fn item09_sigint_is_ignored() {
    let host = GoHost::new();
    let done = host.run_ok(&["sigint-double", "5"]);
    assert_eq!(done.value("double"), "10");
    let ignored = host.plugin_entries().iter().any(|e| {
        e["@message"] == "plugin received interrupt signal, ignoring" && e["@level"] == "trace"
    });
    assert!(ignored, "no trace entry about the ignored SIGINT");
}

#[test]
fn item11_handshake_line_has_six_fields_and_a_seventh_only_on_request() {
    assert_eq!(first_line(&[]).matches('|').count(), 5);
    let line = first_line(&[]);
    assert!(line.ends_with("|grpc|"), "{line}");
    let line = first_line(&[("PLUGIN_MULTIPLEX_GRPC", "true")]);
    assert_eq!(line.split('|').count(), 7, "{line}");
}

#[test]
fn item11_a_go_plugin_v1_0_1_host_accepts_the_line() {
    // go-plugin v1.0.1 splits the handshake into at most six parts and has no stdio service.
    for args in [&["double", "21"][..], &["-automtls", "double", "21"]] {
        let mut cmd = Command::new(go_subject("bin/oldhost-v1.0.1"));
        cmd.arg("-plugin")
            .arg(rust_example("grpctest_plugin"))
            .args(args);
        let done = run(cmd, LIMIT);
        done.assert_success();
        assert_eq!(done.value("double"), "42", "{args:?}");
        let kill_ms: u64 = done.value("kill_ms").parse().unwrap();
        assert!(
            kill_ms < 2000,
            "v1.0.1 host had to wait {kill_ms} ms for the plugin to exit"
        );
    }
}

#[test]
fn item31_63_kill_shuts_the_plugin_down_without_a_hard_kill_and_removes_its_socket() {
    let host = GoHost::new();
    let done = host.run(&["ping"]);
    done.assert_success();
    // assert_orderly_end: Kill under 2 s, no "plugin failed to exit gracefully", "plugin exited"
    // logged, the process gone and the socket file removed.
    host.assert_orderly_end(&done);
    assert_eq!(done.value("exited"), "true");
}

#[test]
fn item13_go_host_negotiates_the_highest_common_version() {
    let host = GoHost::new();
    assert_eq!(
        host.run_ok(&["-versions", "1,2", "double", "1"])
            .value("negotiated"),
        "2"
    );
    let host = GoHost::new();
    assert_eq!(
        host.run_ok(&["-versions", "1", "double", "1"])
            .value("negotiated"),
        "1"
    );
}

#[test]
fn item13_no_common_version_is_reported_by_the_go_host() {
    let host = GoHost::new();
    let done = host.run(&["-versions", "5", "ping"]);
    assert!(!done.status.success());
    assert!(
        done.stderr.contains(
            "incompatible API version with plugin. Plugin version: 1, Client versions: [5]"
        ),
        "{}",
        done.stderr
    );
}

#[test]
fn item20_25_automtls_with_a_go_host_over_alpn_h2() {
    let host = GoHost::new();
    let done = host.run_ok(&["-automtls", "double", "21"]);
    assert_eq!(done.value("double"), "42");
}

#[test]
fn item20_a_host_with_a_different_client_certificate_is_refused() {
    let host = GoHost::new();
    let done = host.run(&["-wrong-client-cert", "-rpc-timeout", "5s", "double", "21"]);
    assert!(
        !done.status.success(),
        "a call succeeded with the wrong client certificate"
    );
    // The positive control: the same hand-made TLS with the announced certificate works.
    let host = GoHost::new();
    assert_eq!(
        host.run_ok(&["-manual-mtls", "double", "21"])
            .value("double"),
        "42"
    );
}

#[test]
fn item23_explicit_tls_configured_by_the_plugin_and_the_go_host() {
    let mut host = GoHost::new();
    let identity = go_plugin::tls::Identity::generate().unwrap();
    let dir = host.dir.path().to_path_buf();
    std::fs::write(dir.join("cert.pem"), identity.cert_pem()).unwrap();
    std::fs::write(dir.join("key.pem"), identity.key_pem()).unwrap();
    host.plugin = write_wrapper(
        &dir,
        "tls",
        &format!("exec {} --tls-dir {}", host.plugin.display(), dir.display()),
    );
    let ca = dir.join("cert.pem");
    let done = host.run_ok(&["-tls-ca", ca.to_str().unwrap(), "double", "4"]);
    assert_eq!(done.value("double"), "8");
    // Without a TLS configuration the Go host speaks plaintext and its calls fail.
    let done = host.run(&["-rpc-timeout", "3s", "double", "4"]);
    assert!(
        !done.status.success(),
        "a plaintext call to a TLS plugin succeeded"
    );
}

#[test]
fn item24_certificate_field_is_unpadded_base64() {
    let pem = "-----BEGIN CERTIFICATE-----\nMIIBfzCCASWgAwIBAgIUEYdq\n-----END CERTIFICATE-----\n";
    let line = first_line(&[("PLUGIN_CLIENT_CERT", pem)]);
    let cert = line.split('|').nth(5).unwrap();
    assert!(cert.len() > 50, "{line}");
    assert!(!cert.contains('='), "padding in {cert}");
}

#[test]
fn item22_33_broker_ping_pong_both_ways_with_and_without_automtls() {
    for args in [&["bidirectional"][..], &["-automtls", "bidirectional"]] {
        let host = GoHost::new();
        assert_eq!(host.run_ok(args).value("bidirectional"), "ok", "{args:?}");
    }
}

#[test]
fn item34_multiplexed_broker_with_a_go_host() {
    for args in [
        &["-mux", "double", "21"][..],
        &["-mux", "bidirectional"],
        &["-mux", "-automtls", "bidirectional"],
    ] {
        let host = GoHost::new();
        let done = host.run_ok(args);
        assert!(
            done.stdout.contains("double=42") || done.stdout.contains("bidirectional=ok"),
            "{args:?}: {}",
            done.stdout
        );
    }
}

#[test]
fn yamux_session_with_a_go_host_survives_idle_keepalives_and_moves_a_mebibyte() {
    // hashicorp/yamux pings every 30 s and drops a session whose pings go unanswered for 10 s;
    // 45 s of silence proves tokio-yamux answers them (and that Go answers ours).
    let host = GoHost::new();
    assert_eq!(
        host.run_ok(&["-mux", "-idle", "45s", "double", "21"])
            .value("double"),
        "42"
    );
    // 1 MiB each way through the stdio stream: yamux window updates beyond the 256 KiB window.
    let payload: Vec<u8> = (0..(1u32 << 20)).map(|i| (i % 251) as u8).collect();
    GoHost::new().assert_stdio_round_trip(&["-mux"], &payload, &payload);
}

#[test]
fn item21_37_38_39_netrpc_double_ping_and_quit_with_and_without_automtls() {
    for tls in [&[][..], &["-automtls"]] {
        let mut host = GoHost::new();
        host.plugin = write_wrapper(
            host.dir.path(),
            "netrpc",
            &format!("exec {} --netrpc", host.plugin.display()),
        );
        let mut args = vec!["-netrpc"];
        args.extend_from_slice(tls);
        // run_ok also checks the Go host's Kill (Control.Quit) ended the plugin without a hard kill.
        let done = host.run_ok(&[args.as_slice(), &["double", "21"]].concat());
        assert_eq!(done.value("double"), "42", "{tls:?}");
        assert_eq!(
            host.run_ok(&[args.as_slice(), &["ping"]].concat())
                .value("ping"),
            "ok"
        );
    }
}

#[test]
fn item43_netrpc_mux_broker_callbacks_both_ways_with_and_without_automtls() {
    for tls in [&[][..], &["-automtls"]] {
        let mut host = GoHost::new();
        host.plugin = write_wrapper(
            host.dir.path(),
            "netrpc",
            &format!("exec {} --netrpc", host.plugin.display()),
        );
        let args = [&["-netrpc"][..], tls, &["bidirectional"]].concat();
        assert_eq!(host.run_ok(&args).value("bidirectional"), "ok", "{tls:?}");
    }
}

#[test]
fn item44_netrpc_yamux_session_with_a_go_host_survives_45_s_idle() {
    // The Go host opens its three streams eagerly (tokio-yamux must accept them before any data)
    // and pings every 30 s; the session must still work after 45 s of silence.
    let mut host = GoHost::new();
    host.plugin = write_wrapper(
        host.dir.path(),
        "netrpc",
        &format!("exec {} --netrpc", host.plugin.display()),
    );
    assert_eq!(
        host.run_ok(&["-netrpc", "-idle", "45s", "double", "21"])
            .value("double"),
        "42"
    );
}

#[test]
fn item55_go_host_reattaches_to_a_rust_netrpc_plugin_in_test_mode() {
    let (mut child, line) = start_test_mode_plugin(&["--netrpc"]);
    let reattach: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
    assert_eq!(reattach["Protocol"], "netrpc");
    let dir = short_tempdir();
    let mut cmd = Command::new(go_subject("bin/gohost"));
    cmd.args(["-netrpc", "-reattach", line.trim(), "double", "21"])
        .current_dir(dir.path());
    let done = run(cmd, LIMIT);
    done.assert_success();
    assert_eq!(done.value("double"), "42");
    assert!(
        process_alive(child.id()),
        "a test-mode plugin must survive the host's Kill"
    );
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
}

#[test]
fn item40_netrpc_stdio_streams_are_byte_exact() {
    let mut host = GoHost::new();
    host.plugin = write_wrapper(
        host.dir.path(),
        "netrpc",
        &format!("exec {} --netrpc", host.plugin.display()),
    );
    let out: Vec<u8> = (0..(1u32 << 20))
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let err: Vec<u8> = out.iter().rev().copied().collect();
    host.assert_stdio_round_trip(&["-netrpc"], &out, &err);
}

#[test]
fn item42_48_netrpc_map_arguments_become_structured_entries() {
    for (key, value) in [("foo", Value::from("bar")), ("count", Value::from(12))] {
        let mut host = GoHost::new();
        host.plugin = write_wrapper(
            host.dir.path(),
            "netrpc",
            &format!("exec {} --netrpc", host.plugin.display()),
        );
        host.run_ok(&[
            "-netrpc",
            "print-kv",
            key,
            &value.to_string().replace('"', ""),
        ]);
        let levels: Vec<String> = host
            .plugin_entries()
            .iter()
            .filter(|e| {
                e["@message"] == "message from plugin" && e["key"] == key && e["value"] == value
            })
            .filter_map(|e| e["@level"].as_str().map(str::to_string))
            .collect();
        assert_eq!(levels, ["trace", "debug", "info", "warn", "error"], "{key}");
    }
}

#[test]
fn item28_ping_is_the_health_of_plugin() {
    let host = GoHost::new();
    assert_eq!(host.run_ok(&["ping"]).value("ping"), "ok");
}

#[test]
fn item27_bidirectional_stream() {
    let host = GoHost::new();
    assert_eq!(
        host.run_ok(&["stream", "1", "2", "3"]).value("stream"),
        "1,2,3"
    );
}

#[test]
fn item29_stdio_reaches_the_go_host_byte_exact() {
    let host = GoHost::new();
    let mut seed = 0x1234_5678_u32;
    let mut noise = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                (seed >> 24) as u8
            })
            .collect()
    };
    let out = noise(1 << 20);
    let err = noise(1 << 20);
    assert!(
        std::str::from_utf8(&out).is_err(),
        "the payload must not be UTF-8"
    );
    host.assert_stdio_round_trip(&[], &out, &err);
}

#[test]
fn item35_service_set_of_a_go_plugin() {
    let host = GoHost::new();
    let done = host.run_ok(&["services"]);
    let services: Vec<&str> = done
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("service="))
        .collect();
    for expected in [
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
        "grpctest.Test",
        "plugin.GRPCBroker",
        "plugin.GRPCController",
        "plugin.GRPCStdio",
    ] {
        assert!(
            services.contains(&expected),
            "{expected} missing from {services:?}"
        );
    }
}

#[test]
fn item48_52_tracing_events_become_structured_go_log_entries_at_their_level() {
    for (key, value) in [("foo", Value::from("bar")), ("count", Value::from(12))] {
        let host = GoHost::new();
        host.run_ok(&["print-kv", key, &value.to_string().replace('"', "")]);
        let entries = host.plugin_entries();
        let levels: Vec<&str> = entries
            .iter()
            .filter(|e| e["@message"] == "message from plugin" && e["key"] == key)
            .inspect(|e| assert_eq!(e["value"], value, "{e}"))
            .filter_map(|e| e["@level"].as_str())
            .collect();
        assert_eq!(
            levels,
            ["trace", "debug", "info", "warn", "error"],
            "entries: {entries:?}"
        );
    }
}

#[test]
fn item54_clean_start_and_stop_log_no_errors() {
    let host = GoHost::new();
    host.run_ok(&["ping"]);
    let errors: Vec<_> = log_entries(&host.log())
        .into_iter()
        .filter(|e| e["@level"] == "error")
        .collect();
    assert!(errors.is_empty(), "error entries: {errors:?}");
}

#[test]
fn item60_test_mode_reattach_from_a_go_host() {
    let (mut child, line) = start_test_mode_plugin(&[]);
    let reattach: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
    assert_eq!(reattach["Test"], true);
    assert_eq!(reattach["ProtocolVersion"], 1);
    assert_eq!(reattach["Pid"], child.id());

    let reattach_host = |action: &str| {
        let dir = short_tempdir();
        let mut cmd = Command::new(go_subject("bin/gohost"));
        cmd.args(["-reattach", line.trim(), "-rpc-timeout", "5s", action])
            .current_dir(dir.path());
        run(cmd, LIMIT)
    };
    for _ in 0..2 {
        // Kill is a no-op for a test-mode plugin: it keeps serving for the next host.
        let done = reattach_host("ping");
        done.assert_success();
        assert_eq!(done.value("exited"), "false");
        assert!(process_alive(child.id()));
    }
    drop(child.stdin.take()); // closing stdin stops the test server
    assert!(child.wait().unwrap().success());
    assert!(
        !reattach_host("ping").status.success(),
        "ping succeeded after the test server stopped"
    );
    let address = reattach["Addr"]["String"].as_str().unwrap();
    assert!(!Path::new(address).exists(), "socket left behind");
}

#[test]
fn item01_42_go_example_grpc_host_puts_and_gets_through_kv_plugin_over_grpc_and_netrpc() {
    // Over net/rpc, Plugin.Put's argument is a gob map[string]interface{} (a string and a []uint8).
    for proto in ["grpc", "netrpc"] {
        let dir = short_tempdir();
        let kv = |args: &[&str]| {
            let mut cmd = Command::new(go_subject("examples/grpc/grpc"));
            cmd.env("KV_PROTO", proto)
                .env("KV_PLUGIN", rust_example("kv_plugin"))
                .current_dir(dir.path())
                .args(args);
            run(cmd, LIMIT)
        };
        kv(&["put", "hello", proto]).assert_success();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("kv_hello")).unwrap(),
            format!("{proto}\n\nWritten from plugin-rust")
        );
        let done = kv(&["get", "hello"]);
        done.assert_success();
        assert_eq!(
            done.stdout,
            format!("{proto}\n\nWritten from plugin-rust\n")
        );
    }
}

#[test]
fn item13_14_go_example_negotiated_host_gets_grpc_version_3_or_netrpc_version_2() {
    for (proto, version) in [("grpc", 3), ("netrpc", 2)] {
        let dir = short_tempdir();
        std::os::unix::fs::symlink(rust_example("kv_plugin"), dir.path().join("kv-plugin"))
            .unwrap();
        let kv = |args: &[&str]| {
            let mut cmd = Command::new(go_subject("examples/negotiated/negotiated"));
            cmd.env("KV_PROTO", proto)
                .current_dir(dir.path())
                .args(args);
            run(cmd, LIMIT)
        };
        let done = kv(&["put", "k", "v"]);
        done.assert_success();
        assert!(
            done.stderr
                .contains(&format!("using plugin: version={version}")),
            "{}",
            done.stderr
        );
        let done = kv(&["get", "k"]);
        done.assert_success();
        assert_eq!(done.stdout, "v\n\nWritten from plugin-rust\n");
    }
}

#[test]
fn go_example_streaming_host_writes_and_reads_through_streamer_plugin() {
    let dir = dir_with_plugin("streamer", &rust_example("streamer_plugin"));
    let mut cmd = Command::new(go_subject("examples/streaming/streaming"));
    cmd.current_dir(dir.path()).arg("myfile");
    let done = run(cmd, LIMIT);
    done.assert_success();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("myfile")).unwrap(),
        "Lorem ipsum dolor sit amet"
    );
    assert!(done.stderr.contains("received 26 bytes"), "{}", done.stderr);
}

#[test]
fn go_example_bidirectional_host_counts_through_counter_plugin() {
    let dir = short_tempdir();
    let counter = |args: &[&str]| {
        let mut cmd = Command::new(go_subject("examples/bidirectional/bidirectional"));
        cmd.env("COUNTER_PLUGIN", rust_example("counter_plugin"))
            .current_dir(dir.path())
            .args(args);
        let done = run(cmd, LIMIT);
        done.assert_success();
        done.stdout
    };
    counter(&["put", "x", "3"]);
    counter(&["put", "x", "4"]);
    assert_eq!(counter(&["get", "x"]), "7\n");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("kv_x")).unwrap(),
        "{\"Value\":7}"
    );
}

#[test]
fn item41_go_basic_host_greets_through_the_rust_netrpc_greeter() {
    let dir = dir_with_plugin("greeter", &rust_example("greeter_plugin"));
    let mut cmd = Command::new(go_subject("examples/basic/basic"));
    cmd.current_dir(dir.path());
    let done = run(cmd, LIMIT);
    done.assert_success();
    // The basic host logs to stdout too: the greeting is one of its lines.
    assert!(
        done.stdout.lines().any(|l| l == "Hello!"),
        "{}",
        done.stdout
    );
    // hclog renders the plugin's key/values in arbitrary order.
    let log_line = done
        .stdout
        .lines()
        .find(|l| l.contains("message from GreeterHello.Greet"));
    assert!(
        log_line.is_some_and(|l| l.contains("foo=bar")),
        "{}",
        done.stdout
    );
    assert!(
        !done.stdout.contains("plugin failed to exit gracefully"),
        "{}",
        done.stdout
    );
}

#[test]
fn a_rust_plugin_exits_when_its_host_is_killed() {
    // The "host" is a shell that starts the plugin and is then SIGKILLed; the plugin, re-parented,
    // must notice and exit by itself, removing its socket.
    let dir = short_tempdir();
    let script = format!(
        "{} > {}/line & echo $!; wait",
        rust_example("grpctest_plugin").display(),
        dir.path().display()
    );
    let mut host = Command::new("sh")
        .args(["-c", &script])
        .env("TEST_MAGIC_COOKIE", "test")
        .env("PLUGIN_UNIX_SOCKET_DIR", dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pid = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(host.stdout.take().unwrap()),
        &mut pid,
    )
    .unwrap();
    let pid: u32 = pid.trim().parse().unwrap();
    let line_file = dir.path().join("line");
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !std::fs::read_to_string(&line_file).is_ok_and(|l| l.ends_with('\n')) {
        assert!(std::time::Instant::now() < deadline, "no handshake");
        std::thread::sleep(Duration::from_millis(20));
    }
    let address = std::fs::read_to_string(&line_file)
        .unwrap()
        .split('|')
        .nth(3)
        .unwrap()
        .to_string();
    host.kill().unwrap();
    host.wait().unwrap();
    assert_process_gone(pid, Duration::from_secs(2));
    assert!(
        !Path::new(&address).exists(),
        "the orphaned plugin left its socket"
    );
}

/// The first stdout line of `grpctest_plugin` started by hand with the cookie and `env`.
fn first_line(env: &[(&str, &str)]) -> String {
    let dir = short_tempdir();
    let mut child = Command::new(rust_example("grpctest_plugin"))
        .env("TEST_MAGIC_COOKIE", "test")
        .env("PLUGIN_UNIX_SOCKET_DIR", dir.path())
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    line.trim_end().to_string()
}

/// A shell script that runs `command` (gohost takes a path without arguments).
fn write_wrapper(dir: &Path, name: &str, command: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{command}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn group_name(gid: u32) -> String {
    std::fs::read_to_string("/etc/group")
        .unwrap()
        .lines()
        .find_map(|l| {
            let fields: Vec<&str> = l.split(':').collect();
            (fields.get(2) == Some(&gid.to_string().as_str())).then(|| fields[0].to_string())
        })
        .expect("current group in /etc/group")
}
