package wstransport_test

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/coder/websocket"

	"github.com/sessionkit/sessionkit/adapters/memstore"
	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/core/liveness"
	"github.com/sessionkit/sessionkit/transports/wstransport"
)

// timed is an ack and when the client handled it.
type timed struct {
	wstransport.Ack
	at time.Time
}

// A live client sends a keepalive every interval, scheduled from the
// previous ack, and the service answers each one with the session's
// deadline (rules P4, P6).
func TestKeepaliveEveryIntervalIsAcked(t *testing.T) {
	s := start(t, config{policy: realtime(fast)})
	acks := make(chan timed, 64)
	c := s.dial(wstransport.DialOptions{OnAck: func(a wstransport.Ack) { acks <- timed{a, time.Now()} }})
	if got := c.Hello().Interval; got != fast.Interval {
		t.Fatalf("hello interval %v, want %v", got, fast.Interval)
	}
	doLogin(t, c, "alice")

	const n = 5
	var prev time.Time
	for i := uint64(1); i <= n; i++ {
		var a timed
		select {
		case a = <-acks:
		case <-time.After(wait):
			t.Fatalf("no ack %d within %v", i, wait)
		}
		if a.Seq != i {
			t.Fatalf("ack seq %d, want %d", a.Seq, i)
		}
		if a.State != core.StateActive || a.Deadline.IsZero() {
			t.Errorf("ack %d carries state %q deadline %v, want active with a deadline", i, a.State, a.Deadline)
		}
		if a.RTT >= fast.AckTimeout {
			t.Errorf("ack %d RTT %v, not under the ack timeout %v", i, a.RTT, fast.AckTimeout)
		}
		// Keepalive i+1 is sent Interval after ack i arrived, so acks are
		// at least an interval apart.
		if !prev.IsZero() && a.at.Sub(prev) < fast.Interval {
			t.Errorf("ack %d came %v after ack %d, less than the interval %v", i, a.at.Sub(prev), i-1, fast.Interval)
		}
		prev = a.at
	}
	st := c.Stats()
	if st.StaleAcks != 0 || st.Acks < n || st.KeepalivesSent > st.Acks+1 {
		t.Errorf("client stats %+v: want every keepalive acked, none stale", st)
	}
	if got := c.Status().State; got != wstransport.StateLive {
		t.Errorf("status %s, want live", got)
	}
}

// The client's schedule runs on its clock seam: with a mock clock, nothing
// is sent before the interval has passed since the last ack, and exactly one
// keepalive after.
func TestClientKeepaliveScheduleFollowsItsClock(t *testing.T) {
	s := start(t, config{policy: realtime(slow)})
	mock := clock.NewMock()
	acks := make(chan wstransport.Ack, 8)
	c := s.dial(wstransport.DialOptions{Clock: mock, OnAck: func(a wstransport.Ack) { acks <- a }})
	doLogin(t, c, "alice")

	for i := uint64(1); i <= 3; i++ {
		mock.Add(slow.Interval - time.Millisecond)
		if got := c.Stats().KeepalivesSent; got != i-1 {
			t.Fatalf("%d keepalives sent 1ms before keepalive %d was due, want %d", got, i, i-1)
		}
		mock.Add(time.Millisecond)
		select {
		case a := <-acks:
			if a.Seq != i {
				t.Fatalf("ack seq %d, want %d", a.Seq, i)
			}
		case <-time.After(wait):
			t.Fatalf("keepalive %d not acked within %v", i, wait)
		}
	}
	if got := c.Stats().KeepalivesSent; got != 3 {
		t.Errorf("%d keepalives sent, want 3", got)
	}
}

