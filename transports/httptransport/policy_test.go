package httptransport_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/transports/httptransport"
)

// The policy rules, exercised through HTTP with a mock clock.

// appOK requests an application route behind the middleware and checks it
// was admitted.
func (f *fixture) appOK(tok string) appReply {
	f.t.Helper()
	return wantOK[appReply](f.t, f.do("GET", "/app/page", "", withCookie(tok)), http.StatusOK)
}

func TestP2IdleTimeout(t *testing.T) {
	f := newFixture(t, core.Policy{IdleTimeout: 10 * time.Minute})
	a, b := f.create(""), f.create("")
	f.appOK(a)
	f.appOK(b)

	// Requests through the middleware are activity: each resets the clock.
	for range 3 {
		f.advance(9 * time.Minute)
		got := f.appOK(a)
		if want := f.clock.Now().Add(10 * time.Minute); !got.Deadline.Equal(want) || got.Why != core.ReasonIdleTimeout {
			t.Fatalf("deadline %v %s, want %v idle_timeout", got.Deadline, got.Why, want)
		}
	}
	// b has been idle for 27 minutes: found ended on access, without a sweep.
	w := f.do("GET", "/app/page", "", withCookie(b))
	wantErr(t, w, http.StatusUnauthorized, httptransport.CodeSessionEnded, core.ReasonIdleTimeout)
	clearedCookie(t, w)

	// A sweep ends an idle session in the store before anyone asks.
	f.advance(10 * time.Minute)
	if r := f.sweep(); r.Ended != 1 {
		t.Fatalf("sweep ended %d, want 1", r.Ended)
	}
	wantErr(t, f.do("GET", "/session", "", withCookie(a)), http.StatusUnauthorized, httptransport.CodeSessionEnded, core.ReasonIdleTimeout)
	wantErr(t, f.do("POST", "/session/keepalive", "", withCookie(a)), http.StatusUnauthorized, httptransport.CodeSessionEnded, core.ReasonIdleTimeout)
}

func TestP2IdleEndsOnTheDeadlineNotBefore(t *testing.T) {
	f := newFixture(t, core.Policy{IdleTimeout: 10 * time.Minute})
	tok := f.create("")
	f.appOK(tok)
	f.advance(10*time.Minute - time.Millisecond)
	f.sweep()
	wantOK[httptransport.SessionReply](t, f.do("GET", "/session", "", withCookie(tok)), http.StatusOK)
	f.advance(time.Millisecond)
	wantErr(t, f.do("GET", "/session", "", withCookie(tok)), http.StatusUnauthorized, httptransport.CodeSessionEnded, core.ReasonIdleTimeout)
}

func TestP3AuthTimeout(t *testing.T) {
	// Pulses count only while a form is open, and none is here.
	f := newFixture(t, core.Policy{AuthTimeout: 30 * time.Minute, MaxAuthAge: 2 * time.Hour,
		KeepAlive: core.KeepAlive{ExtendsIdle: core.ExtendsWhileInProgress}})
	ann := f.login("", "ann")
	guest := f.create("")
	f.appOK(guest)

	// Activity renews the authentication (sliding).
	for range 4 {
		f.advance(20 * time.Minute)
		if got := f.appOK(ann); got.Why != core.ReasonAuthTimeout || !got.Deadline.Equal(f.clock.Now().Add(30*time.Minute)) {
			t.Fatalf("after activity: %+v", got)
		}
	}
	// Pulses that do not count renew nothing: 30 minutes after the last
	// request it ends.
	for range 2 {
		f.advance(10 * time.Minute)
		st := wantOK[httptransport.StatusReply](t, f.do("POST", "/session/keepalive", "", withCookie(ann)), http.StatusOK)
		if st.DeadlineReason != core.ReasonAuthTimeout {
			t.Fatalf("keepalive: %+v", st)
		}
	}
	f.advance(10 * time.Minute)
	wantErr(t, f.do("POST", "/session/keepalive", "", withCookie(ann)), http.StatusUnauthorized, httptransport.CodeSessionEnded, core.ReasonAuthTimeout)

	// A guest has no authentication to time out.
	wantOK[httptransport.SessionReply](t, f.do("GET", "/session", "", withCookie(guest)), http.StatusOK)

	// MaxAuthAge caps a login whatever the activity.
	bob := f.login("", "bob")
	for range 5 {
		f.advance(20 * time.Minute)
		f.appOK(bob)
	}
	f.advance(20 * time.Minute) // two hours since the login
	wantErr(t, f.do("GET", "/app/page", "", withCookie(bob)), http.StatusUnauthorized, httptransport.CodeSessionEnded, core.ReasonMaxAuthAge)
}

