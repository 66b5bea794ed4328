//! One faulty plugin per fault, for the fault suite (`tests/faults/`): `fault_plugin <mode>`,
//! cookie `TEST_MAGIC_COOKIE=test`, plugin `test` (`grpctest.Test`) for app version 1.
//!
//! Plugins that misbehave before or instead of the protocol:
//!
//! * `exit-early` — writes a line to stderr and exits 3 before the handshake;
//! * `garbage` — prints a line that is not a handshake, then hangs;
//! * `half-line` — prints half a handshake line without its newline, then hangs;
//! * `no-listener` — prints a valid line for a socket nobody listens on, then hangs (and does not
//!   watch its parent: only the host side can take it along when the host dies);
//! * `wrong-cert` — AutoMTLS: announces one certificate and presents another;
//! * `plaintext` — AutoMTLS: announces a certificate but serves gRPC without TLS;
//! * `flood-raw-stdout` — prints a handshake line, then 64 MiB more on the same stdout;
//! * `endless-line` — writes one stdout line that never ends, instead of a handshake;
//! * `huge-stderr-line` — prints a handshake line, then one stderr line of twice [`LONG_LINE`];
//! * `json-bomb-stderr-line` — prints a handshake line, then a 16 MiB JSON array `[0,0,…]` on
//!   one stderr line.
//!
//! Plugins served with [`serve`] (everything of a well-behaved plugin, plus the fault):
//!
//! * `serve` — `Double(n)` = 2n, but `Double(-1)` aborts the process mid-call; `Stream` echoes,
//!   and aborts when it receives -1; `Panic` panics in its task (the process lives on);
//! * `tls-unasked` — serves TLS of its own although the host asked for none;
//! * `ignore-shutdown` — after a Shutdown request the process carries on until it is killed;
//! * `long-log-line` — logs one message of [`LONG_LINE`] bytes;
//! * `long-stdout-line` — writes one line of [`LONG_LINE`] bytes to stdout once served;
//! * `flood-stdout` — writes 64 MiB to stdout once served.
//!
//! And a host: `host <mode>` launches this program in `<mode>` with go-plugin's Rust host, prints
//! the plugin's pid and socket address, and hangs (for the host-is-killed case).
//!
//! Environment: `FAULT_PID_DIR` — each process creates an empty file named after its pid there, so
//! that a test knows every process it has to see gone; `FAULT_DONE_FILE` — created once a flood
//! has been written completely.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use go_plugin::broker::GrpcBroker;
use go_plugin::handshake::{HandshakeConfig, HandshakeLine, Network, Protocol};
use go_plugin::host::{ClientSet, Host, HostConfig};
use go_plugin::plugin::{serve, PluginSet, ServeConfig};
use go_plugin::tls::{mtls_server_config, parse_pem_certificates, Identity};
use go_plugin_schemas::grpctest::test_client::TestClient;
use go_plugin_schemas::grpctest::test_server::{Test, TestServer};
use go_plugin_schemas::grpctest::*;
use tokio_stream::StreamExt;
use tonic::{Request, Response, Status, Streaming};

/// Length of the long log and stdout lines (10 MiB).
const LONG_LINE: usize = 10 << 20;

/// Bytes of a stdout flood.
const FLOOD: usize = 64 << 20;

/// The long line's text: letters in a fixed pattern with the offset every 1000 bytes, so that any
/// lost, doubled or reordered piece shows. The tests build the same text.
fn long_line() -> String {
    pattern(LONG_LINE)
}

/// `len` bytes of letters in a fixed pattern with the offset every 1000 bytes, so that any lost,
/// doubled or reordered piece shows.
fn pattern(len: usize) -> String {
    let mut line = String::with_capacity(len + 16);
    while line.len() < len {
        let next = format!("<{}>", line.len());
        line.push_str(&next);
        let letters = (0..(1000 - next.len())).map(|i| char::from(b'a' + (i % 26) as u8));
        line.extend(letters);
    }
    line.truncate(len);
    line
}

struct FaultyTest;

type Outputs =
    std::pin::Pin<Box<dyn tokio_stream::Stream<Item = Result<TestResponse, Status>> + Send>>;

#[tonic::async_trait]
impl Test for FaultyTest {
    async fn double(
        &self,
        request: Request<TestRequest>,
    ) -> Result<Response<TestResponse>, Status> {
        let input = request.into_inner().input;
        if input == -1 {
            // A crash in the middle of a call: no reply, no cleanup.
            std::process::abort();
        }
        Ok(Response::new(TestResponse { output: input * 2 }))
    }

