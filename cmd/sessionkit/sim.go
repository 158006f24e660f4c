package main

import (
	"context"
	"fmt"
	"io"

	"github.com/sessionkit/sessionkit/sim/simcmd"
)

// simulate runs the deterministic simulator: the same command line as
// `go run ./sim/cmd/simulate`.
func simulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	switch code := simcmd.Main(ctx, args, stdout, stderr); code {
	case 0:
		return nil
	case 2:
		return errUsage
	default:
		return fmt.Errorf("the simulator exited %d", code)
	}
}
