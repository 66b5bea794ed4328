//! Hosts and plugins on gRPC C-core (PyPI `grpcio` 1.85, the stack of Python, Ruby, PHP and C++
//! programs) against Rust and Go ones.
//!
//! - A grpcio host (`scripts/grpcio_host.py`) launches a KV plugin and calls `proto.KV/Put` and
//!   `Get`, `plugin.GRPCStdio/StreamStdio` and `plugin.GRPCController/Shutdown` over the Unix
//!   socket, with grpcio's default `:authority` (the percent-encoded socket path) and with the raw
//!   path (as grpc-java sends it). The Rust `kv_plugin` and go-plugin's Go KV plugin must behave
//!   alike (src/grpc/authority.rs is why the Rust one can).
//! - The Rust `kv_host` drives go-plugin's own Python KV plugin (a grpcio server): the host's
//!   authority is one every server accepts.

#[path = "support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use support::{go_subject, python_packages, run, rust_example, short_tempdir, Finished};

/// Where `make python-subjects` installs grpcio.
fn grpcio_path() -> PathBuf {
    python_packages(
        "python-grpcio",
        "grpc",
        "grpcio==1.85.3 grpcio-health-checking==1.85.1 protobuf==7.36.2",
    )
}

/// Runs the grpcio host against `plugin` in a fresh directory (the KV plugins write files there).
fn grpcio_host(plugin: &Path, authority: &str) -> Finished {
    let dir = short_tempdir();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/grpcio_host.py");
    let mut cmd = Command::new("python3");
    cmd.arg(script)
        .arg(plugin)
        .args(["--authority", authority])
        .current_dir(dir.path())
        .env("PYTHONPATH", grpcio_path());
    run(cmd, Duration::from_secs(60))
}

fn assert_kv_round_trip(plugin: &Path) {
    for authority in ["default", "raw"] {
        let finished = grpcio_host(plugin, authority);
        finished.assert_success();
        let lines: Vec<&str> = finished.stdout.lines().collect();
        for expected in [
            "put: ok",
            "get: world",
            "stdio: stream open",
            "plugin exited: 0",
        ] {
            assert!(
                lines.contains(&expected),
                "{} with the {authority} authority: no {expected:?} in\n{}\nstderr:\n{}",
                plugin.display(),
                finished.stdout,
                finished.stderr
            );
        }
        assert!(
            lines.iter().any(|l| l.starts_with("shutdown: ")),
            "{}",
            finished.stdout
        );
    }
}

#[test]
fn a_grpcio_host_calls_the_rust_kv_plugin_with_a_socket_path_authority() {
    assert_kv_round_trip(&rust_example("kv_plugin"));
}

#[test]
fn a_grpcio_host_calls_gos_kv_plugin_alike() {
    assert_kv_round_trip(&go_subject("examples/grpc_plugin-go-grpc/plugin-go-grpc"));
}

#[test]
fn item30_the_rust_host_drives_go_plugins_minimal_python_kv_plugin() {
    let example = go_subject("go-plugin-src/examples/grpc/plugin-python");
    let dir = short_tempdir();
    let python_path = format!("{}:{}", grpcio_path().display(), example.display());
    // `exec`: go-plugin's example hosts start the plugin with `sh -c`; the shell becomes Python,
    // so the host's kill reaches it.
    let plugin = format!("exec python3 {}", example.join("plugin.py").display());
    let kv_host = |args: &[&str]| {
        let mut cmd = Command::new(rust_example("kv_host"));
        cmd.args(args)
            .current_dir(dir.path())
            .env("KV_PROTO", "grpc")
            .env("KV_PLUGIN", &plugin)
            .env("PYTHONPATH", &python_path);
        run(cmd, Duration::from_secs(60))
    };
    kv_host(&["put", "hello", "from-rust"]).assert_success();
    let got = kv_host(&["get", "hello"]);
    got.assert_success();
    assert!(
        got.stdout.contains("from-rust"),
        "{}\n{}",
        got.stdout,
        got.stderr
    );
}
