// Command simulate runs sessionkit's deterministic simulator: the built-in
// scenarios (sim/scenarios), scenario files, random seeds, or a steady load
// of many clients, and writes an HTML timeline.
//
//	go run ./sim/cmd/simulate                         # every built-in scenario
//	go run ./sim/cmd/simulate -scenario realtime -v   # one, with its event log
//	go run ./sim/cmd/simulate -seeds 50 -duration 6h  # 50 random seeds
//	go run ./sim/cmd/simulate -steady -clients 10000 -duration 24h
//
// It exits with status 1 when a run fails, 2 on bad usage. The work is done
// by package sim/simcmd, which the sessionkit sim command shares.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/sessionkit/sessionkit/sim/simcmd"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := simcmd.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
