package main

import (
	"fmt"
	"net/rpc"
	"os"
	"strconv"
	"time"

	"github.com/hashicorp/go-plugin"
)

// netrpcPlugin is the host half of the "test" plugin over net/rpc (-netrpc).
type netrpcPlugin struct{}

func (netrpcPlugin) Server(*plugin.MuxBroker) (interface{}, error) {
	return nil, fmt.Errorf("gohost only implements the client side")
}

func (netrpcPlugin) Client(b *plugin.MuxBroker, c *rpc.Client) (interface{}, error) {
	return &netrpcConn{Client: c, broker: b}, nil
}

// netrpcConn is the dispensed net/rpc client plus the host's MuxBroker.
type netrpcConn struct {
	*rpc.Client
	broker *plugin.MuxBroker
}

// PingServer answers Plugin.Ping with "pong" (served through the MuxBroker).
type PingServer struct{}

// Ping is Plugin.Ping.
func (PingServer) Ping(_ bool, resp *string) error {
	*resp = "pong"
	return nil
}

// PrintStdioArgs is Plugin.PrintStdio's argument (fields matched by name).
type PrintStdioArgs struct {
	Stdout []byte
	Stderr []byte
}

// runNetRPCAction performs the action on a net/rpc "test" plugin: Plugin.Double,
// Plugin.PrintKV (map[string]interface{}) and Plugin.PrintStdio.
func runNetRPCAction(o *options, rpcClient plugin.ClientProtocol, args []string) error {
	action, rest := args[0], args[1:]
	if action == "ping" {
		if err := rpcClient.Ping(); err != nil {
			return err
		}
		fmt.Println("ping=ok")
		return nil
	}
	raw, err := rpcClient.Dispense("test")
	if err != nil {
		return err
	}
	conn := raw.(*netrpcConn)
	c := conn.Client
	switch action {
	case "bidirectional":
		// go-plugin's MuxBroker callback: serve Plugin.Ping under an id, let the plugin dial it,
		// then dial the id the plugin serves its own on.
		id := conn.broker.NextId()
		go conn.broker.AcceptAndServe(id, PingServer{})
		var theirs uint32
		if err := c.Call("Plugin.Bidirectional", id, &theirs); err != nil {
			return fmt.Errorf("client Bidirectional() error: %w", err)
		}
		back, err := conn.broker.Dial(theirs)
		if err != nil {
			return fmt.Errorf("client dial error: %w", err)
		}
		var pong string
		if err := rpc.NewClient(back).Call("Plugin.Ping", true, &pong); err != nil {
			return fmt.Errorf("client Ping() error: %w", err)
		}
		if pong != "pong" {
			return fmt.Errorf("client Bad PingPong: %q", pong)
		}
		fmt.Println("bidirectional=ok")
	case "double":
		n, err := strconv.Atoi(rest[0])
		if err != nil {
			return err
		}
		var out int
		if err := c.Call("Plugin.Double", n, &out); err != nil {
			return err
		}
		fmt.Printf("double=%d\n", out)
	case "print-kv":
		var value interface{} = rest[1]
		if n, err := strconv.Atoi(rest[1]); err == nil {
			value = n
		}
		if err := c.Call("Plugin.PrintKV", map[string]interface{}{"key": rest[0], "value": value}, &struct{}{}); err != nil {
			return err
		}
		fmt.Println("print_kv=ok")
	case "print-stdio":
		stdout, err := os.ReadFile(rest[0])
		if err != nil {
			return err
		}
		stderr, err := os.ReadFile(rest[1])
		if err != nil {
			return err
		}
		if err := c.Call("Plugin.PrintStdio", PrintStdioArgs{Stdout: stdout, Stderr: stderr}, &struct{}{}); err != nil {
			return err
		}
		if err := waitForSize(o.syncStdout, len(stdout)); err != nil {
			return err
		}
		if err := waitForSize(o.syncStderr, len(stderr)); err != nil {
			return err
		}
		fmt.Println("print_stdio=ok")
	default:
		return fmt.Errorf("action %q is not available with -netrpc", action)
	}
	return nil
}

// waitForSize polls until path holds at least n bytes (synced output arrives asynchronously).
func waitForSize(path string, n int) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		if info, err := os.Stat(path); err == nil && info.Size() >= int64(n) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not reach %d bytes", path, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
