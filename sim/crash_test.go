package sim_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/sessionkit/sessionkit/adapters/memstore"
	"github.com/sessionkit/sessionkit/core"
)

// The test in this file is the regression test of a core issue the
// simulator found, which needs Manager.Run: the simulator sweeps the
// Manager itself and never drives Run.

// armClock is a core.Clock over a Mock that reports every timer Run arms,
// so a test knows when Run has swept and gone to sleep.
type armClock struct {
	*clock.Mock
	armed chan time.Time // the instant each timer was armed for
}

func (c armClock) Timer(d time.Duration) *clock.Timer {
	t := c.Mock.Timer(d)
	c.armed <- c.Mock.Now().Add(d)
	return t
}

func waitArmed(t *testing.T, c armClock) time.Time {
	t.Helper()
	select {
	case at := <-c.armed:
		return at
	case <-time.After(10 * time.Second):
		t.Fatal("Run never armed its timer")
		return time.Time{}
	}
}

// TestRunCrashNeverEndsEarly: requests that arrive while Manager.Run
// sleeps are not lost in a crash, so the session never ends early.
//
// The old core held every touch in memory until Run's next sweep and armed
// Run's timer only for stored deadlines, never for a checkpoint of touches
// made after it went to sleep: here five minutes of requests stayed in
// memory, and after a crash the session ended 4m30s before its idle
// timeout. Now a touch that moves LastSeen CheckpointEvery past the stored
// value is written before it is acknowledged, whatever Run does, and a new
// Manager allows up to CheckpointEvery more for the touches it cannot know:
// the session is live a second before the idle timeout counted from the
// last request, and ends by that timeout plus CheckpointEvery.
func TestRunCrashNeverEndsEarly(t *testing.T) {
	t0 := time.Date(2030, 1, 7, 8, 0, 0, 0, time.UTC)
	mock := clock.NewMock()
	mock.Set(t0)
	clk := armClock{mock, make(chan time.Time, 64)}
	store := memstore.New()
	p := core.Policy{IdleTimeout: 10 * time.Minute, CheckpointEvery: 30 * time.Second}
	m1, err := core.New(core.Config{Store: store, Policy: p, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	s, err := m1.Create(ctx, core.CreateOptions{Subject: "ann"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m1.Activity(ctx, s.ID); err != nil { // stored: LastSeen t0
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- m1.Run(runCtx, nil) }()
	waitArmed(t, clk)

	// Five minutes of requests, one every 10 s, while Run sleeps.
	for range 30 {
		mock.Add(10 * time.Second)
		if _, err := m1.Activity(ctx, s.ID); err != nil {
			t.Fatal(err)
		}
	}
	last := mock.Now()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v", err)
	}

	// Crash: no Flush. A new Manager over the same store, a second before
	// the idle timeout counted from the last request.
	m2, err := core.New(core.Config{Store: store, Policy: p, Clock: mock})
	if err != nil {
		t.Fatal(err)
	}
	mock.Set(last.Add(p.IdleTimeout - time.Second))
	if _, err := m2.Sweep(ctx, mock.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := m2.Get(ctx, s.ID); err != nil {
		why, _ := core.EndReason(err)
		t.Fatalf("after the crash the session ended (%s, %v) a second before its idle deadline %s: the touches made while Run slept were lost",
			why, err, last.Add(p.IdleTimeout).Sub(t0))
	}

	// And it does not outlive that deadline by more than CheckpointEvery.
	limit := last.Add(p.IdleTimeout + p.CheckpointEvery)
	mock.Set(limit)
	if _, err := m2.Sweep(ctx, limit); err != nil {
		t.Fatal(err)
	}
	got, err := m2.Get(ctx, s.ID)
	if why, _ := core.EndReason(err); why != core.ReasonIdleTimeout {
		t.Fatalf("at the idle deadline plus CheckpointEvery (%s) the session is %v, err %v; want ended idle_timeout",
			limit.Sub(t0), got.State, err)
	}
	if got.EndedAt.Before(last.Add(p.IdleTimeout)) || got.EndedAt.After(limit) {
		t.Fatalf("ended at %s, outside [%s, %s]", got.EndedAt.Sub(t0), p.IdleTimeout+last.Sub(t0), limit.Sub(t0))
	}
}
