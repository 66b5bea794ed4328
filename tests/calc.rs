//! Cross-tests of the calc example (`examples/calc`, a crate of its own with its own `.proto`,
//! compiled by go-plugin-build): its Rust plugin under the Go calc host, its Rust host over the Go
//! calc plugin (both in go-testdata/calc, on go-plugin v1.8.0), with AutoMTLS, a unary call, a
//! server stream and a broker callback; and what a host's log shows of a plugin.

#[path = "support/features.rs"]
mod features;
mod support;

use std::process::Command;
use std::time::Duration;

use support::*;

const LIMIT: Duration = Duration::from_secs(60);

/// The calc commands both hosts run, with what they print.
const CASES: &[(&[&str], &str)] = &[
    (&["add", "2", "3"], "5\n"),
    (&["count", "7", "10"], "7\n8\n9\n10\n"),
    (&["fold", "sum", "1", "2", "3", "4"], "10\n"),
    (&["fold", "product", "2", "3", "4"], "24\n"),
    (&["fold", "max", "3", "9", "2"], "9\n"),
];

fn go_host(args: &[&str]) -> Finished {
    let mut cmd = Command::new(go_subject("bin/calc-host"));
    cmd.arg("-plugin").arg(rust_bin("calc_plugin")).args(args);
    run(cmd, LIMIT)
}

fn rust_host(plugin: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Finished {
    let mut cmd = Command::new(rust_bin("calc_host"));
    cmd.args(args)
        .env("CALC_PLUGIN", plugin)
        .env_remove("RUST_LOG")
        .env_remove("GO_PLUGIN_LOG")
        .envs(env.iter().copied());
    run(cmd, LIMIT)
}

#[test]
fn the_go_host_drives_the_rust_calc_plugin_over_automtls() {
    for (args, expected) in CASES {
        let out = go_host(args);
        out.assert_success();
        assert_eq!(
            out.stdout, *expected,
            "calc-host {args:?}; stderr:\n{}",
            out.stderr
        );
    }
    // AutoMTLS: the Go host turns it on, and the Rust plugin says (through the host's log) that it
    // serves with the host's certificate.
    let out = go_host(&["-v", "add", "1", "1"]);
    out.assert_success();
    assert!(
        out.stderr.contains("configuring client automatic mTLS"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("configuring server automatic mTLS"),
        "{}",
        out.stderr
    );
    // A plugin's error reaches the Go host as its gRPC status.
    let out = go_host(&["count", "5", "1"]);
    assert!(!out.status.success());
    assert!(
        out.stdout
            .contains("code = InvalidArgument desc = count from 5 to 1"),
        "{}",
        out.stdout
    );
}

#[test]
fn the_rust_host_drives_the_go_calc_plugin_over_automtls() {
    let plugin = go_subject("bin/calc-plugin");
    for (args, expected) in CASES {
        let out = rust_host(&plugin, args, &[]);
        out.assert_success();
        assert_eq!(
            out.stdout, *expected,
            "calc_host {args:?}; stderr:\n{}",
            out.stderr
        );
    }
    let out = rust_host(&plugin, &["add", "1", "1"], &[("RUST_LOG", "debug")]);
    out.assert_success();
    // The Go plugin's own line: it served with AutoMTLS.
    assert!(
        out.stderr.contains("configuring server automatic mTLS"),
        "{}",
        out.stderr
    );
    // A normal kill (the Go plugin exits inside the Shutdown call) logs no transport errors.
    let transport_noise: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains(" go_plugin:") && (l.contains("error") || l.contains("broken pipe")))
        .collect();
    assert!(transport_noise.is_empty(), "{transport_noise:#?}");
    let out = rust_host(&plugin, &["fold", "bogus", "1"], &[]);
    assert!(!out.status.success());
    assert!(
        out.stdout.contains("unknown operator \"bogus\""),
        "{}",
        out.stdout
    );
}

/// `calc_host add 2 3` over `plugin` logs, at the default filter, the plugin's info line under
/// target `module` with `a` and `b` as fields of their own.
fn assert_adding_line(plugin: &std::path::Path, module: &str) {
    let out = rust_host(plugin, &["add", "2", "3"], &[]);
    out.assert_success();
    let line = out
        .stderr
        .lines()
        .find(|l| l.contains("adding"))
        .unwrap_or_else(|| panic!("no plugin info line at the default filter:\n{}", out.stderr));
    assert!(line.contains(&format!(" INFO {module}: adding")), "{line}");
    assert!(line.contains(" a=2 b=3"), "{line}");
    assert!(!line.contains("fields="), "{line}");
}

#[test]
fn a_host_shows_a_plugins_info_lines_under_its_module_with_separate_fields() {
    // Go plugin: hclog logger "calc-plugin", `log.Info("adding", "a", 2, "b", 3)`.
    assert_adding_line(&go_subject("bin/calc-plugin"), "calc-plugin");

    // Rust plugin: `tracing::info!(a, b, "adding")` in module calc_plugin.
    let plugin = rust_bin("calc_plugin");
    assert_adding_line(&plugin, "calc_plugin");

    // RUST_LOG filters by the plugin's module.
    let out = rust_host(&plugin, &["add", "2", "3"], &[("RUST_LOG", "warn")]);
    assert!(!out.stderr.contains("adding"), "{}", out.stderr);
    let out = rust_host(
        &plugin,
        &["add", "2", "3"],
        &[("RUST_LOG", "warn,calc_plugin=info")],
    );
    assert!(out.stderr.contains("calc_plugin: adding"), "{}", out.stderr);

    // The plugin's own filter is GO_PLUGIN_LOG: it does not take the host's RUST_LOG, so a debug
    // host does not get the plugin's transport libraries' debug lines.
    let out = rust_host(&plugin, &["add", "2", "3"], &[("RUST_LOG", "debug")]);
    out.assert_success();
    let relayed_transport: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| {
            l.contains("plugin=")
                && [" h2", " rustls", " log:", " hyper"]
                    .iter()
                    .any(|t| l.contains(t))
        })
        .collect();
    assert!(relayed_transport.is_empty(), "{relayed_transport:#?}");
    let out = rust_host(&plugin, &["add", "2", "3"], &[("GO_PLUGIN_LOG", "warn")]);
    out.assert_success();
    assert!(!out.stderr.contains("adding"), "{}", out.stderr);
}

