package wstransport

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/coder/websocket"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/core/liveness"
)

// Server serves the sessionkit message protocol over WebSocket
// (docs/protocol.md). It is an http.Handler: mount it on the path clients
// dial.
//
// Each connection costs one goroutine, the one net/http runs ServeHTTP on,
// which reads the connection for its lifetime. Writes go through a bounded
// per-connection queue; the reader writes its own replies, and a short-lived
// goroutine flushes what the timer queues. There is no pinger goroutine per
// connection: one liveness.Service tracks every connection behind a single
// timer, and Run is the goroutine that serves it, sending probes and closing
// lost connections with CodeConnectionLost. Run must be running for
// connections to be probed, lost or timed out; nothing else starts a
// goroutine that outlives a connection.
type Server struct {
	m      *core.Manager
	o      Options
	hello  []byte
	accept websocket.AcceptOptions

	mu       sync.Mutex
	svc      *liveness.Service // nil when keepalives are off
	conns    map[liveness.ConnID]*conn
	lastID   liveness.ConnID
	logins   []loginDue // connections awaiting a login, oldest first
	armed    time.Time  // when Run's timer fires; zero when it is idle or Run is not running
	running  bool
	shutdown bool
	// releasing counts connections gone from conns whose Detach has not
	// returned yet: a shutdown waits for them, so the Manager records every
	// session's service_restart before it is closed.
	releasing int
	drained   chan struct{} // closed once shut down and every connection is released

	wake chan struct{}

	// Run's scratch space.
	acts []liveness.ServiceAction
	todo []timerWork

	stats struct {
		accepted, probes, lost, loginTimeouts, slow, abusive atomic.Uint64
	}
}

// loginDue is a connection that must log in or resume by at. LoginTimeout is
// the same for every connection, so the queue is ordered by accept time.
type loginDue struct {
	c  *conn
	at time.Time
}

// timerWork is what one Run wakeup does to one connection.
type timerWork struct {
	c  *conn
	op liveness.ServiceOp // 0 for a login timeout
}

// NewServer returns a Server for m. It takes the keepalive interval,
// ack timeout and liveness timeout from m's policy (rule P4, P6) and tells
// clients in the hello.
func NewServer(m *core.Manager, opts Options) (*Server, error) {
	if m == nil {
		return nil, errors.New("wstransport: NewServer needs a Manager")
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	p := m.Policy()
	interval := m.Interval()
	o := opts.withDefaults(interval)
	s := &Server{
		m:       m,
		o:       o,
		conns:   make(map[liveness.ConnID]*conn),
		drained: make(chan struct{}),
		wake:    make(chan struct{}, 1),
		accept: websocket.AcceptOptions{
			OriginPatterns:     o.OriginPatterns,
			InsecureSkipVerify: o.InsecureSkipVerify,
		},
	}
	hello := message{Type: typeHello, Protocol: ProtocolVersion, LoginTimeoutMS: millis(o.LoginTimeout)}
	if interval > 0 {
		k := p.KeepAlive
		margin := o.ProbeMargin
		if margin == 0 {
			// core lets LivenessTimeout be anything above the interval;
			// the liveness machine also wants room for a probe's answer.
			margin = min(liveness.DefaultMargin(interval), (k.LivenessTimeout-interval)/2)
		}
		svc, err := liveness.NewService(liveness.ServiceConfig{
			Interval: interval, Margin: margin, LivenessTimeout: k.LivenessTimeout,
		})
		if err != nil {
			return nil, fmt.Errorf("wstransport: policy and ProbeMargin do not make a liveness service: %w", err)
		}
		s.svc = svc
		hello.IntervalMS = millis(interval)
		hello.AckTimeoutMS = millis(k.AckTimeout)
		hello.LivenessTimeoutMS = millis(k.LivenessTimeout)
	}
	var err error
	if s.hello, err = encode(&hello); err != nil {
		return nil, err
	}
	return s, nil
}

// ServerStats counts what a Server has done since it was made.
type ServerStats struct {
	Conns         int    // connections open now
	Accepted      uint64 // connections accepted
	Probes        uint64 // probes sent to silent connections
	Lost          uint64 // connections closed as lost (CodeConnectionLost)
	LoginTimeouts uint64 // connections closed with CodeLoginTimeout
	SlowConsumers uint64 // connections closed with CodeSlowConsumer
	Abusive       uint64 // connections closed with 1008
}

// Stats returns the counters.
func (s *Server) Stats() ServerStats {
	s.mu.Lock()
	n := len(s.conns)
	s.mu.Unlock()
	return ServerStats{
		Conns:         n,
		Accepted:      s.stats.accepted.Load(),
		Probes:        s.stats.probes.Load(),
		Lost:          s.stats.lost.Load(),
		LoginTimeouts: s.stats.loginTimeouts.Load(),
		SlowConsumers: s.stats.slow.Load(),
		Abusive:       s.stats.abusive.Load(),
	}
}

// ServeHTTP upgrades the request to a WebSocket and starts the
// connection's reading goroutine. It returns at once, so that net/http lets
// go of the request and its buffers: an idle connection holds only what it
// needs. The session token never travels in the URL: the client sends it
// in a resume message.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	down := s.shutdown
	s.mu.Unlock()
	if down {
		http.Error(w, "service restarting", http.StatusServiceUnavailable)
		return
	}
	h := &hijacker{ResponseWriter: w}
	ws, err := websocket.Accept(h, r, &s.accept)
	if err != nil {
		return // Accept has written the HTTP error
	}
	ws.SetReadLimit(s.o.ReadLimit)
	c := &conn{s: s, ws: ws, tcp: h.tcp, reqCtx: context.WithoutCancel(r.Context())}
	go c.serve()
}