    type StreamStream = Outputs;

    async fn stream(
        &self,
        request: Request<Streaming<TestRequest>>,
    ) -> Result<Response<Outputs>, Status> {
        let outputs = request.into_inner().map(|r| {
            let input = r?.input;
            if input == -1 {
                std::process::abort();
            }
            Ok(TestResponse { output: input })
        });
        Ok(Response::new(Box::pin(outputs)))
    }

    async fn print_kv(
        &self,
        _: Request<PrintKvRequest>,
    ) -> Result<Response<PrintKvResponse>, Status> {
        Err(Status::unimplemented("not a fault"))
    }

    async fn bidirectional(
        &self,
        _: Request<BidirectionalRequest>,
    ) -> Result<Response<BidirectionalResponse>, Status> {
        Err(Status::unimplemented("not a fault"))
    }

    async fn print_stdio(&self, _: Request<PrintStdioRequest>) -> Result<Response<()>, Status> {
        Err(Status::unimplemented("not a fault"))
    }

    async fn panic(&self, _: Request<PanicRequest>) -> Result<Response<()>, Status> {
        panic!("fault_plugin: asked to panic");
    }
}

fn main() -> Result<(), go_plugin::Error> {
    if let Some(dir) = std::env::var_os("FAULT_PID_DIR") {
        let _ = std::fs::File::create(PathBuf::from(dir).join(std::process::id().to_string()));
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().map(String::as_str).unwrap_or("serve");
    // Modes before any runtime: they must not start threads a test would have to wait for.
    match mode {
        "exit-early" => {
            eprintln!("fault_plugin: giving up before the handshake");
            std::process::exit(3);
        }
        "garbage" => {
            println!("this is not a handshake line");
            hang();
        }
        "half-line" => {
            print!("1|1|unix|/tmp/plu");
            let _ = std::io::stdout().flush();
            hang();
        }
        "no-listener" => {
            let path = std::env::temp_dir().join("nobody-listens-here");
            println!("1|1|unix|{}|grpc|", path.display());
            hang();
        }
        "endless-line" => {
            let chunk = vec![b'x'; 64 << 10];
            while std::io::stdout().write_all(&chunk).is_ok() {}
            hang();
        }
        "json-bomb-stderr-line" => {
            let path = std::env::temp_dir().join("nobody-listens-here");
            println!("1|1|unix|{}|grpc|", path.display());
            let mut line = String::with_capacity(16 << 20);
            line.push('[');
            while line.len() < (16 << 20) - 2 {
                line.push_str("0,");
            }
            line.push_str("0]");
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "{line}");
            hang();
        }
        "huge-stderr-line" => {
            let path = std::env::temp_dir().join("nobody-listens-here");
            println!("1|1|unix|{}|grpc|", path.display());
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "{}", pattern(2 * LONG_LINE));
            hang();
        }
        "flood-raw-stdout" => {
            let path = std::env::temp_dir().join("nobody-listens-here");
            println!("1|1|unix|{}|grpc|", path.display());
            flood(&mut std::io::stdout());
            hang();
        }
        _ => {}
    }
    tokio::runtime::Runtime::new()
        .map_err(|e| go_plugin::Error::io("starting the runtime", e))?
        .block_on(async_main(mode, args.get(1).cloned()))
}

async fn async_main(mode: &str, host_of: Option<String>) -> Result<(), go_plugin::Error> {
    go_plugin::log::init().ok();
    match mode {
        "serve" | "long-log-line" | "long-stdout-line" | "flood-stdout" => {
            if mode == "long-log-line" {
                tracing::info!(target: "fault_plugin", "{}", long_line());
            }
            serve(config(mode)).await
        }
        "tls-unasked" => {
            let own = Identity::generate()?;
            let tls = mtls_server_config(&own, vec![own.cert.clone()])?;
            serve(config(mode).tls(tls)).await
        }
        "ignore-shutdown" => {
            serve(config(mode)).await?;
            tracing::warn!(target: "fault_plugin", "asked to shut down; not going anywhere");
            std::future::pending().await
        }
        "wrong-cert" | "plaintext" => raw_tls_fault(mode == "wrong-cert").await,
        "silent-peer" => silent_peer().await,
        "host" => run_host(host_of.as_deref().unwrap_or("serve")).await,
        other => {
            eprintln!("fault_plugin: unknown mode {other:?}");
            std::process::exit(2);
        }
    }
}

