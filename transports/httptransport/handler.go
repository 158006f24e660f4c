package httptransport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/sessionkit/sessionkit/core"
)

// Defaults of Config.
const (
	// DefaultCookieName is the session cookie's name. The "__Host-" prefix
	// makes browsers insist on Secure, Path=/ and no Domain, so a sibling
	// subdomain cannot plant or shadow the cookie.
	DefaultCookieName = "__Host-sessionkit"

	// DefaultMaxBodyBytes bounds the body of every route but draft saves.
	DefaultMaxBodyBytes = 64 << 10

	// DefaultMaxDraftBodyBytes bounds a draft save: room for
	// core.MaxDraftSize bytes of data in base64, and the rest of the body.
	DefaultMaxDraftBodyBytes = core.MaxDraftSize*4/3 + 64<<10
)

// HeaderKeepAliveInterval is the response header that carries the keepalive
// interval in milliseconds (rule P4), "0" when keepalives are off. The API
// sets it on every answer and the middleware on every request it admits.
const HeaderKeepAliveInterval = "Sessionkit-Keepalive-Interval-Ms"

// DefaultTokenParams are the query parameter names refused as a token in the
// URL (compared case-insensitively), besides the cookie's name.
var DefaultTokenParams = []string{
	"session", "session_id", "sessionid", "session_token", "sid",
	"token", "access_token", "auth", "authorization", "bearer",
}

// Config configures a Handler. Only Manager is required; a zero field means
// the default its comment gives. New copies it and never modifies the
// caller's value.
type Config struct {
	// Manager holds the sessions.
	Manager *core.Manager

	// CookieName names the session cookie; empty means DefaultCookieName.
	CookieName string
	// InsecureCookie leaves Secure off the cookie, for development over
	// plain HTTP. It is refused with a "__Host-" or "__Secure-" name, which
	// browsers only accept with Secure.
	InsecureCookie bool
	// SameSite is the cookie's SameSite attribute; zero means Lax.
	SameSite http.SameSite

	// Authenticate checks the credentials of POST /session/login, the raw
	// JSON object of its body (the application decides its shape), and
	// returns the authenticated subject. Any error answers 401 login_failed
	// and is not shown to the client. Nil disables login (403).
	Authenticate func(r *http.Request, credentials json.RawMessage) (subject string, err error)

	// Authorize admits a request to the admin routes, meant for the
	// integrator's backend: sessions by reference or subject, revoke. It
	// returns nil to admit. Nil disables the admin routes (403).
	Authorize func(r *http.Request) error

	// AuthorizeReference admits a request that creates a session with a
	// client reference, or gets one by reference. A reference is the key
	// to every session and draft of the integrator's user, so naming one
	// is the integrator's privilege. Nil means Authorize decides; when
	// both are nil, references are refused (403).
	AuthorizeReference func(r *http.Request, reference string) error

	// MaxBodyBytes bounds request bodies; zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// MaxDraftBodyBytes bounds draft save bodies; zero means
	// DefaultMaxDraftBodyBytes.
	MaxDraftBodyBytes int64

	// TokenParams are the query parameter names refused as a token in the
	// URL, besides the cookie's name. Nil means DefaultTokenParams; an
	// empty non-nil slice refuses only the cookie's name. Whatever the
	// names, a query value equal to the token the request presents is
	// refused too.
	TokenParams []string

	// TrustedOrigins lists origins ("https://app.example") whose
	// cross-origin browser requests the API accepts. The API refuses other
	// cross-origin unsafe requests (http.CrossOriginProtection) with 403
	// cross_origin; requests from non-browser clients are not affected.
	TrustedOrigins []string

	// Logger receives internal errors (500s); nil means slog.Default().
	Logger *slog.Logger
}

// Handler serves the JSON API (ServeHTTP) and provides the middleware for
// the application's own routes (Middleware, OptionalMiddleware). It is safe
// for concurrent use.
type Handler struct {
	m   *core.Manager
	cfg Config

	interval   string // HeaderKeepAliveInterval's value
	intervalMS int64
	params     []string // lower-cased TokenParams, cookie name included

	api http.Handler
}

