// Command oldhost is a go-plugin host built against the OLD
// github.com/hashicorp/go-plugin v1.0.1 (2019). It exists to prove that a
// plugin's handshake line and gRPC server are accepted by hosts of that era:
// v1.0.1 splits the handshake line into at most 6 parts, has no GRPCStdio
// client, and dials with the grpc-go v1.14 defaults. See README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
	grpctest "github.com/hashicorp/go-plugin/test/grpc"
	"google.golang.org/grpc"
)

// testPlugin is the host half of the "test" plugin: it only builds a
// grpctest.TestClient on the connection go-plugin hands it.
type testPlugin struct {
	plugin.NetRPCUnsupportedPlugin
}

func (testPlugin) GRPCServer(*plugin.GRPCBroker, *grpc.Server) error {
	return errors.New("oldhost only implements the client side")
}

func (testPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, conn *grpc.ClientConn) (interface{}, error) {
	return grpctest.NewTestClient(conn), nil
}

func usage() {
	fmt.Fprintf(os.Stderr, "usage: oldhost -plugin PATH [-automtls] ACTION [ARGS]\n"+
		"actions: double N | ping\nflags:\n")
	flag.PrintDefaults()
}

func main() {
	os.Exit(run())
}

func run() int {
	pluginPath := flag.String("plugin", "", "plugin executable (required)")
	autoMTLS := flag.Bool("automtls", false, "enable go-plugin AutoMTLS")
	flag.Usage = usage
	flag.Parse()
	args := flag.Args()

	fail := func(err error) int {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		return 1
	}
	if *pluginPath == "" {
		usage()
		return fail(errors.New("missing -plugin"))
	}
	if len(args) == 0 {
		usage()
		return fail(errors.New("missing ACTION"))
	}
	var n int64
	switch {
	case args[0] == "double" && len(args) == 2:
		var err error
		if n, err = strconv.ParseInt(args[1], 10, 32); err != nil {
			return fail(fmt.Errorf("double: %v", err))
		}
	case args[0] == "ping" && len(args) == 1:
	default:
		usage()
		return fail(fmt.Errorf("bad action %q", args))
	}

	logger := hclog.New(&hclog.LoggerOptions{
		Name:       "plugin",
		Level:      hclog.Trace,
		JSONFormat: true,
		Output:     os.Stderr,
	})

	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig: plugin.HandshakeConfig{
			ProtocolVersion:  1,
			MagicCookieKey:   "TEST_MAGIC_COOKIE",
			MagicCookieValue: "test",
		},
		Plugins:          map[string]plugin.Plugin{"test": testPlugin{}},
		Cmd:              exec.Command(*pluginPath),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         *autoMTLS,
		Logger:           logger,
	})
	failKill := func(err error) int {
		client.Kill()
		return fail(err)
	}

	rpc, err := client.Client()
	if err != nil {
		return failKill(err)
	}

	switch args[0] {
	case "double":
		raw, err := rpc.Dispense("test")
		if err != nil {
			return failKill(err)
		}
		tc, ok := raw.(grpctest.TestClient)
		if !ok {
			return failKill(fmt.Errorf("dispensed %T, want grpctest.TestClient", raw))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		resp, err := tc.Double(ctx, &grpctest.TestRequest{Input: int32(n)})
		cancel()
		if err != nil {
			return failKill(err)
		}
		fmt.Printf("double=%d\n", resp.Output)
	case "ping":
		if err := rpc.Ping(); err != nil {
			return failKill(err)
		}
		fmt.Println("ping=ok")
	}

	fmt.Printf("negotiated=%d\n", client.NegotiatedVersion())
	start := time.Now()
	client.Kill()
	fmt.Printf("kill_ms=%d\n", time.Since(start).Milliseconds())
	return 0
}
