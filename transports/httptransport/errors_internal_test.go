package httptransport

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/sessionkit/sessionkit/core"
)

// The one mapping from core's errors, as docs/http-api.md tables it.
func TestFromCore(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("sessionkit: somewhere: %w", err) }
	for _, tc := range []struct {
		err    error
		sc     scope
		status int
		code   string
		reason core.Reason
	}{
		{&core.EndedError{Reason: core.ReasonExpired}, scopeSession, 401, CodeSessionExpired, core.ReasonExpired},
		{&core.EndedError{Reason: core.ReasonExpired}, scopeDraft, 401, CodeSessionExpired, core.ReasonExpired},
		{wrap(&core.EndedError{Reason: core.ReasonIdleTimeout}), scopeSession, 401, CodeSessionEnded, core.ReasonIdleTimeout},
		{&core.EndedError{Reason: core.ReasonSuperseded}, scopeDraft, 401, CodeSessionEnded, core.ReasonSuperseded},
		{core.ErrNotFound, scopeSession, 401, CodeSessionNotFound, ""},
		{wrap(core.ErrNotFound), scopeDraft, 404, CodeDraftNotFound, ""},
		{core.ErrInvalidID, scopeSession, 401, CodeInvalidToken, ""},
		{core.ErrInvalidID, scopeDraft, 400, CodeInvalidID, ""},
		{wrap(core.ErrConflict), scopeDraft, 409, CodeVersionConflict, ""},
		{wrap(core.ErrWrongState), scopeDraft, 409, CodeWrongState, ""},
		{wrap(core.ErrInvalidInput), scopeSession, 400, CodeInvalidInput, ""},
		{core.ErrClosed, scopeSession, 503, CodeUnavailable, ""},
		{wrap(context.Canceled), scopeSession, 503, CodeUnavailable, ""},
		{context.DeadlineExceeded, scopeDraft, 503, CodeUnavailable, ""},
		{wrap(core.ErrCorrupt), scopeSession, 500, CodeInternal, ""},
		{errors.New("disk on fire"), scopeDraft, 500, CodeInternal, ""},
		{wrap(apiError(418, "teapot", "short and stout")), scopeSession, 418, "teapot", ""},
	} {
		got := fromCore(tc.err, tc.sc)
		if got.Status != tc.status || got.Code != tc.code || got.Reason != tc.reason || got.Message == "" {
			t.Errorf("fromCore(%v, %d) = %+v, want %d %s %q", tc.err, tc.sc, got, tc.status, tc.code, tc.reason)
		}
		if got.Code == CodeInternal && got.Message != "internal error" {
			t.Errorf("an internal error shows %q", got.Message)
		}
	}
}

func TestAPIErrorMatchesCore(t *testing.T) {
	sentinels := []error{core.ErrExpired, core.ErrEnded, core.ErrNotFound, core.ErrInvalidID,
		core.ErrConflict, core.ErrWrongState, core.ErrInvalidInput, core.ErrClosed}
	for _, tc := range []struct {
		code string
		is   []error
	}{
		{CodeSessionExpired, []error{core.ErrExpired, core.ErrEnded}},
		{CodeSessionEnded, []error{core.ErrEnded}},
		{CodeSessionNotFound, []error{core.ErrNotFound}},
		{CodeDraftNotFound, []error{core.ErrNotFound}},
		{CodeInvalidToken, []error{core.ErrInvalidID}},
		{CodeInvalidID, []error{core.ErrInvalidID}},
		{CodeVersionConflict, []error{core.ErrConflict}},
		{CodeWrongState, []error{core.ErrWrongState}},
		{CodeKeepAliveDisabled, []error{core.ErrWrongState}},
		{CodeInvalidInput, []error{core.ErrInvalidInput}},
		{CodeSessionRequired, nil},
		{CodeUnavailable, nil},
		{CodeInternal, nil},
	} {
		e := error(&APIError{Status: 401, Code: tc.code, Message: "m", Reason: core.ReasonLogout})
		for _, s := range sentinels {
			want := false
			for _, w := range tc.is {
				want = want || w == s
			}
			if got := errors.Is(e, s); got != want {
				t.Errorf("%s: errors.Is(%v) = %v", tc.code, s, got)
			}
		}
		why, ok := core.EndReason(e)
		if ended := tc.code == CodeSessionEnded || tc.code == CodeSessionExpired; ok != ended || (ok && why != core.ReasonLogout) {
			t.Errorf("%s: EndReason = %q %v", tc.code, why, ok)
		}
	}
	e := &APIError{Status: 401, Code: CodeSessionEnded, Message: "the session has ended", Reason: core.ReasonIdleTimeout}
	if got, want := e.Error(), "httptransport: 401 session_ended: the session has ended (idle_timeout)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	e = &APIError{Status: 404, Code: CodeDraftNotFound, Message: "no such draft"}
	if got, want := e.Error(), "httptransport: 404 draft_not_found: no such draft"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
