// Command sessionkit is the reference session service and its tools.
//
//	sessionkit serve     serve the HTTP API, the WebSocket endpoint and the demo pages
//	sessionkit sim       run the deterministic simulator
//	sessionkit inspect   show sessions and drafts from a store directory
//
// Every policy value is a flag and an environment variable (SESSIONKIT_*);
// run a command with -h for the list.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	cmds := map[string]func(context.Context, []string, io.Writer, io.Writer) error{
		"serve":   serve,
		"sim":     simulate,
		"inspect": inspect,
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		usage(stderr)
		return 2
	}
	err := cmd(ctx, args[1:], stdout, stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	}
	fmt.Fprintln(stderr, "sessionkit:", err)
	return 1
}

var errUsage = errors.New("usage")

func usage(w io.Writer) {
	fmt.Fprintln(w, `usage: sessionkit <command> [flags]

commands:
  serve     serve the HTTP API, the WebSocket endpoint and the demo pages
  sim       run the deterministic simulator (the same flags as sim/cmd/simulate)
  inspect   show sessions and drafts from a store directory

Run "sessionkit <command> -h" for its flags.`)
}
