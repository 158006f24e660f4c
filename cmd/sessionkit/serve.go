package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"

	"github.com/sessionkit/sessionkit/adapters/badgerstore"
	"github.com/sessionkit/sessionkit/adapters/memstore"
	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/transports/httptransport"
	"github.com/sessionkit/sessionkit/web"
)

// serve runs the reference session service until ctx ends: the demo pages
// at /, the WebSocket endpoint at /ws and the HTTP API at /api/.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	data := fs.String("data", "./sessionkit-data", "badger store directory")
	storeKind := fs.String("store", "badger", "badger (durable, in -data) or memory")
	node := fs.String("node", "", "this node's name in the store (default \"local\")")
	insecureCookie := fs.Bool("insecure-cookie", false, "send the session cookie without Secure, for plain HTTP beyond localhost")
	pf := addPolicyFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: sessionkit serve [flags]\n\nEvery flag can also be set as SESSIONKIT_<FLAG>, e.g. SESSIONKIT_IDLE_TIMEOUT=15m.")
		fs.PrintDefaults()
	}
	if err := parse(fs, pf, args); err != nil {
		return err
	}
	p, err := pf.policy()
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))

	var (
		store     core.Store
		storeRun  func(context.Context) error
		storeDone = func() error { return nil }
	)
	switch *storeKind {
	case "badger":
		bs, err := badgerstore.Open(*data, nil)
		if err != nil {
			return err
		}
		store, storeRun, storeDone = bs, bs.Run, bs.Close
	case "memory":
		store = memstore.New()
	default:
		return fmt.Errorf("-store %q: want badger or memory", *storeKind)
	}
	defer func() {
		if err := storeDone(); err != nil {
			log.Error("closing the store", "err", err)
		}
	}()

	m, err := core.New(core.Config{Store: store, Policy: p, Node: *node})
	if err != nil {
		return err
	}
	recovered, err := m.Recover(ctx) // rule P10
	if err != nil {
		return fmt.Errorf("recovering sessions attached before the restart: %w", err)
	}
	demo, err := web.NewDemo(web.DemoConfig{Manager: m, HTTP: httptransport.Config{InsecureCookie: *insecureCookie, Logger: log}})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sessionkit serving on http://%s (%s preset, %s store, keepalive %v; %d sessions recovered)\n",
		ln.Addr(), pf.preset, *storeKind, m.Interval(), recovered)

	var wg sync.WaitGroup
	if storeRun != nil { // value-log garbage collection
		loops, stop := context.WithCancel(context.WithoutCancel(ctx))
		wg.Go(func() { storeRun(loops) })
		defer wg.Wait()
		defer stop()
	}
	err = web.Serve(ctx, ln, demo, m, func(err error) { log.Error("sweep", "err", err) })
	fmt.Fprintln(stdout, "sessionkit stopped")
	return err
}
