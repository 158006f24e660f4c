// Command dictation serves the live-connection product: a dictation page
// kept in session by keepalives over a WebSocket under RealtimePolicy, with
// the status bar that tells the user why the link went.
//
//	go run ./examples/dictation
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/sessionkit/sessionkit/adapters/memstore"
	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/web"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "listen address")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// One session per user, ended by a lost link: a second sign-in
	// supersedes the first, and only an explicit sign-in starts over.
	m, err := core.New(core.Config{Store: memstore.New(), Policy: core.RealtimePolicy()})
	if err != nil {
		log.Fatal(err)
	}
	demo, err := web.NewDemo(web.DemoConfig{Manager: m})
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("dictation: open http://%s/dictation.html?reconnect=0\n", ln.Addr())
	fmt.Println("  sign in, then: sign in as the same user in a second tab (the first is superseded),")
	fmt.Println("  or stop this program with Ctrl-C (the page shows the service restarting).")
	if err := web.Serve(ctx, ln, demo, m, func(err error) { log.Print(err) }); err != nil {
		log.Fatal(err)
	}
}
