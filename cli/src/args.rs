//! The command line: subcommands, options and their help texts (clap), plus the small parsers
//! for `KEY=VALUE` options.
// The doc comments here are clap's `--help` text, written for a terminal: `<name>` is a
// placeholder there, not an HTML tag.
#![allow(rustdoc::invalid_html_tags)]

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

const EXAMPLES: &str = "\
Examples:
  goplugin inspect ./terraform-provider-time --preset terraform
  goplugin call ./terraform-provider-time tfplugin5.Provider/GetSchema '{}' --preset terraform
  goplugin call ./plugin-go-grpc proto.KV/Put '{\"key\":\"a\",\"value\":\"aGk=\"}' --preset examples
  goplugin inspect ./helper --cookie TEST_MAGIC_COOKIE=test -e GO_WANT_HELPER_PROCESS=1 -- -test.run=TestHelperProcess -- test-grpc
  goplugin serve-reattach ./terraform-provider-time --preset terraform
  goplugin inspect --reattach '{\"Protocol\":\"grpc\",\"Pid\":123,\"Addr\":{\"Network\":\"unix\",\"String\":\"/tmp/plugin1\"}}'

Without --cookie or --preset, the preset is guessed from the cookie variable named in the binary.";

/// Inspect and call any HashiCorp go-plugin binary (Go or Rust): grpcurl for plugins.
///
/// goplugin starts the plugin as its host would (magic cookie, protocol versions, AutoMTLS),
/// shows the handshake, asks gRPC reflection what the plugin serves and calls any method with
/// JSON. Plugin logs stream to stderr while it runs.
#[derive(Debug, Parser)]
#[command(name = "goplugin", version, after_help = EXAMPLES)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// More output: plugin logs at debug (-v) or trace (-vv), and this tool's own debug logs.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// No plugin logs (errors are still reported).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a plugin; show its handshake, health and gRPC services with their message shapes.
    Inspect(InspectArgs),
    /// Call one gRPC method of a plugin: JSON request in, JSON response(s) out.
    #[command(
        override_usage = "goplugin call [OPTIONS] <BINARY> <SERVICE/METHOD> [JSON] [-- <ARGS>...]\n       \
                                goplugin call [OPTIONS] --reattach <CONFIG> <SERVICE/METHOD> [JSON]"
    )]
    Call(CallArgs),
    /// Start a plugin and print how to reattach to it (goplugin, Terraform); Ctrl-C stops it.
    ServeReattach(ServeArgs),
    /// List the presets: the magic cookies and protocol versions of well-known go-plugin hosts.
    Presets,
}

/// How to start the plugin (shared by every subcommand that launches one).
#[derive(Debug, Args)]
#[command(next_help_heading = "Starting the plugin")]
pub struct LaunchOpts {
    /// The magic cookie the plugin expects, from its HandshakeConfig.
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub cookie: Option<(String, String)>,
    /// A known host's cookie and versions: terraform, nomad, vault, tflint, velero, examples.
    #[arg(long, value_name = "NAME", value_parser = parse_preset)]
    pub preset: Option<&'static crate::presets::Preset>,
    /// App protocol versions to offer, e.g. 5,6 [default: the preset's, else 1].
    #[arg(long, value_name = "N,N", value_delimiter = ',')]
    pub versions: Vec<u32>,
    /// Do not ask for AutoMTLS (for plugins that cannot do TLS).
    #[arg(long)]
    pub no_mtls: bool,
    /// Ask for go-plugin ≥ 1.6 gRPC broker multiplexing.
    #[arg(long)]
    pub mux: bool,
    /// An environment variable for the plugin (repeatable).
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub env: Vec<(String, String)>,
    /// Seconds the plugin may take to print its handshake.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub timeout: u64,
}

/// `goplugin inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The plugin executable.
    #[arg(value_name = "BINARY", required_unless_present = "reattach")]
    pub binary: Option<PathBuf>,
    /// Arguments for the plugin, after `--`.
    #[arg(last = true, value_name = "ARGS")]
    pub args: Vec<String>,
    /// Attach to a running plugin instead: a ReattachConfig JSON object or a
    /// TF_REATTACH_PROVIDERS value (as printed by `goplugin serve-reattach`).
    #[arg(long, value_name = "CONFIG", conflicts_with = "binary")]
    pub reattach: Option<String>,
    /// List the methods without their message shapes.
    #[arg(long)]
    pub brief: bool,
    #[command(flatten)]
    pub launch: LaunchOpts,
}

/// `goplugin call`.
#[derive(Debug, Args)]
pub struct CallArgs {
    /// BINARY (unless --reattach), SERVICE/METHOD (e.g. proto.KV/Get) and the JSON request
    /// [default: {}; `-` reads stdin]. Client streams take a JSON array of messages.
    #[arg(value_names = ["BINARY", "SERVICE/METHOD", "JSON"], num_args = 1..=3, required = true)]
    pub positional: Vec<String>,
    /// Arguments for the plugin, after `--`.
    #[arg(last = true, value_name = "ARGS")]
    pub args: Vec<String>,
    /// Attach to a running plugin instead: a ReattachConfig JSON object or a
    /// TF_REATTACH_PROVIDERS value (as printed by `goplugin serve-reattach`).
    #[arg(long, value_name = "CONFIG")]
    pub reattach: Option<String>,
    /// Print responses on one line each instead of indented.
    #[arg(long)]
    pub compact: bool,
    #[command(flatten)]
    pub launch: LaunchOpts,
}

