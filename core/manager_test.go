package core_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/sessionkit/sessionkit/adapters/memstore"
	"github.com/sessionkit/sessionkit/core"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// countingStore counts writes, to prove which paths reach the store.
type countingStore struct {
	core.Store
	puts atomic.Int64
}

func (s *countingStore) Put(ctx context.Context, r core.Record) (uint64, error) {
	s.puts.Add(1)
	return s.Store.Put(ctx, r)
}

type fixture struct {
	t     *testing.T
	m     *core.Manager
	clock *clock.Mock
	store *countingStore
	ev    *core.Subscription
}

func newFixture(t *testing.T, p core.Policy) *fixture {
	t.Helper()
	c := clock.NewMock()
	c.Set(t0)
	f := &fixture{t: t, clock: c, store: &countingStore{Store: memstore.New()}}
	f.m = f.manager(p)
	return f
}

// manager starts a Manager over the fixture's store, as a restart would.
func (f *fixture) manager(p core.Policy) *core.Manager {
	f.t.Helper()
	m, err := core.New(core.Config{Store: f.store, Policy: p, Clock: f.clock})
	if err != nil {
		f.t.Fatal(err)
	}
	f.ev = m.Subscribe(1024)
	return m
}

func (f *fixture) create(o core.CreateOptions) core.Session {
	f.t.Helper()
	s, err := f.m.Create(context.Background(), o)
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

func (f *fixture) sweep() core.SweepResult {
	f.t.Helper()
	r, err := f.m.Sweep(context.Background(), f.clock.Now())
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

// advance moves virtual time without the Mock's per-call sleep mattering.
func (f *fixture) advance(d time.Duration) { f.clock.Add(d) }

// events drains the events emitted so far.
func (f *fixture) events() []core.Event {
	var out []core.Event
	for {
		select {
		case e := <-f.ev.C:
			out = append(out, e)
		default:
			return out
		}
	}
}

func (f *fixture) wantEvent(typ core.EventType, reason core.Reason) core.Event {
	f.t.Helper()
	for _, e := range f.events() {
		if e.Type == typ && e.Reason == reason {
			return e
		}
	}
	f.t.Fatalf("no %s event with reason %q", typ, reason)
	return core.Event{}
}

func wantReason(t *testing.T, err error, want core.Reason) {
	t.Helper()
	if got, ok := core.EndReason(err); !ok || got != want {
		t.Fatalf("err = %v, want ended with %s", err, want)
	}
}

// conn is a test connection that records why it was closed.
type conn struct {
	mu     sync.Mutex
	reason core.Reason
}

func (c *conn) CloseSession(r core.Reason) { c.mu.Lock(); c.reason = r; c.mu.Unlock() }
func (c *conn) closedWith() core.Reason    { c.mu.Lock(); defer c.mu.Unlock(); return c.reason }

var ctx = context.Background()

func TestP1ExpiredIsNotNotFound(t *testing.T) {
	f := newFixture(t, core.Policy{})
	s := f.create(core.CreateOptions{})
	f.advance(168*time.Hour - time.Second)
	if _, err := f.m.Activity(ctx, s.ID); err != nil {
		t.Fatalf("at TTL-1s: %v", err)
	}
	f.advance(2 * time.Second)
	_, err := f.m.Activity(ctx, s.ID)
	if !errors.Is(err, core.ErrExpired) || errors.Is(err, core.ErrNotFound) {
		t.Fatalf("at TTL+1s: %v, want ErrExpired", err)
	}
	if _, err := f.m.Resume(ctx, s.ID); !errors.Is(err, core.ErrExpired) {
		t.Errorf("resume after TTL: %v", err)
	}
	if _, err := f.m.Get(ctx, "AAAAAAAAAAAAAAAAAAAAAA"); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("unknown id: %v, want ErrNotFound", err)
	}
	for _, bad := range []string{"", "short", "AAAAAAAAAAAAAAAAAAAAA=", "../AAAAAAAAAAAAAAAAAAAA"} {
		if _, err := f.m.KeepAlive(ctx, bad); !errors.Is(err, core.ErrInvalidID) {
			t.Errorf("KeepAlive(%q) = %v, want ErrInvalidID", bad, err)
		}
	}
}

func TestP2IdleEndsOnSweepAndOnAccess(t *testing.T) {
	f := newFixture(t, core.Policy{IdleTimeout: 10 * time.Minute})
	a, b := f.create(core.CreateOptions{}), f.create(core.CreateOptions{})
	for _, s := range []core.Session{a, b} {
		if _, err := f.m.Activity(ctx, s.ID); err != nil {
			t.Fatal(err)
		}
	}
	f.advance(8 * time.Minute)
	st, err := f.m.Activity(ctx, a.ID) // held in memory: the store still has t0
	if err != nil || !st.Deadline.Equal(t0.Add(18*time.Minute)) {
		t.Fatalf("activity: %v %v", st.Deadline, err)
	}
	f.advance(2 * time.Minute)
	if r := f.sweep(); r.Ended != 1 {
		t.Fatalf("sweep at 10m ended %d, want 1 (b only)", r.Ended)
	}
	if _, err := f.m.Activity(ctx, a.ID); err != nil {
		t.Fatalf("a ended early: %v", err)
	}
	_, err = f.m.Activity(ctx, b.ID)
	wantReason(t, err, core.ReasonIdleTimeout)
	f.wantEvent(core.EventEnded, core.ReasonIdleTimeout)

	f.advance(10*time.Minute - time.Second)
	f.sweep()
	if _, err := f.m.Get(ctx, a.ID); err != nil {
		t.Fatalf("a ended before its deadline: %v", err)
	}
	f.advance(time.Second)
	_, err = f.m.KeepAlive(ctx, a.ID) // found due on access, without a sweep
	wantReason(t, err, core.ReasonIdleTimeout)
}

func TestP3AuthTimeoutThroughManager(t *testing.T) {
	// Pulses that do not count (no form open) renew nothing.
	f := newFixture(t, core.Policy{AuthTimeout: 30 * time.Minute, MaxAuthAge: time.Hour,
		KeepAlive: core.KeepAlive{ExtendsIdle: core.ExtendsWhileInProgress}})
	s, err := f.m.Login(ctx, f.create(core.CreateOptions{}).ID, "ann")
	if err != nil {
		t.Fatal(err)
	}
	f.advance(25 * time.Minute)
	if _, err := f.m.KeepAlive(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	f.advance(5 * time.Minute) // keepalives renew nothing: 30 min since login
	_, err = f.m.KeepAlive(ctx, s.ID)
	wantReason(t, err, core.ReasonAuthTimeout)

	s, _ = f.m.Login(ctx, f.create(core.CreateOptions{}).ID, "bob")
	for range 3 {
		f.advance(20 * time.Minute)
		_, err = f.m.Activity(ctx, s.ID)
	}
	wantReason(t, err, core.ReasonMaxAuthAge)
}

func TestP3CountedPulseRenewsAuth(t *testing.T) {
	f := newFixture(t, core.FormsPolicy()) // auth 30 min, idle 15 min, pulses while a form is open
	s, _ := f.m.Login(ctx, f.create(core.CreateOptions{}).ID, "ann")
	if _, err := f.m.SaveDraft(ctx, s.ID, core.DraftSave{Data: []byte("x"), Mode: core.SaveAuto}); err != nil {
		t.Fatal(err)
	}
	for range 8 { // an hour of pulses with the form open, no typing
		f.advance(f.m.Interval())
		if _, err := f.m.KeepAlive(ctx, s.ID); err != nil {
			t.Fatalf("at %v: %v", f.clock.Now().Sub(t0), err)
		}
	}
}

func TestP5KeepAliveExtendsIdleOnlyWithOpenDraft(t *testing.T) {
	f := newFixture(t, core.Policy{IdleTimeout: 10 * time.Minute, KeepAlive: core.KeepAlive{ExtendsIdle: core.ExtendsWhileInProgress}})
	s := f.create(core.CreateOptions{})
	if _, err := f.m.Activity(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	f.advance(5 * time.Minute)
	st, _ := f.m.KeepAlive(ctx, s.ID)
	if want := t0.Add(10 * time.Minute); !st.Deadline.Equal(want) {
		t.Fatalf("no draft: deadline %v, want %v", st.Deadline, want)
	}
	d, err := f.m.SaveDraft(ctx, s.ID, core.DraftSave{Name: "form", Data: []byte("x"), Mode: core.SaveAuto})
	if err != nil {
		t.Fatal(err)
	}
	f.advance(5 * time.Minute)
	st, _ = f.m.KeepAlive(ctx, s.ID)
	if want := f.clock.Now().Add(10 * time.Minute); !st.Deadline.Equal(want) {
		t.Fatalf("open draft: deadline %v, want %v", st.Deadline, want)
	}
	if _, err := f.m.CloseDraft(ctx, s.ID, d.ID, d.Version); err != nil {
		t.Fatal(err)
	}
	f.advance(time.Minute)
	st, _ = f.m.KeepAlive(ctx, s.ID)
	if want := f.clock.Now().Add(9 * time.Minute); !st.Deadline.Equal(want) {
		t.Errorf("closed draft: deadline %v, want %v", st.Deadline, want)
	}
}

func TestKeepAliveWrites(t *testing.T) {
	pulse := func(t *testing.T, p core.Policy, every time.Duration, n int) int64 {
		t.Helper()
		f := newFixture(t, p)
		s := f.create(core.CreateOptions{Subject: "ann"})
		if _, err := f.m.Attach(ctx, s.ID, &conn{}); err != nil {
			t.Fatal(err)
		}
		before := f.store.puts.Load()
		for range n {
			f.clock.Add(every)
			if _, err := f.m.KeepAlive(ctx, s.ID); err != nil {
				t.Fatal(err)
			}
		}
		return f.store.puts.Load() - before
	}
	// No timeout reads the idle clock: pulses never reach the store.
	if n := pulse(t, core.RealtimePolicy(), 20*time.Second, 180); n != 0 {
		t.Errorf("realtime: an hour of pulses wrote %d times, want 0", n)
	}
	// With an idle timeout, a pulse is written when it moves the idle clock
	// CheckpointEvery past the stored one: at most once per minute here.
	p := core.Policy{IdleTimeout: 10 * time.Minute, CheckpointEvery: time.Minute}
	if n := pulse(t, p, time.Second, 600); n != 10 {
		t.Errorf("idle: 600 pulses over 10 minutes wrote %d times, want 10", n)
	}
}

func TestCrashNeverEndsEarly(t *testing.T) {
	p := core.Policy{IdleTimeout: 10 * time.Minute, CheckpointEvery: time.Minute}
	for _, gap := range []time.Duration{50 * time.Second, 5 * time.Minute} {
		f := newFixture(t, p)
		s := f.create(core.CreateOptions{})
		f.m.Activity(ctx, s.ID)
		f.advance(gap)
		f.m.Activity(ctx, s.ID) // the last touch before the crash
		touched := f.clock.Now()
		f.m = f.manager(p) // crash: no Flush
		f.advance(10*time.Minute - time.Second)
		f.sweep()
		if _, err := f.m.Get(ctx, s.ID); err != nil {
			t.Fatalf("gap %v: ended before the true deadline: %v", gap, err)
		}
		f.clock.Set(touched.Add(10*time.Minute + time.Minute)) // the slack is one CheckpointEvery
		f.sweep()
		_, err := f.m.Get(ctx, s.ID)
		wantReason(t, err, core.ReasonIdleTimeout)
	}
}

func TestP7P8AttachDetachLogout(t *testing.T) {
	f := newFixture(t, core.RealtimePolicy())
	s := f.create(core.CreateOptions{Subject: "ann"})
	c := &conn{}
	if _, err := f.m.Attach(ctx, s.ID, c); err != nil {
		t.Fatal(err)
	}
	if err := f.m.Detach(ctx, c, ""); err != nil {
		t.Fatal(err)
	}
	_, err := f.m.Get(ctx, s.ID)
	wantReason(t, err, core.ReasonConnectionLost)

	s = f.create(core.CreateOptions{Subject: "bob"})
	c = &conn{}
	f.m.Attach(ctx, s.ID, c)
	if err := f.m.Logout(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	if c.closedWith() != core.ReasonLogout {
		t.Errorf("connection closed with %q, want logout", c.closedWith())
	}
	if err := f.m.Detach(ctx, c, ""); err != nil {
		t.Errorf("detach after logout: %v", err)
	}
	_, err = f.m.Get(ctx, s.ID)
	wantReason(t, err, core.ReasonLogout)
	if err := f.m.Logout(ctx, s.ID); !errors.Is(err, core.ErrEnded) {
		t.Errorf("second logout: %v, want ErrEnded", err)
	}
}

func TestP7SuspendKeepsSessionResumable(t *testing.T) {
	f := newFixture(t, core.ResumablePolicy())
	s := f.create(core.CreateOptions{Reference: "u1"})
	c := &conn{}
	f.m.Attach(ctx, s.ID, c)
	f.m.Detach(ctx, c, "")
	got, err := f.m.Get(ctx, s.ID)
	if err != nil || got.State != core.StateNotStarted && got.State != core.StateSuspended {
		t.Fatalf("after disconnect: %v %v", got.State, err)
	}
	f.m.Activity(ctx, s.ID)
	c = &conn{}
	f.m.Attach(ctx, s.ID, c)
	f.m.Detach(ctx, c, "")
	if got, _ := f.m.Get(ctx, s.ID); got.State != core.StateSuspended {
		t.Fatalf("state = %v, want suspended", got.State)
	}
	f.advance(6 * 24 * time.Hour)
	got, err = f.m.Resume(ctx, s.ID)
	if err != nil || got.ID != s.ID || got.State != core.StateActive {
		t.Errorf("resume after 6 days: %+v %v", got, err)
	}
}

func TestP9SecondLoginSupersedes(t *testing.T) {
	f := newFixture(t, core.Policy{MaxSessionsPerSubject: 1})
	first, err := f.m.Login(ctx, f.create(core.CreateOptions{}).ID, "ann")
	if err != nil {
		t.Fatal(err)
	}
	c := &conn{}
	f.m.Attach(ctx, first.ID, c)
	f.events()
	f.advance(time.Minute)
	second, err := f.m.Login(ctx, f.create(core.CreateOptions{}).ID, "ann")
	if err != nil {
		t.Fatal(err)
	}
	e := f.wantEvent(core.EventEnded, core.ReasonSuperseded)
	if e.Session != first.ID || e.Subject != "ann" {
		t.Errorf("event = %+v", e)
	}
	if c.closedWith() != core.ReasonSuperseded {
		t.Errorf("first connection closed with %q", c.closedWith())
	}
	_, err = f.m.Activity(ctx, first.ID)
	wantReason(t, err, core.ReasonSuperseded)
	if _, err := f.m.Activity(ctx, second.ID); err != nil {
		t.Errorf("second: %v", err)
	}
	// Unlimited by default.
	g := newFixture(t, core.Policy{})
	a, _ := g.m.Login(ctx, g.create(core.CreateOptions{}).ID, "ann")
	g.m.Login(ctx, g.create(core.CreateOptions{}).ID, "ann")
	if _, err := g.m.Activity(ctx, a.ID); err != nil {
		t.Errorf("unlimited: %v", err)
	}
}

func TestP10RecoverAfterRestart(t *testing.T) {
	for _, tt := range []struct {
		name  string
		p     core.Policy
		state core.State
	}{
		{"realtime ends", core.RealtimePolicy(), core.StateEnded},
		{"resumable suspends", core.ResumablePolicy(), core.StateSuspended},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.p)
			attached := f.create(core.CreateOptions{Subject: "ann"})
			f.m.Activity(ctx, attached.ID)
			f.m.Attach(ctx, attached.ID, &conn{})
			idle := f.create(core.CreateOptions{Reference: "r"})
			f.m = f.manager(tt.p) // restart over the same store
			n, err := f.m.Recover(ctx)
			if err != nil || n != 1 {
				t.Fatalf("Recover = %d, %v; want 1", n, err)
			}
			got, err := f.m.Get(ctx, attached.ID)
			if got.State != tt.state {
				t.Errorf("state = %v (%v), want %v", got.State, err, tt.state)
			}
			if tt.state == core.StateEnded {
				wantReason(t, err, core.ReasonServiceRestart)
			}
			if got, err := f.m.Get(ctx, idle.ID); err != nil || got.State != core.StateNotStarted {
				t.Errorf("unattached session: %v %v", got.State, err)
			}
			if n, _ := f.m.Recover(ctx); n != 0 {
				t.Errorf("second Recover changed %d", n)
			}
		})
	}
}

func TestP11ResumeDoesNotRestoreDrafts(t *testing.T) {
	f := newFixture(t, core.FormsPolicy())
	s := f.create(core.CreateOptions{Reference: "u1"})
	d, err := f.m.SaveDraft(ctx, s.ID, core.DraftSave{Name: "f", Data: []byte("typed"), Mode: core.SaveManual})
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.m.Resume(ctx, s.ID)
	if err != nil || got.ID != s.ID {
		t.Fatal(got, err)
	}
	loaded, err := f.m.LoadDraft(ctx, s.ID, d.ID)
	if err != nil || string(loaded.Data) != "typed" {
		t.Errorf("explicit load: %q %v", loaded.Data, err)
	}
}

func TestP12References(t *testing.T) {
	f := newFixture(t, core.ResumablePolicy())
	first, created, err := f.m.GetOrCreate(ctx, "cust-9", core.CreateOptions{Channel: "link"})
	if err != nil || !created || first.ReferenceID != "cust-9" || first.Channel != "link" {
		t.Fatalf("first: %+v %v %v", first, created, err)
	}
	f.advance(6 * 24 * time.Hour)
	again, created, _ := f.m.GetOrCreate(ctx, "cust-9", core.CreateOptions{})
	if created || again.ID != first.ID {
		t.Fatalf("within 7 days: created=%v id=%s, want %s", created, again.ID, first.ID)
	}
	other := f.create(core.CreateOptions{Reference: "cust-9", Channel: "frame"}) // always new
	if other.ID == first.ID {
		t.Fatal("Create reused a session")
	}
	f.advance(24*time.Hour + time.Second) // first is past its TTL
	list, err := f.m.ListByReference(ctx, "cust-9")
	if err != nil || len(list) != 2 || list[0].ID != other.ID || list[1].State != core.StateEnded || list[1].EndReason != core.ReasonExpired {
		t.Fatalf("list: %+v %v", list, err)
	}
	got, created, _ := f.m.GetOrCreate(ctx, "cust-9", core.CreateOptions{})
	if created || got.ID != other.ID {
		t.Errorf("reuse newest usable: %s %v", got.ID, created)
	}
	f.advance(7 * 24 * time.Hour)
	got, created, _ = f.m.GetOrCreate(ctx, "cust-9", core.CreateOptions{})
	if !created || got.ID == other.ID {
		t.Errorf("after every TTL: created=%v", created)
	}
}

func TestP13NotStartedPruned(t *testing.T) {
	f := newFixture(t, core.Policy{NotStartedTimeout: time.Hour})
	s := f.create(core.CreateOptions{Reference: "r"})
	f.advance(time.Hour)
	if r := f.sweep(); r.Ended != 1 {
		t.Fatalf("ended %d", r.Ended)
	}
	_, err := f.m.Get(ctx, s.ID)
	wantReason(t, err, core.ReasonNotStartedPruned)
}

func TestP14Drafts(t *testing.T) {
	f := newFixture(t, core.FormsPolicy())
	s, _ := f.m.Login(ctx, f.create(core.CreateOptions{}).ID, "ann")
	d, err := f.m.SaveDraft(ctx, s.ID, core.DraftSave{Name: "tax", Data: []byte("v1"), Mode: core.SaveAuto})
	if err != nil {
		t.Fatal(err)
	}
	// Acknowledged means stored: a fresh Manager over the store reads it.
	if got, err := f.manager(core.FormsPolicy()).LoadDraft(ctx, s.ID, d.ID); err != nil || string(got.Data) != "v1" {
		t.Fatalf("stored before ack: %q %v", got.Data, err)
	}
	d2, err := f.m.SaveDraft(ctx, s.ID, core.DraftSave{ID: d.ID, Version: d.Version, Name: "tax", Data: []byte("v2"), Mode: core.SaveManual})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.m.SaveDraft(ctx, s.ID, core.DraftSave{ID: d.ID, Version: d.Version, Name: "tax", Data: []byte("stale"), Mode: core.SaveAuto}); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("stale save: %v, want ErrConflict", err)
	}
	// The session times out; the draft survives and resumes in a new session.
	f.advance(16 * time.Minute)
	f.sweep()
	if _, err := f.m.Get(ctx, s.ID); !errors.Is(err, core.ErrEnded) {
		t.Fatalf("session should have idled out: %v", err)
	}
	n, _ := f.m.Login(ctx, f.create(core.CreateOptions{}).ID, "ann")
	list, err := f.m.ListDrafts(ctx, n.ID)
	if err != nil || len(list) != 1 || string(list[0].Data) != "v2" || list[0].Mode != core.SaveManual {
		t.Fatalf("list: %+v %v", list, err)
	}
	r, err := f.m.ResumeDraft(ctx, n.ID, d.ID)
	if err != nil || r.Session != n.ID || string(r.Data) != "v2" {
		t.Fatalf("resume: %+v %v", r, err)
	}
	if got, _ := f.m.Get(ctx, n.ID); got.OpenDrafts != 1 {
		t.Errorf("open drafts = %d, want 1", got.OpenDrafts)
	}
	if list, err := f.m.ListDraftsByOwner(ctx, "subject:ann"); err != nil || len(list) != 1 || list[0].ID != d.ID {
		t.Errorf("by owner: %+v %v", list, err)
	}
	if _, err := f.m.ListDraftsByOwner(ctx, ""); !errors.Is(err, core.ErrInvalidInput) {
		t.Errorf("empty owner: %v", err)
	}
	// Another subject cannot see it.
	o, _ := f.m.Login(ctx, f.create(core.CreateOptions{}).ID, "eve")
	if _, err := f.m.LoadDraft(ctx, o.ID, d.ID); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("foreign load: %v", err)
	}
	if err := f.m.DeleteDraft(ctx, n.ID, d.ID, d2.Version); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("delete naming a stale version: %v, want ErrConflict", err)
	}
	if err := f.m.DeleteDraft(ctx, n.ID, d.ID, r.Version); err != nil {
		t.Fatal(err)
	}
	if _, err := f.m.LoadDraft(ctx, n.ID, d2.ID); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}
	// Retention purges drafts nobody touches.
	g := newFixture(t, core.Policy{DraftRetention: 48 * time.Hour})
	gs := g.create(core.CreateOptions{Reference: "r"})
	gd, _ := g.m.SaveDraft(ctx, gs.ID, core.DraftSave{Data: []byte("x"), Mode: core.SaveAuto})
	g.advance(48 * time.Hour)
	g.sweep()
	if _, err := g.m.LoadDraft(ctx, gs.ID, gd.ID); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("after retention: %v", err)
	}
}

