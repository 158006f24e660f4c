package httptransport_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/transports/httptransport"
)

func TestCreate(t *testing.T) {
	f := newFixture(t, core.Policy{})
	w := f.do("POST", "/session", `{"channel":"frame","metadata":{"lang":"de"}}`)
	got := wantOK[httptransport.SessionReply](t, w, http.StatusCreated)
	tok := sessionCookie(t, w).Value
	if !core.ValidID(tok) {
		t.Fatalf("cookie value %q is not a session id", tok)
	}
	if strings.Contains(w.Body.String(), tok) {
		t.Errorf("the body carries the token: %s", w.Body)
	}
	want := httptransport.SessionReply{
		Session: httptransport.SessionInfo{
			Channel: "frame", State: core.StateNotStarted, CreatedAt: t0, ExpiresAt: t0.Add(core.DefaultTTL),
			LastActivityAt: t0, Metadata: map[string]string{"lang": "de"},
		},
		Deadline: t0.Add(core.DefaultTTL), DeadlineReason: core.ReasonExpired, KeepAliveIntervalMS: 20000,
	}
	if got.Session.Channel != want.Session.Channel || got.Session.State != want.Session.State ||
		!got.Session.CreatedAt.Equal(want.Session.CreatedAt) || !got.Session.ExpiresAt.Equal(want.Session.ExpiresAt) ||
		got.Session.Metadata["lang"] != "de" || !got.Deadline.Equal(want.Deadline) ||
		got.DeadlineReason != want.DeadlineReason || got.KeepAliveIntervalMS != want.KeepAliveIntervalMS || got.Session.ID != "" {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if h := w.Header().Get(httptransport.HeaderKeepAliveInterval); h != "20000" {
		t.Errorf("interval header %q", h)
	}
	if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}

	// Creating always makes a new session, whatever the request carries.
	w = f.do("POST", "/session", "", withCookie(tok))
	wantOK[httptransport.SessionReply](t, w, http.StatusCreated)
	if again := sessionCookie(t, w).Value; again == tok {
		t.Error("create with a cookie reused the session")
	}
}

func TestCookieAttributes(t *testing.T) {
	f := newFixture(t, core.Policy{})
	w := f.do("POST", "/session", "")
	raw := w.Header().Get("Set-Cookie")
	c := sessionCookie(t, w)
	if c.Name != "__Host-sessionkit" || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode ||
		c.Path != "/" || c.Domain != "" || !c.Expires.Equal(t0.Add(core.DefaultTTL)) {
		t.Errorf("cookie %q", raw)
	}
	for _, want := range []string{"Path=/", "HttpOnly", "Secure", "SameSite=Lax", "Expires=Sun, 08 Mar 2026 09:00:00 GMT"} {
		if !strings.Contains(raw, want) {
			t.Errorf("Set-Cookie %q lacks %q", raw, want)
		}
	}
	if strings.Contains(raw, "Domain") {
		t.Errorf("a __Host- cookie must not have a Domain: %q", raw)
	}

	w = f.do("POST", "/session/logout", "", withCookie(c.Value))
	raw = w.Header().Get("Set-Cookie")
	for _, want := range []string{"__Host-sessionkit=;", "Path=/", "Max-Age=0", "HttpOnly", "Secure", "SameSite=Lax"} {
		if !strings.Contains(raw, want) {
			t.Errorf("clearing Set-Cookie %q lacks %q", raw, want)
		}
	}
}