/// The served plugin: `grpctest.Test` as plugin `test`, with the stdout faults started once the
/// plugin's stdout is captured (registration runs after the capture, before the handshake).
fn config(mode: &str) -> ServeConfig {
    let mode = mode.to_string();
    let test = move |_: &GrpcBroker, routes: &mut tonic::service::RoutesBuilder| {
        match mode.as_str() {
            "long-stdout-line" => {
                std::thread::spawn(|| {
                    let mut out = std::io::stdout().lock();
                    let _ = writeln!(out, "{}", long_line()).and_then(|_| out.flush());
                });
            }
            "flood-stdout" => {
                std::thread::spawn(|| flood(&mut std::io::stdout().lock()));
            }
            _ => {}
        }
        routes.add_service(TestServer::new(FaultyTest));
        Ok(())
    };
    ServeConfig::new(handshake()).version(1, PluginSet::new().plugin("test", test))
}

fn handshake() -> HandshakeConfig {
    HandshakeConfig::new(1, "TEST_MAGIC_COOKIE", "test")
}

/// Writes [`FLOOD`] bytes, then creates `FAULT_DONE_FILE`.
fn flood(out: &mut impl Write) {
    let chunk = vec![b'f'; 64 << 10];
    for _ in 0..FLOOD / chunk.len() {
        if out.write_all(&chunk).is_err() {
            return;
        }
    }
    let _ = out.flush();
    if let Some(done) = std::env::var_os("FAULT_DONE_FILE") {
        let _ = std::fs::File::create(done);
    }
}

/// AutoMTLS gone wrong: announces certificate A in the handshake, then either presents a
/// different certificate B (`wrong_cert`) or speaks gRPC without TLS at all.
async fn raw_tls_fault(wrong_cert: bool) -> Result<(), go_plugin::Error> {
    let host_certs =
        parse_pem_certificates(&std::env::var("PLUGIN_CLIENT_CERT").unwrap_or_default())?;
    let announced = Identity::generate()?;
    let path = std::env::temp_dir().join(format!("plugin{}", std::process::id()));
    let listener = tokio::net::UnixListener::bind(&path)
        .map_err(|e| go_plugin::Error::io(format!("binding {}", path.display()), e))?;
    let mut line = HandshakeLine::new(1, Network::Unix, path.display().to_string(), Protocol::Grpc);
    line.server_cert = Some(announced.cert.to_vec());
    println!("{line}");
    if wrong_cert {
        let presented = Identity::generate()?;
        let config = std::sync::Arc::new(mtls_server_config(&presented, host_certs)?);
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                continue;
            };
            let acceptor = tokio_rustls::TlsAcceptor::from(config.clone());
            tokio::spawn(async move {
                if let Err(e) = acceptor.accept(socket).await {
                    tracing::info!(target: "fault_plugin", error = %e, "TLS handshake failed, as it should");
                }
            });
        }
    }
    let (_reporter, health) = tonic_health::server::health_reporter();
    tonic::transport::Server::builder()
        .add_service(health)
        .serve_with_incoming(tokio_stream::wrappers::UnixListenerStream::new(listener))
        .await?;
    Ok(())
}

/// Announces a socket, accepts every connection and never says a byte (nor reads one).
async fn silent_peer() -> Result<(), go_plugin::Error> {
    let path = std::env::temp_dir().join(format!("plugin{}", std::process::id()));
    let listener = tokio::net::UnixListener::bind(&path)
        .map_err(|e| go_plugin::Error::io(format!("binding {}", path.display()), e))?;
    println!("1|1|unix|{}|grpc|", path.display());
    let mut held = Vec::new();
    while let Ok((socket, _)) = listener.accept().await {
        held.push(socket);
    }
    Ok(())
}

/// A Rust host running this program in `mode`: prints `<pid> <address>` once the plugin has
/// started (and answered a ping, when it serves), then hangs until it is killed.
async fn run_host(mode: &str) -> Result<(), go_plugin::Error> {
    let mut command = std::process::Command::new(std::env::current_exe().expect("own path"));
    command.arg(mode);
    let host = Host::new(
        HostConfig::new(handshake())
            .plugins(ClientSet::new().plugin("test", |c| TestClient::new(c.channel())))
            .command(command),
    );
    host.start().await?;
    if mode == "serve" {
        host.ping().await?;
    }
    let reattach = host.reattach_config().expect("started");
    println!("{} {}", reattach.pid, reattach.address);
    std::future::pending().await
}

fn hang() -> ! {
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}
