//! The Rust host of `make bench`: launches the plugin at `--plugin` (Rust or Go, serving
//! `bench.Bench` of proto/bench/bench.proto) and measures it; its Go twin is
//! `go-testdata/benchhost`, with the same flags, the same workload and the same output. The
//! driver (`benches/side_by_side`) runs both against both plugins, interleaved.
//!
//! Workload, in this order:
//!
//! 1. `--launches N` times: start the plugin and make one `Echo` (start → first successful call,
//!    ms); all but the last plugin are killed at once;
//! 2. on the last plugin: `--unary N` sequential `Echo`s of `--payload` bytes (µs each, after
//!    `--warmup` unmeasured calls), then `--concurrency C` callers for `--concurrent-ms` ms
//!    (calls/s), a `Download` of `--download-mib` MiB in `--chunk-kib` KiB messages and an `Upload`
//!    of `--upload-mib` MiB (MiB/s), `--dials N` broker dials (`DialBack`: the plugin dials an id
//!    this host serves and makes one call; µs as the plugin measured them);
//! 3. the plugin's peak RSS (`VmHWM` of /proc/PID/status), then kill.
//!
//! Output: one JSON object on stdout — `host` ("rust"), `start_ms` (one per launch),
//! `unary_p50_us`, `unary_p99_us`, `calls_per_s`, `download_mib_s`, `upload_mib_s`, `dial_us` (one
//! per dial), `rss_kib`; errors on stderr and exit status 1.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use go_plugin::handshake::HandshakeConfig;
use go_plugin::host::{ClientSet, Host, HostConfig};
use go_plugin_schemas::bench::bench_client::BenchClient;
use go_plugin_schemas::bench::bench_server::{Bench, BenchServer};
use go_plugin_schemas::bench::{BrokerId, Count, DownloadRequest, Payload};
use tokio_stream::StreamExt;
use tonic::transport::Channel;
use tonic::{Request, Response, Status, Streaming};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// The flags, with the same names and defaults as the Go host's.
struct Options {
    plugin: String,
    automtls: bool,
    launches: usize,
    warmup: usize,
    unary: usize,
    payload: usize,
    concurrency: usize,
    concurrent_ms: u64,
    download_mib: u64,
    upload_mib: u64,
    chunk_kib: u64,
    dials: usize,
}

fn parse_options() -> Result<Options, Error> {
    let mut values: HashMap<String, String> = HashMap::new();
    let mut automtls = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let name = arg.trim_start_matches('-').to_string();
        if name == "automtls" {
            automtls = true;
            continue;
        }
        let value = args
            .next()
            .ok_or_else(|| format!("flag --{name} needs a value"))?;
        values.insert(name, value);
    }
    let plugin = values
        .remove("plugin")
        .ok_or("--plugin PATH is required (the bench plugin executable)")?;
    let mut take = |name: &str, default: u64| -> Result<u64, Error> {
        match values.remove(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|e| format!("--{name} {v:?}: {e}").into()),
        }
    };
    let options = Options {
        plugin,
        automtls,
        launches: take("launches", 3)? as usize,
        warmup: take("warmup", 200)? as usize,
        unary: take("unary", 2000)? as usize,
        payload: take("payload", 64)? as usize,
        concurrency: take("concurrency", 32)? as usize,
        concurrent_ms: take("concurrent-ms", 500)?,
        download_mib: take("download-mib", 256)?,
        upload_mib: take("upload-mib", 64)?,
        chunk_kib: take("chunk-kib", 64)?,
        dials: take("dials", 5)? as usize,
    };
    if let Some(unknown) = values.keys().next() {
        return Err(format!("unknown flag --{unknown}").into());
    }
    if options.launches == 0 || options.unary == 0 || options.concurrency == 0 {
        return Err("--launches, --unary and --concurrency must be at least 1".into());
    }
    Ok(options)
}

fn new_host(options: &Options) -> Host {
    let plugins = ClientSet::new().plugin("bench", |c| BenchClient::new(c.channel()));
    Host::new(
        HostConfig::new(HandshakeConfig::new(1, "BENCH_PLUGIN", "bench"))
            .plugins(plugins)
            .command(std::process::Command::new(&options.plugin))
            .auto_mtls(options.automtls),
    )
}

/// Start → first successful call, in ms; returns the host and client of the launch.
async fn launch(options: &Options) -> Result<(f64, Host, BenchClient<Channel>), Error> {
    let start = Instant::now();
    let host = new_host(options);
    let mut client: BenchClient<Channel> = host.dispense("bench").await?;
    client.echo(payload(options.payload)).await?;
    let ms = start.elapsed().as_secs_f64() * 1e3;
    Ok((ms, host, client))
}

fn payload(len: usize) -> Payload {
    Payload {
        value: vec![7; len],
    }
}

/// `p` in 0..=1 of sorted samples (nearest rank).
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

async fn unary(client: &mut BenchClient<Channel>, options: &Options) -> Result<Vec<f64>, Error> {
    for _ in 0..options.warmup {
        client.echo(payload(options.payload)).await?;
    }
    let mut micros = Vec::with_capacity(options.unary);
    for _ in 0..options.unary {
        let start = Instant::now();
        client.echo(payload(options.payload)).await?;
        micros.push(start.elapsed().as_secs_f64() * 1e6);
    }
    micros.sort_by(f64::total_cmp);
    Ok(micros)
}

