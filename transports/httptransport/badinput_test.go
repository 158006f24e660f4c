package httptransport_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/transports/httptransport"
)

// Bad input is refused with a clear code, and nothing is stored: no new
// record and no write at all.
func TestBadInputStoresNothing(t *testing.T) {
	f := newFixture(t, core.Policy{IdleTimeout: time.Hour})
	tok := f.create("")
	f.appOK(tok) // started and held in memory: further activity writes nothing
	d := wantOK[httptransport.DraftReply](t, f.do("POST", "/session/drafts", `{"mode":"auto"}`, withCookie(tok)), http.StatusCreated).Draft
	draft := "/session/drafts/" + d.ID

	// A token that is not of the form of an ID, and forms close to one.
	forged := []string{
		"x", "../../etc/passwd", "AAAAAAAAAAAAAAAAAAAAAB", // last character has spare bits set
		"AAAAAAAAAAAAAAAAAAAAA=", "AAAAAAAAAAAAAAAAAAAAAAA", strings.Repeat("A", 4096), tok[:10] + " " + tok[11:],
	}
	long := `{"channel":"` + strings.Repeat("x", httptransport.DefaultMaxBodyBytes) + `"}`
	huge := `{"mode":"auto","data":"` + strings.Repeat("x", httptransport.DefaultMaxDraftBodyBytes) + `"}`
	tooManyMeta := `{"metadata":{`
	for i := range core.MaxMetadata + 1 {
		if i > 0 {
			tooManyMeta += ","
		}
		tooManyMeta += `"k` + string(rune('a'+i%26)) + string(rune('a'+i/26)) + `":"v"`
	}
	tooManyMeta += `}}`

	type tc struct {
		name, method, path, body string
		opts                     []opt
		status                   int
		code                     string
	}
	cases := []tc{
		// Malformed JSON.
		{"truncated", "POST", "/session", `{"channel":`, nil, 400, httptransport.CodeMalformedJSON},
		{"array", "POST", "/session", `[]`, nil, 400, httptransport.CodeMalformedJSON},
		{"string", "POST", "/session", `"x"`, nil, 400, httptransport.CodeMalformedJSON},
		{"null", "POST", "/session", `null`, nil, 400, httptransport.CodeMalformedJSON},
		{"number", "POST", "/session/drafts", `1`, []opt{withCookie(tok)}, 400, httptransport.CodeMalformedJSON},
		{"unknown field", "POST", "/session", `{"chanel":"frame"}`, nil, 400, httptransport.CodeMalformedJSON},
		{"wrong type", "POST", "/session", `{"channel":5}`, nil, 400, httptransport.CodeMalformedJSON},
		{"wrong type in map", "POST", "/session", `{"metadata":{"a":1}}`, nil, 400, httptransport.CodeMalformedJSON},
		{"two objects", "POST", "/session", `{} {}`, nil, 400, httptransport.CodeMalformedJSON},
		{"trailing garbage", "POST", "/session", `{}x`, nil, 400, httptransport.CodeMalformedJSON},
		{"negative version", "PUT", draft, `{"version":-1,"mode":"auto"}`, []opt{withCookie(tok)}, 400, httptransport.CodeMalformedJSON},
		{"draft data not JSON", "PUT", draft, `{"version":1,"mode":"auto","data":{]}`, []opt{withCookie(tok)}, 400, httptransport.CodeMalformedJSON},
		{"bad base64", "POST", "/session/drafts", `{"mode":"auto","data_base64":"!!"}`, []opt{withCookie(tok)}, 400, httptransport.CodeMalformedJSON},
		{"login not an object", "POST", "/session/login", `["ann"]`, []opt{withCookie(tok)}, 400, httptransport.CodeMalformedJSON},
		{"revoke malformed", "POST", "/admin/revoke", `{"subject":}`, []opt{asAdmin()}, 400, httptransport.CodeMalformedJSON},

		// Input core refuses.
		{"control character", "POST", "/session", `{"channel":"a\u0000b"}`, nil, 400, httptransport.CodeInvalidInput},
		{"long channel", "POST", "/session", `{"channel":"` + strings.Repeat("c", core.MaxTextLen+1) + `"}`, nil, 400, httptransport.CodeInvalidInput},
		{"too much metadata", "POST", "/session", tooManyMeta, nil, 400, httptransport.CodeInvalidInput},
		{"bad save mode", "POST", "/session/drafts", `{"mode":"later"}`, []opt{withCookie(tok)}, 400, httptransport.CodeInvalidInput},
		{"draft over MaxDraftSize", "POST", "/session/drafts", `{"mode":"auto","data_base64":"` +
			strings.Repeat("A", (core.MaxDraftSize+3)/3*4+4) + `"}`, []opt{withCookie(tok)}, 400, httptransport.CodeInvalidInput},

		// Oversized bodies.
		{"oversized", "POST", "/session", long, nil, 413, httptransport.CodeBodyTooLarge},
		{"oversized login", "POST", "/session/login", long, nil, 413, httptransport.CodeBodyTooLarge},
		{"oversized draft", "POST", "/session/drafts", huge, []opt{withCookie(tok)}, 413, httptransport.CodeBodyTooLarge},
		{"oversized close", "POST", draft + "/close", long, []opt{withCookie(tok)}, 413, httptransport.CodeBodyTooLarge},

		// Bodies that are not JSON.
		{"text/plain", "POST", "/session", `{}`, []opt{withHeader("Content-Type", "text/plain")}, 415, httptransport.CodeUnsupportedMediaType},
		{"form", "POST", "/session", `channel=x`, []opt{withHeader("Content-Type", "application/x-www-form-urlencoded")}, 415, httptransport.CodeUnsupportedMediaType},
		{"no content type", "POST", "/session", `{}`, []opt{withHeader("Content-Type", "")}, 415, httptransport.CodeUnsupportedMediaType},
		{"bad media type", "POST", "/session/drafts", `{}`, []opt{withCookie(tok), withHeader("Content-Type", "application/json; =")}, 415, httptransport.CodeUnsupportedMediaType},

		// Wrong methods and routes.
		{"DELETE /session", "DELETE", "/session", "", []opt{withCookie(tok)}, 405, httptransport.CodeMethodNotAllowed},
		{"GET keepalive", "GET", "/session/keepalive", "", []opt{withCookie(tok)}, 405, httptransport.CodeMethodNotAllowed},
		{"PUT drafts", "PUT", "/session/drafts", `{"mode":"auto"}`, []opt{withCookie(tok)}, 405, httptransport.CodeMethodNotAllowed},
		{"no route", "POST", "/sessions", `{}`, nil, 404, httptransport.CodeNotFound},

		// Session and draft IDs.
		{"unknown session", "POST", "/session/drafts", `{"mode":"auto"}`, []opt{withBearer(unknownID)}, 401, httptransport.CodeSessionNotFound},
		{"no session", "POST", "/session/drafts", `{"mode":"auto"}`, nil, 401, httptransport.CodeSessionRequired},
		{"forged draft id", "PUT", "/session/drafts/..%2f..%2fx", `{"version":1,"mode":"auto"}`, []opt{withCookie(tok)}, 400, httptransport.CodeInvalidID},
		{"unknown draft", "PUT", "/session/drafts/" + unknownID, `{"version":1,"mode":"auto"}`, []opt{withCookie(tok)}, 404, httptransport.CodeDraftNotFound},

		// A token in the URL, with or without another in the cookie.
		{"session_id in query", "GET", "/session?session_id=" + tok, "", nil, 400, httptransport.CodeTokenInURL},
		{"access_token in query", "POST", "/session/keepalive?access_token=" + tok, "", nil, 400, httptransport.CodeTokenInURL},
		{"cookie name in query", "POST", "/session/resume?__Host-sessionkit=" + tok, "", nil, 400, httptransport.CodeTokenInURL},
		{"token param on create", "POST", "/session?token=abc", `{}`, nil, 400, httptransport.CodeTokenInURL},
		{"upper-case name", "POST", "/session?SID=abc", `{}`, nil, 400, httptransport.CodeTokenInURL},
		{"id-shaped value", "POST", "/session/drafts?x=" + unknownID, `{"mode":"auto"}`, []opt{withCookie(tok)}, 400, httptransport.CodeTokenInURL},
		{"own token under another name", "POST", "/session/logout?next=" + tok, "", []opt{withCookie(tok)}, 400, httptransport.CodeTokenInURL},
		{"token in query on login", "POST", "/session/login?session=" + tok, `{"user":"ann","password":"pw-ann"}`, nil, 400, httptransport.CodeTokenInURL},
		{"token on admin route", "GET", "/admin/sessions?reference=r&token=" + tok, "", []opt{asAdmin()}, 400, httptransport.CodeTokenInURL},
		{"token in query to the app", "GET", "/app/page?sid=" + tok, "", nil, 400, httptransport.CodeTokenInURL},
		{"token in query to an optional route", "GET", "/app/opt?access_token=" + tok, "", nil, 400, httptransport.CodeTokenInURL},
		{"own token to the app", "GET", "/app/page?ref=" + tok, "", []opt{withBearer(tok)}, 400, httptransport.CodeTokenInURL},
	}
	for _, bad := range forged {
		cases = append(cases,
			tc{"forged cookie " + bad[:min(len(bad), 24)], "POST", "/session/keepalive", "", []opt{withCookie(bad)}, 401, httptransport.CodeInvalidToken},
			tc{"forged bearer " + bad[:min(len(bad), 24)], "GET", "/app/page", "", []opt{withBearer(bad)}, 401, httptransport.CodeInvalidToken},
		)
	}

	records, writes := f.records(), f.writes()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := f.do(c.method, c.path, c.body, c.opts...)
			wantErr(t, w, c.status, c.code, "")
			if got := f.records(); got != records {
				t.Errorf("records %d, want %d", got, records)
			}
			if got := f.writes(); got != writes {
				t.Errorf("%d store writes", got-writes)
			}
		})
	}
	// The session is unharmed by all of it.
	f.appOK(tok)
}

