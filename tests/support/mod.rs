//! Shared helpers of the cross-tests: where the Go subjects and the Rust examples are, running a
//! process with a deadline, short temp dirs, and checks that nothing was left behind.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// `target/debug` (or wherever this test binary was built).
fn build_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps")
        .to_path_buf()
}

/// The `target` directory.
fn target_dir() -> PathBuf {
    build_dir().parent().expect("target").to_path_buf()
}

/// A Rust example binary (cargo builds examples before running integration tests).
pub fn rust_example(name: &str) -> PathBuf {
    let path = build_dir().join("examples").join(name);
    assert!(
        path.exists(),
        "Rust example {name} not found at {}; build it with `cargo build --examples`",
        path.display()
    );
    path
}

/// A Go subject built by `make go-subjects` under `target/go`: `bin/gohost`,
/// `examples/grpc/grpc`, ….
pub fn go_subject(relative: &str) -> PathBuf {
    let path = target_dir().join("go").join(relative);
    assert!(
        path.exists(),
        "Go subject {} is missing: run `make go-subjects` (needs Go >= 1.24 and the Go module proxy), \
         or run the whole suite with `make test`",
        path.display()
    );
    path
}

/// Python packages `make python-subjects` installed under `target/<dir>` (checked by the presence
/// of `probe`), or a failure saying how to install them (`pip_args`).
pub fn python_packages(dir: &str, probe: &str, pip_args: &str) -> PathBuf {
    let path = target_dir().join(dir);
    assert!(
        path.join(probe).exists(),
        "{probe} is missing from {}: run `make python-subjects` (pip install --target target/{dir} \
         {pip_args}), or run the whole suite with `make test`",
        path.display()
    );
    path
}

/// A temp dir with a short path (Unix socket paths are limited to 108 bytes).
pub fn short_tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("gp")
        .tempdir_in("/tmp")
        .expect("temp dir in /tmp")
}

/// What a finished process left.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub stdout_bytes: Vec<u8>,
}

impl Finished {
    /// `key=value` lines of stdout (gohost's output contract).
    pub fn values(&self) -> HashMap<String, String> {
        self.stdout
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// The value of `key`, or a panic showing the whole output.
    pub fn value(&self, key: &str) -> String {
        self.values().get(key).cloned().unwrap_or_else(|| {
            panic!(
                "no {key}= in output\nstdout:\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// Panics with the output unless the process exited 0.
    pub fn assert_success(&self) -> &Self {
        assert!(
            self.status.success(),
            "process failed ({})\nstdout:\n{}\nstderr:\n{}",
            self.status,
            self.stdout,
            self.stderr
        );
        self
    }
}

/// Runs `cmd` to completion, killing it (and failing the test) after `limit`.
pub fn run(mut cmd: Command, limit: Duration) -> Finished {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let program = format!("{cmd:?}");
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("starting {program}: {e}"));
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out.read_to_end(&mut buf);
        buf
    });
    let err_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err.read_to_end(&mut buf);
        buf
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for child") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{program} did not finish within {limit:?}");
        }
        thread::sleep(Duration::from_millis(10));
    };
    let stdout_bytes = out_reader.join().unwrap();
    let stderr = String::from_utf8_lossy(&err_reader.join().unwrap()).into_owned();
    Finished {
        status,
        stdout: String::from_utf8_lossy(&stdout_bytes).into_owned(),
        stderr,
        stdout_bytes,
    }
}

/// True while a process with this pid exists (and is not a zombie).
pub fn process_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.trim_start().starts_with('Z'))
            .unwrap_or(false),
        Err(_) => false,
    }
}

