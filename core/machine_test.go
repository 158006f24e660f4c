package core

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

const testID = "AAAAAAAAAAAAAAAAAAAAAA"

func machine(t *testing.T, p Policy) *Machine {
	t.Helper()
	m, err := NewMachine(p)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// created returns a session created at t0 and, if started, active from t0.
func created(t *testing.T, m *Machine, subject string, started bool) Session {
	t.Helper()
	s, eff := m.Step(t0, Session{}, Input{Kind: InputCreate, ID: testID, Subject: subject})
	if !eff.Persist || eff.Event != EventCreated || s.State != StateNotStarted {
		t.Fatalf("create: %+v %+v", s, eff)
	}
	if started {
		s, _ = m.Step(t0, s, Input{Kind: InputActivity})
	}
	return s
}

// TestP1TTL: valid until CreatedAt+TTL, then ErrExpired, whatever activity.
func TestP1TTL(t *testing.T) {
	m := machine(t, Policy{})
	s := created(t, m, "", true)
	for at := t0; at.Before(t0.Add(168*time.Hour - time.Second)); at = at.Add(6 * time.Hour) {
		s, _ = m.Step(at, s, Input{Kind: InputActivity})
	}
	live, eff := m.Step(t0.Add(168*time.Hour-time.Second), s, Input{Kind: InputActivity})
	if eff.Err != nil || live.State != StateActive {
		t.Fatalf("at TTL-1s: %v %v", live.State, eff.Err)
	}
	got, eff := m.Step(t0.Add(168*time.Hour+time.Second), live, Input{Kind: InputActivity})
	if !errors.Is(eff.Err, ErrExpired) || !errors.Is(eff.Err, ErrEnded) || errors.Is(eff.Err, ErrNotFound) {
		t.Fatalf("at TTL+1s: err = %v, want ErrExpired", eff.Err)
	}
	if got.State != StateEnded || got.EndReason != ReasonExpired || !got.EndedAt.Equal(t0.Add(168*time.Hour)) || !eff.Persist {
		t.Errorf("at TTL+1s: %+v", got)
	}
	if r, ok := EndReason(eff.Err); !ok || r != ReasonExpired {
		t.Errorf("EndReason = %v, %v", r, ok)
	}
}

// TestP2Idle: activity resets the idle deadline; silence ends the session.
func TestP2Idle(t *testing.T) {
	m := machine(t, Policy{IdleTimeout: 15 * time.Minute})
	s := created(t, m, "", true)
	s, eff := m.Step(t0.Add(10*time.Minute), s, Input{Kind: InputActivity})
	if want := t0.Add(25 * time.Minute); !eff.Deadline.Equal(want) || eff.DeadlineReason != ReasonIdleTimeout {
		t.Fatalf("deadline = %v %v, want %v idle", eff.Deadline, eff.DeadlineReason, want)
	}
	if _, eff := m.Step(t0.Add(25*time.Minute-time.Second), s, Input{Kind: InputDeadline}); eff.Event != "" {
		t.Fatalf("ended early: %+v", eff)
	}
	got, eff := m.Step(t0.Add(25*time.Minute), s, Input{Kind: InputDeadline})
	if got.State != StateEnded || got.EndReason != ReasonIdleTimeout || eff.Event != EventEnded || eff.Err != nil || eff.Close != ReasonIdleTimeout {
		t.Errorf("at deadline: %+v %+v", got, eff)
	}
}

// TestP3Auth: AuthTimeout slides with activity; MaxAuthAge does not.
func TestP3Auth(t *testing.T) {
	m := machine(t, Policy{AuthTimeout: 30 * time.Minute, MaxAuthAge: 2 * time.Hour})
	s := created(t, m, "", false)
	s, _ = m.Step(t0, s, Input{Kind: InputLogin, Subject: "ann", ID: "BBBBBBBBBBBBBBBBBBBBBA"})
	for at := t0.Add(20 * time.Minute); at.Before(t0.Add(2 * time.Hour)); at = at.Add(20 * time.Minute) {
		var eff Effects
		s, eff = m.Step(at, s, Input{Kind: InputActivity})
		if eff.Err != nil {
			t.Fatalf("activity at %v: %v", at.Sub(t0), eff.Err)
		}
	}
	got, eff := m.Step(t0.Add(2*time.Hour), s, Input{Kind: InputActivity})
	if r, _ := EndReason(eff.Err); r != ReasonMaxAuthAge || got.EndReason != ReasonMaxAuthAge {
		t.Errorf("at max age: err %v, reason %v", eff.Err, got.EndReason)
	}

	// A pulse that does not count (while_in_progress, no form open) renews
	// nothing; one that counts renews the authentication too.
	for _, tt := range []struct {
		scope KeepAliveScope
		ends  bool
	}{{ExtendsWhileInProgress, true}, {ExtendsAlways, false}} {
		m := machine(t, Policy{AuthTimeout: 30 * time.Minute, KeepAlive: KeepAlive{ExtendsIdle: tt.scope}})
		s = created(t, m, "", false)
		s, _ = m.Step(t0, s, Input{Kind: InputLogin, Subject: "ann", ID: "BBBBBBBBBBBBBBBBBBBBBA"})
		s, _ = m.Step(t0.Add(10*time.Minute), s, Input{Kind: InputKeepAlive})
		got, eff = m.Step(t0.Add(30*time.Minute), s, Input{Kind: InputKeepAlive})
		if r, _ := EndReason(eff.Err); (r == ReasonAuthTimeout) != tt.ends {
			t.Errorf("%s: err %v, state %v; want ended=%v", tt.scope, eff.Err, got.State, tt.ends)
		}
	}

	// A session created for a subject is authenticated from creation:
	// MaxAuthAge runs even before its first activity.
	m = machine(t, Policy{MaxAuthAge: time.Hour})
	s = created(t, m, "ann", false)
	if _, eff := m.Step(t0.Add(5*time.Hour), s, Input{Kind: InputActivity}); !errors.Is(eff.Err, ErrEnded) {
		t.Errorf("max auth age before start: %v", eff.Err)
	}

	// Guests have no authentication to time out.
	g := created(t, m, "", true)
	if g, eff := m.Step(t0.Add(3*time.Hour), g, Input{Kind: InputActivity}); eff.Err != nil || g.State != StateActive {
		t.Errorf("guest: %v %v", g.State, eff.Err)
	}
}

// TestP5KeepAliveScope: with while_in_progress a pulse extends idle only while
// a draft is open.
func TestP5KeepAliveScope(t *testing.T) {
	for _, tt := range []struct {
		scope      KeepAliveScope
		openDrafts int
		extends    bool
	}{
		{ExtendsAlways, 0, true},
		{ExtendsWhileInProgress, 0, false},
		{ExtendsWhileInProgress, 1, true},
	} {
		m := machine(t, Policy{IdleTimeout: 10 * time.Minute, KeepAlive: KeepAlive{ExtendsIdle: tt.scope}})
		s := created(t, m, "", true)
		s.OpenDrafts = tt.openDrafts
		got, eff := m.Step(t0.Add(4*time.Minute), s, Input{Kind: InputKeepAlive})
		if eff.Err != nil || eff.Persist {
			t.Fatalf("%s/%d: keepalive %+v", tt.scope, tt.openDrafts, eff)
		}
		want := t0.Add(10 * time.Minute)
		if tt.extends {
			want = want.Add(4 * time.Minute)
		}
		if !eff.Deadline.Equal(want) || eff.Touched != tt.extends || got.LastActivity != t0 {
			t.Errorf("%s/%d: deadline %v touched %v, want %v %v", tt.scope, tt.openDrafts, eff.Deadline.Sub(t0), eff.Touched, want.Sub(t0), tt.extends)
		}
	}
	m := machine(t, Policy{KeepAlive: KeepAlive{Disabled: true}})
	if _, eff := m.Step(t0, created(t, m, "", true), Input{Kind: InputKeepAlive}); !errors.Is(eff.Err, ErrWrongState) {
		t.Errorf("disabled keepalive: %v", eff.Err)
	}
}

// TestP7Disconnect: OnDisconnect ends or suspends; suspended sessions keep
// idle rules and resume on attach.
func TestP7Disconnect(t *testing.T) {
	end := machine(t, Policy{})
	s := created(t, end, "", true)
	s, _ = end.Step(t0, s, Input{Kind: InputAttach, Node: "n1"})
	got, eff := end.Step(t0.Add(time.Minute), s, Input{Kind: InputDisconnect})
	if got.State != StateEnded || got.EndReason != ReasonConnectionLost || got.Node != "" || eff.Event != EventEnded {
		t.Errorf("end: %+v %+v", got, eff)
	}

	sus := machine(t, Policy{IdleTimeout: time.Hour, OnDisconnect: DisconnectSuspend})
	s = created(t, sus, "", true)
	s, _ = sus.Step(t0, s, Input{Kind: InputAttach, Node: "n1"})
	got, eff = sus.Step(t0.Add(time.Minute), s, Input{Kind: InputDisconnect, Reason: ReasonServiceRestart})
	if got.State != StateSuspended || got.Node != "" || eff.Event != EventSuspended {
		t.Fatalf("suspend: %+v %+v", got, eff)
	}
	if _, eff := sus.Step(t0.Add(time.Hour), got, Input{Kind: InputDeadline}); eff.Reason != ReasonIdleTimeout {
		t.Errorf("suspended session escaped idle: %+v", eff)
	}
	back, eff := sus.Step(t0.Add(30*time.Minute), got, Input{Kind: InputAttach, Node: "n2"})
	if back.State != StateActive || back.Node != "n2" || eff.Event != EventResumed {
		t.Errorf("re-attach: %+v %+v", back, eff)
	}
}

// TestP13NotStarted: a session with no activity stays not_started and is
// pruned after NotStartedTimeout.
func TestP13NotStarted(t *testing.T) {
	m := machine(t, Policy{NotStartedTimeout: 24 * time.Hour, IdleTimeout: time.Hour})
	s := created(t, m, "", false)
	if _, eff := m.Step(t0.Add(23*time.Hour), s, Input{Kind: InputDeadline}); eff.Event != "" {
		t.Fatalf("pruned early (idle must not apply before the start): %+v", eff)
	}
	got, _ := m.Step(t0.Add(24*time.Hour), s, Input{Kind: InputDeadline})
	if got.EndReason != ReasonNotStartedPruned {
		t.Errorf("reason = %v, want not_started_pruned", got.EndReason)
	}
	started, eff := m.Step(t0.Add(time.Hour), s, Input{Kind: InputActivity})
	if started.State != StateActive || eff.Event != EventStarted {
		t.Errorf("first activity: %v %v", started.State, eff.Event)
	}
}

// TestP16LoginRotates: login rotates the ID and keeps CreatedAt and reference.
func TestP16LoginRotates(t *testing.T) {
	m := machine(t, Policy{})
	s, _ := m.Step(t0, Session{}, Input{Kind: InputCreate, ID: testID, Reference: "ref-1"})
	got, eff := m.Step(t0.Add(time.Hour), s, Input{Kind: InputLogin, Subject: "ann", ID: "BBBBBBBBBBBBBBBBBBBBBA"})
	if got.ID != "BBBBBBBBBBBBBBBBBBBBBA" || eff.PreviousID != testID || !got.CreatedAt.Equal(t0) || got.ReferenceID != "ref-1" || got.Subject != "ann" || eff.Event != EventLogin {
		t.Errorf("login: %+v %+v", got, eff)
	}
	if _, eff := m.Step(t0, got, Input{Kind: InputLogin, Subject: "bob"}); !errors.Is(eff.Err, ErrWrongState) {
		t.Errorf("login as another subject: %v", eff.Err)
	}
	if _, eff := m.Step(t0, s, Input{Kind: InputLogin}); !errors.Is(eff.Err, ErrInvalidInput) {
		t.Errorf("login without subject: %v", eff.Err)
	}
}

// TestP17Tombstone: an ended session answers ErrEnded with its reason until
// Retention, then is purged.
func TestP17Tombstone(t *testing.T) {
	m := machine(t, Policy{Retention: time.Hour})
	s := created(t, m, "", true)
	s, _ = m.Step(t0, s, Input{Kind: InputLogout})
	_, eff := m.Step(t0.Add(59*time.Minute), s, Input{Kind: InputActivity})
	if r, ok := EndReason(eff.Err); !ok || r != ReasonLogout || eff.Persist {
		t.Errorf("late caller: %v", eff.Err)
	}
	if _, eff := m.Step(t0.Add(59*time.Minute), s, Input{Kind: InputDeadline}); eff.Purge {
		t.Error("purged before retention")
	}
	if _, eff := m.Step(t0.Add(time.Hour), s, Input{Kind: InputDeadline}); !eff.Purge || eff.Event != EventPurged {
		t.Errorf("at retention: %+v", eff)
	}
}

func TestStepDoesNotShareMetadata(t *testing.T) {
	m := machine(t, Policy{})
	meta := map[string]string{"k": "v"}
	s, _ := m.Step(t0, Session{}, Input{Kind: InputCreate, ID: testID, Metadata: meta})
	meta["k"] = "changed"
	if s.Metadata["k"] != "v" {
		t.Error("session shares the caller's metadata map")
	}
}

func TestValidID(t *testing.T) {
	for id, want := range map[string]bool{
		testID:                    true,
		"AAAAAAAAAAAAAAAAAAAAAB":  false, // spare bits set
		"AAAAAAAAAAAAAAAAAAAAA":   false,
		"AAAAAAAAAAAAAAAAAAAAAAA": false,
		"AAAAAAAAAAAAAAAAAAAA/A":  false,
		"":                        false,
		"../../etc/passwd":        false,
	} {
		if got := ValidID(id); got != want {
			t.Errorf("ValidID(%q) = %v, want %v", id, got, want)
		}
	}
}

func TestValidIDEveryByte(t *testing.T) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for c := 0; c < 256; c++ {
		id := string(rune(c))
		if c >= 0x80 {
			id = string([]byte{byte(c)})
		}
		id = "A" + id + testID[2:]
		want := strings.IndexByte(alphabet, byte(c)) >= 0
		if got := ValidID(id); got != want {
			t.Errorf("byte %#x: ValidID = %v, want %v", c, got, want)
		}
	}
}
