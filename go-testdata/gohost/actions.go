package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-plugin"
	grpctest "github.com/hashicorp/go-plugin/test/grpc"
	"google.golang.org/grpc"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
)

// arity of each action: exact argument count, or -1 for "one or more".
var actionArgs = map[string]int{
	"double": 1, "sigint-double": 1, "ping": 0, "print-kv": 2, "bidirectional": 0,
	"print-stdio": 2, "services": 0, "stream": -1,
}

// checkAction validates ACTION and its argument count before any plugin is
// started.
func checkAction(args []string) error {
	n, ok := actionArgs[args[0]]
	switch {
	case !ok:
		return fmt.Errorf("unknown action %q", args[0])
	case n < 0 && len(args) < 2:
		return fmt.Errorf("%s takes at least one argument", args[0])
	case n >= 0 && len(args)-1 != n:
		return fmt.Errorf("%s takes %d argument(s), got %d", args[0], n, len(args)-1)
	}
	return nil
}

func runAction(o *options, client *plugin.Client, rpc plugin.ClientProtocol, args []string) error {
	if err := checkAction(args); err != nil {
		return err
	}
	if o.netrpc {
		return runNetRPCAction(o, rpc, args)
	}
	action, rest := args[0], args[1:]
	ctx, cancel := context.WithTimeout(context.Background(), o.rpcTimeout)
	defer cancel()

	switch action {
	case "double":
		return doDouble(ctx, rpc, rest[0])

	case "bidirectional":
		return doBidirectional(ctx, rpc)

	case "sigint-double":
		pid, err := pluginPid(client)
		if err != nil {
			return err
		}
		if err := syscall.Kill(pid, syscall.SIGINT); err != nil {
			return fmt.Errorf("SIGINT to pid %d: %w", pid, err)
		}
		time.Sleep(300 * time.Millisecond)
		return doDouble(ctx, rpc, rest[0])

	case "ping":
		if err := rpc.Ping(); err != nil {
			return err
		}
		fmt.Println("ping=ok")
		return nil

	case "print-kv":
		tc, err := dispense(rpc)
		if err != nil {
			return err
		}
		req := &grpctest.PrintKVRequest{Key: rest[0]}
		if n, err := strconv.ParseInt(rest[1], 10, 32); err == nil {
			req.Value = &grpctest.PrintKVRequest_ValueInt{ValueInt: int32(n)}
		} else {
			req.Value = &grpctest.PrintKVRequest_ValueString{ValueString: rest[1]}
		}
		if _, err := tc.PrintKV(ctx, req); err != nil {
			return err
		}
		fmt.Println("print_kv=ok")
		return nil

	case "print-stdio":
		return doPrintStdio(ctx, o, rpc, rest[0], rest[1])

	case "services":
		return doServices(ctx, rpc)

	case "stream":
		return doStream(ctx, rpc, rest)

	default:
		return fmt.Errorf("unknown action %q", action)
	}
}

func dispense(rpc plugin.ClientProtocol) (grpctest.TestClient, error) {
	raw, err := rpc.Dispense("test")
	if err != nil {
		return nil, err
	}
	tc, ok := raw.(grpctest.TestClient)
	if !ok {
		return nil, fmt.Errorf("dispensed %T, not a grpctest.TestClient", raw)
	}
	return tc, nil
}

func parseInt32(s string) (int32, error) {
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("bad number %q: %w", s, err)
	}
	return int32(n), nil
}

// pluginPid is ReattachConfig().Pid, falling back to the runner ID (go-plugin
// leaves Pid at 0 when a RunnerFunc started the plugin).
func pluginPid(client *plugin.Client) (int, error) {
	if rc := client.ReattachConfig(); rc != nil && rc.Pid > 0 {
		return rc.Pid, nil
	}
	pid, err := strconv.Atoi(client.ID())
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("no plugin pid known (id %q)", client.ID())
	}
	return pid, nil
}

func doDouble(ctx context.Context, rpc plugin.ClientProtocol, arg string) error {
	n, err := parseInt32(arg)
	if err != nil {
		return err
	}
	tc, err := dispense(rpc)
	if err != nil {
		return err
	}
	resp, err := tc.Double(ctx, &grpctest.TestRequest{Input: n})
	if err != nil {
		return err
	}
	fmt.Printf("double=%d\n", resp.Output)
	return nil
}

