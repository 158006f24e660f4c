package httptransport_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/transports/httptransport"
)

func TestMiddlewareAdmits(t *testing.T) {
	f := newFixture(t, core.Policy{IdleTimeout: 10 * time.Minute})
	ann := f.login("", "ann")
	f.advance(time.Minute)
	for _, o := range []opt{withCookie(ann), withBearer(ann)} {
		w := f.do("GET", "/app/page", "", o)
		got := wantOK[appReply](t, w, http.StatusOK)
		want := appReply{HasSession: true, Subject: "ann", State: core.StateActive,
			Deadline: f.clock.Now().Add(10 * time.Minute), Why: core.ReasonIdleTimeout, Interval: 300000}
		if got != want {
			t.Errorf("got %+v\nwant %+v", got, want)
		}
		if h := w.Header().Get(httptransport.HeaderKeepAliveInterval); h != "300000" {
			t.Errorf("interval header %q", h)
		}
		if v := w.Header().Get("Vary"); v != "Cookie, Authorization" {
			t.Errorf("Vary %q", v)
		}
		noCookie(t, w) // the TTL is never extended, so there is nothing to refresh
	}
}

func TestMiddlewareStartsANotStartedSession(t *testing.T) {
	f := newFixture(t, core.Policy{})
	tok := f.create("")
	if got := f.appOK(tok); got.State != core.StateActive {
		t.Errorf("state %s after the first request", got.State)
	}
}

func TestMiddlewareActivityIsCoalesced(t *testing.T) {
	f := newFixture(t, core.Policy{IdleTimeout: 10 * time.Minute}) // CheckpointEvery 30 s
	tok := f.create("")
	f.appOK(tok)
	writes := f.writes()
	for range 29 {
		f.advance(time.Second)
		f.appOK(tok)
	}
	if got := f.writes() - writes; got != 0 {
		t.Errorf("29 requests within a checkpoint period wrote %d times", got)
	}
	f.advance(time.Second) // 30 s past the stored activity: written through
	f.appOK(tok)
	f.sweep()
	if got := f.writes() - writes; got != 1 {
		t.Errorf("a request a checkpoint period on wrote %d times, want 1", got)
	}
}

func TestMiddlewareRefuses(t *testing.T) {
	f := newFixture(t, core.Policy{IdleTimeout: 10 * time.Minute})
	idle := f.create("")
	f.appOK(idle)
	out := f.create("")
	f.do("POST", "/session/logout", "", withCookie(out))
	f.advance(11 * time.Minute)
	for _, tc := range []struct {
		name   string
		o      opt
		code   string
		reason core.Reason
	}{
		{"no token", func(*http.Request) {}, httptransport.CodeSessionRequired, ""},
		{"forged", withCookie("forged"), httptransport.CodeInvalidToken, ""},
		{"unknown", withCookie(unknownID), httptransport.CodeSessionNotFound, ""},
		{"idle", withCookie(idle), httptransport.CodeSessionEnded, core.ReasonIdleTimeout},
		{"logged out", withCookie(out), httptransport.CodeSessionEnded, core.ReasonLogout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := f.do("GET", "/app/page", "", tc.o)
			wantErr(t, w, http.StatusUnauthorized, tc.code, tc.reason)
			if tc.code == httptransport.CodeSessionRequired {
				noCookie(t, w)
			} else {
				clearedCookie(t, w)
			}
			if w.Header().Get(httptransport.HeaderKeepAliveInterval) != "" {
				t.Error("a refused request carries an interval")
			}
		})
	}
}

func TestOptionalMiddleware(t *testing.T) {
	f := newFixture(t, core.Policy{})
	tok := f.create("")
	got := wantOK[appReply](t, f.do("GET", "/app/opt", ""), http.StatusOK)
	if got.HasSession || got.ErrCode != "" {
		t.Errorf("no token: %+v", got)
	}
	got = wantOK[appReply](t, f.do("GET", "/app/opt", "", withCookie(tok)), http.StatusOK)
	if !got.HasSession || got.State != core.StateActive {
		t.Errorf("token: %+v", got)
	}
	f.do("POST", "/session/logout", "", withCookie(tok))
	w := f.do("GET", "/app/opt", "", withCookie(tok))
	got = wantOK[appReply](t, w, http.StatusOK)
	if got.HasSession || got.ErrCode != httptransport.CodeSessionEnded {
		t.Errorf("ended: %+v", got)
	}
	clearedCookie(t, w)
	got = wantOK[appReply](t, f.do("GET", "/app/opt", "", withBearer("forged")), http.StatusOK)
	if got.HasSession || got.ErrCode != httptransport.CodeInvalidToken {
		t.Errorf("forged: %+v", got)
	}
}

func TestContextAccessorsWithoutMiddleware(t *testing.T) {
	if _, ok := httptransport.SessionFrom(context.Background()); ok {
		t.Error("SessionFrom found a session")
	}
	if _, ok := httptransport.StatusFrom(context.Background()); ok {
		t.Error("StatusFrom found a status")
	}
	if err := httptransport.ErrorFrom(context.Background()); err != nil {
		t.Error(err)
	}
}

func TestMiddlewareAfterManagerClose(t *testing.T) {
	f := newFixture(t, core.Policy{})
	tok := f.create("")
	if err := f.m.Close(ctx); err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/app/page", nil)
	r.AddCookie(&http.Cookie{Name: cookieName, Value: tok})
	w := httptest.NewRecorder()
	f.app.ServeHTTP(w, r)
	wantErr(t, w, http.StatusServiceUnavailable, httptransport.CodeUnavailable, "")
	wantErr(t, f.do("POST", "/session", ""), http.StatusServiceUnavailable, httptransport.CodeUnavailable, "")
}
