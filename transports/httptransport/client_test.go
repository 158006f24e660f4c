package httptransport_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/transports/httptransport"
)

// recorder is a RoundTripper that adds headers and records every request
// URL and Authorization header, to show where the token travels.
type recorder struct {
	header http.Header
	mu     sync.Mutex
	urls   []string
	auth   []string
}

func (rt *recorder) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range rt.header {
		r.Header[k] = v
	}
	rt.mu.Lock()
	rt.urls = append(rt.urls, r.URL.String())
	rt.auth = append(rt.auth, r.Header.Get("Authorization"))
	rt.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

// server serves the fixture's API under /api/sk, as an application would
// mount it.
func (f *fixture) server() *httptest.Server {
	mux := http.NewServeMux()
	mux.Handle("/api/sk/", http.StripPrefix("/api/sk", f.h))
	srv := httptest.NewServer(mux)
	f.t.Cleanup(srv.Close)
	return srv
}

func (f *fixture) client(srv *httptest.Server, rt *recorder) *httptransport.Client {
	f.t.Helper()
	c, err := httptransport.NewClient(httptransport.ClientConfig{
		BaseURL: srv.URL + "/api/sk/", HTTPClient: &http.Client{Transport: rt},
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

func TestClientFlow(t *testing.T) {
	f := newFixture(t, core.Policy{IdleTimeout: 10 * time.Minute})
	rt := &recorder{}
	srv := f.server()
	c := f.client(srv, rt)

	created, err := c.Create(ctx, httptransport.CreateRequest{Channel: "api"})
	if err != nil {
		t.Fatal(err)
	}
	guest := c.Token()
	if !core.ValidID(guest) || created.Session.State != core.StateNotStarted || created.KeepAliveIntervalMS != 300000 {
		t.Fatalf("create: token %q, %+v", guest, created)
	}
	st, err := c.KeepAlive(ctx)
	if err != nil || st.State != core.StateNotStarted || st.KeepAliveIntervalMS != 300000 {
		t.Fatalf("keepalive: %+v %v", st, err)
	}
	if _, err := c.Resume(ctx); err != nil {
		t.Fatal(err)
	}

	d, err := c.SaveDraft(ctx, "", httptransport.DraftSaveRequest{Name: "f", Mode: core.SaveAuto, Data: []byte(`{"a":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	d, err = c.SaveDraft(ctx, d.Draft.ID, httptransport.DraftSaveRequest{Version: d.Draft.Version, Mode: core.SaveManual, DataBase64: []byte{0, 1}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.SaveDraft(ctx, d.Draft.ID, httptransport.DraftSaveRequest{Version: 1, Mode: core.SaveAuto})
	if !errors.Is(err, core.ErrConflict) || !httptransport.IsCode(err, httptransport.CodeVersionConflict) {
		t.Errorf("stale save: %v", err)
	}

	logged, err := c.Login(ctx, map[string]string{"user": "ann", "password": "pw-ann"})
	if err != nil {
		t.Fatal(err)
	}
	ann := c.Token()
	if ann == guest || logged.Session.Subject != "ann" {
		t.Fatalf("login: token rotated %v, %+v", ann != guest, logged.Session)
	}
	_, err = c.Login(ctx, map[string]string{"user": "bob", "password": "nope"})
	if ae, ok := errors.AsType[*httptransport.APIError](err); !ok || ae.Status != 401 || ae.Code != httptransport.CodeLoginFailed {
		t.Errorf("bad login: %v", err)
	}
	if c.Token() != ann {
		t.Error("a failed login changed the token")
	}

	old := f.client(srv, &recorder{})
	old.SetToken(guest)
	if _, err := old.Session(ctx); !errors.Is(err, core.ErrNotFound) || errors.Is(err, core.ErrEnded) {
		t.Errorf("rotated-away token: %v", err)
	}

	list, err := c.Drafts(ctx)
	if err != nil || len(list.Drafts) != 1 || !list.Drafts[0].InSession {
		t.Fatalf("drafts: %+v %v", list, err)
	}
	loaded, err := c.LoadDraft(ctx, d.Draft.ID)
	if err != nil || string(loaded.Draft.Bytes()) != "\x00\x01" {
		t.Fatalf("load: %+v %v", loaded, err)
	}
	if _, err := c.ResumeDraft(ctx, d.Draft.ID); err != nil {
		t.Fatal(err)
	}
	closed, err := c.CloseDraft(ctx, d.Draft.ID, loaded.Draft.Version)
	if err != nil || closed.Draft.State != core.DraftClosed {
		t.Fatalf("close: %+v %v", closed, err)
	}
	if err := c.DeleteDraft(ctx, d.Draft.ID, 0); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteDraft(ctx, d.Draft.ID, 0); !errors.Is(err, core.ErrNotFound) || !httptransport.IsCode(err, httptransport.CodeDraftNotFound) {
		t.Errorf("delete twice: %v", err)
	}
	if _, err := c.LoadDraft(ctx, "nope"); !errors.Is(err, core.ErrInvalidID) {
		t.Errorf("bad draft id: %v", err)
	}

	out, err := c.Logout(ctx)
	if err != nil || out.EndReason != core.ReasonLogout || c.Token() != "" {
		t.Fatalf("logout: %+v %v, token %q", out, err, c.Token())
	}
	if _, err := c.Session(ctx); !httptransport.IsCode(err, httptransport.CodeSessionRequired) {
		t.Errorf("after logout: %v", err)
	}
	c.SetToken(ann)
	_, err = c.KeepAlive(ctx)
	if why, ok := core.EndReason(err); !ok || why != core.ReasonLogout || !errors.Is(err, core.ErrEnded) || errors.Is(err, core.ErrExpired) {
		t.Errorf("keepalive after logout: %v", err)
	}

	// The token never went into a URL; it went in the Authorization header.
	rt.mu.Lock()
	defer rt.mu.Unlock()
	for _, u := range rt.urls {
		for _, tok := range []string{guest, ann} {
			if strings.Contains(u, tok) {
				t.Errorf("token in URL %s", u)
			}
		}
	}
	if rt.auth[0] != "" || rt.auth[1] != "Bearer "+guest {
		t.Errorf("second request's Authorization %q", rt.auth[1])
	}
}

func TestClientExpired(t *testing.T) {
	f := newFixture(t, core.Policy{})
	c := f.client(f.server(), &recorder{})
	if _, err := c.Create(ctx, httptransport.CreateRequest{}); err != nil {
		t.Fatal(err)
	}
	f.advance(core.DefaultTTL)
	_, err := c.Session(ctx)
	if !errors.Is(err, core.ErrExpired) || !errors.Is(err, core.ErrEnded) || errors.Is(err, core.ErrNotFound) {
		t.Errorf("expired: %v", err)
	}
	if why, _ := core.EndReason(err); why != core.ReasonExpired {
		t.Errorf("reason %q", why)
	}
	if ae, _ := errors.AsType[*httptransport.APIError](err); ae.Status != 401 || ae.Code != httptransport.CodeSessionExpired {
		t.Errorf("%+v", ae)
	}
}

func TestClientAdmin(t *testing.T) {
	f := newFixture(t, core.ResumablePolicy())
	srv := f.server()
	backend := f.client(srv, &recorder{header: http.Header{"X-Admin-Key": {adminKey}}})
	got, err := backend.GetOrCreate(ctx, httptransport.CreateRequest{ReferenceID: "cust/1 ü", Channel: "frame"})
	if err != nil || !got.Created {
		t.Fatalf("get-or-create: %+v %v", got, err)
	}
	tok := backend.Token()
	again, err := backend.GetOrCreate(ctx, httptransport.CreateRequest{ReferenceID: "cust/1 ü"})
	if err != nil || again.Created || backend.Token() != tok {
		t.Fatalf("again: %+v %v", again, err)
	}

	// The backend hands the token to the user's client.
	user := f.client(srv, &recorder{})
	user.SetToken(tok)
	if _, err := user.Login(ctx, map[string]string{"user": "ann", "password": "pw-ann"}); err != nil {
		t.Fatal(err)
	}
	byRef, err := backend.SessionsByReference(ctx, "cust/1 ü")
	if err != nil || len(byRef.Sessions) != 1 || byRef.Sessions[0].ID != user.Token() || byRef.Sessions[0].Subject != "ann" {
		t.Fatalf("by reference: %+v %v", byRef, err)
	}
	bySub, err := backend.SessionsBySubject(ctx, "ann")
	if err != nil || len(bySub.Sessions) != 1 {
		t.Fatalf("by subject: %+v %v", bySub, err)
	}
	n, err := backend.Revoke(ctx, "ann")
	if err != nil || n != 1 {
		t.Fatalf("revoke: %d %v", n, err)
	}
	if _, err := user.KeepAlive(ctx); !errors.Is(err, core.ErrEnded) {
		t.Errorf("after revoke: %v", err)
	}
	if _, err := user.Revoke(ctx, "ann"); !httptransport.IsCode(err, httptransport.CodeForbidden) {
		t.Errorf("user as admin: %v", err)
	}
}

func TestClientForeignErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad gateway", http.StatusBadGateway)
	}))
	defer srv.Close()
	c, err := httptransport.NewClient(httptransport.ClientConfig{BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Session(ctx)
	if ae, ok := errors.AsType[*httptransport.APIError](err); !ok || ae.Status != 502 || ae.Code != "" {
		t.Errorf("foreign error: %v", err)
	}
	for _, base := range []string{"ftp://x", "://", "http://x/?token=1", "http://x/#f"} {
		if _, err := httptransport.NewClient(httptransport.ClientConfig{BaseURL: base}); err == nil {
			t.Errorf("NewClient(%q) accepted", base)
		}
	}
}
