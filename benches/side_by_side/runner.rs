//! Running one configuration: one process of the bench host of the pairing (Rust:
//! `examples/bench_host.rs`, Go: `go-testdata/benchhost`) with the plugin of the pairing, the same
//! flags for both, one JSON object back on stdout.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::summary::{Config, Sample, Side};

/// How long one host run may take before it is killed and the benchmark fails.
const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// The workload of one host run (the hosts' flags of the same names).
#[derive(Clone, Debug)]
pub struct Workload {
    pub launches: usize,
    pub warmup: usize,
    pub unary: usize,
    pub payload: usize,
    pub concurrency: usize,
    pub concurrent_ms: u64,
    pub download_mib: u64,
    pub upload_mib: u64,
    pub chunk_kib: u64,
    pub dials: usize,
}

impl Default for Workload {
    fn default() -> Self {
        Workload {
            launches: 3,
            warmup: 200,
            unary: 2000,
            payload: 64,
            concurrency: 32,
            concurrent_ms: 500,
            download_mib: 256,
            upload_mib: 64,
            chunk_kib: 64,
            dials: 5,
        }
    }
}

impl Workload {
    pub fn flags(&self) -> Vec<String> {
        let pairs: [(&str, u64); 10] = [
            ("launches", self.launches as u64),
            ("warmup", self.warmup as u64),
            ("unary", self.unary as u64),
            ("payload", self.payload as u64),
            ("concurrency", self.concurrency as u64),
            ("concurrent-ms", self.concurrent_ms),
            ("download-mib", self.download_mib),
            ("upload-mib", self.upload_mib),
            ("chunk-kib", self.chunk_kib),
            ("dials", self.dials as u64),
        ];
        pairs
            .iter()
            .flat_map(|(k, v)| [format!("--{k}"), v.to_string()])
            .collect()
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "launches": self.launches, "warmup": self.warmup, "unary": self.unary,
            "payload_bytes": self.payload, "concurrency": self.concurrency,
            "concurrent_ms": self.concurrent_ms, "download_mib": self.download_mib,
            "upload_mib": self.upload_mib, "chunk_kib": self.chunk_kib, "dials": self.dials,
        })
    }
}

/// The four programs.
pub struct Programs {
    rust_host: PathBuf,
    rust_plugin: PathBuf,
    go_host: PathBuf,
    go_plugin: PathBuf,
}

impl Programs {
    /// Finds the release example binaries next to this benchmark's own executable and the Go
    /// programs under `target/go/bin`.
    pub fn locate(manifest: &Path) -> Result<Programs, String> {
        let exe = std::env::current_exe().map_err(|e| format!("locating this executable: {e}"))?;
        // target/release/deps/side_by_side-HASH → target/release/examples
        let examples = exe
            .parent()
            .and_then(Path::parent)
            .map(|p| p.join("examples"))
            .ok_or("this executable has no target folder")?;
        Programs::with_rust_examples(&examples, manifest)
    }

    /// The tuned build's Rust programs (`target/bench-tuned`, see [`crate::tuned`]) with the same
    /// Go programs.
    pub fn locate_tuned(manifest: &Path) -> Result<Programs, String> {
        Programs::with_rust_examples(
            &manifest.join("target/bench-tuned/release/examples"),
            manifest,
        )
    }

    fn with_rust_examples(examples: &Path, manifest: &Path) -> Result<Programs, String> {
        let go_bin = manifest.join("target/go/bin");
        let programs = Programs {
            rust_host: examples.join("bench_host"),
            rust_plugin: examples.join("bench_plugin"),
            go_host: go_bin.join("benchhost"),
            go_plugin: go_bin.join("benchplugin"),
        };
        for path in [
            &programs.rust_host,
            &programs.rust_plugin,
            &programs.go_host,
            &programs.go_plugin,
        ] {
            if !path.is_file() {
                return Err(format!(
                    "{} is missing: run `make bench`, which builds the Rust examples bench_host and \
                     bench_plugin in release mode (default and tuned builds) and the Go programs \
                     go-testdata/benchhost and benchplugin",
                    path.display()
                ));
            }
        }
        Ok(programs)
    }

    /// Runs `config` once; one retry when a run fails (a launch can lose a race with a busy
    /// machine), then the error with the host's stderr.
    pub fn run(&self, config: Config, workload: &Workload) -> Result<Sample, String> {
        self.run_once(config, workload).or_else(|first| {
            eprintln!(" failed ({first}); retrying");
            self.run_once(config, workload)
        })
    }

    fn run_once(&self, config: Config, workload: &Workload) -> Result<Sample, String> {
        let host = match config.pairing.host {
            Side::Rust => &self.rust_host,
            Side::Go => &self.go_host,
        };
        let plugin = match config.pairing.plugin {
            Side::Rust => &self.rust_plugin,
            Side::Go => &self.go_plugin,
        };
        let mut command = Command::new(host);
        command.arg("--plugin").arg(plugin).args(workload.flags());
        if config.mtls {
            command.arg("--automtls");
        }
        let (status, stdout, stderr) = run_with_timeout(command)?;
        if !status.success() {
            return Err(format!(
                "{} exited with {status}: {}",
                host.display(),
                stderr.trim()
            ));
        }
        let json: serde_json::Value = serde_json::from_str(stdout.trim()).map_err(|e| {
            format!(
                "{} printed no JSON object ({e}): {stdout:?}",
                host.display()
            )
        })?;
        parse_sample(&json)
            .ok_or_else(|| format!("{} printed an incomplete sample: {json}", host.display()))
    }
}

pub fn parse_sample(j: &serde_json::Value) -> Option<Sample> {
    let list =
        |k: &str| -> Option<Vec<f64>> { j[k].as_array()?.iter().map(|v| v.as_f64()).collect() };
    Some(Sample {
        start_ms: list("start_ms")?,
        unary_p50_us: j["unary_p50_us"].as_f64()?,
        unary_p99_us: j["unary_p99_us"].as_f64()?,
        calls_per_s: j["calls_per_s"].as_f64()?,
        download_mib_s: j["download_mib_s"].as_f64()?,
        upload_mib_s: j["upload_mib_s"].as_f64()?,
        dial_us: list("dial_us")?,
        rss_kib: j["rss_kib"].as_f64()?,
    })
}

/// Runs `command` to completion. It gets a process group of its own, so that after
/// [`RUN_TIMEOUT`] the host and the plugin it launched can be killed together (by that group's id).
fn run_with_timeout(
    mut command: Command,
) -> Result<(std::process::ExitStatus, String, String), String> {
    use std::os::unix::process::CommandExt;
    let mut child = command
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("starting {command:?}: {e}"))?;
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + RUN_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                // SAFETY: kill(2) on the process group this function created (its id is the
                // child's pid); no memory is involved.
                unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
                let _ = child.wait();
                return Err(format!(
                    "{command:?} took longer than {} s; killed",
                    RUN_TIMEOUT.as_secs()
                ));
            }
            Err(e) => return Err(format!("waiting for {command:?}: {e}")),
        }
    };
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    Ok((status, stdout, stderr))
}
