// Command benchplugin is the Go plugin of `make bench`: go-plugin v1.8.0
// serving bench.Bench (proto/bench/bench.proto, see ../benchsvc) under the
// plugin name "bench", cookie BENCH_PLUGIN=bench, app version 1. Its Rust
// twin is examples/bench_plugin.rs; both do the same work per call.
package main

import (
	"context"
	"errors"
	"time"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"gopluginrs.test/go-testdata/benchsvc"
)

// server is the plugin's bench.Bench.
type server struct {
	benchsvc.Zeros
	broker *plugin.GRPCBroker
}

func (server) Echo(ctx context.Context, in *wrapperspb.BytesValue) (*wrapperspb.BytesValue, error) {
	return benchsvc.Echo(ctx, in)
}

// DialBack dials the host's broker id, makes one Echo over it and returns
// the nanoseconds from the start of the dial to the end of that call.
func (s server) DialBack(ctx context.Context, in *wrapperspb.UInt32Value) (*wrapperspb.UInt64Value, error) {
	start := time.Now()
	conn, err := s.broker.Dial(in.Value)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if err := (benchsvc.Client{Conn: conn}).Echo(ctx, []byte("dial")); err != nil {
		return nil, err
	}
	return &wrapperspb.UInt64Value{Value: uint64(time.Since(start).Nanoseconds())}, nil
}

type benchPlugin struct {
	plugin.NetRPCUnsupportedPlugin
}

func (benchPlugin) GRPCServer(broker *plugin.GRPCBroker, s *grpc.Server) error {
	s.RegisterService(&benchsvc.ServiceDesc, server{broker: broker})
	return nil
}

func (benchPlugin) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (interface{}, error) {
	return nil, errors.New("benchplugin only implements the server side")
}

func main() {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: plugin.HandshakeConfig{
			ProtocolVersion:  1,
			MagicCookieKey:   "BENCH_PLUGIN",
			MagicCookieValue: "bench",
		},
		Plugins:    plugin.PluginSet{"bench": benchPlugin{}},
		GRPCServer: plugin.DefaultGRPCServer,
	})
}
