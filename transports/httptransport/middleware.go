package httptransport

import (
	"context"
	"net/http"

	"github.com/sessionkit/sessionkit/core"
)

// ctxKey is the request context key of a request's session.
type ctxKey struct{}

// reqSession is what the middleware learned about a request's session.
type reqSession struct {
	s   core.Session
	st  core.Status
	err *APIError // why there is none, on an optional route
}

// SessionFrom returns the session the middleware admitted the request with,
// as it stood after recording the request's activity.
func SessionFrom(ctx context.Context) (core.Session, bool) {
	rs, ok := ctx.Value(ctxKey{}).(*reqSession)
	if !ok || rs.err != nil {
		return core.Session{}, false
	}
	return rs.s, true
}

// StatusFrom returns the status of the request's session after its
// activity: its deadline and the keepalive interval.
func StatusFrom(ctx context.Context) (core.Status, bool) {
	rs, ok := ctx.Value(ctxKey{}).(*reqSession)
	if !ok || rs.err != nil {
		return core.Status{}, false
	}
	return rs.st, true
}

// ErrorFrom returns, on a route behind OptionalMiddleware, why the request
// has no session although it presented a token: an *APIError with the code
// and end reason the required middleware would have answered. It returns nil
// when the request has a session or presented no token.
func ErrorFrom(ctx context.Context) error {
	if rs, ok := ctx.Value(ctxKey{}).(*reqSession); ok && rs.err != nil {
		return rs.err
	}
	return nil
}

// Middleware admits requests with a live session: it reads the token from
// the Authorization header or the cookie (never the URL), records the
// request as activity (rules P2, P3; coalesced by the Manager, so most
// requests write nothing), and puts the session in the request context for
// SessionFrom. It answers every other request itself with the JSON error
// body: no token 401 session_required, a forged one 401 invalid_token, an
// unknown one 401 session_not_found, an expired one 401 session_expired, an
// ended one 401 session_ended with the reason, a token in the query string
// 400 token_in_url. A dead cookie is cleared. Admitted responses carry the
// keepalive interval in HeaderKeepAliveInterval.
func (h *Handler) Middleware(next http.Handler) http.Handler {
	return h.middleware(next, false)
}

// OptionalMiddleware is Middleware for routes that also serve requests
// without a session, such as a landing page. A request with no token, or
// whose token fails, goes on to next without a session (ErrorFrom says why,
// and a dead cookie is cleared); only a token in the URL is still refused.
func (h *Handler) OptionalMiddleware(next http.Handler) http.Handler {
	return h.middleware(next, true)
}

func (h *Handler) middleware(next http.Handler, optional bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		hdr.Add("Vary", "Cookie, Authorization")
		if e := h.checkURL(r, false); e != nil {
			h.writeError(w, r, e)
			return
		}
		tok, src := h.token(r)
		if src == fromNone && optional {
			next.ServeHTTP(w, r)
			return
		}
		rs, e := h.admitSession(r.Context(), tok, src)
		if e != nil {
			h.forget(w, src, e)
			if !optional {
				h.writeError(w, r, e)
				return
			}
			rs = &reqSession{err: e}
		} else {
			hdr.Set(HeaderKeepAliveInterval, h.interval)
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, rs)))
	})
}

// admitSession records activity on the session named by tok and loads it.
func (h *Handler) admitSession(ctx context.Context, tok string, src source) (*reqSession, *APIError) {
	if src == fromNone {
		return nil, apiError(http.StatusUnauthorized, CodeSessionRequired,
			"no session: send the session cookie or an Authorization: Bearer header")
	}
	if !core.ValidID(tok) {
		return nil, fromCore(core.ErrInvalidID, scopeSession)
	}
	s, st, err := h.m.ActivitySession(ctx, tok)
	if err != nil {
		return nil, fromCore(err, scopeSession)
	}
	return &reqSession{s: s, st: st}, nil
}