// serve is the connection's reading goroutine.
func (c *conn) serve() {
	s := c.s
	if s.register(c) {
		s.stats.accepted.Add(1)
		c.push(s.hello, true)
	} else {
		c.closeWith(CodeServiceRestart, core.ReasonServiceRestart, nil, false)
	}
	c.readLoop()
	s.release(c)
}

// register starts tracking c. It returns false once the server is shutting
// down.
func (s *Server) register(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutdown {
		return false
	}
	s.lastID++
	c.id = s.lastID
	s.conns[c.id] = c
	now := s.o.Clock.Now()
	due := now.Add(s.o.LoginTimeout)
	s.logins = append(s.logins, loginDue{c, due})
	if s.svc != nil {
		s.svc.Add(c.id, now)
		if next, _ := s.svc.Next(); next.Before(due) {
			due = next
		}
	}
	if s.armed.IsZero() || due.Before(s.armed) {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	return true
}

// release forgets c after its reader returned, applies the disconnect to
// its session (rule P7) and closes the TCP connection.
func (s *Server) release(c *conn) {
	c.drop()
	s.mu.Lock()
	if s.conns[c.id] == c {
		delete(s.conns, c.id)
		if s.svc != nil {
			s.svc.Remove(c.id)
		}
	}
	s.releasing++
	s.mu.Unlock()
	s.detach(c, c.detachReason())
	// A read error does not close a websocket.Conn; a finished close
	// handshake has, and then this returns at once.
	_ = c.ws.CloseNow()
	s.mu.Lock()
	s.releasing--
	if s.shutdown && len(s.conns) == 0 && s.releasing == 0 {
		s.closeDrained()
	}
	s.mu.Unlock()
}

// detach tells the Manager that c is gone. It is a no-op for a connection
// that was never attached or was detached already.
func (s *Server) detach(c *conn, reason core.Reason) {
	err := s.m.Detach(context.Background(), c, reason)
	if err != nil {
		s.report(fmt.Errorf("wstransport: detaching a connection: %w", err))
	}
}

func (s *Server) report(err error) {
	if s.o.OnError != nil {
		s.o.OnError(err)
	}
}

func (s *Server) closeDrained() {
	select {
	case <-s.drained:
	default:
		close(s.drained)
	}
}

// heard records a message from c.
func (s *Server) heard(c *conn, now time.Time) {
	if s.svc == nil {
		return
	}
	s.mu.Lock()
	s.svc.Heard(c.id, now)
	s.mu.Unlock()
}

// Run serves the liveness timer of every connection until ctx ends, and
// returns ctx's error. It sends probes to connections silent past the
// interval plus a margin, closes connections silent for LivenessTimeout
// with CodeConnectionLost and applies the disconnect to their sessions, and
// closes connections that did not log in within LoginTimeout. Start it once,
// before or after serving; calling it while it runs fails.
func (s *Server) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.running {
		s.mu.Unlock()
		return errors.New("wstransport: Server.Run is already running")
	}
	s.running = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.running, s.armed = false, time.Time{}
		s.mu.Unlock()
	}()
	for {
		next, ok := s.advance()
		var timer *clock.Timer
		var fire <-chan time.Time
		if ok {
			timer = s.o.Clock.Timer(next.Sub(s.o.Clock.Now()))
			fire = timer.C
		}
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			return ctx.Err()
		case <-fire:
		case <-s.wake:
			if timer != nil {
				timer.Stop()
			}
		}
	}
}

