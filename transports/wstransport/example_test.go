package wstransport_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/sessionkit/sessionkit/adapters/memstore"
	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/transports/wstransport"
)

// A service with RealtimePolicy and a client that logs in and out. The
// statuses are what a status bar would show.
func Example() {
	m, err := core.New(core.Config{Store: memstore.New(), Policy: core.RealtimePolicy()})
	if err != nil {
		panic(err)
	}
	srv, err := wstransport.NewServer(m, wstransport.Options{
		Authenticate: func(_ context.Context, creds json.RawMessage) (string, error) {
			var c struct{ User string }
			err := json.Unmarshal(creds, &c)
			return c.User, err // a real application checks a password or a token here
		},
	})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.Run(ctx) // the one liveness timer for every connection
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Shutdown(ctx)

	c, err := wstransport.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http"), wstransport.DialOptions{})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	fmt.Println(<-c.Statuses(), c.Hello().Interval)

	sess, err := c.Login(ctx, json.RawMessage(`{"user":"alice"}`))
	if err != nil {
		panic(err)
	}
	fmt.Println(<-c.Statuses(), sess.Subject, sess.State)

	if err := c.Logout(ctx); err != nil {
		panic(err)
	}
	st := <-c.Statuses()
	fmt.Println(st, int(st.Code))
	// Output:
	// connecting 20s
	// live alice active
	// ended (logout) 4500
}
