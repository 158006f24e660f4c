package core_test

import (
	"context"
	"testing"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/sessionkit/sessionkit/adapters/memstore"
	"github.com/sessionkit/sessionkit/core"
)

// stepClock is a clock whose Now advances by a fixed step per call, without
// the Mock's sleep, so benchmarks measure the engine and not the clock.
type stepClock struct {
	now  time.Time
	step time.Duration
}

func (c *stepClock) Now() time.Time                     { c.now = c.now.Add(c.step); return c.now }
func (c *stepClock) Timer(d time.Duration) *clock.Timer { panic("not used by benchmarks") }

func benchManager(b *testing.B, p core.Policy, step time.Duration) *core.Manager {
	b.Helper()
	m, err := core.New(core.Config{Store: memstore.New(), Policy: p, Clock: &stepClock{now: t0, step: step}})
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// BenchmarkKeepAlive is a pulse on an attached session: handled in memory,
// no store access (budget: ≤ 200 ns, 0 allocs).
func BenchmarkKeepAlive(b *testing.B) {
	ctx := context.Background()
	m := benchManager(b, core.FormsPolicy(), time.Microsecond)
	s, _ := m.Create(ctx, core.CreateOptions{Subject: "ann"})
	m.Activity(ctx, s.ID)
	m.Attach(ctx, s.ID, nopConn{})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.KeepAlive(ctx, s.ID); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkActivity is a request on a session whose checkpoint is not due
// (budget: ≤ 1 µs).
func BenchmarkActivity(b *testing.B) {
	ctx := context.Background()
	m := benchManager(b, core.FormsPolicy(), time.Microsecond)
	s, _ := m.Create(ctx, core.CreateOptions{Subject: "ann"})
	m.Activity(ctx, s.ID)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Activity(ctx, s.ID); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreate creates a session on memstore (budget: ≤ 50 µs).
func BenchmarkCreate(b *testing.B) {
	ctx := context.Background()
	m := benchManager(b, core.ResumablePolicy(), time.Microsecond)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Create(ctx, core.CreateOptions{Reference: "customer-42", Channel: "link"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkKeepAliveParallel shows the keepalive path under contention from
// many connections at once.
func BenchmarkKeepAliveParallel(b *testing.B) {
	ctx := context.Background()
	m := benchManager(b, core.RealtimePolicy(), 0)
	ids := make([]string, 1024)
	for i := range ids {
		s, _ := m.Create(ctx, core.CreateOptions{})
		m.Attach(ctx, s.ID, nopConn{})
		ids[i] = s.ID
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			m.KeepAlive(ctx, ids[i%len(ids)])
			i++
		}
	})
}

type nopConn struct{}

func (nopConn) CloseSession(core.Reason) {}

// BenchmarkStep is the pure state machine alone.
func BenchmarkStep(b *testing.B) {
	mc, _ := core.NewMachine(core.FormsPolicy())
	s, _ := mc.Step(t0, core.Session{}, core.Input{Kind: core.InputCreate, ID: "AAAAAAAAAAAAAAAAAAAAAA", Subject: "ann"})
	s, _ = mc.Step(t0, s, core.Input{Kind: core.InputActivity})
	now := t0
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Millisecond)
		s, _ = mc.Step(now, s, core.Input{Kind: core.InputKeepAlive})
	}
}
