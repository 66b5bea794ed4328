// Command gohost is a go-plugin host used by the cross-tests: it launches
// (or reattaches to) a plugin through the real github.com/hashicorp/go-plugin
// client, performs one ACTION against the grpctest.Test service and prints
// key=value lines on stdout. See ../README.md for the flags and actions.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/runner"
	grpctest "github.com/hashicorp/go-plugin/test/grpc"
	"google.golang.org/grpc"
)

// testPlugin is the host half of the "test" plugin: it only knows how to
// build a grpctest.TestClient on the connection go-plugin hands it.
type testPlugin struct {
	plugin.NetRPCUnsupportedPlugin
}

func (testPlugin) GRPCServer(*plugin.GRPCBroker, *grpc.Server) error {
	return errors.New("gohost only implements the client side")
}

func (testPlugin) GRPCClient(_ context.Context, broker *plugin.GRPCBroker, conn *grpc.ClientConn) (interface{}, error) {
	return &testConn{TestClient: grpctest.NewTestClient(conn), broker: broker}, nil
}

// testConn is the dispensed client: the grpctest.TestClient plus the host's
// broker, for the bidirectional action.
type testConn struct {
	grpctest.TestClient
	broker *plugin.GRPCBroker
}

type options struct {
	pluginPath      string
	cookie          string
	versions        string
	autoMTLS        bool
	wrongClientCert bool
	manualMTLS      bool
	tlsCA           string
	mux             bool
	netrpc          bool
	idle            time.Duration
	socketDir       string
	group           string
	logFile         string
	syncStdout      string
	syncStderr      string
	startTimeout    time.Duration
	rpcTimeout      time.Duration
	reattach        string
}

func main() {
	os.Exit(run())
}

func usage() {
	fmt.Fprintf(os.Stderr, "usage: gohost [flags] ACTION [ARGS...]\n"+
		"actions: double N | ping | print-kv KEY VALUE | print-stdio OUTFILE ERRFILE |\n"+
		"         services | sigint-double N | stream N...\nflags:\n")
	flag.PrintDefaults()
}

