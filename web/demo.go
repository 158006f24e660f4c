package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/transports/httptransport"
	"github.com/sessionkit/sessionkit/transports/wstransport"
)

// DemoCookieName is the session cookie's name when DemoConfig.HTTP asks for
// an insecure cookie without naming one: browsers refuse the default
// "__Host-" name without Secure, which plain-HTTP development cannot have.
const DemoCookieName = "sessionkit"

// maxDemoUser bounds a demo user name, in characters.
const maxDemoUser = 64

// DemoSubject is the demo's authentication: it accepts credentials of the
// form {"user": "ann"} with any non-empty name of at most 64 characters and
// no control characters, and returns the name as the subject. There is no
// password: it is for demonstrations, never for a real service.
func DemoSubject(credentials json.RawMessage) (string, error) {
	var c struct {
		User string `json:"user"`
	}
	dec := json.NewDecoder(bytes.NewReader(credentials))
	if err := dec.Decode(&c); err != nil {
		return "", errors.New(`web: demo credentials are {"user": "name"}`)
	}
	name := strings.TrimSpace(c.User)
	switch {
	case name == "":
		return "", errors.New("web: demo credentials need a user name")
	case utf8.RuneCountInString(name) > maxDemoUser:
		return "", errors.New("web: demo user name is over 64 characters")
	case strings.ContainsFunc(name, unicode.IsControl):
		return "", errors.New("web: demo user name has control characters")
	}
	return name, nil
}

// DemoConfig configures NewDemo. Only Manager is required; NewDemo copies
// the transports' options and never modifies the caller's values.
type DemoConfig struct {
	// Manager holds the sessions of both endpoints. Its policy decides
	// what the pages show: RealtimePolicy for the dictation page,
	// FormsPolicy for the forms page.
	Manager *core.Manager

	// WS configures the WebSocket endpoint. A nil Authenticate means
	// DemoSubject.
	WS wstransport.Options

	// HTTP configures the API. Its Manager is set to Manager. A nil
	// Authenticate means DemoSubject. Browsers take the default Secure
	// cookie over plain HTTP from localhost and 127.0.0.1 (Chromium does);
	// elsewhere plain HTTP needs InsecureCookie, and with InsecureCookie and
	// no CookieName the cookie is named DemoCookieName.
	HTTP httptransport.Config
}

// Demo serves the demo site: the pages and client at /, the WebSocket
// endpoint at /ws, and the HTTP API at /api/ (the pages find both relative
// to themselves, so the site may be mounted under a prefix with
// http.StripPrefix).
//
// Run must be running for WebSocket connections to be probed and timed out,
// and the Manager's own Run for sessions to end on time; both are the
// application's to start, and stop with their contexts.
type Demo struct {
	// WS is the WebSocket endpoint.
	WS *wstransport.Server
	// API is the HTTP API, served under /api/.
	API *httptransport.Handler

	mux *http.ServeMux
}

// NewDemo returns the demo site for cfg.
func NewDemo(cfg DemoConfig) (*Demo, error) {
	if cfg.Manager == nil {
		return nil, errors.New("web: DemoConfig.Manager is nil")
	}
	wo := cfg.WS
	if wo.Authenticate == nil {
		wo.Authenticate = func(_ context.Context, c json.RawMessage) (string, error) { return DemoSubject(c) }
	}
	ws, err := wstransport.NewServer(cfg.Manager, wo)
	if err != nil {
		return nil, err
	}
	hc := cfg.HTTP
	hc.Manager = cfg.Manager
	if hc.Authenticate == nil {
		hc.Authenticate = func(_ *http.Request, c json.RawMessage) (string, error) { return DemoSubject(c) }
	}
	if hc.InsecureCookie && hc.CookieName == "" {
		hc.CookieName = DemoCookieName
	}
	api, err := httptransport.New(hc)
	if err != nil {
		return nil, err
	}
	d := &Demo{WS: ws, API: api, mux: http.NewServeMux()}
	d.mux.Handle("/ws", ws)
	d.mux.Handle("/api/", http.StripPrefix("/api", api))
	d.mux.Handle("/", Handler())
	return d, nil
}

// ServeHTTP serves the site.
func (d *Demo) ServeHTTP(w http.ResponseWriter, r *http.Request) { d.mux.ServeHTTP(w, r) }

// Run serves the WebSocket endpoint's liveness timer until ctx ends
// (wstransport.Server.Run), and returns ctx's error.
func (d *Demo) Run(ctx context.Context) error { return d.WS.Run(ctx) }

// Shutdown closes every WebSocket connection with close code 4001
// (service_restart) and waits for them to go, or for ctx to end
// (wstransport.Server.Shutdown). Shut the HTTP server down after it.
func (d *Demo) Shutdown(ctx context.Context) error { return d.WS.Shutdown(ctx) }