// advance carries out what is due now and returns when the timer should
// next fire, and false when nothing is tracked.
func (s *Server) advance() (time.Time, bool) {
	s.mu.Lock()
	now := s.o.Clock.Now()
	s.todo = s.todo[:0]
	if s.svc != nil {
		s.acts = s.svc.Advance(now, s.acts[:0])
		for _, a := range s.acts {
			if c := s.conns[a.ID]; c != nil {
				s.todo = append(s.todo, timerWork{c, a.Op})
			}
		}
	}
	i := 0
	for ; i < len(s.logins) && !s.logins[i].at.After(now); i++ {
		if c := s.logins[i].c; !c.loggedIn.Load() {
			s.todo = append(s.todo, timerWork{c: c})
		}
		s.logins[i] = loginDue{}
	}
	if i > 0 {
		s.logins = s.logins[i:]
		if len(s.logins) == 0 {
			s.logins = nil // let the backing array go
		}
	}
	var next time.Time
	if s.svc != nil {
		next, _ = s.svc.Next()
	}
	if len(s.logins) > 0 && (next.IsZero() || s.logins[0].at.Before(next)) {
		next = s.logins[0].at
	}
	if !next.IsZero() {
		next = next.Add(s.o.TimerSlack)
	}
	s.armed = next
	s.mu.Unlock()

	for _, w := range s.todo {
		switch w.op {
		case liveness.ServiceProbe:
			s.stats.probes.Add(1)
			w.c.probe()
		case liveness.ServiceLost:
			s.stats.lost.Add(1)
			w.c.closeWith(CodeConnectionLost, core.ReasonConnectionLost, nil, true)
		default:
			s.stats.loginTimeouts.Add(1)
			w.c.closeWith(CodeLoginTimeout, ReasonLoginTimeout, nil, false)
		}
	}
	clear(s.todo)
	return next, !next.IsZero()
}

// Shutdown closes every connection with CodeServiceRestart, applies the
// disconnect to their sessions with reason service_restart (rule P10: the
// same outcome Recover gives after a crash), refuses new connections with
// 503, and waits until every connection is gone or ctx ends; then it drops
// the rest without a close handshake. It does not stop Run, which stops with
// its own context, nor the Manager.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.shutdown = true
	list := make([]*conn, 0, len(s.conns))
	for _, c := range s.conns {
		list = append(list, c)
	}
	if len(s.conns) == 0 && s.releasing == 0 {
		s.closeDrained()
	}
	s.mu.Unlock()
	for _, c := range list {
		c.closeWith(CodeServiceRestart, core.ReasonServiceRestart, nil, false)
	}
	select {
	case <-s.drained:
		return nil
	case <-ctx.Done():
		for _, c := range list {
			c.drop()
		}
		return ctx.Err()
	}
}
