// Command benchhost is the Go host of `make bench`: go-plugin v1.8.0's
// client launching the plugin at -plugin (Go or Rust, serving bench.Bench of
// proto/bench/bench.proto) and measuring it. Its Rust twin is
// examples/bench_host.rs, with the same flags, workload and output; see that
// file for the workload. Output: one JSON object on stdout; errors on stderr
// and exit status 1.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"gopluginrs.test/go-testdata/benchsvc"
)

type options struct {
	plugin       string
	autoMTLS     bool
	launches     int
	warmup       int
	unary        int
	payload      int
	concurrency  int
	concurrentMS int
	downloadMiB  int64
	uploadMiB    int64
	chunkKiB     int64
	dials        int
}

// conn is the dispensed client: the bench client and the host's broker.
type conn struct {
	benchsvc.Client
	broker *plugin.GRPCBroker
}

type benchPlugin struct {
	plugin.NetRPCUnsupportedPlugin
}

func (benchPlugin) GRPCServer(*plugin.GRPCBroker, *grpc.Server) error {
	return errors.New("benchhost only implements the client side")
}

func (benchPlugin) GRPCClient(_ context.Context, broker *plugin.GRPCBroker, c *grpc.ClientConn) (interface{}, error) {
	return &conn{Client: benchsvc.Client{Conn: c}, broker: broker}, nil
}

func main() {
	var o options
	flag.StringVar(&o.plugin, "plugin", "", "the bench plugin executable (required)")
	flag.BoolVar(&o.autoMTLS, "automtls", false, "enable go-plugin AutoMTLS")
	flag.IntVar(&o.launches, "launches", 3, "launches measured (start -> first successful call)")
	flag.IntVar(&o.warmup, "warmup", 200, "unmeasured Echo calls before the unary measurement")
	flag.IntVar(&o.unary, "unary", 2000, "sequential Echo calls measured")
	flag.IntVar(&o.payload, "payload", 64, "Echo payload bytes")
	flag.IntVar(&o.concurrency, "concurrency", 32, "callers in the calls/s measurement")
	flag.IntVar(&o.concurrentMS, "concurrent-ms", 500, "duration of the calls/s measurement")
	flag.Int64Var(&o.downloadMiB, "download-mib", 256, "MiB downloaded (server stream)")
	flag.Int64Var(&o.uploadMiB, "upload-mib", 64, "MiB uploaded (client stream)")
	flag.Int64Var(&o.chunkKiB, "chunk-kib", 64, "stream message size in KiB")
	flag.IntVar(&o.dials, "dials", 5, "broker dials (DialBack)")
	flag.Parse()
	if o.plugin == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "error: usage: benchhost -plugin PATH [flags]; -plugin PATH is required (the bench plugin executable)")
		os.Exit(1)
	}
	if o.launches < 1 || o.unary < 1 || o.concurrency < 1 {
		fmt.Fprintln(os.Stderr, "error: -launches, -unary and -concurrency must be at least 1")
		os.Exit(1)
	}
	out, err := run(&o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(1)
	}
	_ = json.NewEncoder(os.Stdout).Encode(out)
}

func newClient(o *options) *plugin.Client {
	return plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig: plugin.HandshakeConfig{
			ProtocolVersion:  1,
			MagicCookieKey:   "BENCH_PLUGIN",
			MagicCookieValue: "bench",
		},
		Plugins:          plugin.PluginSet{"bench": benchPlugin{}},
		Cmd:              exec.Command(o.plugin),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         o.autoMTLS,
		Logger:           hclog.New(&hclog.LoggerOptions{Name: "plugin", Level: hclog.Warn, Output: os.Stderr}),
	})
}

// launch starts a plugin and makes one Echo; it returns the ms that took.
func launch(o *options) (float64, *plugin.Client, *conn, error) {
	start := time.Now()
	client := newClient(o)
	rpc, err := client.Client()
	if err != nil {
		client.Kill()
		return 0, nil, nil, err
	}
	raw, err := rpc.Dispense("bench")
	if err != nil {
		client.Kill()
		return 0, nil, nil, err
	}
	c := raw.(*conn)
	if err := c.Echo(context.Background(), make([]byte, o.payload)); err != nil {
		client.Kill()
		return 0, nil, nil, err
	}
	return float64(time.Since(start).Nanoseconds()) / 1e6, client, c, nil
}

// percentile of sorted samples, p in 0..1 (nearest rank).
func percentile(sorted []float64, p float64) float64 {
	rank := int(float64(len(sorted))*p + 0.999999999)
	rank = max(1, min(rank, len(sorted)))
	return sorted[rank-1]
}