// The query-string check never reads the token from there: a request whose
// only token is in the URL is refused even where a session is optional.
func TestTokenInURLIsNeverUsed(t *testing.T) {
	f := newFixture(t, core.Policy{})
	tok := f.create("")
	w := f.do("GET", "/session?session_id="+tok, "")
	e := wantErr(t, w, http.StatusBadRequest, httptransport.CodeTokenInURL, "")
	if strings.Contains(e.Message, tok) || strings.Contains(w.Body.String(), tok) {
		t.Errorf("the error echoes the token: %s", w.Body)
	}
	// Ordinary query parameters are fine on application routes.
	got := wantOK[appReply](t, f.do("GET", "/app/page?page=2&q=hello", "", withCookie(tok)), http.StatusOK)
	if !got.HasSession {
		t.Error("no session")
	}
	// And admin lookups may have ID-shaped references.
	wantOK[httptransport.SessionsReply](t, f.do("GET", "/admin/sessions?reference="+unknownID, "", asAdmin()), http.StatusOK)

	f = newFixture(t, core.Policy{}, func(c *httptransport.Config) { c.TokenParams = []string{} })
	tok = f.create("")
	wantOK[appReply](t, f.do("GET", "/app/page?token=abc", "", withCookie(tok)), http.StatusOK)
	wantErr(t, f.do("GET", "/app/page?__host-sessionkit=abc", "", withCookie(tok)), http.StatusBadRequest, httptransport.CodeTokenInURL, "")
}

// A chunked body of unknown length is bounded as well.
func TestOversizedChunkedBody(t *testing.T) {
	f := newFixture(t, core.Policy{})
	r := httptest.NewRequest("POST", "/session", strings.NewReader(`{"channel":"`+strings.Repeat("x", 1<<20)+`"}`))
	r.ContentLength = -1
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	wantErr(t, w, http.StatusRequestEntityTooLarge, httptransport.CodeBodyTooLarge, "")
	if f.records() != 0 {
		t.Error("stored a session")
	}
}