/// `BrokeredServer::stop` ends one callback server: the plugin can no longer reach it, while a
/// second one on the same broker keeps serving.
#[tokio::test]
async fn stopping_one_brokered_server_leaves_the_others_serving() {
    use go_plugin::host::{ClientSet, Host, HostConfig};
    use go_plugin::tonic::service::Routes;
    use go_plugin::tonic::{async_trait, Request, Response, Status};
    use go_plugin_example_calc::calc::calculator_client::CalculatorClient;
    use go_plugin_example_calc::calc::operator_server::{Operator, OperatorServer};
    use go_plugin_example_calc::calc::{FoldRequest, Number, Operands};

    struct Sum;
    #[async_trait]
    impl Operator for Sum {
        async fn apply(&self, r: Request<Operands>) -> Result<Response<Number>, Status> {
            let Operands { a, b } = r.into_inner();
            Ok(Response::new(Number { value: a + b }))
        }
    }
    let serve = |broker: &go_plugin::broker::GrpcBroker| {
        let broker = broker.clone();
        async move {
            let id = broker.next_id();
            let server = broker
                .accept_and_serve(id, Routes::new(OperatorServer::new(Sum)))
                .await
                .expect("serving the operator");
            (id, server)
        }
    };

    let host = Host::new(
        HostConfig::new(go_plugin_example_calc::handshake())
            .plugins(ClientSet::new().grpc("calc"))
            .command(Command::new(go_subject("bin/calc-plugin")))
            .auto_mtls(true),
    );
    let mut calc: CalculatorClient<_> = host.client("calc").await.expect("calc client");
    let broker = host.broker().await.expect("the host's broker");
    let (kept, _kept_server) = serve(&broker).await;
    let (stopped, stopped_server) = serve(&broker).await;
    assert_eq!(stopped_server.id(), stopped);
    stopped_server.stop().await;

    let fold = |operator_id| FoldRequest {
        operator_id,
        values: vec![1, 2, 3],
    };
    let refused = calc
        .fold(fold(stopped))
        .await
        .expect_err("a stopped server answered");
    assert!(
        refused.message().contains("the host's operator") || refused.message().contains("dial"),
        "{refused:?}"
    );
    let folded = calc.fold(fold(kept)).await.expect("the other server");
    assert_eq!(folded.into_inner().value, 6);
    host.kill().await;
}