func TestConfig(t *testing.T) {
	m, err := core.New(core.Config{Store: &countingStore{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cfg  httptransport.Config
		ok   bool
	}{
		{"no manager", httptransport.Config{}, false},
		{"defaults", httptransport.Config{Manager: m}, true},
		{"insecure __Host-", httptransport.Config{Manager: m, InsecureCookie: true}, false},
		{"insecure __Secure-", httptransport.Config{Manager: m, CookieName: "__Secure-s", InsecureCookie: true}, false},
		{"insecure plain name", httptransport.Config{Manager: m, CookieName: "sk", InsecureCookie: true}, true},
		{"bad name", httptransport.Config{Manager: m, CookieName: "a b;"}, false},
		{"None without Secure", httptransport.Config{Manager: m, CookieName: "sk", InsecureCookie: true, SameSite: http.SameSiteNoneMode}, false},
		{"bad origin", httptransport.Config{Manager: m, TrustedOrigins: []string{"not an origin"}}, false},
	} {
		_, err := httptransport.New(tc.cfg)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}

	f := newFixture(t, core.Policy{}, func(c *httptransport.Config) {
		c.CookieName, c.InsecureCookie, c.SameSite = "dev_session", true, http.SameSiteStrictMode
	})
	w := f.do("POST", "/session", "")
	raw := w.Header().Get("Set-Cookie")
	if !strings.HasPrefix(raw, "dev_session=") || strings.Contains(raw, "Secure") || !strings.Contains(raw, "SameSite=Strict") {
		t.Errorf("Set-Cookie %q", raw)
	}
}

func TestCreateWithReferenceNeedsTheIntegrator(t *testing.T) {
	f := newFixture(t, core.Policy{})
	before := f.records()
	wantErr(t, f.do("POST", "/session", `{"reference_id":"cust-1"}`), http.StatusForbidden, httptransport.CodeForbidden, "")
	if f.records() != before {
		t.Error("a refused create stored a record")
	}
	w := f.do("POST", "/session", `{"reference_id":"cust-1","channel":"link"}`, asAdmin())
	got := wantOK[httptransport.SessionReply](t, w, http.StatusCreated)
	if got.Session.ReferenceID != "cust-1" || got.Session.Channel != "link" {
		t.Errorf("got %+v", got.Session)
	}

	// With no authorizer at all, references are refused.
	f = newFixture(t, core.Policy{}, func(c *httptransport.Config) { c.Authorize = nil })
	wantErr(t, f.do("POST", "/session", `{"reference_id":"cust-1"}`, asAdmin()), http.StatusForbidden, httptransport.CodeForbidden, "")

	// AuthorizeReference decides per reference.
	f = newFixture(t, core.Policy{}, func(c *httptransport.Config) {
		c.AuthorizeReference = func(r *http.Request, ref string) error {
			if ref != r.Header.Get("X-User-Ref") {
				return core.ErrInvalidInput
			}
			return nil
		}
	})
	wantOK[httptransport.SessionReply](t, f.do("POST", "/session", `{"reference_id":"me"}`, withHeader("X-User-Ref", "me")), http.StatusCreated)
	wantErr(t, f.do("POST", "/session", `{"reference_id":"you"}`, withHeader("X-User-Ref", "me")), http.StatusForbidden, httptransport.CodeForbidden, "")
}

func TestGetOrCreate(t *testing.T) {
	f := newFixture(t, core.ResumablePolicy())
	w := f.do("POST", "/session/by-reference", `{"reference_id":"cust-7","channel":"frame"}`, asAdmin())
	first := wantOK[httptransport.SessionReply](t, w, http.StatusCreated)
	tok := sessionCookie(t, w).Value
	if !first.Created || first.Session.ReferenceID != "cust-7" {
		t.Fatalf("first: %+v", first)
	}
	w = f.do("POST", "/session/by-reference", `{"reference_id":"cust-7","channel":"link"}`, asAdmin())
	again := wantOK[httptransport.SessionReply](t, w, http.StatusOK)
	if again.Created || sessionCookie(t, w).Value != tok || again.Session.Channel != "frame" {
		t.Errorf("second: created=%v channel=%s, same token %v", again.Created, again.Session.Channel, sessionCookie(t, w).Value == tok)
	}

	wantErr(t, f.do("POST", "/session/by-reference", `{"channel":"frame"}`, asAdmin()), http.StatusBadRequest, httptransport.CodeInvalidInput, "")
	wantErr(t, f.do("POST", "/session/by-reference", "", asAdmin()), http.StatusBadRequest, httptransport.CodeInvalidInput, "")
	wantErr(t, f.do("POST", "/session/by-reference", `{"reference_id":"cust-7"}`), http.StatusForbidden, httptransport.CodeForbidden, "")
	wantErr(t, f.do("POST", "/session/by-reference", `{"reference_id":"bad\u0001ref"}`, asAdmin()), http.StatusBadRequest, httptransport.CodeInvalidInput, "")
}

func TestGetSessionIsNotActivity(t *testing.T) {
	f := newFixture(t, core.Policy{IdleTimeout: 10 * time.Minute})
	tok := f.create("")
	writes := f.writes()
	f.advance(time.Minute)
	got := wantOK[httptransport.SessionReply](t, f.do("GET", "/session", "", withCookie(tok)), http.StatusOK)
	if got.Session.State != core.StateNotStarted || f.writes() != writes {
		t.Errorf("GET /session started the session or wrote: %+v", got.Session)
	}
	// HEAD works where GET does.
	if w := f.do("HEAD", "/session", "", withBearer(tok)); w.Code != http.StatusOK {
		t.Errorf("HEAD: %d", w.Code)
	}
}

func TestSessionErrors(t *testing.T) {
	f := newFixture(t, core.Policy{})
	for _, path := range []string{"/session", "/session/drafts", "/session/drafts/" + unknownID} {
		wantErr(t, f.do("GET", path, ""), http.StatusUnauthorized, httptransport.CodeSessionRequired, "")
		w := f.do("GET", path, "", withCookie("forged-token"))
		wantErr(t, w, http.StatusUnauthorized, httptransport.CodeInvalidToken, "")
		clearedCookie(t, w)
		w = f.do("GET", path, "", withBearer(unknownID))
		wantErr(t, w, http.StatusUnauthorized, httptransport.CodeSessionNotFound, "")
		noCookie(t, w) // a bearer token is not the cookie's to clear
		if got := w.Header().Get("WWW-Authenticate"); got != `Bearer realm="sessionkit", error="invalid_token"` {
			t.Errorf("WWW-Authenticate %q", got)
		}
	}
	for _, path := range []string{"/session/resume", "/session/keepalive", "/session/logout", "/session/drafts/" + unknownID + "/close"} {
		wantErr(t, f.do("POST", path, ""), http.StatusUnauthorized, httptransport.CodeSessionRequired, "")
		wantErr(t, f.do("POST", path, "", withBearer("x")), http.StatusUnauthorized, httptransport.CodeInvalidToken, "")
		wantErr(t, f.do("POST", path, "", withBearer(unknownID)), http.StatusUnauthorized, httptransport.CodeSessionNotFound, "")
	}
}

func TestBearerAndCookie(t *testing.T) {
	f := newFixture(t, core.Policy{})
	a, b := f.create(`{"channel":"a"}`), f.create(`{"channel":"b"}`)
	// The header wins over the cookie.
	got := wantOK[httptransport.SessionReply](t, f.do("GET", "/session", "", withCookie(a), withBearer(b)), http.StatusOK)
	if got.Session.Channel != "b" {
		t.Errorf("got channel %q, want the bearer's", got.Session.Channel)
	}
	// Another authorization scheme is the application's: the cookie is used.
	got = wantOK[httptransport.SessionReply](t, f.do("GET", "/session", "", withCookie(a), withHeader("Authorization", "Basic eDp5")), http.StatusOK)
	if got.Session.Channel != "a" {
		t.Errorf("got channel %q, want the cookie's", got.Session.Channel)
	}
	// The scheme is case-insensitive.
	got = wantOK[httptransport.SessionReply](t, f.do("GET", "/session", "", withHeader("Authorization", "bearer "+b)), http.StatusOK)
	if got.Session.Channel != "b" {
		t.Errorf("lower-case bearer: channel %q", got.Session.Channel)
	}
	wantErr(t, f.do("GET", "/session", "", withHeader("Authorization", "Bearer ")), http.StatusUnauthorized, httptransport.CodeInvalidToken, "")
}

func TestResume(t *testing.T) {
	f := newFixture(t, core.ResumablePolicy())
	// The integrator's backend creates a session and hands its token over;
	// the browser presents it once as a bearer token and gets the cookie.
	w := f.do("POST", "/session", `{"reference_id":"cust-1"}`, asAdmin())
	tok := sessionCookie(t, w).Value
	w = f.do("POST", "/session/resume", "", withBearer(tok))
	got := wantOK[httptransport.SessionReply](t, w, http.StatusOK)
	if got.Session.State != core.StateActive || got.Session.ReferenceID != "cust-1" {
		t.Errorf("resumed: %+v", got.Session)
	}
	if c := sessionCookie(t, w); c.Value != tok || !c.Expires.Equal(t0.Add(core.DefaultTTL)) {
		t.Errorf("resume cookie %+v", c)
	}
	f.do("POST", "/session/logout", "", withCookie(tok))
	w = f.do("POST", "/session/resume", "", withCookie(tok))
	wantErr(t, w, http.StatusUnauthorized, httptransport.CodeSessionEnded, core.ReasonLogout)
	clearedCookie(t, w)
}

func TestLogin(t *testing.T) {
	f := newFixture(t, core.Policy{})
	guest := f.create(`{"channel":"frame"}`)
	w := f.do("POST", "/session/drafts", `{"mode":"auto","name":"form","data":{"a":1}}`, withCookie(guest))
	draft := wantOK[httptransport.DraftReply](t, w, http.StatusCreated).Draft

	// Wrong credentials change nothing.
	writes := f.writes()
	wantErr(t, f.do("POST", "/session/login", `{"user":"ann","password":"nope"}`, withCookie(guest)),
		http.StatusUnauthorized, httptransport.CodeLoginFailed, "")
	wantErr(t, f.do("POST", "/session/login", "", withCookie(guest)), http.StatusUnauthorized, httptransport.CodeLoginFailed, "")
	if f.writes() != writes {
		t.Error("a failed login wrote to the store")
	}

	// Login rotates the ID: a new cookie, and the old one stops working.
	w = f.do("POST", "/session/login", `{"user":"ann","password":"pw-ann"}`, withCookie(guest))
	got := wantOK[httptransport.SessionReply](t, w, http.StatusOK)
	ann := sessionCookie(t, w).Value
	if ann == guest || !core.ValidID(ann) {
		t.Fatalf("login did not rotate: %q", ann)
	}
	if got.Session.Subject != "ann" || got.Session.State != core.StateActive || got.Session.Channel != "frame" ||
		!got.Session.AuthAt.Equal(t0) || !got.Session.CreatedAt.Equal(t0) {
		t.Errorf("logged in: %+v", got.Session)
	}
	if strings.Contains(w.Body.String(), ann) {
		t.Error("the login answer carries the token")
	}
	wantErr(t, f.do("GET", "/session", "", withCookie(guest)), http.StatusUnauthorized, httptransport.CodeSessionNotFound, "")
	wantErr(t, f.do("GET", "/app/page", "", withCookie(guest)), http.StatusUnauthorized, httptransport.CodeSessionNotFound, "")
	wantOK[httptransport.SessionReply](t, f.do("GET", "/session", "", withCookie(ann)), http.StatusOK)
	// The guest's draft followed the login.
	d := wantOK[httptransport.DraftReply](t, f.do("GET", "/session/drafts/"+draft.ID, "", withCookie(ann)), http.StatusOK).Draft
	if !d.InSession || string(d.Data) != `{"a":1}` {
		t.Errorf("draft after login: %+v", d)
	}

	// Another user on a logged-in session must log out first.
	wantErr(t, f.do("POST", "/session/login", `{"user":"bob","password":"pw-bob"}`, withCookie(ann)),
		http.StatusConflict, httptransport.CodeWrongState, "")

	// No session: login starts one, active.
	w = f.do("POST", "/session/login", `{"user":"bob","password":"pw-bob"}`)
	got = wantOK[httptransport.SessionReply](t, w, http.StatusOK)
	if got.Session.Subject != "bob" || got.Session.State != core.StateActive {
		t.Errorf("fresh login: %+v", got.Session)
	}

	// A forged or unknown token is no obstacle to a login either.
	for _, tok := range []string{"forged", unknownID} {
		w = f.do("POST", "/session/login", `{"user":"cy","password":"pw-cy"}`, withCookie(tok))
		if got := wantOK[httptransport.SessionReply](t, w, http.StatusOK); got.Session.Subject != "cy" {
			t.Errorf("login over %q: %+v", tok, got.Session)
		}
	}
}

func TestLoginAfterEndKeepsTheReference(t *testing.T) {
	f := newFixture(t, core.Policy{IdleTimeout: 10 * time.Minute})
	tok := sessionCookie(t, f.do("POST", "/session", `{"reference_id":"cust-9","channel":"link"}`, asAdmin())).Value
	f.do("GET", "/app/x", "", withCookie(tok))
	f.advance(11 * time.Minute)
	w := f.do("POST", "/session/login", `{"user":"dee","password":"pw-dee"}`, withCookie(tok))
	got := wantOK[httptransport.SessionReply](t, w, http.StatusOK)
	if next := sessionCookie(t, w).Value; next == tok {
		t.Fatal("login on an ended session kept its token")
	}
	if got.Session.ReferenceID != "cust-9" || got.Session.Channel != "link" || got.Session.Subject != "dee" ||
		!got.Session.CreatedAt.Equal(t0.Add(11*time.Minute)) {
		t.Errorf("login after idle end: %+v", got.Session)
	}
}

func TestLoginDisabled(t *testing.T) {
	f := newFixture(t, core.Policy{}, func(c *httptransport.Config) { c.Authenticate = nil })
	wantErr(t, f.do("POST", "/session/login", `{"user":"ann","password":"pw-ann"}`), http.StatusForbidden, httptransport.CodeLoginDisabled, "")
}

func TestLoginWithEmptySubjectIsAnInternalError(t *testing.T) {
	f := newFixture(t, core.Policy{}, func(c *httptransport.Config) {
		c.Authenticate = func(*http.Request, json.RawMessage) (string, error) { return "", nil }
	})
	wantErr(t, f.do("POST", "/session/login", `{}`), http.StatusInternalServerError, httptransport.CodeInternal, "")
}

func TestStoreFailureIsInternalAndLogged(t *testing.T) {
	var log bytes.Buffer
	f := newFixture(t, core.Policy{}, func(c *httptransport.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&log, nil))
	})
	tok := f.create("")
	f.store.broken.Store(true)
	for _, path := range []string{"/session", "/app/page", "/session/drafts"} {
		w := f.do("GET", path, "", withCookie(tok))
		wantErr(t, w, http.StatusInternalServerError, httptransport.CodeInternal, "")
		if strings.Contains(w.Body.String(), "disk") {
			t.Errorf("%s: the answer shows the cause: %s", path, w.Body)
		}
		noCookie(t, w) // the session may be fine: keep the cookie
	}
	if !strings.Contains(log.String(), "disk on fire") {
		t.Errorf("the cause was not logged: %q", log.String())
	}
}

