package core

import (
	"errors"
	"fmt"
)

// Sentinel errors. Check them with errors.Is; callers must never compare
// error strings.
var (
	// ErrNotFound reports a session, draft or record that does not exist (or
	// no longer exists: tombstones are purged after Policy.Retention).
	ErrNotFound = errors.New("sessionkit: not found")

	// ErrExpired reports a session past its absolute TTL (rule P1). It is
	// distinct from ErrNotFound so a client can tell "start again" from
	// "never existed". An expired session is also ended, so errors.As with
	// *EndedError finds ReasonExpired.
	ErrExpired = errors.New("sessionkit: session expired")

	// ErrEnded reports a session that has ended. The error is an *EndedError
	// that carries the reason; errors.Is(err, ErrEnded) matches it.
	ErrEnded = errors.New("sessionkit: session ended")

	// ErrConflict reports a stale version: the record changed since it was
	// read (store compare-and-set, or a draft saved against an old version).
	ErrConflict = errors.New("sessionkit: version conflict")

	// ErrInvalidID reports a session or draft ID that is not well formed. It
	// is returned before any store access, so forged IDs cost nothing.
	ErrInvalidID = errors.New("sessionkit: invalid id")

	// ErrInvalidInput reports an argument that is wrong in itself: an empty
	// subject to Login, an oversized metadata map, an unknown save mode.
	ErrInvalidInput = errors.New("sessionkit: invalid input")

	// ErrWrongState reports a call the session's state does not allow, such
	// as closing a draft that is already closed.
	ErrWrongState = errors.New("sessionkit: wrong state")

	// ErrInvalidPolicy reports a Policy that fails Validate; the wrapping
	// *PolicyError names the field.
	ErrInvalidPolicy = errors.New("sessionkit: invalid policy")

	// ErrClosed reports a call on a Manager or Store that has been closed.
	ErrClosed = errors.New("sessionkit: closed")

	// ErrCorrupt reports a stored record that cannot be decoded. Adapters
	// also wrap it for damaged files.
	ErrCorrupt = errors.New("sessionkit: corrupt record")
)

// EndedError is the error for an operation on an ended session. It matches
// ErrEnded with errors.Is, and ErrExpired as well when Reason is
// ReasonExpired.
type EndedError struct {
	ID     string
	Reason Reason
}

func (e *EndedError) Error() string {
	if e.Reason == ReasonExpired {
		return ErrExpired.Error()
	}
	return fmt.Sprintf("sessionkit: session ended: %s", e.Reason)
}

// Is makes errors.Is(err, ErrEnded) true for every ended session, and
// errors.Is(err, ErrExpired) true for one that ended by TTL.
func (e *EndedError) Is(target error) bool {
	return target == ErrEnded || (target == ErrExpired && e.Reason == ReasonExpired)
}

// EndReason returns the reason carried by an *EndedError in err's chain, and
// whether there was one.
func EndReason(err error) (Reason, bool) {
	var e *EndedError
	if errors.As(err, &e) {
		return e.Reason, true
	}
	return "", false
}

// PolicyError names the Policy field that failed validation and why.
type PolicyError struct {
	Field  string
	Reason string
}

func (e *PolicyError) Error() string {
	return fmt.Sprintf("sessionkit: invalid policy: %s: %s", e.Field, e.Reason)
}

func (e *PolicyError) Unwrap() error { return ErrInvalidPolicy }