func TestP15SubjectsListAndRevoke(t *testing.T) {
	f := newFixture(t, core.Policy{})
	a, _ := f.m.Login(ctx, f.create(core.CreateOptions{}).ID, "ann")
	f.advance(time.Second)
	b, _ := f.m.Login(ctx, f.create(core.CreateOptions{}).ID, "ann")
	f.m.Login(ctx, f.create(core.CreateOptions{}).ID, "bob")
	list, err := f.m.ListBySubject(ctx, "ann")
	if err != nil || len(list) != 2 || list[0].ID != b.ID || list[1].ID != a.ID {
		t.Fatalf("list: %v %v", list, err)
	}
	c := &conn{}
	f.m.Attach(ctx, a.ID, c)
	n, err := f.m.Revoke(ctx, "ann")
	if err != nil || n != 2 {
		t.Fatalf("Revoke = %d, %v", n, err)
	}
	if c.closedWith() != core.ReasonRevoked {
		t.Errorf("connection closed with %q", c.closedWith())
	}
	_, err = f.m.Activity(ctx, b.ID)
	wantReason(t, err, core.ReasonRevoked)
}

func TestP16LoginRotationKeepsDraftsAndReference(t *testing.T) {
	f := newFixture(t, core.Policy{})
	guest := f.create(core.CreateOptions{Reference: "r1"})
	d, _ := f.m.SaveDraft(ctx, guest.ID, core.DraftSave{Data: []byte("guest typing"), Mode: core.SaveAuto})
	f.advance(time.Minute)
	s, err := f.m.Login(ctx, guest.ID, "ann")
	if err != nil {
		t.Fatal(err)
	}
	if s.ID == guest.ID || !s.CreatedAt.Equal(t0) || s.ReferenceID != "r1" || s.OpenDrafts != 1 {
		t.Fatalf("rotated: %+v", s)
	}
	if _, err := f.m.Get(ctx, guest.ID); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("old id: %v, want ErrNotFound", err)
	}
	got, err := f.m.LoadDraft(ctx, s.ID, d.ID)
	if err != nil || string(got.Data) != "guest typing" || got.Session != s.ID || got.Owner != "subject:ann" {
		t.Errorf("draft after login: %+v %v", got, err)
	}
	e := f.wantEvent(core.EventLogin, "")
	if e.PreviousID != guest.ID || e.Session != s.ID {
		t.Errorf("login event %+v", e)
	}
}