func run() int {
	var o options
	flag.StringVar(&o.pluginPath, "plugin", "", "plugin executable (required unless -reattach)")
	flag.StringVar(&o.cookie, "cookie", "TEST_MAGIC_COOKIE=test", "magic cookie KEY=VALUE")
	flag.StringVar(&o.versions, "versions", "1", "comma separated app protocol versions offered")
	flag.BoolVar(&o.autoMTLS, "automtls", false, "enable go-plugin AutoMTLS")
	flag.BoolVar(&o.wrongClientCert, "wrong-client-cert", false, "announce cert B in PLUGIN_CLIENT_CERT but present cert A (calls must fail)")
	flag.BoolVar(&o.manualMTLS, "manual-mtls", false, "positive control for -wrong-client-cert: same hand-made TLS setup, but announce the cert actually presented")
	flag.DurationVar(&o.idle, "idle", 0, "wait this long after connecting before the action (keep-alive checks)")
	flag.BoolVar(&o.netrpc, "netrpc", false, "the plugin set is net/rpc (Plugin.Double, Plugin.PrintKV, Plugin.PrintStdio)")
	flag.BoolVar(&o.mux, "mux", false, "GRPCBrokerMultiplex: one yamux session for the main and every brokered connection")
	flag.StringVar(&o.tlsCA, "tls-ca", "", "explicit (non-auto) TLS: trust only the PEM certificate(s) in this file, server name localhost")
	flag.StringVar(&o.socketDir, "socket-dir", "", "UnixSocketConfig.TempDir; also installs a RunnerFunc")
	flag.StringVar(&o.group, "group", "", "UnixSocketConfig.Group")
	flag.StringVar(&o.logFile, "log", "", "host log file (JSON, trace level); default stderr")
	flag.StringVar(&o.syncStdout, "sync-stdout", "", "file receiving the plugin's synced stdout")
	flag.StringVar(&o.syncStderr, "sync-stderr", "", "file receiving the plugin's synced stderr")
	flag.DurationVar(&o.startTimeout, "start-timeout", time.Minute, "ClientConfig.StartTimeout")
	flag.DurationVar(&o.rpcTimeout, "rpc-timeout", 30*time.Second, "deadline for each action's RPCs")
	flag.StringVar(&o.reattach, "reattach", "", "reattach config as JSON instead of -plugin")
	flag.Usage = usage
	flag.Parse()
	args := flag.Args()

	fail := func(err error) int {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		return 1
	}
	if len(args) == 0 {
		usage()
		return fail(errors.New("missing ACTION"))
	}
	if err := checkAction(args); err != nil {
		return fail(err)
	}

	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			_ = c.Close()
		}
	}()
	openOut := func(path string) (*os.File, error) {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
		if err == nil {
			closers = append(closers, f)
		}
		return f, err
	}

	logOut := io.Writer(os.Stderr)
	if o.logFile != "" {
		f, err := openOut(o.logFile)
		if err != nil {
			return fail(err)
		}
		logOut = f
	}
	logger := hclog.New(&hclog.LoggerOptions{
		Name:       "plugin",
		Level:      hclog.Trace,
		JSONFormat: true,
		Output:     logOut,
	})

	cfg, err := buildConfig(&o, logger)
	if err != nil {
		return fail(err)
	}
	if o.syncStdout != "" {
		if cfg.SyncStdout, err = openOut(o.syncStdout); err != nil {
			return fail(err)
		}
	}
	if o.syncStderr != "" {
		if cfg.SyncStderr, err = openOut(o.syncStderr); err != nil {
			return fail(err)
		}
	}

	client := plugin.NewClient(cfg)
	failKill := func(err error) int {
		client.Kill()
		return fail(err)
	}

	rpcClient, err := client.Client()
	if err == nil && o.idle > 0 {
		time.Sleep(o.idle)
	}
	if err != nil {
		return failKill(err)
	}
	if err := runAction(&o, client, rpcClient, args); err != nil {
		return failKill(err)
	}

	rc := client.ReattachConfig()
	if rc == nil {
		return failKill(errors.New("ReattachConfig() returned nil"))
	}
	fmt.Printf("pid=%d\n", rc.Pid)
	fmt.Printf("id=%s\n", client.ID())
	if rc.Addr != nil {
		fmt.Printf("network=%s\naddress=%s\n", rc.Addr.Network(), rc.Addr.String())
	}
	fmt.Printf("negotiated=%d\n", client.NegotiatedVersion())

	start := time.Now()
	client.Kill()
	fmt.Printf("kill_ms=%d\n", time.Since(start).Milliseconds())
	fmt.Printf("exited=%t\n", client.Exited())
	return 0
}

