package core

import "time"

// State is where a session is in its life.
type State string

// The states of a session. A session starts not_started, becomes active on
// its first activity or login, may be suspended while no client is attached
// (when Policy.OnDisconnect says so), and ends once; ended is final.
const (
	StateNotStarted State = "not_started"
	StateActive     State = "active"
	StateSuspended  State = "suspended"
	StateEnded      State = "ended"
)

// Reason says why a session ended, or why a connection was closed.
type Reason string

// End reasons. They are stable strings: transports put them on the wire and
// applications show them to users.
const (
	ReasonLogout           Reason = "logout"
	ReasonIdleTimeout      Reason = "idle_timeout"
	ReasonAuthTimeout      Reason = "auth_timeout"
	ReasonMaxAuthAge       Reason = "max_auth_age"
	ReasonExpired          Reason = "expired"
	ReasonConnectionLost   Reason = "connection_lost"
	ReasonSuperseded       Reason = "superseded"
	ReasonRevoked          Reason = "revoked"
	ReasonServiceRestart   Reason = "service_restart"
	ReasonNotStartedPruned Reason = "not_started_pruned"
)

// Session is the resumable record of a user's (or a guest's) time with the
// application. Values returned by the Manager are copies the caller owns.
type Session struct {
	// ID is the session token: at least 128 random bits, URL-safe. It
	// rotates on login (rule P16); everything else below is kept.
	ID string

	// ReferenceID is the integrator's client reference, if any (rule P12).
	ReferenceID string
	// Subject is the authenticated user; empty for a guest.
	Subject string
	// Channel says how the session was created: "frame", "link", "api", ...
	Channel string

	State State
	// EndReason is set once State is StateEnded.
	EndReason Reason

	// CreatedAt anchors the absolute TTL (rule P1); it survives rotation.
	CreatedAt time.Time
	// LastActivity is the last request or user action. It is informative:
	// no deadline reads it.
	LastActivity time.Time
	// LastSeen is the last reset of the idle clock: activity, or a keepalive
	// that counts under Policy.KeepAlive.ExtendsIdle. The idle deadline and
	// the sliding authentication deadline run from it.
	LastSeen time.Time
	// AuthAt is the last login; MaxAuthAge runs from it (rule P3).
	AuthAt time.Time
	// EndedAt is when the session ended; the tombstone is purged at
	// EndedAt+Retention (rule P17).
	EndedAt time.Time

	// Node names the node holding a live connection to the session, or is
	// empty. Recover uses it after a restart (rule P10).
	Node string

	// OpenDrafts counts the drafts open in this session; with
	// ExtendsWhileInProgress, keepalives extend idle only while it is
	// positive (rule P5).
	OpenDrafts int

	// Metadata is small application data carried with the session.
	Metadata map[string]string

	// Version is the store version the session was read at.
	Version uint64
}

// Live reports whether the session can still be used: it has not ended.
func (s *Session) Live() bool { return s.State != StateEnded }