func TestKeepAlive(t *testing.T) {
	f := newFixture(t, core.Policy{IdleTimeout: 10 * time.Minute})
	tok := f.create("")
	f.do("GET", "/app/x", "", withCookie(tok))
	f.advance(4 * time.Minute)
	w := f.do("POST", "/session/keepalive", "", withCookie(tok))
	got := wantOK[httptransport.StatusReply](t, w, http.StatusOK)
	want := httptransport.StatusReply{State: core.StateActive, Deadline: t0.Add(14 * time.Minute),
		DeadlineReason: core.ReasonIdleTimeout, KeepAliveIntervalMS: 300000}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if h := w.Header().Get(httptransport.HeaderKeepAliveInterval); h != "300000" {
		t.Errorf("header %q", h)
	}
	noCookie(t, w)

	f = newFixture(t, core.Policy{KeepAlive: core.KeepAlive{Disabled: true}})
	tok = f.create("")
	wantErr(t, f.do("POST", "/session/keepalive", "", withCookie(tok)), http.StatusConflict, httptransport.CodeKeepAliveDisabled, "")
}

func TestLogout(t *testing.T) {
	f := newFixture(t, core.Policy{})
	tok := f.create("")
	w := f.do("POST", "/session/logout", "", withCookie(tok))
	got := wantOK[httptransport.LogoutReply](t, w, http.StatusOK)
	if got != (httptransport.LogoutReply{State: core.StateEnded, EndReason: core.ReasonLogout}) {
		t.Errorf("got %+v", got)
	}
	clearedCookie(t, w)
	wantErr(t, f.do("GET", "/session", "", withCookie(tok)), http.StatusUnauthorized, httptransport.CodeSessionEnded, core.ReasonLogout)
	wantErr(t, f.do("POST", "/session/keepalive", "", withBearer(tok)), http.StatusUnauthorized, httptransport.CodeSessionEnded, core.ReasonLogout)
	// Logging out again is answered, with the reason it ended.
	got = wantOK[httptransport.LogoutReply](t, f.do("POST", "/session/logout", "", withCookie(tok)), http.StatusOK)
	if got.EndReason != core.ReasonLogout {
		t.Errorf("second logout: %+v", got)
	}
	w = f.do("POST", "/session/logout", "", withCookie(unknownID))
	wantErr(t, w, http.StatusUnauthorized, httptransport.CodeSessionNotFound, "")
	clearedCookie(t, w)
}