func TestP4KeepAliveInterval(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    core.Policy
		want int64 // ms
	}{
		{"half the lower of idle and auth", core.Policy{IdleTimeout: 10 * time.Minute, AuthTimeout: 30 * time.Minute}, 300_000},
		{"lower is auth", core.Policy{IdleTimeout: time.Hour, AuthTimeout: 20 * time.Minute}, 600_000},
		{"idle only", core.Policy{IdleTimeout: 90 * time.Second}, 45_000},
		{"auth only", core.Policy{AuthTimeout: 30 * time.Minute}, 900_000},
		{"both off: 20 s", core.Policy{}, 20_000},
		{"set explicitly", core.Policy{IdleTimeout: time.Hour, KeepAlive: core.KeepAlive{Interval: 7 * time.Second}}, 7_000},
		{"forms preset", core.FormsPolicy(), 450_000},
		{"disabled", core.Policy{KeepAlive: core.KeepAlive{Disabled: true}}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.p)
			want := strconv.FormatInt(tc.want, 10)
			w := f.do("POST", "/session", "")
			if got := wantOK[httptransport.SessionReply](t, w, http.StatusCreated); got.KeepAliveIntervalMS != tc.want {
				t.Errorf("create: %d", got.KeepAliveIntervalMS)
			}
			if got := w.Header().Get(httptransport.HeaderKeepAliveInterval); got != want {
				t.Errorf("create header %q", got)
			}
			tok := sessionCookie(t, w).Value
			w = f.do("GET", "/app/page", "", withCookie(tok))
			if got := w.Header().Get(httptransport.HeaderKeepAliveInterval); got != want {
				t.Errorf("middleware header %q", got)
			}
			if got := wantOK[appReply](t, w, http.StatusOK); got.Interval != tc.want {
				t.Errorf("middleware status %d", got.Interval)
			}
			w = f.do("POST", "/session/keepalive", "", withCookie(tok))
			if tc.want == 0 {
				wantErr(t, w, http.StatusConflict, httptransport.CodeKeepAliveDisabled, "")
				return
			}
			if got := wantOK[httptransport.StatusReply](t, w, http.StatusOK); got.KeepAliveIntervalMS != tc.want {
				t.Errorf("keepalive: %d", got.KeepAliveIntervalMS)
			}
		})
	}
}

func TestP5KeepAliveExtendsIdleOnlyWhileInProgress(t *testing.T) {
	p := core.Policy{IdleTimeout: 10 * time.Minute, KeepAlive: core.KeepAlive{ExtendsIdle: core.ExtendsWhileInProgress}}
	f := newFixture(t, p)
	tok := f.create("")
	f.appOK(tok)
	keepalive := func() httptransport.StatusReply {
		t.Helper()
		return wantOK[httptransport.StatusReply](t, f.do("POST", "/session/keepalive", "", withCookie(tok)), http.StatusOK)
	}

	// No draft open: pulses are answered but do not move the deadline.
	f.advance(5 * time.Minute)
	if st := keepalive(); !st.Deadline.Equal(t0.Add(10 * time.Minute)) {
		t.Fatalf("pulse without a draft moved the deadline to %v", st.Deadline)
	}

	// A draft open: pulses keep the session alive, far past the idle timeout.
	w := f.do("POST", "/session/drafts", `{"mode":"auto","data":{}}`, withCookie(tok))
	d := wantOK[httptransport.DraftReply](t, w, http.StatusCreated).Draft
	for range 10 {
		f.advance(5 * time.Minute)
		if st := keepalive(); !st.Deadline.Equal(f.clock.Now().Add(10 * time.Minute)) {
			t.Fatalf("pulse with a draft open: deadline %v", st.Deadline)
		}
		f.sweep()
	}

	// Closed: pulses stop extending, and the session idles out.
	w = f.do("POST", "/session/drafts/"+d.ID+"/close", `{"version":`+strconv.FormatUint(d.Version, 10)+`}`, withCookie(tok))
	wantOK[httptransport.DraftReply](t, w, http.StatusOK)
	closedAt := f.clock.Now()
	f.advance(5 * time.Minute)
	if st := keepalive(); !st.Deadline.Equal(closedAt.Add(10 * time.Minute)) {
		t.Fatalf("pulse after close: deadline %v, want %v", st.Deadline, closedAt.Add(10*time.Minute))
	}
	f.advance(5 * time.Minute)
	wantErr(t, f.do("POST", "/session/keepalive", "", withCookie(tok)), http.StatusUnauthorized, httptransport.CodeSessionEnded, core.ReasonIdleTimeout)
}

