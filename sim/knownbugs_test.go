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

// The tests in this file reproduce core issues the simulator found. Each
// asserts that the issue is still there: when core is fixed the test
// fails, and should become a regression test for the fix. The simulator's
// own reproductions are the bug-*.sim scenarios; this one needs
// Manager.Run, which the simulator does not drive.

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

// TestKnownBugRunSkipsCheckpoints: Manager.Run does not wake up to
// checkpoint touches made after it went to sleep, so a crash loses minutes
// of requests and the session ends minutes early.
//
// Run arms its one timer for the earliest of the stored deadlines and the
// checkpoints due of the sessions pending when it computes the wake-up
// (nextWake). A request handled on the fast path (touch) updates the
// session in memory and does not poke Run. A session whose requests all
// arrive after Run went to sleep is therefore not checkpointed until Run
// wakes for something else: here its own stored idle deadline, ten minutes
// on. After a crash the next Manager allows CheckpointEvery (30 s) for
// unsaved touches, which is far short of the five minutes lost: the
// session ends 4m30s before its idle timeout, against "it never ends
// early" (DESIGN.md, Engine shape).
func TestKnownBugRunSkipsCheckpoints(t *testing.T) {
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

	// Five minutes of requests, one every 10 s.
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
	// Every wake-up of Run re-arms its timer; none was for a checkpoint.
	var wakes []string
	for len(clk.armed) > 0 {
		wakes = append(wakes, (<-clk.armed).Sub(t0).String())
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
	got, err := m2.Get(ctx, s.ID)
	if err == nil {
		t.Fatalf("the session is live a second before its idle timeout, as it should be: " +
			"the issue looks fixed; turn this test into a regression test")
	}
	why, _ := core.EndReason(err)
	t.Logf("known issue reproduced: during 5 min of requests Run re-armed for %v (never a checkpoint); after the crash the session ended %s at %s, %s before its idle deadline %s",
		wakes, why, got.EndedAt.Sub(t0), last.Add(p.IdleTimeout).Sub(got.EndedAt), last.Add(p.IdleTimeout).Sub(t0))
}
