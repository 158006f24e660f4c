// Command forms serves the forms product over HTTP under FormsPolicy: idle
// and authentication timeouts, a keepalive pulse only while a form is open,
// autosaved and manually saved drafts, and a draft resumed after a timeout.
//
//	go run ./examples/forms
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
	"time"

	"github.com/sessionkit/sessionkit/adapters/memstore"
	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/web"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8083", "listen address")
	idle := flag.Duration("idle-timeout", 2*time.Minute, "idle timeout; FormsPolicy's is 15m, shortened so the demo times out while you watch")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	p := core.FormsPolicy()
	p.IdleTimeout = *idle
	p.AuthTimeout = 2 * *idle // the pulse interval follows: half the lower timeout
	m, err := core.New(core.Config{Store: memstore.New(), Policy: p})
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
	fmt.Printf("forms: open http://%s/forms.html\n", ln.Addr())
	fmt.Printf("  idle timeout %v, auth timeout %v, pulse every %v while a form is open\n", p.IdleTimeout, p.AuthTimeout, m.Interval())
	fmt.Println("  type into the claim, close the tab, wait out the idle timeout, sign in again and resume the draft.")
	if err := web.Serve(ctx, ln, demo, m, func(err error) { log.Print(err) }); err != nil {
		log.Fatal(err)
	}
}