func doPrintStdio(ctx context.Context, o *options, rpc plugin.ClientProtocol, outFile, errFile string) error {
	stdout, err := os.ReadFile(outFile)
	if err != nil {
		return err
	}
	stderr, err := os.ReadFile(errFile)
	if err != nil {
		return err
	}
	tc, err := dispense(rpc)
	if err != nil {
		return err
	}
	if _, err := tc.PrintStdio(ctx, &grpctest.PrintStdioRequest{Stdout: stdout, Stderr: stderr}); err != nil {
		return err
	}

	// Stdio arrives asynchronously over the GRPCStdio stream.
	type want struct {
		name, path string
		n          int64
	}
	var waits []want
	for _, w := range []want{{"stdout", o.syncStdout, int64(len(stdout))}, {"stderr", o.syncStderr, int64(len(stderr))}} {
		if w.n == 0 {
			continue
		}
		if w.path == "" {
			return fmt.Errorf("print-stdio with non-empty %s needs -sync-%s", w.name, w.name)
		}
		waits = append(waits, w)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var short []string
		for _, w := range waits {
			fi, err := os.Stat(w.path)
			if err != nil {
				return err
			}
			if fi.Size() < w.n {
				short = append(short, fmt.Sprintf("%s has %d of %d bytes", w.name, fi.Size(), w.n))
			}
		}
		if len(short) == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out waiting for synced stdio: %s", strings.Join(short, ", "))
		}
		time.Sleep(20 * time.Millisecond)
	}
	fmt.Println("print_stdio=ok")
	return nil
}

func doServices(ctx context.Context, rpc plugin.ClientProtocol) error {
	gc, ok := rpc.(*plugin.GRPCClient)
	if !ok {
		return fmt.Errorf("protocol client is %T, not *plugin.GRPCClient", rpc)
	}
	stream, err := reflectionpb.NewServerReflectionClient(gc.Conn).ServerReflectionInfo(ctx)
	if err != nil {
		return err
	}
	err = stream.Send(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{ListServices: "*"},
	})
	if err != nil {
		return err
	}
	resp, err := stream.Recv()
	if err != nil {
		return err
	}
	_ = stream.CloseSend()
	if e := resp.GetErrorResponse(); e != nil {
		return fmt.Errorf("reflection error %d: %s", e.ErrorCode, e.ErrorMessage)
	}
	list := resp.GetListServicesResponse()
	if list == nil {
		return fmt.Errorf("unexpected reflection response %T", resp.MessageResponse)
	}
	var names []string
	for _, s := range list.Service {
		names = append(names, s.Name)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Printf("service=%s\n", n)
	}
	return nil
}

func doStream(ctx context.Context, rpc plugin.ClientProtocol, args []string) error {
	tc, err := dispense(rpc)
	if err != nil {
		return err
	}
	stream, err := tc.Stream(ctx)
	if err != nil {
		return err
	}
	var outs []string
	for _, a := range args {
		n, err := parseInt32(a)
		if err != nil {
			return err
		}
		if err := stream.Send(&grpctest.TestRequest{Input: n}); err != nil {
			return fmt.Errorf("stream send: %w", err)
		}
		resp, err := stream.Recv()
		if err != nil {
			return fmt.Errorf("stream recv: %w", err)
		}
		outs = append(outs, strconv.Itoa(int(resp.Output)))
	}
	if err := stream.CloseSend(); err != nil {
		return err
	}
	// The server must end the stream cleanly (OK status) after our half-close.
	if resp, err := stream.Recv(); err != io.EOF {
		if err == nil {
			return fmt.Errorf("stream: unexpected extra response %d", resp.Output)
		}
		return fmt.Errorf("stream end: %w", err)
	}
	fmt.Printf("stream=%s\n", strings.Join(outs, ","))
	return nil
}

// pingPong answers "pong", like go-plugin's test server.
type pingPong struct {
	grpctest.UnimplementedPingPongServer
}

func (pingPong) Ping(context.Context, *grpctest.PingRequest) (*grpctest.PongResponse, error) {
	return &grpctest.PongResponse{Msg: "pong"}, nil
}

// doBidirectional mirrors go-plugin's testGRPCClient.Bidirectional: serve
// PingPong through the broker, let the plugin dial it and serve its own, then
// dial the plugin's.
func doBidirectional(ctx context.Context, rpc plugin.ClientProtocol) error {
	raw, err := rpc.Dispense("test")
	if err != nil {
		return err
	}
	tc, ok := raw.(*testConn)
	if !ok {
		return fmt.Errorf("dispensed %T, not a *testConn", raw)
	}
	nextID := tc.broker.NextId()
	go tc.broker.AcceptAndServe(nextID, func(opts []grpc.ServerOption) *grpc.Server {
		s := grpc.NewServer(opts...)
		grpctest.RegisterPingPongServer(s, pingPong{})
		return s
	})
	resp, err := tc.Bidirectional(ctx, &grpctest.BidirectionalRequest{Id: nextID})
	if err != nil {
		return fmt.Errorf("client Bidirectional() error: %w", err)
	}
	conn, err := tc.broker.Dial(resp.Id)
	if err != nil {
		return fmt.Errorf("client dial error: %w", err)
	}
	defer conn.Close()
	pong, err := grpctest.NewPingPongClient(conn).Ping(ctx, &grpctest.PingRequest{})
	if err != nil {
		return fmt.Errorf("client Ping() error: %w", err)
	}
	if pong.Msg != "pong" {
		return fmt.Errorf("client Bad PingPong: %q", pong.Msg)
	}
	fmt.Println("bidirectional=ok")
	return nil
}