func TestP17TombstonesThenPurge(t *testing.T) {
	f := newFixture(t, core.Policy{Retention: time.Hour})
	s := f.create(core.CreateOptions{})
	f.m.Logout(ctx, s.ID)
	f.advance(59 * time.Minute)
	f.sweep()
	_, err := f.m.Resume(ctx, s.ID)
	wantReason(t, err, core.ReasonLogout)
	f.advance(time.Minute)
	if r := f.sweep(); r.Purged != 1 {
		t.Fatalf("purged %d", r.Purged)
	}
	if _, err := f.m.Resume(ctx, s.ID); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("after retention: %v", err)
	}
}

func TestP18EventsAfterStoreAndNeverBlock(t *testing.T) {
	f := newFixture(t, core.Policy{})
	slow := f.m.Subscribe(1) // never read
	seen := make(chan bool, 1)
	var once sync.Once
	watch := f.m.Subscribe(16)
	go func() {
		for e := range watch.C {
			if e.Type == core.EventCreated {
				_, err := f.store.Get(ctx, core.SessionKey(e.Session))
				once.Do(func() { seen <- err == nil })
			}
		}
	}()
	s := f.create(core.CreateOptions{Reference: "r", Subject: "ann"})
	for range 10 {
		f.m.Activity(ctx, s.ID)
	}
	f.m.Logout(ctx, s.ID)
	select {
	case ok := <-seen:
		if !ok {
			t.Error("event emitted before the session was stored")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no created event")
	}
	if slow.Dropped() == 0 {
		t.Error("a full subscriber should drop, not block")
	}
	watch.Close()
	watch.Close()
	var types []core.EventType
	for _, e := range f.events() {
		if e.Reference != "r" || e.Subject != "ann" || e.At.IsZero() {
			t.Errorf("event missing fields: %+v", e)
		}
		types = append(types, e.Type)
	}
	want := []core.EventType{core.EventCreated, core.EventStarted, core.EventEnded}
	if len(types) != len(want) {
		t.Fatalf("events %v, want %v", types, want)
	}
	for i := range want {
		if types[i] != want[i] {
			t.Errorf("events %v, want %v", types, want)
		}
	}
}

func TestRunEndsSessionsOnTime(t *testing.T) {
	f := newFixture(t, core.Policy{IdleTimeout: 10 * time.Minute})
	s := f.create(core.CreateOptions{})
	f.m.Activity(ctx, s.ID)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- f.m.Run(runCtx, func(err error) { t.Error(err) }) }()
	ended := make(chan core.Event, 1)
	go func() {
		for e := range f.ev.C {
			if e.Type == core.EventEnded {
				ended <- e
				return
			}
		}
	}()
	deadline := time.After(30 * time.Second)
	for {
		f.clock.Add(30 * time.Second)
		select {
		case e := <-ended:
			if !e.At.Equal(t0.Add(10 * time.Minute)) {
				t.Errorf("ended at %v, want the idle deadline", e.At.Sub(t0))
			}
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Errorf("Run = %v", err)
			}
			return
		case <-deadline:
			t.Fatalf("Run did not end the session; now %v", f.clock.Now().Sub(t0))
		default:
		}
	}
}

