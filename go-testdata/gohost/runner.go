package main

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/hashicorp/go-plugin/runner"
)

// execRunner is a minimal runner.Runner around an unstarted *exec.Cmd, used
// with -socket-dir (go-plugin's own command runner is internal).
type execRunner struct {
	cmd    *exec.Cmd
	stdout io.ReadCloser
	stderr io.ReadCloser
	pid    int
}

var _ runner.Runner = (*execRunner)(nil)

func newExecRunner(cmd *exec.Cmd) (*execRunner, error) {
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	return &execRunner{cmd: cmd, stdout: stdout, stderr: stderr}, nil
}

func (r *execRunner) Start(context.Context) error {
	if err := r.cmd.Start(); err != nil {
		return err
	}
	r.pid = r.cmd.Process.Pid
	return nil
}

func (r *execRunner) Wait(context.Context) error { return r.cmd.Wait() }

func (r *execRunner) Kill(context.Context) error {
	if r.cmd.Process == nil {
		return nil
	}
	if err := r.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}

func (r *execRunner) Stdout() io.ReadCloser { return r.stdout }
func (r *execRunner) Stderr() io.ReadCloser { return r.stderr }
func (r *execRunner) Name() string          { return filepath.Base(r.cmd.Path) }
func (r *execRunner) Diagnose(context.Context) string {
	return ""
}

// ID is the pid; empty before Start so that Client.Kill treats an unstarted
// runner as "nothing to kill".
func (r *execRunner) ID() string {
	if r.pid == 0 {
		return ""
	}
	return strconv.Itoa(r.pid)
}

func (r *execRunner) PluginToHost(network, addr string) (string, string, error) {
	return network, addr, nil
}

func (r *execRunner) HostToPlugin(network, addr string) (string, string, error) {
	return network, addr, nil
}
