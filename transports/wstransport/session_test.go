package wstransport_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/sessionkit/sessionkit/adapters/memstore"
	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/transports/wstransport"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	return ctx
}

// Closing the client without logging out is a lost connection (rule P7):
// the session ends under RealtimePolicy and is suspended, then resumable by
// its ID, under ResumablePolicy.
func TestCloseWithoutLogout(t *testing.T) {
	tests := []struct {
		name   string
		policy core.Policy
		event  core.EventType
	}{
		{"realtime", realtime(slow), core.EventEnded},
		{"resumable", resumable(slow), core.EventSuspended},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := start(t, config{policy: tt.policy})
			c, sess := s.login("bob")
			if err := c.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if got := c.Status().State; got != wstransport.StateClosed {
				t.Errorf("status after Close %s, want closed", got)
			}
			if _, err := c.Login(ctxT(t), creds("bob")); !errors.Is(err, wstransport.ErrClosed) {
				t.Errorf("Login after Close: %v, want ErrClosed", err)
			}
			e := s.waitEvent(sess.ID, tt.event)

			c2 := s.dial(wstransport.DialOptions{})
			got, err := c2.Resume(ctxT(t), sess.ID)
			if tt.event == core.EventEnded {
				if e.Reason != core.ReasonConnectionLost {
					t.Errorf("ended with %q, want connection_lost", e.Reason)
				}
				var we *wstransport.Error
				if !errors.Is(err, core.ErrEnded) || !errors.As(err, &we) || we.Reason != core.ReasonConnectionLost {
					t.Errorf("Resume of the ended session: %v, want ended (connection_lost)", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resume of the suspended session: %v", err)
			}
			if got.ID != sess.ID || got.State != core.StateActive {
				t.Errorf("resumed %+v, want session %s active", got, sess.ID)
			}
			waitState(t, c2, wstransport.StateLive)
		})
	}
}

// Logout ends the session and the service closes the connection with
// CodeLogout (rule P8).
func TestLogout(t *testing.T) {
	s := start(t, config{policy: realtime(slow)})
	c, sess := s.login("dora")
	if err := c.Logout(ctxT(t)); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	st := waitState(t, c, wstransport.StateEnded)
	if st.Reason != core.ReasonLogout || st.Code != wstransport.CodeLogout {
		t.Errorf("status %v code %d, want ended (logout) with %d", st, st.Code, wstransport.CodeLogout)
	}
	if _, err := s.m.Get(ctxT(t), sess.ID); !isEnded(err, core.ReasonLogout) {
		t.Errorf("Get after logout: %v, want ended (logout)", err)
	}
	if !errors.Is(c.Err(), core.ErrEnded) {
		t.Errorf("Err() = %v, want core.ErrEnded", c.Err())
	}
}

func isEnded(err error, want core.Reason) bool {
	r, ok := core.EndReason(err)
	return ok && r == want
}

// A second login by the same subject under RealtimePolicy supersedes the
// first session: its connection is closed with CodeSuperseded and its
// client reports ended (superseded) (rule P9).
func TestSecondLoginSupersedesFirst(t *testing.T) {
	s := start(t, config{policy: realtime(slow)})
	first, s1 := s.login("carol")
	second, s2 := s.login("carol")
	st := waitState(t, first, wstransport.StateEnded)
	if st.Reason != core.ReasonSuperseded || st.Code != wstransport.CodeSuperseded {
		t.Errorf("first client %v code %d, want ended (superseded) with %d", st, st.Code, wstransport.CodeSuperseded)
	}
	if _, err := s.m.Get(ctxT(t), s1.ID); !isEnded(err, core.ReasonSuperseded) {
		t.Errorf("first session: %v, want ended (superseded)", err)
	}
	if s2.ID == s1.ID {
		t.Fatal("the second login reused the first session")
	}
	if _, err := second.SaveDraft(ctxT(t), wstransport.DraftSave{Name: "f", Data: json.RawMessage(`{}`), Mode: core.SaveManual}); err != nil {
		t.Errorf("second client after superseding: %v", err)
	}
	if got := second.Status().State; got != wstransport.StateLive {
		t.Errorf("second client %s, want live", got)
	}
}

