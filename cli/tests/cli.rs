//! Cross-tests of the `goplugin` CLI against real plugins: the Terraform provider
//! `hashicorp/terraform-provider-time` v0.14.2 (tfplugin5; the issue named terraform-provider-null,
//! which this machine's Go module proxy does not serve), go-plugin's test helper and its example
//! KV plugin, all built by `make go-subjects`, and this crate's `kv_plugin` example.
//!
//! The binary under test is the one cargo builds for this test (`cargo test -p go-plugin-cli`, or
//! `make test`).

#[path = "../../tests/support/mod.rs"]
mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use support::*;

/// How long one goplugin run may take before the test kills it (a hang, not a speed check).
const LIMIT: Duration = Duration::from_secs(120);

/// The goplugin binary cargo built for this test.
fn goplugin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_goplugin"));
    cmd.env("NO_COLOR", "1");
    cmd
}

fn provider_time() -> PathBuf {
    go_subject("providers/terraform-provider-time")
}

fn go_kv_plugin() -> PathBuf {
    go_subject("examples/grpc_plugin-go-grpc/plugin-go-grpc")
}

/// go-plugin's test helper in gRPC mode: its cookie, environment and arguments.
fn with_helper(cmd: &mut Command) -> &mut Command {
    cmd.arg(go_subject("bin/gp-helper")).args([
        "--cookie",
        "TEST_MAGIC_COOKIE=test",
        "-e",
        "GO_WANT_HELPER_PROCESS=1",
        "--",
        "-test.run=TestHelperProcess",
        "--",
        "test-grpc",
    ])
}

/// Runs goplugin with `args` in `dir` (a temp dir when `None`).
fn run_in(dir: Option<&Path>, args: &[&str]) -> Finished {
    let scratch = short_tempdir();
    let mut cmd = goplugin();
    cmd.args(args).current_dir(dir.unwrap_or(scratch.path()));
    run(cmd, LIMIT)
}

/// The pid inspect printed (`executable … (pid N)`); the plugin must be gone after inspect.
fn assert_inspected_plugin_gone(out: &Finished) {
    let pid: u32 = out
        .stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("executable"))
        .and_then(|rest| rest.rsplit_once("(pid "))
        .and_then(|(_, pid)| pid.trim_end_matches(')').parse().ok())
        .unwrap_or_else(|| panic!("no pid in inspect output:\n{}", out.stdout));
    assert_process_gone(pid, Duration::from_secs(10));
}

#[test]
fn inspect_terraform_provider_time_shows_handshake_and_tfplugin5_provider() {
    // No --preset: the cookie variable named in the binary picks `terraform`.
    let binary = provider_time();
    let out = run_in(None, &["inspect", binary.to_str().unwrap()]);
    out.assert_success();
    assert!(
        out.stderr.contains("using --preset terraform"),
        "{}",
        out.stderr
    );
    assert_contains_all(
        &out.stdout,
        &[
            "app protocol  5 (offered 5,6, cookie TF_PLUGIN_MAGIC_COOKIE)",
            "protocol      grpc",
            "TLS           AutoMTLS, plugin certificate sha256:",
            "plugin        SERVING",
            "tfplugin5.Provider",
            "GetSchema(GetProviderSchema.Request) → GetProviderSchema.Response",
            "ApplyResourceChange(ApplyResourceChange.Request)",
            "plugin.GRPCController",
        ],
    );
    assert_inspected_plugin_gone(&out);
}

#[test]
fn call_get_schema_on_terraform_provider_time_prints_time_static() {
    let binary = provider_time();
    let out = run_in(
        None,
        &[
            "call",
            binary.to_str().unwrap(),
            "tfplugin5.Provider/GetSchema",
            "{}",
            "--preset",
            "terraform",
        ],
    );
    out.assert_success();
    let schema: serde_json::Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{}", out.stdout));
    assert!(
        schema["resourceSchemas"]["time_static"].is_object(),
        "{}",
        out.stdout
    );
}

