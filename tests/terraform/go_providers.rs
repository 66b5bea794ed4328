//! Rust host → real Go providers, through the `tf_host` example.

use base64::Engine;

use super::support::{assert_process_gone, go_subject};
use super::{tf_host, tf_host_json, DebugProvider};

fn provider(name: &str) -> String {
    go_subject(&format!("providers/terraform-provider-{name}"))
        .display()
        .to_string()
}

/// The `--no-mtls` flag when AutoMTLS is off, and what `tf_host` reports either way.
fn mtls_mode(on: bool) -> (Vec<&'static str>, &'static str) {
    if on {
        (vec![], "AutoMTLS on")
    } else {
        (vec!["--no-mtls"], "no TLS")
    }
}

#[test]
fn sdkv2_provider_schema_is_read_over_tfplugin5() {
    let finished = tf_host(&["schema", &provider("sdkv2test")]);
    finished.assert_success();
    for line in [
        "protocol 5",
        "resource sdkv2test_id (schema version 0):",
        "  byte_length number (required)",
        "  hex string (computed)",
        "resource sdkv2test_null (schema version 0):",
        "  triggers map(string) (optional)",
        "data source sdkv2test_echo:",
    ] {
        assert!(
            finished.stdout.lines().any(|l| l == line),
            "no {line:?} in:\n{}",
            finished.stdout
        );
    }
}

