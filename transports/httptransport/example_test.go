package httptransport_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/sessionkit/sessionkit/adapters/memstore"
	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/transports/httptransport"
)

// A forms portal: the API mounted under /api, the application's pages behind
// the middleware, and the Go client doing what a browser would.
func Example() {
	clk := clock.NewMock()
	clk.Set(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	m, _ := core.New(core.Config{Store: memstore.New(), Policy: core.FormsPolicy(), Clock: clk})
	h, _ := httptransport.New(httptransport.Config{
		Manager: m,
		Authenticate: func(r *http.Request, creds json.RawMessage) (string, error) {
			var c struct{ User, Password string }
			if json.Unmarshal(creds, &c) != nil || c.Password != "let me in" {
				return "", errors.New("wrong password")
			}
			return c.User, nil
		},
	})
	mux := http.NewServeMux()
	mux.Handle("/api/", http.StripPrefix("/api", h))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx := context.Background()
	c, _ := httptransport.NewClient(httptransport.ClientConfig{BaseURL: srv.URL + "/api"})
	created, _ := c.Create(ctx, httptransport.CreateRequest{Channel: "link"})
	fmt.Println("created:", created.Session.State, "pulse every", created.KeepAliveIntervalMS, "ms")

	in, _ := c.Login(ctx, map[string]string{"user": "ann", "password": "let me in"})
	fmt.Println("logged in:", in.Session.Subject, in.Session.State, "until", in.Deadline.Format(time.TimeOnly), in.DeadlineReason)

	clk.Add(20 * time.Minute)
	_, err := c.KeepAlive(ctx)
	why, _ := core.EndReason(err)
	fmt.Println("after 20 idle minutes:", errors.Is(err, core.ErrEnded), why)
	// Output:
	// created: not_started pulse every 450000 ms
	// logged in: ann active until 09:15:00 idle_timeout
	// after 20 idle minutes: true idle_timeout
}

// The middleware guards the application's own routes and hands them the
// session.
func ExampleHandler_Middleware() {
	m, _ := core.New(core.Config{Store: memstore.New()})
	h, _ := httptransport.New(httptransport.Config{Manager: m})
	page := h.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := httptransport.SessionFrom(r.Context())
		fmt.Fprintf(w, "hello, session %s via %s", s.State, s.Channel)
	}))

	s, _ := m.Create(context.Background(), core.CreateOptions{Channel: "frame"})
	r := httptest.NewRequest("GET", "/page", nil)
	r.Header.Set("Authorization", "Bearer "+s.ID)
	w := httptest.NewRecorder()
	page.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Body, w.Header().Get(httptransport.HeaderKeepAliveInterval))

	w = httptest.NewRecorder()
	page.ServeHTTP(w, httptest.NewRequest("GET", "/page", nil))
	fmt.Print(w.Code, " ", w.Body)
	// Output:
	// 200 hello, session active via frame 20000
	// 401 {"error":{"code":"session_required","message":"no session: send the session cookie or an Authorization: Bearer header"}}
}
