package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/sessionkit/sessionkit/adapters/memstore"
	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/transports/httptransport"
)

const day = 24 * time.Hour

// testKey is a fixed link key, so failures reproduce.
var testKey = bytes.Repeat([]byte{7}, 32)

// env is one service on a mock clock, and the record of every URL asked and
// every Location and token answered, checked when the test ends.
type env struct {
	t     *testing.T
	clk   *clock.Mock
	store core.Store
	app   *app

	urls, locations, tokens []string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	clk := clock.NewMock()
	clk.Set(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	e := &env{t: t, clk: clk, store: memstore.New()}
	e.restart()
	t.Cleanup(e.checkNoTokenInURLs)
	return e
}

// restart replaces the service with a new one over the same store, as a
// process restart would.
func (e *env) restart() {
	e.t.Helper()
	ctx := context.Background()
	if e.app != nil {
		if err := e.app.m.Close(ctx); err != nil {
			e.t.Fatal(err)
		}
	}
	a, err := newApp(ctx, options{Store: e.store, Clock: e.clk, LinkKey: testKey, AdminToken: demoAdminToken})
	if err != nil {
		e.t.Fatal(err)
	}
	e.app = a
}

// checkNoTokenInURLs fails the test if a session token was ever in a URL
// asked for or in a Location answered.
func (e *env) checkNoTokenInURLs() {
	for _, tok := range e.tokens {
		for _, u := range append(append([]string(nil), e.urls...), e.locations...) {
			if strings.Contains(u, tok) {
				e.t.Errorf("session token %.6s… appears in %q", tok, u)
			}
		}
	}
}

// browser is one browser: it keeps the session cookie as a browser would.
type browser struct {
	e      *env
	cookie *http.Cookie
}

func (e *env) browser() *browser { return &browser{e: e} }

// do sends a request through the service, as the page's script would.
func (b *browser) do(method, target string, body any, hdr map[string]string) *httptest.ResponseRecorder {
	b.e.t.Helper()
	var rd *bytes.Reader
	if body != nil {
		js, err := json.Marshal(body)
		if err != nil {
			b.e.t.Fatal(err)
		}
		rd = bytes.NewReader(js)
	} else {
		rd = bytes.NewReader(nil)
	}
	r := httptest.NewRequest(method, target, rd)
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	if b.cookie != nil {
		r.AddCookie(b.cookie)
	}
	w := httptest.NewRecorder()
	b.e.app.ServeHTTP(w, r)

	b.e.urls = append(b.e.urls, r.URL.String())
	b.e.locations = append(b.e.locations, w.Header().Values("Location")...)
	for _, c := range w.Result().Cookies() {
		if c.Name != httptransport.DefaultCookieName {
			continue
		}
		if c.MaxAge < 0 {
			b.cookie = nil
			continue
		}
		b.cookie = c
		b.e.tokens = append(b.e.tokens, c.Value)
	}
	return w
}

// decode checks the status of w and decodes its body into v.
func decode[T any](t *testing.T, w *httptest.ResponseRecorder, status int) T {
	t.Helper()
	var v T
	if w.Code != status {
		t.Fatalf("status %d, want %d; body %s", w.Code, status, w.Body)
	}
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("decoding %s: %v", w.Body, err)
	}
	return v
}

// errCode checks the status of w and returns the code of its error body.
func errCode(t *testing.T, w *httptest.ResponseRecorder, status int) string {
	t.Helper()
	return decode[struct{ Error httptransport.APIError }](t, w, status).Error.Code
}

// openLink opens ref's resume link as the page does: the page, then
// get-or-create through the API with the link's signature. It returns the
// API's answer and the session's ID (the cookie's value).
func (b *browser) openLink(ref string) (httptransport.SessionReply, string) {
	b.e.t.Helper()
	link := b.e.app.links.link("", ref)
	if w := b.do("GET", link, nil, nil); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "by-reference") {
		b.e.t.Fatalf("GET %s: %d %.80s", link, w.Code, w.Body)
	}
	u, _ := url.Parse(link)
	w := b.do("POST", "/api/session/by-reference",
		httptransport.CreateRequest{ReferenceID: ref, Channel: "link"},
		map[string]string{headerLinkSignature: u.Query().Get("sig")})
	if w.Code != http.StatusOK && w.Code != http.StatusCreated {
		b.e.t.Fatalf("by-reference: %d %s", w.Code, w.Body)
	}
	reply := decode[httptransport.SessionReply](b.e.t, w, w.Code)
	if reply.Created != (w.Code == http.StatusCreated) {
		b.e.t.Errorf("created %v with status %d", reply.Created, w.Code)
	}
	if b.cookie == nil {
		b.e.t.Fatal("by-reference set no session cookie")
	}
	return reply, b.cookie.Value
}