#[test]
fn inspect_go_plugin_test_helper_with_cookie_env_and_arguments() {
    let mut cmd = goplugin();
    cmd.arg("inspect");
    with_helper(&mut cmd);
    let out = run(cmd, LIMIT);
    out.assert_success();
    assert_contains_all(
        &out.stdout,
        &[
            "app protocol  1 (offered 1, cookie TEST_MAGIC_COOKIE)",
            "grpctest.Test",
            "Double(TestRequest) → TestResponse",
            "in  { Input: int32 }",
            "Stream(stream TestRequest) → stream TestResponse",
            "plugin        SERVING",
        ],
    );
    assert_inspected_plugin_gone(&out);
}

#[test]
fn call_streams_and_unary_on_the_go_test_helper() {
    let mut cmd = goplugin();
    cmd.args(["call", "--compact"]);
    cmd.arg(go_subject("bin/gp-helper")).args([
        "grpctest.Test/Stream",
        r#"[{"Input":1},{"Input":7}]"#,
        "--cookie",
        "TEST_MAGIC_COOKIE=test",
        "-e",
        "GO_WANT_HELPER_PROCESS=1",
        "--",
        "-test.run=TestHelperProcess",
        "--",
        "test-grpc",
    ]);
    let out = run(cmd, LIMIT);
    out.assert_success();
    assert_eq!(out.stdout, "{\"Output\":1}\n{\"Output\":7}\n");

    let mut cmd = goplugin();
    cmd.args(["call", "--compact"]);
    cmd.arg(go_subject("bin/gp-helper")).args([
        "grpctest.Test/Double",
        r#"{"Input":21}"#,
        "--cookie",
        "TEST_MAGIC_COOKIE=test",
        "-e",
        "GO_WANT_HELPER_PROCESS=1",
        "--",
        "-test.run=TestHelperProcess",
        "--",
        "test-grpc",
    ]);
    let out = run(cmd, LIMIT);
    out.assert_success();
    assert_eq!(out.stdout, "{\"Output\":42}\n");
}

#[test]
fn inspect_rust_kv_plugin() {
    let binary = rust_example("kv_plugin");
    let out = run_in(
        None,
        &["inspect", binary.to_str().unwrap(), "--preset", "examples"],
    );
    out.assert_success();
    assert_contains_all(
        &out.stdout,
        &[
            "app protocol  1 (offered 1, cookie BASIC_PLUGIN)",
            "TLS           AutoMTLS",
            "plugin        SERVING",
            "proto.KV  2 methods",
            "Get(GetRequest) → GetResponse",
            "in  { key: string, value: bytes }",
        ],
    );
    assert_inspected_plugin_gone(&out);
}

#[test]
fn call_put_then_get_round_trips_on_go_kv_example() {
    // The Go KV plugin stores values as kv_<key> files in its working directory.
    let dir = short_tempdir();
    let binary = go_kv_plugin();
    let plugin = binary.to_str().unwrap();
    let put = run_in(
        Some(dir.path()),
        &[
            "call",
            plugin,
            "proto.KV/Put",
            r#"{"key":"color","value":"Ymx1ZQ=="}"#,
            "--preset",
            "examples",
        ],
    );
    put.assert_success();
    assert_eq!(put.stdout.trim(), "{}");
    let get = run_in(
        Some(dir.path()),
        &[
            "call",
            plugin,
            "proto.KV/Get",
            r#"{"key":"color"}"#,
            "--preset",
            "examples",
        ],
    );
    get.assert_success();
    let bytes = base64_field(&get.stdout, "value");
    // go-plugin's example plugin appends its signature to what it stores.
    assert!(
        String::from_utf8_lossy(&bytes).starts_with("blue\n\nWritten from plugin-go-grpc"),
        "{bytes:?}"
    );
}

