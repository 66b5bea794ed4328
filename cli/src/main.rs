//! `goplugin`: inspect and call any go-plugin binary — grpcurl for plugins.
//!
//! Built on this crate's host side ([`go_plugin::host::Host`]): the plugin is launched exactly as
//! a go-plugin host launches it (magic cookie, `PLUGIN_PROTOCOL_VERSIONS`, AutoMTLS), its
//! handshake is read and checked, and gRPC reflection tells what it serves.
//!
//! ```text
//! goplugin inspect <BINARY> [--preset NAME | --cookie K=V] [--versions 5,6] [--no-mtls] [-- ARGS]
//! goplugin call <BINARY> <SERVICE/METHOD> [JSON] [options] [-- ARGS]
//! goplugin serve-reattach <BINARY> [options] [-- ARGS]      (then --reattach on inspect/call)
//! goplugin presets
//! ```
//!
//! Exit status: 0 on success, 1 when the plugin, the call or the arguments were wrong, 2 when the
//! command line does not parse (clap).
//! Installed with `cargo install --path cli`.

mod args;
mod call;
mod inspect;
mod launch;
mod presets;
mod reattach;
mod reflect;
mod render;

use std::process::ExitCode;

use clap::Parser;
use go_plugin::handshake::Protocol;

use args::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            render::error(&format!("cannot start the async runtime: {e}"));
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            render::error(&message);
            ExitCode::FAILURE
        }
    }
}

/// This tool's own (and the library's) diagnostics: only with -v. Plugin log lines are printed
/// by the session's log hook, so the library's re-logging of them is switched off here.
fn init_tracing(verbose: u8) {
    if verbose == 0 {
        return;
    }
    let level = if verbose == 1 { "debug" } else { "trace" };
    let filter = format!("go_plugin={level},go_plugin::plugin=off");
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .try_init();
}

/// Runs the command; Ctrl-C ends `inspect` and `call` early (serve-reattach waits for it itself).
/// An interrupted plugin is killed when the runtime drops its process (`kill_on_drop`): go-plugin
/// plugins ignore SIGINT, so they would otherwise outlive us.
async fn run(cli: Cli) -> Result<(), String> {
    if matches!(cli.command, Command::ServeReattach(_)) {
        return dispatch(cli).await;
    }
    tokio::select! {
        result = dispatch(cli) => result,
        _ = tokio::signal::ctrl_c() => Err("interrupted; the plugin is stopped".into()),
    }
}

async fn dispatch(cli: Cli) -> Result<(), String> {
    let log_level = launch::plugin_log_level(cli.verbose, cli.quiet);
    match cli.command {
        Command::Presets => {
            print_presets();
            Ok(())
        }
        Command::Inspect(args) => {
            let session = launch::start(
                &args.launch,
                args.binary.as_deref(),
                &args.args,
                args.reattach.as_deref(),
                log_level,
            )
            .await?;
            let result = inspect::run(&session, args.brief).await;
            session.close().await;
            result
        }
        Command::Call(args) => {
            let target = args.target()?;
            let json = if target.json == "-" {
                std::io::read_to_string(std::io::stdin())
                    .map_err(|e| format!("reading the request from stdin: {e}"))?
            } else {
                target.json.clone()
            };
            // Checked before starting anything, so a typo costs no plugin launch.
            call::split_method(&target.method)?;
            let session = launch::start(
                &args.launch,
                target.binary.as_deref(),
                &args.args,
                args.reattach.as_deref(),
                log_level,
            )
            .await?;
            let result = async {
                if session.host.protocol().await == Some(Protocol::NetRpc) {
                    return Err(format!(
                        "{} speaks net/rpc: goplugin call only calls gRPC methods",
                        session.name()
                    ));
                }
                let channel = session
                    .host
                    .connection()
                    .await
                    .map_err(|e| format!("cannot connect to the plugin: {e}"))?
                    .channel();
                call::run(channel, &target.method, &json, args.compact).await
            }
            .await;
            let result = match result {
                Err(message) if !session.reattached => Err(with_exit(&session, message).await),
                other => other,
            };
            session.close().await;
            result
        }
        Command::ServeReattach(mut args) => {
            if args.launch.mux {
                return Err(
                    "--mux cannot be used with serve-reattach: go-plugin does not reattach to multiplexed plugins"
                        .into(),
                );
            }
            if !args.launch.no_mtls {
                render::note(
                    "AutoMTLS is off: a reattaching host cannot know the plugin's certificate",
                );
                args.launch.no_mtls = true;
            }
            let start = launch::start(
                &args.launch,
                Some(&args.binary),
                &args.args,
                None,
                log_level,
            );
            // Ctrl-C while starting; once running, reattach::run handles it (gracefully).
            let session = tokio::select! {
                session = start => session?,
                _ = tokio::signal::ctrl_c() => return Err("interrupted; the plugin is stopped".into()),
            };
            let result = reattach::run(&session, &args).await;
            session.close().await;
            result
        }
    }
}

/// Adds how the plugin ended when it died during the call (a panic, a crash).
async fn with_exit(session: &launch::Session, message: String) -> String {
    let exited = session.host.exited_token();
    let gone =
        tokio::time::timeout(std::time::Duration::from_millis(500), exited.cancelled()).await;
    match (gone, session.host.exit_status()) {
        (Ok(()), Some(status)) => format!(
            "{message}\n{} exited during the call ({status}){}.",
            session.name(),
            if session.logs_shown {
                "; its last log lines are above"
            } else {
                "; run without -q to see its log"
            }
        ),
        _ => message,
    }
}

fn print_presets() {
    use render::{paint, Style};
    for p in presets::PRESETS {
        let versions = p
            .versions
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(",");
        println!(
            "{}  {}",
            paint(Style::Bold, &format!("{:<10}", p.name)),
            p.what
        );
        println!(
            "            {}",
            paint(
                Style::Dim,
                &format!("{}={}  versions {versions}", p.key, p.value)
            )
        );
    }
}