/// `goplugin serve-reattach`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The plugin executable.
    #[arg(value_name = "BINARY")]
    pub binary: PathBuf,
    /// Arguments for the plugin, after `--`.
    #[arg(last = true, value_name = "ARGS")]
    pub args: Vec<String>,
    /// The provider address for TF_REATTACH_PROVIDERS
    /// [default: registry.terraform.io/hashicorp/<name> for terraform-provider-<name>].
    #[arg(long, value_name = "ADDRESS")]
    pub provider_address: Option<String>,
    #[command(flatten)]
    pub launch: LaunchOpts,
}

/// What `call` was asked, once its positional arguments are sorted out.
#[derive(Debug)]
pub struct CallTarget {
    /// The executable (absent with `--reattach`).
    pub binary: Option<PathBuf>,
    /// `package.Service/Method`.
    pub method: String,
    /// The JSON request text.
    pub json: String,
}

impl CallArgs {
    /// Sorts the positional arguments: `BINARY METHOD [JSON]`, or `METHOD [JSON]` with
    /// `--reattach`.
    pub fn target(&self) -> Result<CallTarget, String> {
        let p = &self.positional;
        let (binary, rest) = if self.reattach.is_some() {
            if p.len() == 3 {
                return Err(format!(
                    "with --reattach, give only SERVICE/METHOD and JSON (the plugin is already running); \
                     {:?} looks like a binary",
                    p[0]
                ));
            }
            (None, &p[..])
        } else {
            if p.len() < 2 {
                return Err(format!(
                    "missing SERVICE/METHOD: usage is `goplugin call <BINARY> <SERVICE/METHOD> [JSON]`, \
                     e.g. `goplugin call {} proto.KV/Get '{{\"key\":\"a\"}}'` (`goplugin inspect` lists the methods)",
                    p[0]
                ));
            }
            (Some(PathBuf::from(&p[0])), &p[1..])
        };
        let method = rest[0].clone();
        if method.starts_with('{') || method.starts_with('[') {
            return Err(format!(
                "{method:?} is not SERVICE/METHOD: the method comes before the JSON request"
            ));
        }
        let json = rest.get(1).cloned().unwrap_or_else(|| "{}".into());
        Ok(CallTarget {
            binary,
            method,
            json,
        })
    }
}

fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("expected KEY=VALUE, got {s:?}")),
    }
}

fn parse_preset(s: &str) -> Result<&'static crate::presets::Preset, String> {
    crate::presets::by_name(s).ok_or_else(|| {
        format!(
            "unknown preset {s:?}; the presets are {} (`goplugin presets` shows them)",
            crate::presets::names()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("goplugin").chain(args.iter().copied()))
    }

    #[test]
    fn the_cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn plugin_arguments_after_the_double_dash_keep_a_second_double_dash() {
        let cli = parse(&[
            "inspect",
            "./helper",
            "--cookie",
            "K=V",
            "--",
            "-test.run=TestHelperProcess",
            "--",
            "test-grpc",
        ])
        .unwrap();
        let Command::Inspect(args) = cli.command else {
            panic!()
        };
        assert_eq!(args.binary, Some(PathBuf::from("./helper")));
        assert_eq!(
            args.args,
            ["-test.run=TestHelperProcess", "--", "test-grpc"]
        );
        assert_eq!(args.launch.cookie, Some(("K".into(), "V".into())));
    }

    #[test]
    fn call_positionals_with_and_without_reattach() {
        let Command::Call(call) = parse(&["call", "./p", "proto.KV/Get", "{}"])
            .unwrap()
            .command
        else {
            panic!()
        };
        let t = call.target().unwrap();
        assert_eq!(t.binary, Some(PathBuf::from("./p")));
        assert_eq!((t.method.as_str(), t.json.as_str()), ("proto.KV/Get", "{}"));

        let Command::Call(call) = parse(&["call", "--reattach", "{}", "proto.KV/Get"])
            .unwrap()
            .command
        else {
            panic!()
        };
        let t = call.target().unwrap();
        assert_eq!((t.binary, t.json.as_str()), (None, "{}"));

        let Command::Call(call) = parse(&["call", "./p"]).unwrap().command else {
            panic!()
        };
        assert!(call
            .target()
            .unwrap_err()
            .contains("missing SERVICE/METHOD"));
    }

    #[test]
    fn bad_cookie_and_preset_are_explained() {
        let err = parse(&["inspect", "x", "--cookie", "nokey"]).unwrap_err();
        assert!(err.to_string().contains("expected KEY=VALUE"), "{err}");
        let err = parse(&["inspect", "x", "--preset", "consul"]).unwrap_err();
        assert!(err.to_string().contains("terraform|nomad"), "{err}");
    }
}
