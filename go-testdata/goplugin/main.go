// Command goplugin is a Go net/rpc plugin for the cross-tests: what go-plugin's test helper does
// not serve over net/rpc. Plugin "test" (cookie TEST_MAGIC_COOKIE=test, app version 1):
//
//	Plugin.Double(int) int
//	Plugin.PrintStdio(PrintStdioArgs)        writes the bytes to the plugin's stdout and stderr
//	Plugin.Bidirectional(id uint32) uint32  MuxBroker callback: dial the host's Plugin.Ping under
//	                                          id, then serve one under a new id and return it
package main

import (
	"fmt"
	"net/rpc"
	"os"

	"github.com/hashicorp/go-plugin"
)

// PingServer answers Plugin.Ping with "pong".
type PingServer struct{}

// Ping is Plugin.Ping.
func (PingServer) Ping(_ bool, resp *string) error {
	*resp = "pong"
	return nil
}

// TestServer is the plugin's net/rpc object, served as "Plugin".
type TestServer struct {
	broker *plugin.MuxBroker
}

// Double is Plugin.Double.
func (s *TestServer) Double(n int, resp *int) error {
	*resp = n * 2
	return nil
}

// PrintStdioArgs is Plugin.PrintStdio's argument.
type PrintStdioArgs struct {
	Stdout []byte
	Stderr []byte
}

// PrintStdio is Plugin.PrintStdio: go-plugin carries os.Stdout and os.Stderr to the host.
func (s *TestServer) PrintStdio(args PrintStdioArgs, _ *struct{}) error {
	if _, err := os.Stdout.Write(args.Stdout); err != nil {
		return err
	}
	_, err := os.Stderr.Write(args.Stderr)
	return err
}

// Bidirectional is Plugin.Bidirectional.
func (s *TestServer) Bidirectional(id uint32, resp *uint32) error {
	conn, err := s.broker.Dial(id)
	if err != nil {
		return fmt.Errorf("server dial error: %w", err)
	}
	var pong string
	if err := rpc.NewClient(conn).Call("Plugin.Ping", true, &pong); err != nil {
		return fmt.Errorf("server Ping() error: %w", err)
	}
	if pong != "pong" {
		return fmt.Errorf("server Bad PingPong: %q", pong)
	}
	next := s.broker.NextId()
	go s.broker.AcceptAndServe(next, PingServer{})
	*resp = next
	return nil
}

type testPlugin struct{}

func (testPlugin) Server(b *plugin.MuxBroker) (interface{}, error) {
	return &TestServer{broker: b}, nil
}

func (testPlugin) Client(*plugin.MuxBroker, *rpc.Client) (interface{}, error) {
	return nil, fmt.Errorf("goplugin only implements the plugin side")
}

func main() {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: plugin.HandshakeConfig{
			ProtocolVersion:  1,
			MagicCookieKey:   "TEST_MAGIC_COOKIE",
			MagicCookieValue: "test",
		},
		Plugins: map[string]plugin.Plugin{"test": testPlugin{}},
	})
}
