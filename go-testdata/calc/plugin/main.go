// Command calc-plugin is the Go plugin of the calc example: it serves
// calc.Calculator as the Rust calc_plugin does, for the Rust calc_host.
package main

import (
	"context"
	"fmt"
	"math"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"gopluginrs.test/go-testdata/calc"
	"gopluginrs.test/go-testdata/calc/calcpb"
)

const maxCount = 10000

type calculator struct {
	calcpb.UnimplementedCalculatorServer
	broker *plugin.GRPCBroker
	log    hclog.Logger
}

func (c *calculator) Add(_ context.Context, in *calcpb.Operands) (*calcpb.Number, error) {
	if (in.B > 0 && in.A > math.MaxInt64-in.B) || (in.B < 0 && in.A < math.MinInt64-in.B) {
		return nil, status.Errorf(codes.OutOfRange, "%d + %d overflows int64", in.A, in.B)
	}
	c.log.Info("adding", "a", in.A, "b", in.B)
	return &calcpb.Number{Value: in.A + in.B}, nil
}

func (c *calculator) Count(in *calcpb.Range, stream grpc.ServerStreamingServer[calcpb.Number]) error {
	if in.End < in.Start || in.End-in.Start >= maxCount {
		return status.Errorf(codes.InvalidArgument, "count from %d to %d: the end must be at least the start, and at most %d numbers", in.Start, in.End, maxCount)
	}
	for v := in.Start; v <= in.End; v++ {
		if err := stream.Send(&calcpb.Number{Value: v}); err != nil {
			return err
		}
	}
	return nil
}

func (c *calculator) Fold(ctx context.Context, in *calcpb.FoldRequest) (*calcpb.Number, error) {
	if len(in.Values) == 0 {
		return nil, status.Error(codes.InvalidArgument, "fold needs at least one value")
	}
	conn, err := c.broker.Dial(in.OperatorId)
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "dialing the host's operator: %v", err)
	}
	defer conn.Close()
	operator := calcpb.NewOperatorClient(conn)
	value := in.Values[0]
	for _, b := range in.Values[1:] {
		r, err := operator.Apply(ctx, &calcpb.Operands{A: value, B: b})
		if err != nil {
			return nil, fmt.Errorf("the host's operator: %w", err)
		}
		value = r.Value
	}
	return &calcpb.Number{Value: value}, nil
}

func main() {
	log := hclog.New(&hclog.LoggerOptions{Name: "calc-plugin", JSONFormat: true, Level: hclog.Trace})
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: calc.Handshake,
		Plugins: plugin.PluginSet{"calc": &calc.Plugin{Impl: func(b *plugin.GRPCBroker) calcpb.CalculatorServer {
			return &calculator{broker: b, log: log}
		}}},
		GRPCServer: plugin.DefaultGRPCServer,
		Logger:     log,
	})
}
