// Command calc-host is the Go host of the calc example: it launches the plugin
// at -plugin with go-plugin's client (AutoMTLS on) and runs one command, as
// the Rust calc_host does:
//
//	calc-host -plugin PATH [-v] add A B
//	calc-host -plugin PATH count START END
//	calc-host -plugin PATH fold OP V1 V2 ...   (OP: sum, product, max; served
//	                                           through the broker)
//
// Results go to stdout one per line; errors print "error: ..." and exit 1.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"strconv"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"gopluginrs.test/go-testdata/calc"
	"gopluginrs.test/go-testdata/calc/calcpb"
)

// operator is the host's side of Fold.
type operator struct {
	calcpb.UnimplementedOperatorServer
	apply func(a, b int64) (int64, error)
}

func (o operator) Apply(_ context.Context, in *calcpb.Operands) (*calcpb.Number, error) {
	v, err := o.apply(in.A, in.B)
	return &calcpb.Number{Value: v}, err
}

func newOperator(name string) (operator, error) {
	switch name {
	case "sum":
		return operator{apply: func(a, b int64) (int64, error) {
			if (b > 0 && a > math.MaxInt64-b) || (b < 0 && a < math.MinInt64-b) {
				return 0, errors.New("int64 overflow")
			}
			return a + b, nil
		}}, nil
	case "product":
		return operator{apply: func(a, b int64) (int64, error) { return a * b, nil }}, nil
	case "max":
		return operator{apply: func(a, b int64) (int64, error) { return max(a, b), nil }}, nil
	}
	return operator{}, fmt.Errorf("unknown operator %q: use sum, product or max", name)
}

func numbers(args []string) ([]int64, error) {
	out := make([]int64, len(args))
	for i, a := range args {
		n, err := strconv.ParseInt(a, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer", a)
		}
		out[i] = n
	}
	return out, nil
}

func run(c *calc.Client, args []string) error {
	ctx := context.Background()
	if len(args) == 0 {
		return errors.New("usage: calc-host -plugin PATH add A B | count START END | fold OP V...")
	}
	switch cmd := args[0]; {
	case cmd == "add" && len(args) == 3:
		n, err := numbers(args[1:])
		if err != nil {
			return err
		}
		r, err := c.Add(ctx, &calcpb.Operands{A: n[0], B: n[1]})
		if err != nil {
			return err
		}
		fmt.Println(r.Value)
	case cmd == "count" && len(args) == 3:
		n, err := numbers(args[1:])
		if err != nil {
			return err
		}
		stream, err := c.Count(ctx, &calcpb.Range{Start: n[0], End: n[1]})
		if err != nil {
			return err
		}
		for {
			r, err := stream.Recv()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			fmt.Println(r.Value)
		}
	case cmd == "fold" && len(args) >= 2:
		op, err := newOperator(args[1])
		if err != nil {
			return err
		}
		values, err := numbers(args[2:])
		if err != nil {
			return err
		}
		id := c.Broker.NextId()
		go c.Broker.AcceptAndServe(id, func(opts []grpc.ServerOption) *grpc.Server {
			s := grpc.NewServer(opts...)
			calcpb.RegisterOperatorServer(s, op)
			return s
		})
		r, err := c.Fold(ctx, &calcpb.FoldRequest{OperatorId: id, Values: values})
		if err != nil {
			return err
		}
		fmt.Println(r.Value)
	default:
		return errors.New("usage: calc-host -plugin PATH add A B | count START END | fold OP V...")
	}
	return nil
}

func main() {
	path := flag.String("plugin", "", "the plugin executable")
	verbose := flag.Bool("v", false, "log at debug level (go-plugin's and the plugin's lines)")
	flag.Parse()
	level := hclog.Info
	if *verbose {
		level = hclog.Debug
	}
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  calc.Handshake,
		Plugins:          plugin.PluginSet{"calc": &calc.Plugin{}},
		Cmd:              exec.Command(*path),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		Logger:           hclog.New(&hclog.LoggerOptions{Name: "calc-host", Output: os.Stderr, Level: level}),
	})
	err := func() error {
		rpc, err := client.Client()
		if err != nil {
			return err
		}
		raw, err := rpc.Dispense("calc")
		if err != nil {
			return err
		}
		return run(raw.(*calc.Client), flag.Args())
	}()
	client.Kill()
	if err != nil {
		fmt.Printf("error: %v\n", err)
		os.Exit(1)
	}
}
