# go-plugin for Rust — build, test and demo entry points.
#
#   make test          every test: unit tests, Rust↔Rust tests and the cross-tests against real Go
#   make interop-test  only the cross-tests (builds the Go subjects first)
#   make demo          a Go host driving the Rust KV plugin, and back
#   make lint          rustfmt + clippy, warnings are errors
#
# Go subjects are built from the Go module proxy into target/go (never committed).

GO_PLUGIN_VERSION := v1.8.0
GO_ENV := GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=
GO_DIR := $(CURDIR)/target/go
GO_EXAMPLES := basic basic/plugin grpc grpc/plugin-go-grpc grpc/plugin-go-netrpc bidirectional bidirectional/plugin-go-grpc negotiated negotiated/plugin-go streaming streaming/plugin
CARGO_TEST := cargo test --locked

.PHONY: test unit-test interop-test go-subjects rust-examples demo lint check-go

test: go-subjects rust-examples
	$(CARGO_TEST) --all-targets
	$(CARGO_TEST) --doc

# The cross-tests run the example binaries (plugins and hosts) as separate processes.
rust-examples:
	cargo build --locked --examples

unit-test:
	$(CARGO_TEST) --lib --doc

interop-test: go-subjects rust-examples
	$(CARGO_TEST) --test go_host --test rust_host --test gob

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
	cd go-testdata/oldhost && $(GO_ENV) go build -o $(GO_DIR)/bin/oldhost-v1.0.1 .
	GOBIN=$(GO_DIR)/examples/v1.7.0 $(GO_ENV) go install github.com/hashicorp/go-plugin/examples/grpc/plugin-go-grpc@v1.7.0
	@for e in $(GO_EXAMPLES); do \
		dir=$(GO_DIR)/examples/$$(echo $$e | tr / _); mkdir -p $$dir; \
		echo "go install github.com/hashicorp/go-plugin/examples/$$e@$(GO_PLUGIN_VERSION)"; \
		GOBIN=$$dir $(GO_ENV) go install github.com/hashicorp/go-plugin/examples/$$e@$(GO_PLUGIN_VERSION) || exit 1; \
	done

demo: go-subjects rust-examples
	./scripts/demo.sh

lint:
	cargo fmt --check
	cargo clippy --locked --all-targets -- -D warnings