func unary(c *conn, o *options) ([]float64, error) {
	ctx := context.Background()
	for i := 0; i < o.warmup; i++ {
		if err := c.Echo(ctx, make([]byte, o.payload)); err != nil {
			return nil, err
		}
	}
	micros := make([]float64, 0, o.unary)
	for i := 0; i < o.unary; i++ {
		start := time.Now()
		if err := c.Echo(ctx, make([]byte, o.payload)); err != nil {
			return nil, err
		}
		micros = append(micros, float64(time.Since(start).Nanoseconds())/1e3)
	}
	sort.Float64s(micros)
	return micros, nil
}

func concurrent(c *conn, o *options) (float64, error) {
	ctx := context.Background()
	start := time.Now()
	deadline := start.Add(time.Duration(o.concurrentMS) * time.Millisecond)
	counts := make([]int64, o.concurrency)
	errs := make([]error, o.concurrency)
	var wg sync.WaitGroup
	for i := range counts {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for time.Now().Before(deadline) {
				if err := c.Echo(ctx, make([]byte, o.payload)); err != nil {
					errs[i] = err
					return
				}
				counts[i]++
			}
		}(i)
	}
	wg.Wait()
	var calls int64
	for i := range counts {
		if errs[i] != nil {
			return 0, errs[i]
		}
		calls += counts[i]
	}
	return float64(calls) / time.Since(start).Seconds(), nil
}

const mib = 1 << 20

func download(c *conn, o *options) (float64, error) {
	size := o.downloadMiB * mib
	start := time.Now()
	got, err := c.Download(context.Background(), size, int32(o.chunkKiB*1024))
	if err != nil {
		return 0, err
	}
	if got != size {
		return 0, fmt.Errorf("Download sent %d bytes, asked for %d", got, size)
	}
	return float64(o.downloadMiB) / time.Since(start).Seconds(), nil
}

func upload(c *conn, o *options) (float64, error) {
	size := o.uploadMiB * mib
	start := time.Now()
	got, err := c.Upload(context.Background(), size, o.chunkKiB*1024)
	if err != nil {
		return 0, err
	}
	if got != uint64(size) {
		return 0, fmt.Errorf("Upload counted %d bytes, sent %d", got, size)
	}
	return float64(o.uploadMiB) / time.Since(start).Seconds(), nil
}

func dials(c *conn, n int) ([]float64, error) {
	micros := make([]float64, 0, n)
	for i := 0; i < n; i++ {
		id := c.broker.NextId()
		go c.broker.AcceptAndServe(id, func(opts []grpc.ServerOption) *grpc.Server {
			s := grpc.NewServer(opts...)
			s.RegisterService(&benchsvc.ServiceDesc, benchsvc.EchoOnly{})
			return s
		})
		nanos, err := c.DialBack(context.Background(), id)
		if err != nil {
			return nil, err
		}
		micros = append(micros, float64(nanos)/1e3)
	}
	return micros, nil
}

// peakRSSKiB is VmHWM of /proc/PID/status.
func peakRSSKiB(pid int) (int64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}

func run(o *options) (map[string]any, error) {
	var startMS []float64
	var client *plugin.Client
	var c *conn
	for i := 0; i < o.launches; i++ {
		ms, cl, cn, err := launch(o)
		if err != nil {
			return nil, err
		}
		startMS = append(startMS, ms)
		if i+1 < o.launches {
			cl.Kill()
		} else {
			client, c = cl, cn
		}
	}
	defer client.Kill()
	micros, err := unary(c, o)
	if err != nil {
		return nil, err
	}
	callsPerS, err := concurrent(c, o)
	if err != nil {
		return nil, err
	}
	downloadMiBs, err := download(c, o)
	if err != nil {
		return nil, err
	}
	uploadMiBs, err := upload(c, o)
	if err != nil {
		return nil, err
	}
	dialUS, err := dials(c, o.dials)
	if err != nil {
		return nil, err
	}
	rc := client.ReattachConfig()
	if rc == nil {
		return nil, errors.New("ReattachConfig() returned nil")
	}
	rss, err := peakRSSKiB(rc.Pid)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"host":           "go",
		"start_ms":       startMS,
		"unary_p50_us":   percentile(micros, 0.50),
		"unary_p99_us":   percentile(micros, 0.99),
		"calls_per_s":    callsPerS,
		"download_mib_s": downloadMiBs,
		"upload_mib_s":   uploadMiBs,
		"dial_us":        dialUS,
		"rss_kib":        rss,
	}, nil
}
