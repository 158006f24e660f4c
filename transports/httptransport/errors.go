package httptransport

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/sessionkit/sessionkit/core"
)

// Error codes: the stable "code" of an error body. Clients switch on these,
// never on messages.
const (
	// Session authentication (401 unless noted).
	CodeSessionRequired = "session_required"  // no token in the cookie or the Authorization header
	CodeInvalidToken    = "invalid_token"     // a token that is not of the form of a session ID (forged)
	CodeSessionNotFound = "session_not_found" // a well-formed token naming no session (never existed, rotated away, or purged)
	CodeSessionExpired  = "session_expired"   // the session passed its TTL (rule P1); reason "expired"
	CodeSessionEnded    = "session_ended"     // the session ended; reason says why (idle_timeout, logout, ...)
	CodeTokenInURL      = "token_in_url"      // 400: a token offered in the query string

	// Login and authorization.
	CodeLoginFailed   = "login_failed"   // 401: Config.Authenticate refused the credentials
	CodeLoginDisabled = "login_disabled" // 403: no Config.Authenticate
	CodeForbidden     = "forbidden"      // 403: the authorizer refused the request
	CodeAdminDisabled = "admin_disabled" // 403: no Config.Authorize, so no admin routes
	CodeCrossOrigin   = "cross_origin"   // 403: a cross-origin browser request (Config.TrustedOrigins)

	// Drafts and state.
	CodeDraftNotFound     = "draft_not_found"    // 404
	CodeInvalidID         = "invalid_id"         // 400: a draft ID in the path that is not of the form of an ID
	CodeVersionConflict   = "version_conflict"   // 409: a stale draft version (core.ErrConflict)
	CodeWrongState        = "wrong_state"        // 409: core.ErrWrongState, e.g. a closed draft
	CodeKeepAliveDisabled = "keepalive_disabled" // 409: the policy turns keepalives off
	CodeInvalidInput      = "invalid_input"      // 400: core.ErrInvalidInput or a missing field

	// Requests.
	CodeMalformedJSON        = "malformed_json"         // 400: not a single JSON object of the expected shape
	CodeBodyTooLarge         = "body_too_large"         // 413
	CodeUnsupportedMediaType = "unsupported_media_type" // 415: a body that is not application/json
	CodeMethodNotAllowed     = "method_not_allowed"     // 405, with an Allow header
	CodeNotFound             = "not_found"              // 404: no such route

	// The service.
	CodeUnavailable = "unavailable" // 503: the Manager is closed or the request was cancelled
	CodeInternal    = "internal"    // 500: a store failure or a bug; details are logged, not sent
)

// APIError is an error answer of the API: its HTTP status and the body's
// code, message and end reason. Handler writes it; Client returns it.
//
// errors.Is matches it against core's sentinels where the code has one
// (CodeSessionExpired matches core.ErrExpired and core.ErrEnded, and so on),
// and errors.As finds a *core.EndedError carrying Reason for the two ended
// codes, so core.EndReason works on a Client's errors.
type APIError struct {
	Status  int         `json:"-"`
	Code    string      `json:"code"`
	Message string      `json:"message"`
	Reason  core.Reason `json:"reason,omitempty"`

	cause error // the server-side error, for the log
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("httptransport: %d %s: %s", e.Status, e.Code, e.Message)
	if e.Reason != "" {
		msg += " (" + string(e.Reason) + ")"
	}
	return msg
}

// Unwrap returns the server-side cause, or nil on a Client's errors.
func (e *APIError) Unwrap() error { return e.cause }

// Is reports whether the code stands for target, one of core's sentinels.
func (e *APIError) Is(target error) bool {
	switch e.Code {
	case CodeSessionExpired:
		return target == core.ErrExpired || target == core.ErrEnded
	case CodeSessionEnded:
		return target == core.ErrEnded
	case CodeSessionNotFound, CodeDraftNotFound:
		return target == core.ErrNotFound
	case CodeInvalidToken, CodeInvalidID:
		return target == core.ErrInvalidID
	case CodeVersionConflict:
		return target == core.ErrConflict
	case CodeWrongState, CodeKeepAliveDisabled:
		return target == core.ErrWrongState
	case CodeInvalidInput:
		return target == core.ErrInvalidInput
	}
	return false
}

// As lets errors.As find a *core.EndedError in an ended session's error.
func (e *APIError) As(target any) bool {
	p, ok := target.(**core.EndedError)
	if !ok || (e.Code != CodeSessionExpired && e.Code != CodeSessionEnded) {
		return false
	}
	*p = &core.EndedError{Reason: e.Reason}
	return true
}

// errorBody is the JSON shape of every error answer.
type errorBody struct {
	Error *APIError `json:"error"`
}

func apiError(status int, code, msg string) *APIError {
	return &APIError{Status: status, Code: code, Message: msg}
}

// scope says what a core error is about, which decides between 401 (the
// session the request authenticates with) and 404 or 400 (a draft named in
// the path).
type scope uint8

const (
	scopeSession scope = iota
	scopeDraft
)

// fromCore maps an error from core (or from this package) to its answer.
// This is the one mapping; docs/http-api.md shows it as a table.
func fromCore(err error, sc scope) *APIError {
	if ae, ok := errors.AsType[*APIError](err); ok {
		return ae
	}
	var e *APIError
	reason, ended := core.EndReason(err)
	switch {
	case errors.Is(err, core.ErrExpired):
		e = apiError(http.StatusUnauthorized, CodeSessionExpired, "the session has passed its lifetime; start a new one")
		e.Reason = core.ReasonExpired
	case ended:
		e = apiError(http.StatusUnauthorized, CodeSessionEnded, "the session has ended")
		e.Reason = reason
	case errors.Is(err, core.ErrNotFound) && sc == scopeDraft:
		e = apiError(http.StatusNotFound, CodeDraftNotFound, "no such draft")
	case errors.Is(err, core.ErrNotFound):
		e = apiError(http.StatusUnauthorized, CodeSessionNotFound, "no such session")
	case errors.Is(err, core.ErrInvalidID) && sc == scopeDraft:
		e = apiError(http.StatusBadRequest, CodeInvalidID, "the draft id is not well formed")
	case errors.Is(err, core.ErrInvalidID):
		e = apiError(http.StatusUnauthorized, CodeInvalidToken, "the session token is not well formed")
	case errors.Is(err, core.ErrConflict):
		e = apiError(http.StatusConflict, CodeVersionConflict, err.Error())
	case errors.Is(err, core.ErrWrongState):
		e = apiError(http.StatusConflict, CodeWrongState, err.Error())
	case errors.Is(err, core.ErrInvalidInput):
		e = apiError(http.StatusBadRequest, CodeInvalidInput, err.Error())
	case errors.Is(err, core.ErrClosed):
		e = apiError(http.StatusServiceUnavailable, CodeUnavailable, "the service is shutting down")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		e = apiError(http.StatusServiceUnavailable, CodeUnavailable, "the request was cancelled")
	default:
		e = apiError(http.StatusInternalServerError, CodeInternal, "internal error")
	}
	e.cause = err
	return e
}
