//! Real TFLint (v0.64.0) runs the Rust ruleset `rust` (`examples/tflint_ruleset.rs`), installed
//! as `tflint-ruleset-rust` in `TFLINT_PLUGIN_DIR`.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use super::support::{go_subject, run, rust_example, short_tempdir, Finished};

/// The configuration the rules look at: a resource named in CamelCase whose tags miss `Owner`, one
/// without tags, one that is clean, and one of another type.
const MAIN_TF: &str = r#"resource "aws_instance" "WebServer" {
  ami  = "ami-1"
  tags = { Name = "web" }
}

resource "aws_instance" "db" {
  ami = "ami-2"
}

resource "aws_instance" "ok" {
  tags = { Name = "x", Owner = "me" }
}

resource "aws_s3_bucket" "logs" {}
"#;

const CLEAN_TF: &str = r#"resource "aws_instance" "web" {
  tags = { Name = "web", Owner = "ops" }
}
"#;

fn tflint_hcl(tags: &str) -> String {
    format!(
        r#"plugin "terraform" {{
  enabled = false
}}
plugin "rust" {{
  enabled = true
}}
rule "rust_required_tags" {{
  enabled = true
  types   = ["aws_instance"]
  tags    = {tags}
}}
"#
    )
}

/// A folder with the ruleset installed and a configuration.
struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    fn new(main_tf: &str, tflint_hcl: &str) -> Workspace {
        let dir = short_tempdir();
        std::fs::create_dir(dir.path().join("plugins")).unwrap();
        std::fs::create_dir(dir.path().join("config")).unwrap();
        std::os::unix::fs::symlink(
            rust_example("tflint_ruleset"),
            dir.path().join("plugins/tflint-ruleset-rust"),
        )
        .unwrap();
        std::fs::write(dir.path().join("config/main.tf"), main_tf).unwrap();
        std::fs::write(dir.path().join("config/.tflint.hcl"), tflint_hcl).unwrap();
        Workspace { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn tflint(&self, args: &[&str]) -> Finished {
        let mut cmd = Command::new(go_subject("bin/tflint"));
        cmd.args(args)
            .current_dir(self.path("config"))
            .env("TFLINT_PLUGIN_DIR", self.path("plugins"))
            .env("TFLINT_DISABLE_VERSION_CHECK", "1")
            .env_remove("TFLINT_LOG");
        run(cmd, Duration::from_secs(60))
    }
}

fn issue(rule: &str, severity: &str, message: &str, start: (u32, u32), end: (u32, u32)) -> Value {
    json!({
        "rule": { "name": rule, "severity": severity, "link": "" },
        "message": message,
        "range": {
            "filename": "main.tf",
            "start": { "line": start.0, "column": start.1 },
            "end": { "line": end.0, "column": end.1 }
        },
        "callers": [],
        "fixable": false,
        "fixed": false
    })
}

fn report(out: &Finished) -> Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "tflint --format json printed no JSON ({e}):\n{}\n{}",
            out.stdout, out.stderr
        )
    })
}

#[test]
fn tflint_reports_exactly_the_rust_rulesets_issues() {
    let ws = Workspace::new(MAIN_TF, &tflint_hcl(r#"["Name", "Owner"]"#));
    let out = ws.tflint(&["--format", "json"]);
    // Issues found: TFLint exits 2.
    assert_eq!(out.status.code(), Some(2), "{}\n{}", out.stdout, out.stderr);
    assert_eq!(
        report(&out),
        json!({
            "issues": [
                issue("rust_resource_name_snake_case", "warning",
                    "resource name \"WebServer\" must be snake_case", (1, 25), (1, 36)),
                issue("rust_required_tags", "info",
                    "tags of aws_instance.WebServer miss: Owner", (3, 10), (3, 26)),
                issue("rust_required_tags", "info",
                    "aws_instance.db has no tags; required: Name, Owner", (6, 1), (6, 29)),
            ],
            "errors": []
        })
    );
}

#[test]
fn tflint_reports_nothing_for_a_clean_configuration() {
    let ws = Workspace::new(CLEAN_TF, &tflint_hcl(r#"["Name", "Owner"]"#));
    let out = ws.tflint(&["--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}\n{}", out.stdout, out.stderr);
    assert_eq!(report(&out), json!({ "issues": [], "errors": [] }));
}

#[test]
fn tflint_version_lists_the_rust_ruleset() {
    let ws = Workspace::new(CLEAN_TF, &tflint_hcl(r#"["Name"]"#));
    let out = ws.tflint(&["--version"]);
    assert_eq!(out.status.code(), Some(0), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("TFLint version 0.64.0"),
        "{}",
        out.stdout
    );
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        out.stdout.contains(&format!("+ ruleset.rust ({version})")),
        "{}",
        out.stdout
    );
}

#[test]
fn a_broken_rule_configuration_gets_tflints_error_with_the_plugins_message() {
    let ws = Workspace::new(MAIN_TF, &tflint_hcl(r#""Name""#));
    let out = ws.tflint(&["--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}\n{}", out.stdout, out.stderr);
    let message = "Failed to check ruleset; failed to check \"rust_required_tags\" rule: \"tags\" must be a list of strings, like [\"Name\"]";
    assert_eq!(
        report(&out),
        json!({ "issues": [], "errors": [{ "message": message, "severity": "error" }] })
    );
}
