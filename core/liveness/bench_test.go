package liveness_test

import (
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/core/liveness"
)

const benchConns = 10_000

// newBenchService returns a Service with benchConns connections added over
// one interval, as after a ramp-up.
func newBenchService(b *testing.B) *liveness.Service {
	b.Helper()
	s, err := liveness.NewService(liveness.ServiceConfig{Interval: sec(20)})
	if err != nil {
		b.Fatal(err)
	}
	step := sec(20) / benchConns
	for i := range benchConns {
		s.Add(liveness.ConnID(i), at(time.Duration(i)*step))
	}
	return s
}

// BenchmarkServiceHeard is the service's share of handling one keepalive.
func BenchmarkServiceHeard(b *testing.B) {
	s := newBenchService(b)
	now := at(sec(20))
	i := 0
	for b.Loop() {
		now = now.Add(time.Microsecond)
		s.Heard(liveness.ConnID(i), now)
		if i++; i == benchConns {
			i = 0
		}
	}
}

// BenchmarkServiceAdvance is the steady state of 10k punctual clients: per
// op one keepalive is heard, Next is read, and Advance runs when Next has
// come. ns/op is the service's cost per keepalive, Heard included.
func BenchmarkServiceAdvance(b *testing.B) {
	s := newBenchService(b)
	step := sec(20) / benchConns
	now := at(sec(20))
	var buf []liveness.ServiceAction
	i := 0
	for b.Loop() {
		now = now.Add(step)
		s.Heard(liveness.ConnID(i), now)
		if i++; i == benchConns {
			i = 0
		}
		if next, _ := s.Next(); !next.After(now) {
			buf = s.Advance(now, buf[:0])
			if len(buf) != 0 {
				b.Fatalf("punctual clients got %v", buf)
			}
		}
	}
}

// BenchmarkServiceTimer drives 10k punctual clients the way the WebSocket
// server does: each op hears the next connection in round-robin order, one
// keepalive per connection per interval, and the caller's one timer, armed
// for Next only after Add and Advance (Heard needs no rearm), runs Advance
// whenever it has come due. ns/op is the service's cost per keepalive,
// wakeups included; wakeups/op counts the timer runs, all of which find
// nothing to do here.
func BenchmarkServiceTimer(b *testing.B) {
	s := newBenchService(b)
	step := sec(20) / benchConns
	now := at(sec(20))
	armed, _ := s.Next()
	var buf []liveness.ServiceAction
	wakeups := 0
	i := 0
	for b.Loop() {
		now = now.Add(step)
		for !armed.After(now) {
			wakeups++
			buf = s.Advance(armed, buf[:0])
			if len(buf) != 0 {
				b.Fatalf("punctual clients got %v", buf)
			}
			armed, _ = s.Next()
		}
		s.Heard(liveness.ConnID(i), now)
		if i++; i == benchConns {
			i = 0
		}
	}
	b.ReportMetric(float64(wakeups)/float64(b.N), "wakeups/op")
}

// BenchmarkServiceAdvanceProbeAll is one timer run that finds all 10k
// connections due for a probe at once (e.g. after a network outage); ns/op
// is for the whole run.
func BenchmarkServiceAdvanceProbeAll(b *testing.B) {
	buf := make([]liveness.ServiceAction, 0, benchConns)
	for b.Loop() {
		b.StopTimer()
		s := newBenchService(b)
		b.StartTimer()
		buf = s.Advance(at(sec(45)), buf[:0])
		if len(buf) != benchConns {
			b.Fatalf("got %d actions, want %d", len(buf), benchConns)
		}
	}
}

// BenchmarkClientTick is one keepalive round on the client: the timer
// sends, the ack comes back, the next timer is armed.
func BenchmarkClientTick(b *testing.B) {
	c, err := liveness.NewClient(liveness.ClientConfig{Interval: sec(20)})
	if err != nil {
		b.Fatal(err)
	}
	now := at(0)
	c.Start(now)
	for b.Loop() {
		now = c.Next()
		a := c.Tick(now)
		if a.Op != liveness.ClientSendKeepalive {
			b.Fatalf("Tick = %v", a.Op)
		}
		if r := c.Ack(now.Add(50*time.Millisecond), a.Seq); r != liveness.AckAccepted {
			b.Fatalf("Ack = %v", r)
		}
	}
}