// New returns a Handler for cfg.
func New(cfg Config) (*Handler, error) {
	if cfg.Manager == nil {
		return nil, errors.New("httptransport: Config.Manager is nil")
	}
	if cfg.CookieName == "" {
		cfg.CookieName = DefaultCookieName
	}
	if err := (&http.Cookie{Name: cfg.CookieName, Value: "x"}).Valid(); err != nil {
		return nil, fmt.Errorf("httptransport: Config.CookieName %q: %w", cfg.CookieName, err)
	}
	prefixed := strings.HasPrefix(cfg.CookieName, "__Host-") || strings.HasPrefix(cfg.CookieName, "__Secure-")
	if cfg.InsecureCookie && prefixed {
		return nil, fmt.Errorf("httptransport: Config.InsecureCookie with cookie %q: browsers accept __Host- and __Secure- cookies only with Secure",
			cfg.CookieName)
	}
	if cfg.SameSite == 0 {
		cfg.SameSite = http.SameSiteLaxMode
	}
	if cfg.SameSite == http.SameSiteNoneMode && cfg.InsecureCookie {
		return nil, errors.New("httptransport: Config.SameSite None needs Secure; drop InsecureCookie")
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxDraftBodyBytes <= 0 {
		cfg.MaxDraftBodyBytes = DefaultMaxDraftBodyBytes
	}
	if cfg.TokenParams == nil {
		cfg.TokenParams = DefaultTokenParams
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.TokenParams = slices.Clone(cfg.TokenParams)
	cfg.TrustedOrigins = slices.Clone(cfg.TrustedOrigins)

	h := &Handler{m: cfg.Manager, cfg: cfg}
	h.intervalMS = cfg.Manager.Interval().Milliseconds()
	h.interval = strconv.FormatInt(h.intervalMS, 10)
	h.params = append(h.params, strings.ToLower(cfg.CookieName))
	for _, p := range cfg.TokenParams {
		h.params = append(h.params, strings.ToLower(p))
	}

	cop := http.NewCrossOriginProtection()
	for _, o := range cfg.TrustedOrigins {
		if err := cop.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("httptransport: Config.TrustedOrigins: %w", err)
		}
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.writeError(w, r, apiError(http.StatusForbidden, CodeCrossOrigin, "cross-origin request refused"))
	}))
	h.api = cop.Handler(h.routes())
	return h, nil
}

// ServeHTTP serves the JSON API. Mount it at a path prefix with
// http.StripPrefix; the routes are listed in docs/http-api.md.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set(HeaderKeepAliveInterval, h.interval)
	if e := h.checkURL(r, !strings.HasPrefix(r.URL.Path, "/admin/")); e != nil {
		h.writeError(w, r, e)
		return
	}
	h.api.ServeHTTP(w, r)
}

