package wstransport

import (
	"errors"

	"github.com/sessionkit/sessionkit/core"
)

// Error codes carried by the "error" message. docs/protocol.md lists which
// requests return which.
const (
	ErrorMalformed    = "malformed"     // not a JSON object, or a field its type needs is missing or wrong
	ErrorUnknownType  = "unknown_type"  // a type the service does not accept from clients
	ErrorUnauthorized = "unauthorized"  // Options.Authenticate rejected the credentials
	ErrorInvalidID    = "invalid_id"    // a session or draft id that is not well formed (core.ErrInvalidID)
	ErrorNotFound     = "not_found"     // no such session or draft (core.ErrNotFound)
	ErrorExpired      = "expired"       // the session is past its TTL (core.ErrExpired)
	ErrorEnded        = "ended"         // the session has ended; reason says why (core.ErrEnded)
	ErrorConflict     = "conflict"      // a draft saved against a stale version (core.ErrConflict)
	ErrorInvalidInput = "invalid_input" // an argument wrong in itself (core.ErrInvalidInput)
	ErrorWrongState   = "wrong_state"   // not allowed now: no session yet, or already one (core.ErrWrongState)
	ErrorUnavailable  = "unavailable"   // the service is shutting down (core.ErrClosed)
	ErrorInternal     = "internal"      // anything else; the service reports it to Options.OnError
)

// Error is an error message from the service, as the Client returns it.
// errors.Is matches the core sentinel of its code (core.ErrNotFound for
// "not_found", and so on), so callers handle a remote error as they would a
// local one.
type Error struct {
	Code    string
	Message string
	// Reason is set with codes "ended" and "expired".
	Reason core.Reason
}

func (e *Error) Error() string {
	s := "wstransport: " + e.Code
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Is matches the core sentinel errors by code.
func (e *Error) Is(target error) bool {
	switch target {
	case core.ErrInvalidID:
		return e.Code == ErrorInvalidID
	case core.ErrNotFound:
		return e.Code == ErrorNotFound
	case core.ErrExpired:
		return e.Code == ErrorExpired || e.Code == ErrorEnded && e.Reason == core.ReasonExpired
	case core.ErrEnded:
		return e.Code == ErrorEnded || e.Code == ErrorExpired
	case core.ErrConflict:
		return e.Code == ErrorConflict
	case core.ErrInvalidInput:
		return e.Code == ErrorInvalidInput
	case core.ErrWrongState:
		return e.Code == ErrorWrongState
	case core.ErrClosed:
		return e.Code == ErrorUnavailable
	case ErrUnauthorized:
		return e.Code == ErrorUnauthorized
	}
	return false
}

// Errors of the Client and the Server.
var (
	// ErrUnauthorized matches an "unauthorized" error from the service.
	ErrUnauthorized = errors.New("wstransport: unauthorized")

	// ErrClosed reports a call on a Client after Close, or on a Server
	// after Shutdown.
	ErrClosed = errors.New("wstransport: closed")

	// ErrLost reports a request that could not complete because the
	// connection was lost (the client's Status says why).
	ErrLost = errors.New("wstransport: connection lost")

	// ErrAckTimeout is the Status.Err of a client that got no answer to a
	// keepalive within the ack timeout (rule P6). It matches ErrLost.
	ErrAckTimeout = &lostError{"wstransport: keepalive not acknowledged in time"}

	// ErrProtocol reports a service that broke the protocol, such as a
	// first message that is not a hello.
	ErrProtocol = errors.New("wstransport: protocol error")
)

// lostError is an error that matches ErrLost.
type lostError struct{ s string }

func (e *lostError) Error() string        { return e.s }
func (e *lostError) Is(target error) bool { return target == ErrLost }

// wireError returns the error code, message and reason the service sends
// for err, and whether err is a server fault to report to Options.OnError.
func wireError(err error) (code, msg string, reason core.Reason, internal bool) {
	if r, ok := core.EndReason(err); ok {
		if r == core.ReasonExpired {
			return ErrorExpired, err.Error(), r, false
		}
		return ErrorEnded, err.Error(), r, false
	}
	for _, e := range []struct {
		err  error
		code string
	}{
		{core.ErrExpired, ErrorExpired},
		{core.ErrInvalidID, ErrorInvalidID},
		{core.ErrNotFound, ErrorNotFound},
		{core.ErrConflict, ErrorConflict},
		{core.ErrInvalidInput, ErrorInvalidInput},
		{core.ErrWrongState, ErrorWrongState},
		{core.ErrClosed, ErrorUnavailable},
	} {
		if errors.Is(err, e.err) {
			if e.code == ErrorExpired {
				reason = core.ReasonExpired
			}
			return e.code, err.Error(), reason, false
		}
	}
	// Do not tell the client about store failures and the like.
	return ErrorInternal, "internal error", "", true
}
