package core_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/core"
)

// hookStore runs a hook before the first Delete of a key.
type hookStore struct {
	core.Store
	once     sync.Once
	onDelete func(key string)
}

func (s *hookStore) Delete(ctx context.Context, key string, v uint64) error {
	if s.onDelete != nil {
		s.once.Do(func() { s.onDelete(key) })
	}
	return s.Store.Delete(ctx, key, v)
}

// endRecord rewrites a stored session as ended by reason, as another caller's
// logout would, through the store alone.
func endRecord(t *testing.T, st core.Store, key string, reason core.Reason, at time.Time) {
	t.Helper()
	rec, err := st.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(rec.Value, &v); err != nil {
		t.Fatal(err)
	}
	v["state"], v["reason"], v["ended"] = core.StateEnded, reason, at
	if rec.Value, err = json.Marshal(v); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Put(ctx, rec); err != nil {
		t.Fatal(err)
	}
}

func TestLogoutRacingLoginWins(t *testing.T) {
	f := newFixture(t, core.Policy{})
	hs := &hookStore{Store: f.store}
	m, err := core.New(core.Config{Store: hs, Clock: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := m.Create(ctx, core.CreateOptions{})
	var newKey string
	hs.onDelete = func(key string) {
		// Between writing the new record and retiring the old one, the old
		// session is logged out elsewhere.
		if key == core.SessionKey(s.ID) {
			endRecord(t, f.store, key, core.ReasonLogout, f.clock.Now())
		}
	}
	_, err = m.Login(ctx, s.ID, "ann")
	wantReason(t, err, core.ReasonLogout)
	recs, _ := f.store.Scan(ctx, core.Prefix(core.IndexSubject, "ann"))
	for _, r := range recs {
		newKey = r.Key
	}
	if newKey != "" {
		t.Errorf("the rotated record %s survived a losing login", newKey)
	}
	if _, err := m.Get(ctx, s.ID); !errors.Is(err, core.ErrEnded) {
		t.Errorf("old id after the race: %v, want ended", err)
	}
}

func TestConcurrentLoginsLeaveOneSession(t *testing.T) {
	for range 20 {
		f := newFixture(t, core.Policy{MaxSessionsPerSubject: 1})
		a, b := f.create(core.CreateOptions{}), f.create(core.CreateOptions{})
		var wg sync.WaitGroup
		for _, id := range []string{a.ID, b.ID} {
			wg.Go(func() { f.m.Login(ctx, id, "ann") })
		}
		wg.Wait()
		list, _ := f.m.ListBySubject(ctx, "ann")
		live := 0
		for _, s := range list {
			if s.Live() {
				live++
			}
		}
		if live != 1 {
			t.Fatalf("%d live sessions after two concurrent logins, want 1", live)
		}
	}
}

func TestAttachRacingDetachClosesOrKeeps(t *testing.T) {
	for range 50 {
		f := newFixture(t, core.RealtimePolicy())
		s := f.create(core.CreateOptions{})
		c1, c2 := &conn{}, &conn{}
		f.m.Attach(ctx, s.ID, c1)
		var attachErr error
		var wg sync.WaitGroup
		wg.Go(func() { f.m.Detach(ctx, c1, "") })
		wg.Go(func() { _, attachErr = f.m.Attach(ctx, s.ID, c2) })
		wg.Wait()
		_, err := f.m.Get(ctx, s.ID)
		switch {
		case attachErr != nil:
			// c2 came too late: the session ended and c2 was refused.
			if !errors.Is(err, core.ErrEnded) {
				t.Fatalf("attach refused on a live session: %v", attachErr)
			}
		case err != nil:
			// c2 attached first, then... the session must not end under it.
			t.Fatalf("session ended with c2 attached (closed with %q): %v", c2.closedWith(), err)
		}
	}
}

func TestLogoutClosesEveryConnection(t *testing.T) {
	f := newFixture(t, core.Policy{})
	s := f.create(core.CreateOptions{})
	conns := []*conn{{}, {}, {}}
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() { f.m.Attach(ctx, s.ID, c) })
	}
	wg.Wait()
	f.m.Logout(ctx, s.ID)
	for i, c := range conns {
		if c.closedWith() != core.ReasonLogout {
			t.Errorf("connection %d closed with %q", i, c.closedWith())
		}
	}
}

