package wstransport_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sessionkit/sessionkit/adapters/memstore"
	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/transports/wstransport"
)

// wait bounds every wait on a channel: generous, since a failing test
// should fail rather than hang, and a passing one never waits this long.
const wait = 10 * time.Second

// Keepalive timings. fast is for the liveness tests; slow keeps liveness
// out of the way of the others.
var (
	fast = core.KeepAlive{Interval: 250 * time.Millisecond, AckTimeout: 150 * time.Millisecond, LivenessTimeout: 800 * time.Millisecond}
	slow = core.KeepAlive{Interval: 5 * time.Second}
)

func realtime(k core.KeepAlive) core.Policy {
	p := core.RealtimePolicy()
	p.KeepAlive = k
	return p
}

func resumable(k core.KeepAlive) core.Policy {
	p := core.ResumablePolicy()
	p.KeepAlive = k
	return p
}

// testAuth takes credentials {"user": "alice"}; no user is a guest, and the
// password "wrong" is refused.
func testAuth(_ context.Context, raw json.RawMessage) (string, error) {
	var c struct{ User, Password string }
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &c); err != nil {
			return "", err
		}
	}
	if c.Password == "wrong" {
		return "", errors.New("wrong password")
	}
	return c.User, nil
}

func creds(user string) json.RawMessage {
	b, _ := json.Marshal(map[string]string{"user": user})
	return b
}

// service is a Manager and a Server on a loopback HTTP server, with their
// loops running.
type service struct {
	t      *testing.T
	store  *memstore.Store
	m      *core.Manager
	srv    *wstransport.Server
	hs     *httptest.Server
	url    string
	events *core.Subscription
	cancel context.CancelFunc
	done   chan struct{}
}

type config struct {
	store  *memstore.Store
	policy core.Policy
	opts   wstransport.Options
	clock  core.Clock // the Manager's; nil is real
}

func start(t *testing.T, cfg config) *service {
	t.Helper()
	if cfg.store == nil {
		cfg.store = memstore.New()
	}
	m, err := core.New(core.Config{Store: cfg.store, Policy: cfg.policy, Clock: cfg.clock})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Recover(context.Background()); err != nil {
		t.Fatal(err)
	}
	if cfg.opts.Authenticate == nil {
		cfg.opts.Authenticate = testAuth
	}
	srv, err := wstransport.NewServer(m, cfg.opts)
	if err != nil {
		t.Fatal(err)
	}
	s := &service{t: t, store: cfg.store, m: m, srv: srv, events: m.Subscribe(256), done: make(chan struct{})}
	s.hs = httptest.NewServer(srv)
	s.url = "ws" + strings.TrimPrefix(s.hs.URL, "http")
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = m.Run(ctx, nil) }()
	go func() { defer wg.Done(); _ = srv.Run(ctx) }()
	go func() { wg.Wait(); close(s.done) }()
	t.Cleanup(s.stop)
	return s
}

// stop shuts the service down gracefully; calling it again does nothing.
func (s *service) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		s.t.Errorf("Shutdown: %v", err)
	}
	s.cancel()
	<-s.done
	s.hs.Close()
	s.events.Close()
}

// dial connects a Client to the service (or to url, if given).
func (s *service) dial(opts wstransport.DialOptions, url ...string) *wstransport.Client {
	s.t.Helper()
	u := s.url
	if len(url) > 0 {
		u = url[0]
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, err := wstransport.Dial(ctx, u, opts)
	if err != nil {
		s.t.Fatalf("Dial: %v", err)
	}
	s.t.Cleanup(func() { c.Close() })
	return c
}

// login dials and logs in as user, and waits until the Client is live.
func (s *service) login(user string) (*wstransport.Client, wstransport.Session) {
	s.t.Helper()
	c := s.dial(wstransport.DialOptions{})
	return c, doLogin(s.t, c, user)
}

func doLogin(t *testing.T, c *wstransport.Client, user string) wstransport.Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	sess, err := c.Login(ctx, creds(user))
	if err != nil {
		t.Fatalf("Login(%q): %v", user, err)
	}
	waitState(t, c, wstransport.StateLive)
	return sess
}