async fn concurrent(client: &BenchClient<Channel>, options: &Options) -> Result<f64, Error> {
    let deadline = Instant::now() + Duration::from_millis(options.concurrent_ms);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..options.concurrency {
        let (mut client, len) = (client.clone(), options.payload);
        tasks.push(tokio::spawn(async move {
            let mut calls = 0u64;
            while Instant::now() < deadline {
                client.echo(payload(len)).await?;
                calls += 1;
            }
            Ok::<u64, Status>(calls)
        }));
    }
    let mut calls = 0;
    for task in tasks {
        calls += task.await??;
    }
    Ok(calls as f64 / start.elapsed().as_secs_f64())
}

const MIB: u64 = 1 << 20;

async fn download(client: &mut BenchClient<Channel>, options: &Options) -> Result<f64, Error> {
    let size = options.download_mib * MIB;
    let start = Instant::now();
    let request = DownloadRequest {
        size: size as i64,
        chunk: (options.chunk_kib * 1024) as i32,
    };
    let mut stream = client.download(request).await?.into_inner();
    let mut received = 0u64;
    while let Some(chunk) = stream.next().await {
        received += chunk?.value.len() as u64;
    }
    if received != size {
        return Err(format!("Download sent {received} bytes, asked for {size}").into());
    }
    Ok(size as f64 / MIB as f64 / start.elapsed().as_secs_f64())
}

async fn upload(client: &mut BenchClient<Channel>, options: &Options) -> Result<f64, Error> {
    let size = options.upload_mib * MIB;
    let chunk = options.chunk_kib * 1024;
    let start = Instant::now();
    let zeros = vec![0u8; chunk as usize];
    let count = size.div_ceil(chunk);
    let chunks = tokio_stream::iter(0..count).map(move |i| Payload {
        value: zeros[..chunk.min(size - i * chunk) as usize].to_vec(),
    });
    let received = client.upload(chunks).await?.into_inner().value;
    if received != size {
        return Err(format!("Upload counted {received} bytes, sent {size}").into());
    }
    Ok(size as f64 / MIB as f64 / start.elapsed().as_secs_f64())
}

/// The host's side of `DialBack`: the plugin's call over the brokered connection.
struct Echo;

#[tonic::async_trait]
impl Bench for Echo {
    async fn echo(&self, request: Request<Payload>) -> Result<Response<Payload>, Status> {
        Ok(Response::new(request.into_inner()))
    }
    type DownloadStream = tokio_stream::Empty<Result<Payload, Status>>;
    async fn download(
        &self,
        _: Request<DownloadRequest>,
    ) -> Result<Response<Self::DownloadStream>, Status> {
        Err(Status::unimplemented("the host serves only Echo"))
    }
    async fn upload(&self, _: Request<Streaming<Payload>>) -> Result<Response<Count>, Status> {
        Err(Status::unimplemented("the host serves only Echo"))
    }
    async fn dial_back(&self, _: Request<BrokerId>) -> Result<Response<Count>, Status> {
        Err(Status::unimplemented("the host serves only Echo"))
    }
}

async fn dials(
    host: &Host,
    client: &mut BenchClient<Channel>,
    n: usize,
) -> Result<Vec<f64>, Error> {
    let broker = host.connection().await?.broker().clone();
    let mut micros = Vec::with_capacity(n);
    for _ in 0..n {
        let id = broker.next_id();
        broker
            .accept_and_serve(id, tonic::service::Routes::new(BenchServer::new(Echo)))
            .await?;
        let nanos = client
            .dial_back(BrokerId { value: id })
            .await?
            .into_inner()
            .value;
        micros.push(nanos as f64 / 1e3);
    }
    Ok(micros)
}

/// The plugin's peak resident set (`VmHWM`) in KiB.
fn peak_rss_kib(pid: u32) -> Result<u64, Error> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("no VmHWM in /proc/{pid}/status").into())
}

async fn run(options: &Options) -> Result<serde_json::Value, Error> {
    let mut start_ms = Vec::new();
    let mut last = None;
    for i in 0..options.launches {
        let (ms, host, client) = launch(options).await?;
        start_ms.push(ms);
        if i + 1 < options.launches {
            drop(client);
            host.kill().await;
        } else {
            last = Some((host, client));
        }
    }
    let (host, mut client) = last.expect("at least one launch");
    let result = async {
        let micros = unary(&mut client, options).await?;
        let calls_per_s = concurrent(&client, options).await?;
        let download_mib_s = download(&mut client, options).await?;
        let upload_mib_s = upload(&mut client, options).await?;
        let dial_us = dials(&host, &mut client, options.dials).await?;
        let pid = host
            .reattach_config()
            .ok_or("the host has no reattach config")?
            .pid;
        Ok::<_, Error>(serde_json::json!({
            "host": "rust",
            "start_ms": start_ms,
            "unary_p50_us": percentile(&micros, 0.50),
            "unary_p99_us": percentile(&micros, 0.99),
            "calls_per_s": calls_per_s,
            "download_mib_s": download_mib_s,
            "upload_mib_s": upload_mib_s,
            "dial_us": dial_us,
            "rss_kib": peak_rss_kib(pid)?,
        }))
    }
    .await;
    drop(client);
    host.kill().await;
    result
}

/// A current-thread runtime unless `BENCH_HOST_RT=multi`: with `#[tokio::main]`'s multi-thread
/// runtime the caller's future runs on the main thread, outside the workers that drive the HTTP/2
/// connection, so every call crosses threads and the 1-in-flight p50 roughly doubles (bench/ANALYSIS.md).
fn main() {
    let runtime = match std::env::var("BENCH_HOST_RT").as_deref() {
        Ok("multi") => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build(),
        _ => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
    }
    .expect("starting the tokio runtime");
    let result = match parse_options() {
        Ok(options) => runtime.block_on(run(&options)),
        Err(e) => Err(e),
    };
    match result {
        Ok(json) => println!("{json}"),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
