// Command onboarding shows sessionkit's resumable sessions (DESIGN.md,
// product 2) over HTTP: the integrator's backend sends a customer a signed
// resume link for their client reference; the link continues the same
// session for 7 days, then starts a new one; a three-step onboarding saves
// its progress as a draft of the reference, so it survives both; and an
// integrator view lists every session of the reference.
//
//	go run ./examples/onboarding [-addr 127.0.0.1:8082] [-insecure-cookie]
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sessionkit/sessionkit/adapters/memstore"
)

// demoAdminToken admits the integrator view. It is fixed so the README can
// name it; a real integrator keeps its own secret and its view on its own
// back-office origin.
const demoAdminToken = "demo-admin-token"

// demoReferences are the client references that links are printed for.
var demoReferences = []string{"customer-42", "customer-7"}

func main() {
	addr := flag.String("addr", "127.0.0.1:8082", "address to listen on")
	insecure := flag.Bool("insecure-cookie", false,
		"session cookie without Secure, named "+insecureCookieName+": for plain HTTP on hosts other than 127.0.0.1 and localhost")
	flag.Parse()
	log.SetFlags(0)

	// A fresh key per run voids the links of the last run; a real integrator
	// loads a stable secret instead.
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	a, err := newApp(ctx, options{Store: memstore.New(), LinkKey: key, AdminToken: demoAdminToken, InsecureCookie: *insecure})
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	printLinks(os.Stdout, a.links, baseURL(ln.Addr()), demoReferences)

	go func() {
		if err := a.m.Run(ctx, func(err error) { log.Print(err) }); err != nil && !errors.Is(err, context.Canceled) {
			log.Print(err)
		}
	}()
	srv := &http.Server{Handler: a, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
	if err := a.m.Close(context.Background()); err != nil {
		log.Print(err)
	}
}

// baseURL is the URL of the listener, with an unspecified host ("[::]",
// "0.0.0.0") shown as 127.0.0.1.
func baseURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// printLinks prints what the integrator's backend would send its customers,
// and how to reach the integrator view.
func printLinks(w io.Writer, links linkSigner, base string, refs []string) {
	fmt.Fprintf(w, "sessionkit onboarding example on %s\n\nResume links (each continues its reference's session for 7 days):\n", base)
	for _, ref := range refs {
		fmt.Fprintf(w, "  %-12s %s\n", ref, links.link(base, ref))
	}
	fmt.Fprintf(w, "\nIntegrator view: %s/admin  (admin token: %s)\n", base, demoAdminToken)
	fmt.Fprintf(w, "  or: curl -H '%s: %s' '%s/api/admin/sessions?reference=%s'\n\n",
		headerAdminToken, demoAdminToken, base, refs[0])
}