func TestP5KeepAliveAlwaysExtendsIdle(t *testing.T) {
	f := newFixture(t, core.Policy{IdleTimeout: 10 * time.Minute})
	tok := f.create("")
	f.appOK(tok)
	for range 6 {
		f.advance(5 * time.Minute)
		wantOK[httptransport.StatusReply](t, f.do("POST", "/session/keepalive", "", withCookie(tok)), http.StatusOK)
	}
	wantOK[httptransport.SessionReply](t, f.do("GET", "/session", "", withCookie(tok)), http.StatusOK)
}

func TestP12GetOrCreateWithinSevenDays(t *testing.T) {
	f := newFixture(t, core.ResumablePolicy())
	getOrCreate := func(status int) (httptransport.SessionReply, string) {
		t.Helper()
		w := f.do("POST", "/session/by-reference", `{"reference_id":"cust-42","channel":"link"}`, asAdmin())
		return wantOK[httptransport.SessionReply](t, w, status), sessionCookie(t, w).Value
	}
	first, tok := getOrCreate(http.StatusCreated)
	if !first.Created || !first.Session.ExpiresAt.Equal(t0.Add(168*time.Hour)) {
		t.Fatalf("first: %+v", first)
	}
	f.appOK(tok) // the user starts, then drops out

	f.advance(3 * 24 * time.Hour)
	if again, same := getOrCreate(http.StatusOK); again.Created || same != tok || again.Session.State != core.StateActive {
		t.Fatalf("day 3: created=%v same=%v", again.Created, same == tok)
	}
	f.advance(4*24*time.Hour - time.Second) // 7 days less a second
	if again, same := getOrCreate(http.StatusOK); again.Created || same != tok {
		t.Fatalf("7 days less a second: created=%v same=%v", again.Created, same == tok)
	}
	f.advance(time.Second)
	fresh, next := getOrCreate(http.StatusCreated)
	if !fresh.Created || next == tok || !fresh.Session.CreatedAt.Equal(t0.Add(168*time.Hour)) {
		t.Fatalf("after 7 days: %+v", fresh)
	}
	wantErr(t, f.do("GET", "/app/page", "", withCookie(tok)), http.StatusUnauthorized, httptransport.CodeSessionExpired, core.ReasonExpired)

	list := wantOK[httptransport.SessionsReply](t, f.do("GET", "/admin/sessions?reference=cust-42", "", asAdmin()), http.StatusOK)
	if len(list.Sessions) != 2 || list.Sessions[0].ID != next || list.Sessions[1].State != core.StateEnded ||
		list.Sessions[1].EndReason != core.ReasonExpired {
		t.Errorf("by reference: %+v", list.Sessions)
	}
}

func TestP1ExpiredIsNotNotFound(t *testing.T) {
	f := newFixture(t, core.Policy{})
	tok := f.create("")
	f.appOK(tok)
	f.advance(168*time.Hour - time.Second)
	f.appOK(tok)
	f.advance(time.Second)

	for _, tc := range []struct{ method, path string }{
		{"GET", "/app/page"}, {"GET", "/session"}, {"POST", "/session/keepalive"},
		{"POST", "/session/resume"}, {"GET", "/session/drafts"},
	} {
		w := f.do(tc.method, tc.path, "", withCookie(tok))
		e := wantErr(t, w, http.StatusUnauthorized, httptransport.CodeSessionExpired, core.ReasonExpired)
		if e.Code == httptransport.CodeSessionNotFound {
			t.Errorf("%s %s: expired reported as not found", tc.method, tc.path)
		}
		clearedCookie(t, w)
	}
	wantErr(t, f.do("GET", "/session", "", withCookie(unknownID)), http.StatusUnauthorized, httptransport.CodeSessionNotFound, "")

	// After Retention the tombstone is purged: only then is it not found.
	f.advance(core.DefaultRetention)
	if r := f.sweep(); r.Purged != 1 {
		t.Fatalf("purged %d", r.Purged)
	}
	wantErr(t, f.do("GET", "/session", "", withCookie(tok)), http.StatusUnauthorized, httptransport.CodeSessionNotFound, "")
}

func TestP9SecondLoginSupersedes(t *testing.T) {
	f := newFixture(t, core.RealtimePolicy())
	first := f.login("", "ann")
	f.advance(time.Second)
	second := f.login("", "ann")
	wantErr(t, f.do("GET", "/app/page", "", withCookie(first)), http.StatusUnauthorized, httptransport.CodeSessionEnded, core.ReasonSuperseded)
	f.appOK(second)
}