// A client that stops sending and answers no probe (a frozen tab) is
// probed, then closed with CodeConnectionLost within LivenessTimeout; its
// session ends with connection_lost under RealtimePolicy and is suspended
// under ResumablePolicy (rules P6, P7).
func TestFrozenClientIsDetected(t *testing.T) {
	tests := []struct {
		name   string
		policy core.Policy
		want   core.EventType
	}{
		{"realtime ends", realtime(fast), core.EventEnded},
		{"resumable suspends", resumable(fast), core.EventSuspended},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := start(t, config{policy: tt.policy})
			r, _ := dialRaw(t, s.url)
			r.send(`{"type":"login","rid":1,"credentials":{"user":"frozen"}}`)
			sent := time.Now()
			reply := r.recv()
			id, _ := reply["session"].(string)
			if reply["type"] != "session" || id == "" {
				t.Fatalf("login reply %v", reply)
			}

			probes, err := r.closed() // frozen from here: reads, answers nothing
			silent := time.Since(sent)
			if got := websocket.CloseStatus(err); got != wstransport.CodeConnectionLost {
				t.Fatalf("closed with %v (%v), want %d", got, err, wstransport.CodeConnectionLost)
			}
			if probes == 0 {
				t.Error("no probe before the close")
			}
			timeout := fast.LivenessTimeout
			if silent < timeout-50*time.Millisecond || silent > timeout+500*time.Millisecond {
				t.Errorf("closed after %v of silence, want about the liveness timeout %v", silent, timeout)
			}
			e := s.waitEvent(id, tt.want)
			if tt.want == core.EventEnded && e.Reason != core.ReasonConnectionLost {
				t.Errorf("session ended with %q, want connection_lost", e.Reason)
			}
			if got := s.srv.Stats().Lost; got != 1 {
				t.Errorf("server counted %d lost connections, want 1", got)
			}
		})
	}
}

// A client whose timers are throttled (a hidden tab) sends no keepalive but
// answers probes from its message handler; the service keeps it (DESIGN,
// "Liveness and the wire").
func TestProbesKeepThrottledClientAlive(t *testing.T) {
	s := start(t, config{policy: realtime(fast)})
	r, _ := dialRaw(t, s.url)
	r.send(`{"type":"login","rid":1,"credentials":{"user":"hidden"}}`)
	if m := r.recv(); m["type"] != "session" {
		t.Fatalf("login reply %v", m)
	}
	// Three probes answered span more than a liveness timeout of silence
	// from the client's own timers.
	start := time.Now()
	for answered := 0; answered < 3; {
		m, err := r.read()
		if err != nil {
			t.Fatalf("connection closed after %d probes answered: %v", answered, err)
		}
		if m["type"] == "probe" {
			r.send(`{"type":"probe_reply","seq":` + jsonNumber(m["seq"]) + `}`)
			answered++
		}
	}
	if elapsed := time.Since(start); elapsed < fast.LivenessTimeout {
		t.Fatalf("3 probes in %v, within one liveness timeout %v: the test proves nothing", elapsed, fast.LivenessTimeout)
	}
	r.send(`{"type":"keepalive","seq":1}`)
	if m := r.recv(); m["type"] != "ack" || m["state"] != "active" {
		t.Fatalf("keepalive after probes got %v, want an ack of an active session", m)
	}
}

func jsonNumber(v any) string {
	f, _ := v.(float64)
	return strconv.FormatUint(uint64(f), 10)
}

// A client whose acks stop arriving (the network drops everything, the TCP
// connection stays up) reports lost within AckTimeout of the unanswered
// keepalive (rule P6); the service, hearing nothing, ends the session.
func TestClientReportsLostWhenAcksStop(t *testing.T) {
	s := start(t, config{policy: realtime(fast)})
	p := newProxy(t, s.hs.Listener.Addr().String())
	acks := make(chan wstransport.Ack, 64)
	c := s.dial(wstransport.DialOptions{OnAck: func(a wstransport.Ack) { acks <- a }}, p.url())
	sess := doLogin(t, c, "alice")
	select {
	case <-acks:
	case <-time.After(wait):
		t.Fatal("no first ack")
	}

	p.blackhole()
	dark := time.Now()
	st := waitState(t, c, wstransport.StateLost)
	elapsed := time.Since(dark)
	if st.Reason != core.ReasonConnectionLost || !errors.Is(st.Err, wstransport.ErrAckTimeout) {
		t.Errorf("lost with %v, err %v; want connection_lost by ack timeout", st, st.Err)
	}
	// The next keepalive goes out at most an interval after the last ack,
	// and is given AckTimeout.
	if bound := fast.Interval + fast.AckTimeout + 300*time.Millisecond; elapsed > bound || elapsed < fast.AckTimeout {
		t.Errorf("lost %v after the network went dark, want between %v and %v", elapsed, fast.AckTimeout, bound)
	}
	if !errors.Is(c.Err(), wstransport.ErrLost) {
		t.Errorf("Err() = %v, want ErrLost", c.Err())
	}
	e := s.waitEvent(sess.ID, core.EventEnded)
	if e.Reason != core.ReasonConnectionLost {
		t.Errorf("session ended with %q, want connection_lost", e.Reason)
	}
}

