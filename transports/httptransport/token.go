package httptransport

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/sessionkit/sessionkit/core"
)

// source says where a request's token came from.
type source uint8

const (
	fromNone source = iota
	fromCookie
	fromHeader
)

// token returns the session token the request presents: an "Authorization:
// Bearer" header, else the cookie. Other authorization schemes belong to
// the application and are ignored. The URL is never read.
func (h *Handler) token(r *http.Request) (string, source) {
	if a := r.Header.Get("Authorization"); len(a) >= 7 && strings.EqualFold(a[:7], "Bearer ") {
		return strings.TrimSpace(a[7:]), fromHeader
	}
	if c, err := r.Cookie(h.cfg.CookieName); err == nil && c.Value != "" {
		return c.Value, fromCookie
	}
	return "", fromNone
}

// requireToken returns the request's token, or the error for a request that
// presents none or a forged one. The form is checked here, before any store
// access, so forged tokens cost nothing.
func (h *Handler) requireToken(w http.ResponseWriter, r *http.Request) (string, *APIError) {
	tok, src := h.token(r)
	if src == fromNone {
		return "", apiError(http.StatusUnauthorized, CodeSessionRequired,
			"no session: send the session cookie or an Authorization: Bearer header")
	}
	if !core.ValidID(tok) {
		e := fromCore(core.ErrInvalidID, scopeSession)
		h.forget(w, src, e)
		return "", e
	}
	return tok, nil
}

// forget clears the cookie when the session it names is no use any more, so
// the browser stops sending it.
func (h *Handler) forget(w http.ResponseWriter, src source, e *APIError) {
	if src == fromCookie && e.Status == http.StatusUnauthorized {
		h.clearCookie(w)
	}
}

// checkURL refuses a request that offers a session token in its query
// string: a parameter named like a token, or a value equal to the token the
// request presents. With strict (the API's own session routes, which take no
// query parameters), any value of the form of a session ID is refused too.
// The token is never read from there; the request is refused so that the
// client learns its mistake before the URL leaks into logs and histories.
func (h *Handler) checkURL(r *http.Request, strict bool) *APIError {
	if r.URL.RawQuery == "" {
		return nil
	}
	tok, _ := h.token(r)
	q, _ := url.ParseQuery(r.URL.RawQuery) // a malformed pair is skipped; the rest is checked
	for name, vals := range q {
		bad := slices.Contains(h.params, strings.ToLower(name))
		for _, v := range vals {
			bad = bad || (tok != "" && v == tok) || (strict && core.ValidID(v))
		}
		if bad {
			return apiError(http.StatusBadRequest, CodeTokenInURL, fmt.Sprintf(
				"query parameter %q looks like a session token; a token in a URL leaks into logs and history, "+
					"so it is never read there: send the session cookie or an Authorization: Bearer header", name))
		}
	}
	return nil
}

// setCookie hands the client the token of s. The cookie expires with the
// session's TTL, which nothing extends, so it is set only when the token is
// new or first handed to this client.
func (h *Handler) setCookie(w http.ResponseWriter, s *core.Session) {
	c := http.Cookie{
		Name: h.cfg.CookieName, Value: s.ID, Path: "/",
		Expires: s.CreatedAt.Add(h.m.Policy().TTL),
		Secure:  !h.cfg.InsecureCookie, HttpOnly: true, SameSite: h.cfg.SameSite,
	}
	w.Header().Add("Set-Cookie", c.String())
}

// clearCookie tells the browser to drop the session cookie.
func (h *Handler) clearCookie(w http.ResponseWriter) {
	c := http.Cookie{
		Name: h.cfg.CookieName, Path: "/", MaxAge: -1,
		Secure: !h.cfg.InsecureCookie, HttpOnly: true, SameSite: h.cfg.SameSite,
	}
	w.Header().Add("Set-Cookie", c.String())
}