/// A running `goplugin serve-reattach`, stopped (SIGINT) by the test; on failure it and its
/// plugin are killed.
struct Served {
    child: Child,
    lines: Vec<String>,
    plugin: Option<u32>,
}

impl Served {
    /// Starts it and reads stdout up to the line starting with `last`.
    fn start(dir: &Path, args: &[&str], last: &str) -> Served {
        let mut child = goplugin()
            .arg("serve-reattach")
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting goplugin serve-reattach");
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut served = Served {
            child,
            lines: Vec::new(),
            plugin: None,
        };
        let deadline = Instant::now() + LIMIT;
        while !served.lines.iter().any(|l| l.starts_with(last)) {
            match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) => served.lines.push(line),
                Err(_) => panic!(
                    "serve-reattach printed no {last:?} line; it printed:\n{}",
                    served.lines.join("\n")
                ),
            }
        }
        let config: serde_json::Value =
            serde_json::from_str(&served.quoted("goplugin inspect --reattach")).unwrap();
        served.plugin = Some(config["Pid"].as_u64().expect("Pid") as u32);
        served
    }

    /// The single-quoted JSON of the line starting with `prefix`.
    fn quoted(&self, prefix: &str) -> String {
        let line = self
            .lines
            .iter()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} line in:\n{}", self.lines.join("\n")));
        let start = line.find('\'').expect("opening quote") + 1;
        line[start..line.len() - 1].to_string()
    }

    fn plugin_pid(&self) -> u32 {
        self.plugin.expect("plugin pid")
    }

    /// Ctrl-C, then waits for goplugin to stop the plugin and exit.
    fn interrupt(&mut self) -> std::process::ExitStatus {
        // SAFETY: kill(2) of the goplugin process this test started.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGINT) };
        let deadline = Instant::now() + LIMIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "serve-reattach did not stop after SIGINT"
            );
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if let Some(pid) = self.plugin.filter(|pid| process_alive(*pid)) {
            // SAFETY: kill(2) of the plugin this test's goplugin started (a failed test only).
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        }
    }
}