// step is what the page saves: the step reached and the fields so far.
type step struct {
	Step  int    `json:"step"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

// saveStep saves the onboarding draft as the page does on "Next": a new
// draft when id is empty, else version's successor.
func (b *browser) saveStep(id string, version uint64, data step) httptransport.DraftInfo {
	b.e.t.Helper()
	js, _ := json.Marshal(data)
	req := httptransport.DraftSaveRequest{Name: draftName, Mode: core.SaveManual, Data: js}
	if id == "" {
		return decode[httptransport.DraftReply](b.e.t, b.do("POST", "/api/session/drafts", req, nil), http.StatusCreated).Draft
	}
	req.Version = version
	return decode[httptransport.DraftReply](b.e.t, b.do("PUT", "/api/session/drafts/"+id, req, nil), http.StatusOK).Draft
}

// resumeStep finds the reference's open onboarding draft and takes it up in
// the browser's session, as the page does on "Open my onboarding".
func (b *browser) resumeStep() (httptransport.DraftInfo, step) {
	b.e.t.Helper()
	list := decode[httptransport.DraftsReply](b.e.t, b.do("GET", "/api/session/drafts", nil, nil), http.StatusOK)
	for _, d := range list.Drafts {
		if d.Name == draftName && d.State == core.DraftOpen {
			got := decode[httptransport.DraftReply](b.e.t, b.do("POST", "/api/session/drafts/"+d.ID+"/resume", nil, nil), http.StatusOK).Draft
			var s step
			if err := json.Unmarshal(got.Data, &s); err != nil {
				b.e.t.Fatalf("draft data %s: %v", got.Data, err)
			}
			return got, s
		}
	}
	b.e.t.Fatalf("no open onboarding draft in %+v", list.Drafts)
	return httptransport.DraftInfo{}, step{}
}

func (b *browser) state() core.State {
	b.e.t.Helper()
	return decode[httptransport.SessionReply](b.e.t, b.do("GET", "/api/session", nil, nil), http.StatusOK).Session.State
}

// adminSessions lists ref's sessions through the integrator's route.
func (e *env) adminSessions(ref string) []httptransport.SessionInfo {
	e.t.Helper()
	w := e.browser().do("GET", "/api/admin/sessions?reference="+ref, nil, map[string]string{headerAdminToken: demoAdminToken})
	return decode[httptransport.SessionsReply](e.t, w, http.StatusOK).Sessions
}

func TestLinkCreatesSessionNotStartedUntilFirstStep(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	reply, id := b.openLink("customer-42")
	if !reply.Created || reply.Session.State != core.StateNotStarted || reply.Session.ReferenceID != "customer-42" ||
		reply.Session.Channel != "link" {
		t.Fatalf("opening the link: %+v, want a created not_started session of customer-42 by link", reply)
	}
	if want := e.clk.Now().Add(7 * day); !reply.Session.ExpiresAt.Equal(want) {
		t.Errorf("expires_at %v, want %v (7 days)", reply.Session.ExpiresAt, want)
	}
	c := b.cookie
	if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
		t.Errorf("cookie %s: want Secure, HttpOnly, SameSite=Lax, Path=/", c)
	}
	if got := b.state(); got != core.StateNotStarted {
		t.Errorf("after reading the session: %s, want not_started (a read is not activity)", got)
	}

	b.saveStep("", 0, step{Step: 2, Name: "Ann", Email: "ann@example.com"})
	if got := b.state(); got != core.StateActive {
		t.Errorf("after the first step: %s, want active", got)
	}
	list := e.adminSessions("customer-42")
	if len(list) != 1 || list[0].ID != id || list[0].State != core.StateActive || list[0].OpenDrafts != 1 {
		t.Errorf("admin list %+v, want the one active session with its draft open", list)
	}
}

func TestSameLinkWithinSevenDaysSameSession(t *testing.T) {
	e := newEnv(t)
	first := e.browser()
	_, id := first.openLink("customer-42")
	first.saveStep("", 0, step{Step: 2, Name: "Ann"})

	for _, tc := range []struct {
		name    string
		advance time.Duration
		b       *browser
	}{
		{"reopened at once, fresh browser", 0, e.browser()},
		{"day 6, same browser", 6 * day, first},
		{"day 6, another device", 0, e.browser()},
		{"a second before day 7", day - time.Second, e.browser()},
	} {
		e.clk.Add(tc.advance)
		reply, got := tc.b.openLink("customer-42")
		if reply.Created || got != id {
			t.Errorf("%s: created %v, same ID %v; want the same session", tc.name, reply.Created, got == id)
		}
		if reply.Session.State != core.StateActive {
			t.Errorf("%s: state %s, want active", tc.name, reply.Session.State)
		}
	}
	if _, s := first.resumeStep(); s.Step != 2 || s.Name != "Ann" {
		t.Errorf("resumed %+v, want step 2 for Ann", s)
	}
	if list := e.adminSessions("customer-42"); len(list) != 1 {
		t.Errorf("admin list has %d sessions, want 1: no pile of sessions", len(list))
	}
}

func TestUnstartedLinkDoesNotPileUp(t *testing.T) {
	e := newEnv(t)
	_, id := e.browser().openLink("customer-42")
	for range 3 {
		e.clk.Add(day)
		if reply, got := e.browser().openLink("customer-42"); reply.Created || got != id {
			t.Fatalf("reopening a not-started link: created %v, same ID %v", reply.Created, got == id)
		}
	}
	if list := e.adminSessions("customer-42"); len(list) != 1 || list[0].State != core.StateNotStarted {
		t.Errorf("admin list %+v, want one not_started session", list)
	}
}

func TestSameLinkAfterSevenDaysNewSession(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	_, oldID := b.openLink("customer-42")
	b.saveStep("", 0, step{Step: 3, Name: "Ann", Email: "ann@example.com"})

	e.clk.Add(7*day + time.Second)
	if got := errCode(t, b.do("GET", "/api/session", nil, nil), http.StatusUnauthorized); got != httptransport.CodeSessionExpired {
		t.Errorf("the old cookie after 7 days: %s, want session_expired", got)
	}
	reply, newID := b.openLink("customer-42")
	if !reply.Created || newID == oldID || reply.Session.State != core.StateNotStarted {
		t.Fatalf("after 7 days: created %v, same ID %v, state %s; want a new not_started session",
			reply.Created, newID == oldID, reply.Session.State)
	}

	// The progress belongs to the reference, not the session: it follows.
	if _, s := b.resumeStep(); s.Step != 3 || s.Email != "ann@example.com" {
		t.Errorf("resumed in the new session %+v, want step 3", s)
	}
	list := e.adminSessions("customer-42")
	if len(list) != 2 {
		t.Fatalf("admin list has %d sessions, want 2", len(list))
	}
	if list[0].ID != newID || list[0].State != core.StateActive || list[0].OpenDrafts != 1 {
		t.Errorf("newest %+v, want the new session, active, with the draft", list[0])
	}
	if list[1].ID != oldID || list[1].State != core.StateEnded || list[1].EndReason != core.ReasonExpired {
		t.Errorf("oldest %+v, want the old session ended with reason expired", list[1])
	}

	w := e.browser().do("GET", "/admin/progress?reference=customer-42", nil, map[string]string{headerAdminToken: demoAdminToken})
	if p := decode[progressReply](t, w, http.StatusOK); len(p.Drafts) != 1 || p.Drafts[0].Step != 3 || p.Drafts[0].State != core.DraftOpen {
		t.Errorf("progress %+v, want the one open draft at step 3", p)
	}
}

func TestBadSignatureRefused(t *testing.T) {
	e := newEnv(t)
	good := e.app.links.sign("customer-42")
	for _, tc := range []struct{ name, ref, sig string }{
		{"no signature", "customer-42", ""},
		{"wrong signature", "customer-42", good[:len(good)-2] + "AA"},
		{"another reference's signature", "customer-42", e.app.links.sign("customer-7")},
		{"not base64", "customer-42", "%%%"},
		{"no reference", "", good},
		{"signed by another key", "customer-42", linkSigner{key: bytes.Repeat([]byte{8}, 32)}.sign("customer-42")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := e.browser()
			q := url.Values{"ref": {tc.ref}, "sig": {tc.sig}}
			if w := b.do("GET", "/start?"+q.Encode(), nil, nil); w.Code != http.StatusForbidden {
				t.Errorf("GET /start: %d, want 403", w.Code)
			}
			w := b.do("POST", "/api/session/by-reference", httptransport.CreateRequest{ReferenceID: tc.ref, Channel: "link"},
				map[string]string{headerLinkSignature: tc.sig})
			status, code := http.StatusForbidden, httptransport.CodeForbidden
			if tc.ref == "" {
				status, code = http.StatusBadRequest, httptransport.CodeInvalidInput
			}
			if got := errCode(t, w, status); got != code {
				t.Errorf("by-reference: %s, want %s", got, code)
			}
			if tc.ref != "" {
				w = b.do("POST", "/api/session", httptransport.CreateRequest{ReferenceID: tc.ref},
					map[string]string{headerLinkSignature: tc.sig})
				if got := errCode(t, w, http.StatusForbidden); got != httptransport.CodeForbidden {
					t.Errorf("create with the reference: %s, want forbidden", got)
				}
			}
			if b.cookie != nil {
				t.Errorf("a refused link set a session cookie")
			}
		})
	}
	if list := e.adminSessions("customer-42"); len(list) != 0 {
		t.Errorf("refused links created %d sessions", len(list))
	}
}

func TestAdminNeedsToken(t *testing.T) {
	e := newEnv(t)
	e.browser().openLink("customer-42")
	for _, path := range []string{"/api/admin/sessions?reference=customer-42", "/admin/progress?reference=customer-42"} {
		for _, tc := range []struct {
			token string
			want  int
		}{{"", http.StatusForbidden}, {"wrong", http.StatusForbidden}, {demoAdminToken, http.StatusOK}} {
			if w := e.browser().do("GET", path, nil, map[string]string{headerAdminToken: tc.token}); w.Code != tc.want {
				t.Errorf("GET %s with token %q: %d, want %d", path, tc.token, w.Code, tc.want)
			}
		}
	}
	// The page itself holds no data; its script asks with the token.
	if w := e.browser().do("GET", "/admin", nil, nil); w.Code != http.StatusOK || w.Header().Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("GET /admin: %d, Referrer-Policy %q", w.Code, w.Header().Get("Referrer-Policy"))
	}
}

func TestTokenNeverInURL(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	_, id := b.openLink("customer-42")
	b.saveStep("", 0, step{Step: 2})
	e.clk.Add(8 * day)
	b.openLink("customer-42")
	b.resumeStep()

	var out bytes.Buffer
	printLinks(&out, e.app.links, "http://127.0.0.1:8082", demoReferences)
	e.urls = append(e.urls, strings.Fields(out.String())...)

	if len(e.tokens) < 2 || e.tokens[0] != id {
		t.Fatalf("tokens seen %d: the check below would prove nothing", len(e.tokens))
	}
	for _, l := range e.locations {
		t.Errorf("an answer redirected to %q: the journey needs no redirect", l)
	}
	// The API refuses a token offered in a URL rather than reading it.
	if w := e.browser().do("GET", "/api/session?sid=x", nil, nil); w.Code != http.StatusBadRequest {
		t.Errorf("a token parameter in the API's URL: %d, want 400", w.Code)
	}
	// Its answers to the browser carry the token only in Set-Cookie.
	w := b.do("GET", "/api/session", nil, nil)
	for _, tok := range e.tokens {
		if strings.Contains(w.Body.String(), tok) {
			t.Errorf("GET /api/session's body carries the token")
		}
	}
	// checkNoTokenInURLs, at cleanup, checks every URL and Location.
}

func TestSavedStepSurvivesRestart(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	_, id := b.openLink("customer-42")
	d := b.saveStep("", 0, step{Step: 1, Name: "Ann"})
	d = b.saveStep(d.ID, d.Version, step{Step: 2, Name: "Ann", Email: "ann@example.com"})

	e.restart()
	e.clk.Add(2 * day)

	for name, br := range map[string]*browser{"same browser": b, "another device": e.browser()} {
		reply, got := br.openLink("customer-42")
		if reply.Created || got != id {
			t.Errorf("%s after a restart: created %v, same ID %v; want the same session", name, reply.Created, got == id)
		}
		back, s := br.resumeStep()
		if back.ID != d.ID || back.Version != d.Version || s != (step{Step: 2, Name: "Ann", Email: "ann@example.com"}) {
			t.Errorf("%s: resumed %s v%d %+v, want %s v%d at step 2", name, back.ID, back.Version, s, d.ID, d.Version)
		}
	}
}

func TestPrintedLinksOpen(t *testing.T) {
	e := newEnv(t)
	var out bytes.Buffer
	printLinks(&out, e.app.links, "http://127.0.0.1:8082", demoReferences)
	n := 0
	for _, f := range strings.Fields(out.String()) {
		if !strings.Contains(f, "/start?") {
			continue
		}
		n++
		u, err := url.Parse(f)
		if err != nil {
			t.Fatal(err)
		}
		if w := e.browser().do("GET", u.RequestURI(), nil, nil); w.Code != http.StatusOK {
			t.Errorf("printed link %s: %d", f, w.Code)
		}
	}
	if n != len(demoReferences) {
		t.Errorf("printed %d links, want %d:\n%s", n, len(demoReferences), out.String())
	}
}
