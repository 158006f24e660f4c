package web

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/sessionkit/sessionkit/core"
)

// ShutdownGrace bounds Serve's graceful shutdown.
const ShutdownGrace = 10 * time.Second

// Serve serves d on ln until ctx ends, running beside it the loops a live
// service needs: the Manager's Run (sessions end on time) and the WebSocket
// server's (connections are probed and timed out). Errors of the Manager's
// sweeps go to onError, which may be nil.
//
// When ctx ends it shuts down gracefully: every live connection is told the
// service is restarting (close 4001, rule P10), requests drain, the loops
// stop, and the Manager writes what it holds in memory (Manager.Close). It
// returns nil after a clean shutdown.
func Serve(ctx context.Context, ln net.Listener, d *Demo, m *core.Manager, onError func(error)) error {
	srv := &http.Server{Handler: d, ReadHeaderTimeout: 10 * time.Second}
	loops, stop := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { m.Run(loops, onError) })
	wg.Go(func() { d.Run(loops) })
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case <-ctx.Done():
	case err := <-served:
		stop()
		wg.Wait()
		return err
	}
	down, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownGrace)
	defer cancel()
	errs := []error{d.Shutdown(down), srv.Shutdown(down)}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		errs = append(errs, err)
	}
	stop()
	wg.Wait()
	errs = append(errs, m.Close(down))
	return errors.Join(errs...)
}