/// The bytes of a base64 JSON string field.
fn base64_field(json: &str, field: &str) -> Vec<u8> {
    use base64::Engine;
    let value: serde_json::Value =
        serde_json::from_str(json).unwrap_or_else(|e| panic!("not JSON ({e}): {json}"));
    let text = value[field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field} in {json}"));
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

#[test]
fn reattach_flow_with_the_go_kv_plugin_end_to_end() {
    let dir = short_tempdir();
    let binary = go_kv_plugin();
    let mut served = Served::start(
        dir.path(),
        &[binary.to_str().unwrap(), "--preset", "examples"],
        "goplugin inspect --reattach",
    );
    let pid = served.plugin_pid();
    let config = served.quoted("goplugin inspect --reattach");
    assert!(config.contains(r#""Test":true"#), "{config}");

    let put = run_in(
        Some(dir.path()),
        &[
            "call",
            "--reattach",
            &config,
            "proto.KV/Put",
            r#"{"key":"k","value":"dg=="}"#,
        ],
    );
    put.assert_success();
    let get = run_in(
        Some(dir.path()),
        &[
            "call",
            "--reattach",
            &config,
            "proto.KV/Get",
            r#"{"key":"k"}"#,
            "--compact",
        ],
    );
    get.assert_success();
    let value = base64_field(&get.stdout, "value");
    assert!(
        String::from_utf8_lossy(&value).starts_with("v\n\nWritten from plugin-go-grpc"),
        "{value:?}"
    );
    let inspect = run_in(None, &["inspect", "--reattach", &config]);
    inspect.assert_success();
    assert!(
        inspect.stdout.contains("proto.KV  2 methods"),
        "{}",
        inspect.stdout
    );
    assert!(
        inspect.stdout.contains("test mode (left running)"),
        "{}",
        inspect.stdout
    );

    // Attaching hosts leave the plugin running; Ctrl-C on serve-reattach stops it.
    assert!(
        process_alive(pid),
        "the plugin stopped when a reattached host finished"
    );
    let status = served.interrupt();
    assert!(status.success(), "serve-reattach ended with {status}");
    assert_process_gone(pid, Duration::from_secs(10));
}

#[test]
fn reattach_flow_with_tf_reattach_providers_for_terraform_provider_time() {
    let dir = short_tempdir();
    let binary = provider_time();
    let mut served = Served::start(
        dir.path(),
        &[binary.to_str().unwrap(), "--preset", "terraform"],
        "export TF_REATTACH_PROVIDERS=",
    );
    let pid = served.plugin_pid();
    let providers = served.quoted("export TF_REATTACH_PROVIDERS=");
    let parsed: serde_json::Value = serde_json::from_str(&providers).unwrap();
    assert_eq!(
        parsed["registry.terraform.io/hashicorp/time"]["ProtocolVersion"], 5,
        "{providers}"
    );
    let out = run_in(
        None,
        &[
            "call",
            "--reattach",
            &providers,
            "tfplugin5.Provider/GetSchema",
        ],
    );
    out.assert_success();
    assert!(out.stdout.contains("\"time_static\""), "{}", out.stdout);
    assert!(process_alive(pid));
    assert!(served.interrupt().success());
    assert_process_gone(pid, Duration::from_secs(10));
}

#[test]
fn a_wrong_cookie_says_which_preset_to_try() {
    let binary = provider_time();
    let out = run_in(
        None,
        &["inspect", binary.to_str().unwrap(), "--preset", "examples"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "error: this binary expects a different magic cookie; try --preset terraform \
             (the binary names TF_PLUGIN_MAGIC_COOKIE)"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn a_binary_with_an_unknown_cookie_asks_for_one() {
    let mut cmd = goplugin();
    cmd.arg("inspect").arg(go_subject("bin/gp-helper"));
    let out = run(cmd, LIMIT);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stderr.contains("which magic cookie does")
            && out.stderr.contains("Pass --cookie KEY=VALUE"),
        "{}",
        out.stderr
    );
}

#[test]
fn unknown_methods_and_bad_requests_are_explained() {
    let binary = rust_example("kv_plugin");
    let plugin = binary.to_str().unwrap();
    let out = run_in(
        None,
        &["call", plugin, "proto.KV/Gett", "--preset", "examples"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stderr
            .contains("service proto.KV has no method \"Gett\"; its methods: Get, Put"),
        "{}",
        out.stderr
    );
    let out = run_in(
        None,
        &[
            "call",
            plugin,
            "proto.KV/Get",
            r#"{"kee":"a"}"#,
            "--preset",
            "examples",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stderr.contains("GetRequest has the fields: key"),
        "{}",
        out.stderr
    );
}

#[test]
fn help_and_usage_errors_read_well() {
    let help = run_in(None, &["--help"]);
    help.assert_success();
    for expected in ["inspect", "call", "serve-reattach", "presets", "Examples:"] {
        assert!(help.stdout.contains(expected), "{}", help.stdout);
    }
    let usage = run_in(None, &["call", "./plugin"]);
    assert_eq!(usage.status.code(), Some(1));
    assert!(
        usage.stderr.contains("missing SERVICE/METHOD"),
        "{}",
        usage.stderr
    );
    let missing = run_in(
        None,
        &["inspect", "/nonexistent/plugin", "--preset", "terraform"],
    );
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        missing
            .stderr
            .contains("cannot use plugin /nonexistent/plugin"),
        "{}",
        missing.stderr
    );
    let presets = run_in(None, &["presets"]);
    presets.assert_success();
    assert!(
        presets.stdout.contains("TF_PLUGIN_MAGIC_COOKIE=d602bf8f"),
        "{}",
        presets.stdout
    );
}

/// Panics, showing the whole output, unless `stdout` contains every one of `expected`.
fn assert_contains_all(stdout: &str, expected: &[&str]) {
    for expected in expected {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
}
