package httptransport_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/sessionkit/sessionkit/adapters/memstore"
	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/transports/httptransport"
)

var (
	t0  = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	ctx = context.Background()
)

const (
	cookieName = httptransport.DefaultCookieName
	adminKey   = "admin-key-1"
	// unknownID has the form of an ID but names no session.
	unknownID = "AAAAAAAAAAAAAAAAAAAAAA"
)

// countingStore counts writes, to prove which requests reach the store.
type countingStore struct {
	core.Store
	puts, deletes atomic.Int64
	broken        atomic.Bool // every Get fails, as a broken disk would
}

var errDisk = errors.New("disk on fire")

func (s *countingStore) Get(ctx context.Context, key string) (core.Record, error) {
	if s.broken.Load() {
		return core.Record{}, errDisk
	}
	return s.Store.Get(ctx, key)
}

func (s *countingStore) Put(ctx context.Context, r core.Record) (uint64, error) {
	s.puts.Add(1)
	return s.Store.Put(ctx, r)
}

func (s *countingStore) Delete(ctx context.Context, key string, v uint64) error {
	s.deletes.Add(1)
	return s.Store.Delete(ctx, key, v)
}

// authenticate accepts {"user": U, "password": "pw-" + U}.
func authenticate(_ *http.Request, creds json.RawMessage) (string, error) {
	var c struct{ User, Password string }
	if err := json.Unmarshal(creds, &c); err != nil {
		return "", err
	}
	if c.User == "" || c.Password != "pw-"+c.User {
		return "", errors.New("bad password")
	}
	return c.User, nil
}

func authorize(r *http.Request) error {
	if r.Header.Get("X-Admin-Key") != adminKey {
		return errors.New("no admin key")
	}
	return nil
}

// fixture is a Handler over a Manager over memstore, with a mock clock at t0.
// Paths under /app go to an application route behind the middleware
// (/app/opt behind the optional one); the rest go to the API.
type fixture struct {
	t     *testing.T
	clock *clock.Mock
	store *countingStore
	m     *core.Manager
	h     *httptransport.Handler
	app   http.Handler
}

