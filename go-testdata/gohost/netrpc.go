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

func (netrpcPlugin) Client(_ *plugin.MuxBroker, c *rpc.Client) (interface{}, error) {
	return c, nil
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
	c := raw.(*rpc.Client)
	switch action {
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