// A guest that logs in on its connection keeps its session under a new ID
// (rule P16); the old ID stops working.
func TestGuestLoginRotatesID(t *testing.T) {
	s := start(t, config{policy: resumable(slow)})
	c, guest := s.login("")
	if guest.Subject != "" {
		t.Fatalf("guest session has subject %q", guest.Subject)
	}
	named, err := c.Login(ctxT(t), creds("erin"))
	if err != nil {
		t.Fatalf("Login on the guest session: %v", err)
	}
	if named.ID == guest.ID || named.Subject != "erin" {
		t.Errorf("logged in as %+v, want subject erin under a new ID", named)
	}
	if got := c.Session().ID; got != named.ID {
		t.Errorf("Session().ID = %s, want %s", got, named.ID)
	}
	if _, err := s.m.Get(ctxT(t), guest.ID); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("old ID: %v, want not found", err)
	}
	if _, err := c.Login(ctxT(t), creds("")); !errors.Is(err, core.ErrWrongState) {
		t.Errorf("guest login on a named session: %v, want wrong_state", err)
	}
	if _, err := c.Login(ctxT(t), json.RawMessage(`{"user":"erin","password":"wrong"}`)); !errors.Is(err, wstransport.ErrUnauthorized) {
		t.Errorf("refused credentials: %v, want ErrUnauthorized", err)
	}
}

// A draft save is acknowledged with its version once durable; a save
// naming a stale version is refused (rule P14).
func TestSaveDraft(t *testing.T) {
	s := start(t, config{policy: resumable(slow)})
	c, sess := s.login("fay")
	ctx := ctxT(t)
	d1, err := c.SaveDraft(ctx, wstransport.DraftSave{Name: "claim", Data: json.RawMessage(`{"amount":1}`), Mode: core.SaveAuto})
	if err != nil {
		t.Fatalf("first save: %v", err)
	}
	d2, err := c.SaveDraft(ctx, wstransport.DraftSave{ID: d1.ID, Version: d1.Version, Name: "claim", Data: json.RawMessage(`{"amount":2}`), Mode: core.SaveManual})
	if err != nil {
		t.Fatalf("second save: %v", err)
	}
	if d2.ID != d1.ID || d2.Version == d1.Version || d2.Mode != core.SaveManual {
		t.Errorf("second save %+v after %+v: want the same draft at a new version", d2, d1)
	}
	_, err = c.SaveDraft(ctx, wstransport.DraftSave{ID: d1.ID, Version: d1.Version, Name: "claim", Data: json.RawMessage(`{}`), Mode: core.SaveAuto})
	if !errors.Is(err, core.ErrConflict) {
		t.Errorf("stale save: %v, want ErrConflict", err)
	}
	got, err := s.m.LoadDraft(ctx, sess.ID, d1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Data) != `{"amount":2}` || got.Version != d2.Version {
		t.Errorf("stored draft %s at version %d, want {\"amount\":2} at %d", got.Data, got.Version, d2.Version)
	}
	if c.Status().State != wstransport.StateLive {
		t.Errorf("a refused save changed the status to %v", c.Status())
	}
}

// Stopping the service tells the client; after a restart over the same
// store the old session is ended (Realtime) or resumable (Resumable), and
// a new login works (rule P10). A graceful stop closes with
// CodeServiceRestart; a crash just drops the connections, and Recover
// applies the disconnect when the service comes back.
func TestServiceRestart(t *testing.T) {
	tests := []struct {
		name   string
		policy core.Policy
		crash  bool
	}{
		{"realtime stop", realtime(slow), false},
		{"realtime crash", realtime(slow), true},
		{"resumable stop", resumable(slow), false},
		{"resumable crash", resumable(slow), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := memstore.New()
			s1 := start(t, config{store: store, policy: tt.policy})
			p := newProxy(t, s1.hs.Listener.Addr().String())
			c := s1.dial(wstransport.DialOptions{}, p.url())
			sess := doLogin(t, c, "gus")

			if tt.crash {
				if err := s1.m.Close(ctxT(t)); err != nil { // nothing more reaches the store
					t.Fatal(err)
				}
				p.cut()
			} else {
				s1.stop()
			}
			st := waitState(t, c, wstransport.StateLost)
			wantReason, wantCode := core.ReasonServiceRestart, wstransport.CodeServiceRestart
			if tt.crash {
				wantReason, wantCode = core.ReasonConnectionLost, 0
			}
			if st.Reason != wantReason || st.Code != wantCode {
				t.Errorf("client %v code %d, want lost (%s) code %d", st, st.Code, wantReason, wantCode)
			}
			s1.stop()

			s2 := start(t, config{store: store, policy: tt.policy})
			c2 := s2.dial(wstransport.DialOptions{})
			got, err := c2.Resume(ctxT(t), sess.ID)
			if tt.policy.OnDisconnect == core.DisconnectEnd {
				var we *wstransport.Error
				if !errors.As(err, &we) || we.Code != wstransport.ErrorEnded || we.Reason != core.ReasonServiceRestart {
					t.Errorf("Resume after restart: %v, want ended (service_restart)", err)
				}
			} else if err != nil || got.ID != sess.ID {
				t.Errorf("Resume after restart: %+v, %v; want session %s", got, err, sess.ID)
			}

			c3 := s2.dial(wstransport.DialOptions{})
			if fresh := doLogin(t, c3, "gus"); fresh.ID == sess.ID {
				t.Error("a new login after the restart reused the old session")
			}
		})
	}
}