func TestRoutes(t *testing.T) {
	f := newFixture(t, core.Policy{})
	for _, tc := range []struct {
		method, path, allow string
	}{
		{"DELETE", "/session", "POST, GET, HEAD"},
		{"PUT", "/session", "POST, GET, HEAD"},
		{"GET", "/session/keepalive", "POST"},
		{"PATCH", "/session/logout", "POST"},
		{"GET", "/session/login", "POST"},
		{"GET", "/session/by-reference", "POST"},
		{"DELETE", "/session/drafts", "GET, HEAD, POST"},
		{"POST", "/session/drafts/" + unknownID, "GET, HEAD, PUT, DELETE"},
		{"GET", "/session/drafts/" + unknownID + "/close", "POST"},
		{"POST", "/admin/sessions", "GET, HEAD"},
		{"GET", "/admin/revoke", "POST"},
	} {
		w := f.do(tc.method, tc.path, "")
		wantErr(t, w, http.StatusMethodNotAllowed, httptransport.CodeMethodNotAllowed, "")
		if got := w.Header().Get("Allow"); got != tc.allow {
			t.Errorf("%s %s: Allow %q, want %q", tc.method, tc.path, got, tc.allow)
		}
	}
	for _, p := range []string{"/", "/sessions", "/session/", "/session/drafts/a/b/c", "/admin"} {
		wantErr(t, f.do("GET", p, ""), http.StatusNotFound, httptransport.CodeNotFound, "")
	}
}

func TestCrossOriginRefused(t *testing.T) {
	f := newFixture(t, core.Policy{}, func(c *httptransport.Config) { c.TrustedOrigins = []string{"https://partner.example"} })
	before := f.records()
	w := f.do("POST", "/session", "", withHeader("Sec-Fetch-Site", "cross-site"), withHeader("Origin", "https://evil.example"))
	wantErr(t, w, http.StatusForbidden, httptransport.CodeCrossOrigin, "")
	if f.records() != before {
		t.Error("a cross-origin request stored a session")
	}
	w = f.do("POST", "/session", "", withHeader("Sec-Fetch-Site", "cross-site"), withHeader("Origin", "https://partner.example"))
	wantOK[httptransport.SessionReply](t, w, http.StatusCreated)
	w = f.do("POST", "/session", "", withHeader("Sec-Fetch-Site", "same-origin"))
	wantOK[httptransport.SessionReply](t, w, http.StatusCreated)
}