func TestReturnedMetadataIsACopy(t *testing.T) {
	f := newFixture(t, core.Policy{})
	s := f.create(core.CreateOptions{Metadata: map[string]string{"plan": "pro"}})
	got, _ := f.m.Resume(ctx, s.ID)
	got.Metadata["plan"] = "scribbled"
	s.Metadata["plan"] = "scribbled"
	f.m.Logout(ctx, s.ID) // a write of the session
	rec, _ := f.store.Get(ctx, core.SessionKey(s.ID))
	if strings.Contains(string(rec.Value), "scribbled") {
		t.Errorf("caller's change reached the store: %s", rec.Value)
	}
}

func TestReloginKeepsOtherDraftsVersions(t *testing.T) {
	f := newFixture(t, core.Policy{})
	a, _ := f.m.Login(ctx, f.create(core.CreateOptions{}).ID, "ann")
	d, _ := f.m.SaveDraft(ctx, a.ID, core.DraftSave{Data: []byte("tab a"), Mode: core.SaveAuto})
	b, _ := f.m.Login(ctx, f.create(core.CreateOptions{}).ID, "ann")
	if _, err := f.m.Login(ctx, b.ID, "ann"); err != nil { // re-authenticate tab b
		t.Fatal(err)
	}
	if _, err := f.m.SaveDraft(ctx, a.ID, core.DraftSave{ID: d.ID, Version: d.Version, Data: []byte("tab a again"), Mode: core.SaveAuto}); err != nil {
		t.Errorf("tab a's autosave after tab b re-logged in: %v", err)
	}
}

func TestSweepPagesPastRecordsThatStayDue(t *testing.T) {
	p := core.Policy{IdleTimeout: 10 * time.Minute, CheckpointEvery: time.Minute, NotStartedTimeout: 10*time.Minute + 15*time.Second}
	f := newFixture(t, p)
	for range 300 {
		s := f.create(core.CreateOptions{})
		f.m.Activity(ctx, s.ID)
	}
	late := f.create(core.CreateOptions{}) // not started: pruned at 10m15s
	f.advance(2 * time.Minute)
	f.m = f.manager(p)                        // restart: the 300 get a minute of slack
	f.advance(8*time.Minute + 30*time.Second) // the 300 are in the due range, not due
	r := f.sweep()
	if r.Ended != 1 {
		t.Errorf("ended %d, want only the not-started one", r.Ended)
	}
	_, err := f.m.Get(ctx, late.ID)
	wantReason(t, err, core.ReasonNotStartedPruned)
}

func TestActivitySessionAndDeadline(t *testing.T) {
	f := newFixture(t, core.Policy{IdleTimeout: 10 * time.Minute})
	s := f.create(core.CreateOptions{Reference: "r", Metadata: map[string]string{"k": "v"}})
	for range 2 { // the second is served from memory
		f.advance(time.Minute)
		got, st, err := f.m.ActivitySession(ctx, s.ID)
		if err != nil || got.ID != s.ID || got.ReferenceID != "r" || got.State != core.StateActive || got.Metadata["k"] != "v" {
			t.Fatalf("ActivitySession = %+v, %v", got, err)
		}
		if d, why := f.m.Deadline(&got); !d.Equal(st.Deadline) || why != core.ReasonIdleTimeout || !d.Equal(f.clock.Now().Add(10*time.Minute)) {
			t.Errorf("Deadline = %v %v, status %v", d, why, st.Deadline)
		}
		got.Metadata["k"] = "scribbled"
	}
	if _, _, err := f.m.ActivitySession(ctx, "bad"); !errors.Is(err, core.ErrInvalidID) {
		t.Errorf("bad id: %v", err)
	}
}

// TestRestartSlackDoesNotCompound: a write that carries no new touch (here
// Recover suspending a session) keeps the stored idle clock, so two
// restarts allow one CheckpointEvery, not two.
func TestRestartSlackDoesNotCompound(t *testing.T) {
	p := core.Policy{IdleTimeout: 10 * time.Minute, CheckpointEvery: time.Minute, OnDisconnect: core.DisconnectSuspend}
	f := newFixture(t, p)
	s := f.create(core.CreateOptions{})
	f.m.Activity(ctx, s.ID)
	f.m.Attach(ctx, s.ID, &conn{})
	for range 2 {
		f.advance(2 * time.Minute)
		f.m = f.manager(p) // a crash and a restart
		if _, err := f.m.Recover(ctx); err != nil {
			t.Fatal(err)
		}
		f.sweep()
	}
	f.clock.Set(t0.Add(11 * time.Minute)) // the idle deadline plus one CheckpointEvery
	f.sweep()
	_, err := f.m.Get(ctx, s.ID)
	wantReason(t, err, core.ReasonIdleTimeout)
}