// handlerFunc is a route that returns its error for the one mapping to
// write. Routes about drafts map their own errors with scopeDraft.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// routes builds the API's mux. Each path also gets a method-less pattern
// that answers 405 in JSON with an Allow header, and "/" answers 404 in
// JSON, so that no answer of the API is the mux's plain text.
func (h *Handler) routes() *http.ServeMux {
	type route struct {
		method, path string
		fn           handlerFunc
	}
	routes := []route{
		{"POST", "/session", h.create},
		{"GET", "/session", h.get},
		{"POST", "/session/by-reference", h.getOrCreate},
		{"POST", "/session/resume", h.resume},
		{"POST", "/session/login", h.login},
		{"POST", "/session/keepalive", h.keepAlive},
		{"POST", "/session/logout", h.logout},

		{"GET", "/session/drafts", h.listDrafts},
		{"POST", "/session/drafts", h.saveDraft},
		{"GET", "/session/drafts/{id}", h.loadDraft},
		{"PUT", "/session/drafts/{id}", h.saveDraft},
		{"DELETE", "/session/drafts/{id}", h.deleteDraft},
		{"POST", "/session/drafts/{id}/resume", h.resumeDraft},
		{"POST", "/session/drafts/{id}/close", h.closeDraft},

		{"GET", "/admin/sessions", h.adminSessions},
		{"POST", "/admin/revoke", h.adminRevoke},
	}
	mux := http.NewServeMux()
	allow := map[string][]string{}
	var paths []string
	for _, rt := range routes {
		mux.Handle(rt.method+" "+rt.path, h.serve(rt.fn))
		if allow[rt.path] == nil {
			paths = append(paths, rt.path)
		}
		allow[rt.path] = append(allow[rt.path], rt.method)
		if rt.method == "GET" {
			allow[rt.path] = append(allow[rt.path], "HEAD")
		}
	}
	for _, p := range paths {
		methods := strings.Join(allow[p], ", ")
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", methods)
			h.writeError(w, r, apiError(http.StatusMethodNotAllowed, CodeMethodNotAllowed,
				fmt.Sprintf("%s is not allowed here; use %s", r.Method, methods)))
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.writeError(w, r, apiError(http.StatusNotFound, CodeNotFound, "no such route"))
	})
	return mux
}

func (h *Handler) serve(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			h.writeError(w, r, fromCore(err, scopeSession))
		}
	})
}

// writeJSON writes v with status. The body is encoded before anything is
// written, so an encoding failure can still answer 500. HTML characters are
// not escaped: the answer is JSON served with nosniff, and a draft's data
// comes back byte for byte as it was saved.
func (h *Handler) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		h.writeError(w, r, fromCore(fmt.Errorf("httptransport: encoding the answer: %w", err), scopeSession))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// writeError writes e as the JSON error body. A 401 carries a
// WWW-Authenticate challenge (RFC 9110 requires one); 5xx causes are logged.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, e *APIError) {
	if e.Status == http.StatusUnauthorized {
		challenge := `Bearer realm="sessionkit"`
		if e.Code != CodeSessionRequired {
			challenge += `, error="invalid_token"`
		}
		w.Header().Set("WWW-Authenticate", challenge)
	}
	switch {
	case e.Code == CodeInternal:
		h.cfg.Logger.ErrorContext(r.Context(), "httptransport: internal error",
			"method", r.Method, "path", r.URL.Path, "err", e.cause)
	case e.cause != nil && (e.Code == CodeLoginFailed || e.Code == CodeForbidden):
		// The application's reason for refusing is for its log, not the client.
		h.cfg.Logger.DebugContext(r.Context(), "httptransport: refused",
			"method", r.Method, "path", r.URL.Path, "code", e.Code, "err", e.cause)
	}
	b, _ := json.Marshal(errorBody{Error: e})
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(e.Status)
	_, _ = w.Write(append(b, '\n'))
}

// sessionInfo is the API's view of s; withID only for the admin routes.
func (h *Handler) sessionInfo(s *core.Session, withID bool) SessionInfo {
	info := SessionInfo{
		ReferenceID: s.ReferenceID, Subject: s.Subject, Channel: s.Channel,
		State: s.State, EndReason: s.EndReason,
		CreatedAt: s.CreatedAt.UTC(), ExpiresAt: s.CreatedAt.Add(h.m.Policy().TTL).UTC(),
		LastActivityAt: s.LastActivity.UTC(), AuthAt: s.AuthAt.UTC(), EndedAt: s.EndedAt.UTC(),
		OpenDrafts: s.OpenDrafts, Metadata: s.Metadata,
	}
	if withID {
		info.ID = s.ID
	}
	return info
}

// sessionReply is the answer about session s, its deadline computed by the
// policy's machine.
func (h *Handler) sessionReply(s *core.Session) SessionReply {
	d, why := h.m.Deadline(s)
	return SessionReply{Session: h.sessionInfo(s, false), Deadline: d.UTC(), DeadlineReason: why,
		KeepAliveIntervalMS: h.intervalMS}
}