func newFixture(t *testing.T, p core.Policy, mods ...func(*httptransport.Config)) *fixture {
	t.Helper()
	c := clock.NewMock()
	c.Set(t0)
	f := &fixture{t: t, clock: c, store: &countingStore{Store: memstore.New()}}
	m, err := core.New(core.Config{Store: f.store, Policy: p, Clock: c})
	if err != nil {
		t.Fatal(err)
	}
	f.m = m
	cfg := httptransport.Config{
		Manager: m, Authenticate: authenticate, Authorize: authorize,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, mod := range mods {
		mod(&cfg)
	}
	if f.h, err = httptransport.New(cfg); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/app/opt", f.h.OptionalMiddleware(http.HandlerFunc(echo)))
	mux.Handle("/app/", f.h.Middleware(http.HandlerFunc(echo)))
	f.app = mux
	return f
}

// appReply is what the echo route answers: what the middleware put in the
// request context.
type appReply struct {
	HasSession bool        `json:"has_session"`
	Subject    string      `json:"subject"`
	State      core.State  `json:"state"`
	Deadline   time.Time   `json:"deadline"`
	Why        core.Reason `json:"why"`
	Interval   int64       `json:"interval_ms"`
	ErrCode    string      `json:"err_code"`
}

func echo(w http.ResponseWriter, r *http.Request) {
	var rep appReply
	if s, ok := httptransport.SessionFrom(r.Context()); ok {
		st, _ := httptransport.StatusFrom(r.Context())
		rep = appReply{HasSession: true, Subject: s.Subject, State: s.State,
			Deadline: st.Deadline.UTC(), Why: st.DeadlineReason, Interval: st.Interval.Milliseconds()}
	}
	if e, ok := errors.AsType[*httptransport.APIError](httptransport.ErrorFrom(r.Context())); ok {
		rep.ErrCode = e.Code
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(rep)
}

// opt adjusts a test request.
type opt func(*http.Request)

func withCookie(tok string) opt {
	return func(r *http.Request) { r.AddCookie(&http.Cookie{Name: cookieName, Value: tok}) }
}

func withBearer(tok string) opt {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}

func withHeader(k, v string) opt { return func(r *http.Request) { r.Header.Set(k, v) } }

func asAdmin() opt { return withHeader("X-Admin-Key", adminKey) }

// do serves one request. A body gets Content-Type application/json unless an
// opt says otherwise.
func (f *fixture) do(method, path, body string, opts ...opt) *httptest.ResponseRecorder {
	f.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, path, rd)
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	for _, o := range opts {
		o(r)
	}
	w := httptest.NewRecorder()
	if strings.HasPrefix(path, "/app/") {
		f.app.ServeHTTP(w, r)
	} else {
		f.h.ServeHTTP(w, r)
	}
	return w
}

// create makes a guest session through the API and returns its token.
func (f *fixture) create(body string, opts ...opt) string {
	f.t.Helper()
	w := f.do("POST", "/session", body, opts...)
	if w.Code != http.StatusCreated {
		f.t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	return sessionCookie(f.t, w).Value
}

// login logs in user on the session tok ("" for none) and returns the new
// token.
func (f *fixture) login(tok, user string) string {
	f.t.Helper()
	var opts []opt
	if tok != "" {
		opts = append(opts, withCookie(tok))
	}
	w := f.do("POST", "/session/login", `{"user":"`+user+`","password":"pw-`+user+`"}`, opts...)
	if w.Code != http.StatusOK {
		f.t.Fatalf("login: %d %s", w.Code, w.Body)
	}
	return sessionCookie(f.t, w).Value
}

func (f *fixture) advance(d time.Duration) { f.clock.Add(d) }

func (f *fixture) sweep() core.SweepResult {
	f.t.Helper()
	r, err := f.m.Sweep(ctx, f.clock.Now())
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

// records counts the records in the store: every session and draft has an
// entry in the due index.
func (f *fixture) records() int {
	f.t.Helper()
	recs, err := f.store.Scan(ctx, core.Range{Index: core.IndexDue})
	if err != nil {
		f.t.Fatal(err)
	}
	return len(recs)
}

// writes is the number of store writes so far.
func (f *fixture) writes() int64 { return f.store.puts.Load() + f.store.deletes.Load() }

// sessionCookie returns the session cookie a response sets.
func sessionCookie(t *testing.T, w *httptest.ResponseRecorder) *http.Cookie {
	t.Helper()
	for _, c := range w.Result().Cookies() {
		if c.Name == cookieName {
			return c
		}
	}
	t.Fatalf("no %s cookie in %q", cookieName, w.Header().Values("Set-Cookie"))
	return nil
}

func noCookie(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	if v := w.Header().Values("Set-Cookie"); len(v) > 0 {
		t.Errorf("unexpected Set-Cookie %q", v)
	}
}

// clearedCookie checks that the response tells the browser to drop the
// session cookie.
func clearedCookie(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	c := sessionCookie(t, w)
	if c.MaxAge >= 0 || c.Value != "" {
		t.Errorf("cookie not cleared: %q", w.Header().Get("Set-Cookie"))
	}
}

func decode[T any](t *testing.T, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q, body %s", ct, w.Body)
	}
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("decoding %s: %v", w.Body, err)
	}
	return v
}

// wantOK checks the status of a success and decodes the body.
func wantOK[T any](t *testing.T, w *httptest.ResponseRecorder, status int) T {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d: %s", w.Code, status, w.Body)
	}
	return decode[T](t, w)
}

// wantErr checks an error answer's status, code and reason.
func wantErr(t *testing.T, w *httptest.ResponseRecorder, status int, code string, reason core.Reason) *httptransport.APIError {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d (%s): %s", w.Code, status, code, w.Body)
	}
	body := decode[struct {
		Error *httptransport.APIError `json:"error"`
	}](t, w)
	if body.Error == nil || body.Error.Code != code || body.Error.Reason != reason {
		t.Fatalf("error body %s, want code %q reason %q", w.Body, code, reason)
	}
	if body.Error.Message == "" {
		t.Errorf("error %s has no message", code)
	}
	if status == http.StatusUnauthorized && !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Bearer ") {
		t.Errorf("401 without a Bearer challenge: %q", w.Header().Get("WWW-Authenticate"))
	}
	return body.Error
}