// With keepalives off (KeepAlive.Disabled) the hello announces no interval,
// the client sends none, and the service neither probes nor drops silent
// connections.
func TestKeepalivesDisabled(t *testing.T) {
	p := core.RealtimePolicy()
	p.KeepAlive = core.KeepAlive{Disabled: true}
	s := start(t, config{policy: p})
	mock := clock.NewMock()
	c := s.dial(wstransport.DialOptions{Clock: mock})
	if h := c.Hello(); h.Interval != 0 || h.AckTimeout != 0 {
		t.Fatalf("hello %+v, want no keepalive timing", h)
	}
	doLogin(t, c, "ida")
	mock.Add(time.Hour)
	if st := c.Stats(); st.KeepalivesSent != 0 {
		t.Errorf("sent %d keepalives with keepalives off", st.KeepalivesSent)
	}
	r, _ := dialRaw(t, s.url)
	r.send(`{"type":"keepalive","seq":1}`)
	if m := r.recv(); m["type"] != "ack" {
		t.Errorf("keepalive with keepalives off: %v, want an ack without a session", m)
	}
	if got := c.Status().State; got != wstransport.StateLive {
		t.Errorf("status %s, want live", got)
	}
}

// A Go client whose timers never fire (its clock is a mock nobody moves,
// as in a throttled tab) answers the service's probes from its reader and
// stays connected well past the liveness timeout.
func TestClientAnswersProbes(t *testing.T) {
	s := start(t, config{policy: realtime(fast)})
	c := s.dial(wstransport.DialOptions{Clock: clock.NewMock()})
	doLogin(t, c, "jo")
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(wait)
	began := time.Now()
	for c.Stats().Probes < 3 {
		select {
		case <-tick.C:
		case <-timeout:
			t.Fatalf("%d probes answered within %v, want 3; status %v", c.Stats().Probes, wait, c.Status())
		}
	}
	if elapsed := time.Since(began); elapsed < fast.LivenessTimeout {
		t.Fatalf("3 probes within %v, less than the liveness timeout %v: the test proves nothing", elapsed, fast.LivenessTimeout)
	}
	if st := c.Status(); st.State != wstransport.StateLive {
		t.Errorf("status %v, want live", st)
	}
	if st := c.Stats(); st.KeepalivesSent != 0 {
		t.Errorf("sent %d keepalives with a stopped clock", st.KeepalivesSent)
	}
	if got := s.srv.Stats().Lost; got != 0 {
		t.Errorf("server lost %d connections, want 0", got)
	}
}

// core refuses a LivenessTimeout that leaves no room for the default probe
// margin; NewServer refuses an explicit margin that does not fit the policy.
func TestNewServerFitsProbeMarginToPolicy(t *testing.T) {
	p := core.RealtimePolicy()
	p.KeepAlive = core.KeepAlive{Interval: 20 * time.Second, LivenessTimeout: 22 * time.Second}
	if _, err := core.New(core.Config{Store: memstore.New(), Policy: p}); !errors.Is(err, core.ErrInvalidPolicy) {
		t.Errorf("core.New with 22s liveness on a 20s interval: %v, want ErrInvalidPolicy", err)
	}
	p.KeepAlive.LivenessTimeout = 30 * time.Second
	m, err := core.New(core.Config{Store: memstore.New(), Policy: p})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wstransport.NewServer(m, wstransport.Options{}); err != nil {
		t.Errorf("NewServer with the default margin: %v", err)
	}
	if _, err := wstransport.NewServer(m, wstransport.Options{ProbeMargin: 15 * time.Second}); !errors.Is(err, liveness.ErrInvalidConfig) {
		t.Errorf("NewServer with a 15s margin in a 10s gap: %v, want liveness.ErrInvalidConfig", err)
	}
}
