#!/usr/bin/env bash
# The demo: go-plugin's own example KV host (Go) loads the Rust kv_plugin, stores a value and reads
# it back; the plugin's tracing logs show up in the Go host's log.
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