func TestBadInput(t *testing.T) {
	f := newFixture(t, core.Policy{})
	s := f.create(core.CreateOptions{})
	for name, err := range map[string]error{
		"control in reference": func() error { _, err := f.m.Create(ctx, core.CreateOptions{Reference: "a\x00b"}); return err }(),
		"long subject":         func() error { _, err := f.m.Login(ctx, s.ID, string(make([]byte, 300))); return err }(),
		"empty subject":        func() error { _, err := f.m.Login(ctx, s.ID, ""); return err }(),
		"huge draft": func() error {
			_, err := f.m.SaveDraft(ctx, s.ID, core.DraftSave{Data: make([]byte, 2<<20), Mode: core.SaveAuto})
			return err
		}(),
		"unknown mode":  func() error { _, err := f.m.SaveDraft(ctx, s.ID, core.DraftSave{Mode: "later"}); return err }(),
		"revoke nobody": func() error { _, err := f.m.Revoke(ctx, ""); return err }(),
	} {
		if !errors.Is(err, core.ErrInvalidInput) {
			t.Errorf("%s: %v, want ErrInvalidInput", name, err)
		}
	}
	if _, err := f.m.LoadDraft(ctx, s.ID, "nope"); !errors.Is(err, core.ErrInvalidID) {
		t.Errorf("bad draft id: %v", err)
	}
	if _, err := core.New(core.Config{Store: memstore.New(), Policy: core.Policy{IdleTimeout: -1}}); !errors.Is(err, core.ErrInvalidPolicy) {
		t.Errorf("bad policy: %v", err)
	}
	if _, err := core.New(core.Config{}); !errors.Is(err, core.ErrInvalidInput) {
		t.Errorf("no store: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := f.m.Resume(cctx, s.ID); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	f.m.Close(ctx)
	if _, err := f.m.Create(ctx, core.CreateOptions{}); !errors.Is(err, core.ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}