func buildConfig(o *options, logger hclog.Logger) (*plugin.ClientConfig, error) {
	key, value, ok := strings.Cut(o.cookie, "=")
	if !ok || key == "" {
		return nil, fmt.Errorf("-cookie must be KEY=VALUE, got %q", o.cookie)
	}
	var versions []int
	sets := map[int]plugin.PluginSet{}
	for _, s := range strings.Split(o.versions, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("bad -versions entry %q: %w", s, err)
		}
		versions = append(versions, v)
		sets[v] = plugin.PluginSet{"test": testPlugin{}}
		if o.netrpc {
			sets[v] = plugin.PluginSet{"test": netrpcPlugin{}}
		}
	}
	nTLS := 0
	for _, b := range []bool{o.autoMTLS, o.wrongClientCert, o.manualMTLS} {
		if b {
			nTLS++
		}
	}
	if nTLS > 1 {
		return nil, errors.New("-automtls, -wrong-client-cert and -manual-mtls are mutually exclusive")
	}

	cfg := &plugin.ClientConfig{
		HandshakeConfig: plugin.HandshakeConfig{
			ProtocolVersion:  1,
			MagicCookieKey:   key,
			MagicCookieValue: value,
		},
		VersionedPlugins: sets,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC, plugin.ProtocolNetRPC},
		Logger:           logger,
		StartTimeout:     o.startTimeout,
		AutoMTLS:         o.autoMTLS,

		GRPCBrokerMultiplex: o.mux,
	}

	if o.tlsCA != "" {
		pem, err := os.ReadFile(o.tlsCA)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("no PEM certificate in %s", o.tlsCA)
		}
		cfg.TLSConfig = &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12}
	}

	if o.socketDir != "" || o.group != "" {
		cfg.UnixSocketConfig = &plugin.UnixSocketConfig{TempDir: o.socketDir, Group: o.group}
	}

	if o.reattach != "" {
		if o.pluginPath != "" {
			return nil, errors.New("-plugin and -reattach are mutually exclusive")
		}
		rc, err := parseReattach(o.reattach)
		if err != nil {
			return nil, err
		}
		cfg.Reattach = rc
		// On reattach go-plugin skips version negotiation and hands
		// config.Plugins (not VersionedPlugins) to the GRPCClient, so the
		// set has to be chosen here or Dispense finds nothing.
		if set, ok := sets[rc.ProtocolVersion]; ok {
			cfg.Plugins = set
		} else {
			cfg.Plugins = sets[versions[0]]
		}
		return cfg, nil
	}

	if o.pluginPath == "" {
		return nil, errors.New("-plugin is required (or -reattach)")
	}

	var extraEnv []string
	if o.wrongClientCert || o.manualMTLS {
		a, err := newThrowawayCert()
		if err != nil {
			return nil, err
		}
		announced := a
		if o.wrongClientCert {
			if announced, err = newThrowawayCert(); err != nil {
				return nil, err
			}
		}
		extraEnv = append(extraEnv, "PLUGIN_CLIENT_CERT="+string(announced.certPEM))
		// go-plugin replaces RootCAs/ClientCAs with the plugin's handshake
		// certificate (client.go loadServerCert).
		cfg.TLSConfig = &tls.Config{
			Certificates: []tls.Certificate{a.pair},
			ServerName:   "localhost",
			MinVersion:   tls.VersionTLS12,
		}
	}

	if o.socketDir != "" {
		// go-plugin refuses Cmd together with RunnerFunc ("exactly one of
		// Cmd, or Reattach, or RunnerFunc must be set"), so the RunnerFunc
		// builds the real command from the env go-plugin prepared.
		path := o.pluginPath
		cfg.RunnerFunc = func(_ hclog.Logger, spec *exec.Cmd, _ string) (runner.Runner, error) {
			cmd := exec.Command(path)
			cmd.Env = append(append([]string{}, spec.Env...), extraEnv...)
			cmd.Stdin = spec.Stdin
			return newExecRunner(cmd)
		}
	} else {
		cmd := exec.Command(o.pluginPath)
		if len(extraEnv) > 0 {
			cmd.Env = append(os.Environ(), extraEnv...)
		}
		cfg.Cmd = cmd
	}
	return cfg, nil
}

// reattachJSON mirrors plugin.ReattachConfig with a serialisable address.
type reattachJSON struct {
	Protocol        string
	ProtocolVersion int
	Pid             int
	Test            bool
	Addr            struct {
		Network string
		String  string
	}
}

func parseReattach(s string) (*plugin.ReattachConfig, error) {
	var j reattachJSON
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return nil, fmt.Errorf("bad -reattach JSON: %w", err)
	}
	var addr net.Addr
	var err error
	switch j.Addr.Network {
	case "unix":
		addr, err = net.ResolveUnixAddr("unix", j.Addr.String)
	case "tcp":
		addr, err = net.ResolveTCPAddr("tcp", j.Addr.String)
	default:
		err = fmt.Errorf("unsupported reattach network %q", j.Addr.Network)
	}
	if err != nil {
		return nil, err
	}
	return &plugin.ReattachConfig{
		Protocol:        plugin.Protocol(j.Protocol),
		ProtocolVersion: j.ProtocolVersion,
		Addr:            addr,
		Pid:             j.Pid,
		Test:            j.Test,
	}, nil
}
