// Package calc is the Go half of the calc example (examples/calc): the
// handshake and the go-plugin plugin type of calc.Calculator, shared by the Go
// host (./host) and the Go plugin (./plugin).
package calc

import (
	"context"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"gopluginrs.test/go-testdata/calc/calcpb"
)

// Handshake is the calc example's, on both sides and in both languages.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "CALC_PLUGIN",
	MagicCookieValue: "calculate",
}

// Plugin is the "calc" plugin: Impl serves it in a plugin; a host dispenses a
// *Client.
type Plugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl func(*plugin.GRPCBroker) calcpb.CalculatorServer
}

// Client is what a host dispenses: the Calculator client and the host's broker
// (Fold's operator is served through it).
type Client struct {
	calcpb.CalculatorClient
	Broker *plugin.GRPCBroker
}

func (p *Plugin) GRPCServer(broker *plugin.GRPCBroker, s *grpc.Server) error {
	calcpb.RegisterCalculatorServer(s, p.Impl(broker))
	return nil
}

func (p *Plugin) GRPCClient(_ context.Context, broker *plugin.GRPCBroker, conn *grpc.ClientConn) (interface{}, error) {
	return &Client{CalculatorClient: calcpb.NewCalculatorClient(conn), Broker: broker}, nil
}
