//! The Rust host (`examples/tflint_host.rs`) launches a real Go ruleset, tflint-ruleset-terraform
//! v0.15.0 built from the Go module proxy, as TFLint does, and reads who it is.

use std::process::Command;
use std::time::Duration;

use super::support::{go_subject, run, rust_example};

#[test]
fn the_rust_host_reads_the_go_terraform_rulesets_name_version_and_rules() {
    let mut cmd = Command::new(rust_example("tflint_host"));
    cmd.arg(go_subject("tflint-rulesets/tflint-ruleset-terraform"));
    let out = run(cmd, Duration::from_secs(60));
    out.assert_success();
    let values = out.values();
    assert_eq!(values["name"], "terraform", "{}", out.stdout);
    assert_eq!(values["version"], "0.15.0", "{}", out.stdout);
    assert_eq!(values["sdk_version"], "0.25.0", "{}", out.stdout);
    let rules: Vec<&str> = values["rules"].split(',').collect();
    for rule in [
        "terraform_required_version",
        "terraform_naming_convention",
        "terraform_unused_declarations",
    ] {
        assert!(rules.contains(&rule), "{rule} missing from {rules:?}");
    }
    assert!(rules.len() > 15, "{rules:?}");
}
