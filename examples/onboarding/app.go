package main

import (
	"context"
	"crypto/subtle"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/transports/httptransport"
	"github.com/sessionkit/sessionkit/web"
)

// Header names of this example. The link's signature travels in a header to
// the API, so the API's URL never carries anything but its path.
const (
	headerLinkSignature = "Onboarding-Link-Signature"
	headerAdminToken    = "Onboarding-Admin-Token"
)

// draftName names the onboarding's draft: one per reference.
const draftName = "onboarding"

// insecureCookieName replaces the default "__Host-" name with InsecureCookie:
// browsers accept a "__Host-" cookie only with Secure.
const insecureCookieName = "onboarding-session"

//go:embed page.html
var pageHTML []byte

// options configures newApp.
type options struct {
	Store      core.Store
	Clock      core.Clock // nil means the real clock
	LinkKey    []byte     // signs the resume links
	AdminToken string     // admits the integrator view; empty admits nobody
	// InsecureCookie drops Secure from the session cookie, for plain HTTP
	// on hosts other than 127.0.0.1 and localhost.
	InsecureCookie bool
}

// app is the onboarding service: the sessionkit HTTP API at /api/, the
// resume links at /start, the integrator view at /admin.
type app struct {
	m          *core.Manager
	links      linkSigner
	adminToken []byte
	mux        *http.ServeMux
}

// newApp returns the service over o.Store with ResumablePolicy. It recovers
// the store (rule P10) before returning, so a new app over the store of an
// old one is a service restart.
func newApp(ctx context.Context, o options) (*app, error) {
	if len(o.LinkKey) < 32 {
		return nil, fmt.Errorf("onboarding: the link key has %d bytes, want at least 32", len(o.LinkKey))
	}
	m, err := core.New(core.Config{Store: o.Store, Policy: core.ResumablePolicy(), Clock: o.Clock})
	if err != nil {
		return nil, err
	}
	if _, err := m.Recover(ctx); err != nil {
		return nil, err
	}
	a := &app{m: m, links: linkSigner{key: o.LinkKey}, adminToken: []byte(o.AdminToken), mux: http.NewServeMux()}
	hc := httptransport.Config{
		Manager:            m,
		AuthorizeReference: a.authorizeReference,
		Authorize:          a.authorizeAdmin,
	}
	if o.InsecureCookie {
		hc.InsecureCookie, hc.CookieName = true, insecureCookieName
	}
	api, err := httptransport.New(hc)
	if err != nil {
		return nil, err
	}
	a.mux.Handle("/api/", http.StripPrefix("/api", api))
	a.mux.HandleFunc("GET /start", a.start)
	a.mux.HandleFunc("GET /admin", a.page)
	a.mux.HandleFunc("GET /admin/progress", a.progress)
	static := web.Handler() // sessionkit.js (FormsClient, DraftAutosave) and the demo styles
	a.mux.Handle("GET /sessionkit.js", static)
	a.mux.Handle("GET /demo.css", static)
	return a, nil
}

func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// authorizeReference is httptransport.Config.AuthorizeReference: a browser
// may get or create the session of a reference only with that reference's
// link signature.
func (a *app) authorizeReference(r *http.Request, ref string) error {
	return a.links.verify(ref, r.Header.Get(headerLinkSignature))
}

// authorizeAdmin is httptransport.Config.Authorize, and guards
// /admin/progress too: the integrator's routes need the admin token.
func (a *app) authorizeAdmin(r *http.Request) error {
	tok := r.Header.Get(headerAdminToken)
	if len(a.adminToken) == 0 || subtle.ConstantTimeCompare([]byte(tok), a.adminToken) != 1 {
		return errors.New("onboarding: wrong or missing admin token")
	}
	return nil
}

// start serves a resume link: it checks the signature, then serves the page,
// whose script gets or creates the reference's session through the API.
func (a *app) start(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if err := a.links.verify(q.Get("ref"), q.Get("sig")); err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	a.page(w, r)
}

// page serves the one page: the onboarding steps at /start, the integrator
// view at /admin. It holds no data; its script asks the API.
func (a *app) page(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	// The link's signature is in this page's URL: keep it out of Referer.
	h.Set("Referrer-Policy", "no-referrer")
	_, _ = w.Write(pageHTML)
}

// progressReply answers GET /admin/progress.
type progressReply struct {
	Drafts []draftProgress `json:"drafts"`
}

type draftProgress struct {
	Name      string          `json:"name"`
	State     core.DraftState `json:"state"`
	Step      int             `json:"step"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// progress serves GET /admin/progress?reference=R: the reference's drafts
// and the step each reached. Drafts belong to the reference, not to a
// session (rule P14), so this is the progress across all its sessions.
func (a *app) progress(w http.ResponseWriter, r *http.Request) {
	if err := a.authorizeAdmin(r); err != nil {
		writeJSON(w, http.StatusForbidden, apiError("forbidden", "not allowed"))
		return
	}
	ref := r.URL.Query().Get("reference")
	if ref == "" {
		writeJSON(w, http.StatusBadRequest, apiError("invalid_input", "the query parameter reference is required"))
		return
	}
	drafts, err := a.m.ListDraftsByOwner(r.Context(), core.DraftOwner(&core.Session{ReferenceID: ref}))
	if errors.Is(err, core.ErrInvalidInput) {
		writeJSON(w, http.StatusBadRequest, apiError("invalid_input", "bad reference"))
		return
	}
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, apiError("internal", "internal error"))
		return
	}
	reply := progressReply{Drafts: []draftProgress{}}
	for _, d := range drafts {
		var data struct {
			Step int `json:"step"`
		}
		_ = json.Unmarshal(d.Data, &data) // a draft that is not ours shows step 0
		reply.Drafts = append(reply.Drafts, draftProgress{Name: d.Name, State: d.State, Step: data.Step,
			CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC()})
	}
	writeJSON(w, http.StatusOK, reply)
}

// apiError is an error body in the shape of the API's.
func apiError(code, msg string) any {
	return map[string]any{"error": map[string]string{"code": code, "message": msg}}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