/// Waits up to `limit` for the process to be gone; if it is still there, kills it (a failing test
/// leaves nothing behind) and panics.
pub fn assert_process_gone(pid: u32, limit: Duration) {
    let deadline = Instant::now() + limit;
    while process_alive(pid) {
        if Instant::now() >= deadline {
            // SAFETY: plain kill(2) of a plugin this test started and that outlived its host.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            panic!("plugin process {pid} was still running (leaked); killed it");
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// The JSON entries of a go-plugin host log written with `-log`.
pub fn log_entries(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The host half of go-plugin's broker test (`testGRPCClient.Bidirectional`): serve PingPong under
/// a new broker id, call `Bidirectional` with it (the plugin dials it, pings, and serves its own
/// PingPong), then dial the plugin's id and ping it.
pub async fn bidirectional(host: &go_plugin::host::Host) -> Result<(), Box<dyn std::error::Error>> {
    use go_plugin_schemas::grpctest::ping_pong_client::PingPongClient;
    use go_plugin_schemas::grpctest::ping_pong_server::{PingPong, PingPongServer};
    use go_plugin_schemas::grpctest::test_client::TestClient;
    use go_plugin_schemas::grpctest::{BidirectionalRequest, PingRequest, PongResponse};

    struct Pong;
    #[tonic::async_trait]
    impl PingPong for Pong {
        async fn ping(
            &self,
            _: tonic::Request<PingRequest>,
        ) -> Result<tonic::Response<PongResponse>, tonic::Status> {
            Ok(tonic::Response::new(PongResponse { msg: "pong".into() }))
        }
    }

    let connection = host.connection().await?;
    let broker = connection.broker();
    let id = broker.next_id();
    broker
        .accept_and_serve(id, tonic::service::Routes::new(PingPongServer::new(Pong)))
        .await?;
    let mut test = TestClient::new(connection.channel());
    let theirs = test
        .bidirectional(BidirectionalRequest { id })
        .await?
        .into_inner()
        .id;
    let channel = broker.dial(theirs).await?;
    let pong = PingPongClient::new(channel)
        .ping(PingRequest {})
        .await?
        .into_inner();
    if pong.msg != "pong" {
        return Err(format!("bad PingPong answer {:?}", pong.msg).into());
    }
    Ok(())
}

/// A shared in-memory writer (a stdout/stderr sink whose bytes a test inspects).
#[derive(Clone, Default)]
pub struct Buffer(pub std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buffer {
    /// Everything written so far.
    pub fn bytes(&self) -> Vec<u8> {
        self.0.lock().unwrap().clone()
    }
}

/// The dispensed net/rpc "test" plugin with the host's MuxBroker.
pub struct NetRpcTest {
    pub rpc: go_plugin::netrpc::RpcClient,
    pub broker: go_plugin::netrpc::MuxBroker,
}

/// The plugin set for a net/rpc "test" plugin.
pub fn netrpc_test_plugins() -> go_plugin::host::ClientSet {
    go_plugin::host::ClientSet::new().netrpc_plugin("test", |rpc, broker| NetRpcTest {
        rpc,
        broker: broker.clone(),
    })
}

/// The host half of the net/rpc MuxBroker ping-pong: serve `Plugin.Ping` under a new id, let the
/// plugin dial it (`Plugin.Bidirectional`) and serve its own, then dial that and ping.
pub async fn netrpc_bidirectional(
    host: &go_plugin::host::Host,
) -> Result<(), Box<dyn std::error::Error>> {
    use go_plugin::netrpc::{RpcClient, RpcServer};
    let test: NetRpcTest = host.dispense("test").await?;
    let id = test.broker.next_id();
    let ping = RpcServer::new().method("Plugin.Ping", |_: bool| async {
        Ok::<_, String>("pong".to_string())
    });
    test.broker.accept_and_serve(id, ping);
    let theirs: u32 = test.rpc.call("Plugin.Bidirectional", &id).await?;
    let back = RpcClient::new(test.broker.dial(theirs).await?);
    let pong: String = back.call("Plugin.Ping", &true).await?;
    if pong != "pong" {
        return Err(format!("bad PingPong answer {pong:?}").into());
    }
    Ok(())
}

/// Starts `grpctest_plugin` in test mode with `args`; returns the process (stop it by closing its
/// stdin) and its reattach JSON line.
pub fn start_test_mode_plugin(args: &[&str]) -> (std::process::Child, String) {
    let mut child = Command::new(rust_example("grpctest_plugin"))
        .args(args)
        .arg("--test-mode")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting grpctest_plugin --test-mode");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .expect("reading the reattach line");
    (child, line.trim().to_string())
}

/// A temp dir laid out as go-plugin's example hosts expect: `plugin` linked as `./plugin/<name>`.
pub fn dir_with_plugin(name: &str, plugin: &Path) -> tempfile::TempDir {
    let dir = short_tempdir();
    std::fs::create_dir(dir.path().join("plugin")).unwrap();
    std::os::unix::fs::symlink(plugin, dir.path().join("plugin").join(name)).unwrap();
    dir
}

/// `grpctest.Test/Double(n)`.
pub async fn double(
    test: &mut go_plugin_schemas::grpctest::test_client::TestClient<tonic::transport::Channel>,
    n: i32,
) -> i32 {
    let request = go_plugin_schemas::grpctest::TestRequest { input: n };
    test.double(request)
        .await
        .expect("Double")
        .into_inner()
        .output
}

/// A binary of a workspace member (`calc_plugin`, `calc_host`), built next to the examples.
pub fn rust_bin(name: &str) -> PathBuf {
    let path = build_dir().join(name);
    assert!(
        path.exists(),
        "Rust binary {name} not found at {}; build it with `cargo build --workspace --bins`",
        path.display()
    );
    path
}