// waitState reads statuses until one has state want, and returns it.
func waitState(t *testing.T, c *wstransport.Client, want wstransport.State) wstransport.Status {
	t.Helper()
	timeout := time.After(wait)
	for {
		select {
		case st, ok := <-c.Statuses():
			if !ok {
				t.Fatalf("status channel closed at %v, waiting for %s", c.Status(), want)
			}
			if st.State == want {
				return st
			}
			if st.Terminal() {
				t.Fatalf("status %v (code %d, err %v), waiting for %s", st, st.Code, st.Err, want)
			}
		case <-timeout:
			t.Fatalf("no status %s within %v; now %v", want, wait, c.Status())
		}
	}
}

// waitEvent waits for an event of session id of type typ, and returns it.
func (s *service) waitEvent(id string, typ core.EventType) core.Event {
	s.t.Helper()
	timeout := time.After(wait)
	for {
		select {
		case e := <-s.events.C:
			if e.Session == id && e.Type == typ {
				return e
			}
		case <-timeout:
			s.t.Fatalf("no %s event for session %s within %v", typ, id, wait)
		}
	}
}

// rawClient speaks the protocol by hand, to misbehave.
type rawClient struct {
	t  *testing.T
	ws *websocket.Conn
}

func dialRaw(t *testing.T, url string) (*rawClient, map[string]any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	ws.SetReadLimit(1 << 20)
	r := &rawClient{t: t, ws: ws}
	t.Cleanup(func() { ws.CloseNow() })
	hello := r.recv()
	if hello["type"] != "hello" {
		t.Fatalf("first message %v, want a hello", hello)
	}
	return r, hello
}

func (r *rawClient) send(s string) {
	r.t.Helper()
	r.sendType(websocket.MessageText, []byte(s))
}

func (r *rawClient) sendType(typ websocket.MessageType, b []byte) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := r.ws.Write(ctx, typ, b); err != nil {
		r.t.Fatalf("write: %v", err)
	}
}

// recv returns the next message that is not a probe.
func (r *rawClient) recv() map[string]any {
	r.t.Helper()
	for {
		m, err := r.read()
		if err != nil {
			r.t.Fatalf("read: %v", err)
		}
		if m["type"] != "probe" {
			return m
		}
	}
}

func (r *rawClient) read() (map[string]any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_, b, err := r.ws.Read(ctx)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		r.t.Fatalf("service sent %q: %v", b, err)
	}
	return m, nil
}

// closed reads until the connection ends, answering nothing, and returns
// the close error and how many probes came before it.
func (r *rawClient) closed() (probes int, err error) {
	r.t.Helper()
	for {
		m, err := r.read()
		if err != nil {
			return probes, err
		}
		if m["type"] == "probe" {
			probes++
		}
	}
}

// proxy is a loopback TCP proxy that can blackhole traffic (keep both TCP
// connections open and drop every byte) or cut every connection.
type proxy struct {
	t      *testing.T
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	dark   bool
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{t: t, ln: ln, target: target}
	go p.serve()
	t.Cleanup(p.close)
	return p
}

// url is the WebSocket URL of the proxied service.
func (p *proxy) url() string { return "ws://" + p.ln.Addr().String() }

func (p *proxy) serve() {
	for {
		a, err := p.ln.Accept()
		if err != nil {
			return
		}
		b, err := net.Dial("tcp", p.target)
		if err != nil {
			a.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, a, b)
		p.mu.Unlock()
		go p.pipe(a, b)
		go p.pipe(b, a)
	}
}

func (p *proxy) pipe(from, to net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := from.Read(buf)
		if err != nil {
			to.Close()
			return
		}
		p.mu.Lock()
		dark := p.dark
		p.mu.Unlock()
		if dark {
			continue
		}
		if _, err := to.Write(buf[:n]); err != nil {
			from.Close()
			return
		}
	}
}

// blackhole drops everything from now on, in both directions.
func (p *proxy) blackhole() {
	p.mu.Lock()
	p.dark = true
	p.mu.Unlock()
}

// cut closes every proxied connection, as a crashed host would.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *proxy) close() {
	p.ln.Close()
	p.cut()
}