#[test]
fn random_id_style_resource_plans_applies_reads_and_destroys_with_and_without_mtls() {
    let binary = provider("sdkv2test");
    for mtls in [true, false] {
        let (flags, reported) = mtls_mode(mtls);
        let mut args = flags.clone();
        args.extend(["apply", &binary, "sdkv2test_id", r#"{"byte_length": 8}"#]);
        let finished = tf_host(&args);
        finished.assert_success();
        assert!(finished.stderr.contains(reported), "{}", finished.stderr);
        // Unknown during plan, known after apply.
        assert!(
            finished.stderr.contains(r#""hex":"(known after apply)""#),
            "{}",
            finished.stderr
        );
        let state: serde_json::Value = serde_json::from_str(&finished.stdout).unwrap();
        let hex = state["hex"].as_str().unwrap();
        assert_eq!(hex.len(), 16, "{state}");
        assert!(hex.chars().all(|c| c.is_ascii_hexdigit()));
        let b64 = state["b64_std"].as_str().unwrap();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        assert_eq!(bytes.len(), 8);
        assert_eq!(state["byte_length"], 8);

        // Import by id gives the same resource back.
        let mut import = flags.clone();
        let id = state["id"].as_str().unwrap();
        import.extend(["import", &binary, "sdkv2test_id", id]);
        let imported = tf_host_json(&import);
        assert_eq!(imported[0]["hex"], state["hex"], "{imported}");

        let mut destroy = flags.clone();
        let state_text = state.to_string();
        destroy.extend(["destroy", &binary, "sdkv2test_id", &state_text]);
        assert_eq!(tf_host_json(&destroy), serde_json::Value::Null);
    }
}

#[test]
fn null_resource_style_resource_round_trips_with_and_without_mtls() {
    let binary = provider("sdkv2test");
    for mtls in [true, false] {
        let (mut args, reported) = mtls_mode(mtls);
        args.extend([
            "apply",
            &binary,
            "sdkv2test_null",
            r#"{"triggers": {"a": "1"}}"#,
        ]);
        let finished = tf_host(&args);
        finished.assert_success();
        assert!(finished.stderr.contains(reported), "{}", finished.stderr);
        let state: serde_json::Value = serde_json::from_str(&finished.stdout).unwrap();
        assert_eq!(state["triggers"]["a"], "1");
        assert!(
            state["id"].as_str().unwrap().parse::<u64>().is_ok(),
            "{state}"
        );
        let (mut destroy, _) = mtls_mode(mtls);
        let state_text = state.to_string();
        destroy.extend(["destroy", &binary, "sdkv2test_null", &state_text]);
        assert_eq!(tf_host_json(&destroy), serde_json::Value::Null);
    }
}

#[test]
fn data_source_of_a_tfplugin5_provider() {
    let state = tf_host_json(&[
        "data",
        &provider("sdkv2test"),
        "sdkv2test_echo",
        r#"{"input": "hi"}"#,
    ]);
    assert_eq!(state["output"], "hi", "{state}");
}

#[test]
fn time_provider_function_rfc3339_parse() {
    let result = tf_host_json(&[
        "call",
        &provider("time"),
        "rfc3339_parse",
        r#"["2023-07-25T23:43:16Z"]"#,
    ]);
    assert_eq!(result["year"], 2023, "{result}");
    assert_eq!(result["month_name"], "July");
    assert_eq!(result["unix"], 1690328596);
}

#[test]
fn time_provider_static_resource_round_trips() {
    let binary = provider("time");
    let state = tf_host_json(&[
        "apply",
        &binary,
        "time_static",
        r#"{"rfc3339": "2024-02-29T12:00:00Z"}"#,
    ]);
    assert_eq!(state["year"], 2024, "{state}");
    assert_eq!(state["day"], 29);
    let state_text = state.to_string();
    assert_eq!(
        tf_host_json(&["destroy", &binary, "time_static", &state_text]),
        serde_json::Value::Null
    );
}

#[test]
fn framework_provider_over_tfplugin6_schema_function_and_data_source() {
    let binary = provider("frameworktest");
    let schema = tf_host(&["schema", &binary]);
    schema.assert_success();
    assert!(
        schema.stdout.starts_with("protocol 6\n"),
        "{}",
        schema.stdout
    );
    assert!(schema.stdout.contains("function echo(input string) string"));
    assert!(schema.stdout.contains("data source frameworktest_example:"));

    let echoed = tf_host_json(&["call", &binary, "echo", r#"["héllo"]"#]);
    assert_eq!(echoed, "héllo");

    let data = tf_host_json(&[
        "--provider-config",
        r#"{"endpoint": "https://example.test"}"#,
        "data",
        &binary,
        "frameworktest_example",
        r#"{"configurable_attribute": "v"}"#,
    ]);
    assert_eq!(data["id"], "example-id", "{data}");
    assert_eq!(data["configurable_attribute"], "v");
    // The provider configuration reached the provider.
    assert_eq!(data["endpoint"], "https://example.test");
}

#[test]
fn function_errors_come_back_as_errors() {
    let finished = tf_host(&[
        "call",
        &provider("time"),
        "rfc3339_parse",
        r#"["yesterday"]"#,
    ]);
    assert!(!finished.status.success());
    assert!(
        finished.stderr.contains("function rfc3339_parse failed"),
        "{}",
        finished.stderr
    );
}

#[test]
fn item56_reattach_to_a_provider_started_with_debug() {
    let debug = DebugProvider::start(std::path::Path::new(&provider("time")));
    let result = tf_host_json(&[
        "call",
        "--reattach",
        &debug.reattach,
        "rfc3339_parse",
        r#"["2024-01-01T00:00:00Z"]"#,
    ]);
    assert_eq!(result["year"], 2024, "{result}");
    // A provider in test mode belongs to whoever started it: the host left it running.
    assert!(super::support::process_alive(debug.pid()));
    let pid = debug.pid();
    debug.stop();
    assert_process_gone(pid, std::time::Duration::from_secs(5));
}

#[test]
fn a_binary_that_is_not_a_plugin_gets_a_clear_error() {
    let finished = tf_host(&["schema", "/bin/ls"]);
    assert!(!finished.status.success());
    assert!(
        finished.stderr.contains("is not a Terraform provider")
            && finished
                .stderr
                .contains("Unrecognized remote plugin message"),
        "{}",
        finished.stderr
    );
    // A go-plugin plugin of another application: the cookie is wrong, it exits at once.
    let other = go_subject("examples/grpc_plugin-go-grpc/plugin-go-grpc");
    let finished = tf_host(&["schema", &other.display().to_string()]);
    assert!(!finished.status.success());
    assert!(
        finished.stderr.contains("is not a Terraform provider"),
        "{}",
        finished.stderr
    );
}

/// A provider answering with a version the host did not offer is refused and killed; the socket
/// it had announced is removed too (a killed Go plugin cannot remove it).
#[tokio::test]
async fn a_rejected_handshake_leaves_no_socket() {
    use go_plugin::host::{ClientSet, Host, HostConfig};
    use std::sync::{Arc, Mutex};
    let announced = Arc::new(Mutex::new(None::<String>));
    let seen = announced.clone();
    let config = HostConfig::new(go_plugin_terraform::handshake())
        .version(7, ClientSet::new())
        .command(std::process::Command::new(provider("time")))
        .on_log(move |_, entry| {
            if entry.message == "plugin address" {
                let address = entry.fields.iter().find(|(k, _)| k == "address");
                if let Some((_, value)) = address {
                    *seen.lock().unwrap() = value.as_str().map(str::to_string);
                }
            }
        });
    let host = Host::new(config);
    let error = host.start().await.expect_err("version 5 was not offered");
    assert!(
        error.to_string().contains("incompatible API version"),
        "{error}"
    );
    let socket = announced
        .lock()
        .unwrap()
        .clone()
        .expect("the provider logged its address");
    assert!(
        !std::path::Path::new(&socket).exists(),
        "{socket} was left behind"
    );
}
