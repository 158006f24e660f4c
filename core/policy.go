package core

import (
	"fmt"
	"time"
)

// Defaults applied to zero fields of a Policy.
const (
	DefaultTTL               = 168 * time.Hour
	DefaultKeepAliveInterval = 20 * time.Second
	DefaultDraftRetention    = 90 * 24 * time.Hour
	DefaultRetention         = 24 * time.Hour
	DefaultCheckpointEvery   = 30 * time.Second

	// maxAckTimeout caps the derived AckTimeout (rule P6).
	maxAckTimeout = 10 * time.Second
	// livenessSlack is added to twice the interval for the derived
	// LivenessTimeout (rule P6).
	livenessSlack = 5 * time.Second
)

// DisconnectAction says what a lost or closed connection does to its session
// (rule P7).
type DisconnectAction string

const (
	// DisconnectEnd ends the session with ReasonConnectionLost. It is the
	// default.
	DisconnectEnd DisconnectAction = "end"
	// DisconnectSuspend keeps the session resumable by ID until its TTL;
	// idle rules still apply.
	DisconnectSuspend DisconnectAction = "suspend"
)

// KeepAliveScope says when a keepalive resets the idle clock (rule P5).
type KeepAliveScope string

const (
	// ExtendsAlways lets every keepalive reset the idle clock. It is the
	// default.
	ExtendsAlways KeepAliveScope = "always"
	// ExtendsWhileInProgress lets a keepalive reset the idle clock only
	// while the session has an open draft.
	ExtendsWhileInProgress KeepAliveScope = "while_in_progress"
)

// KeepAlive configures keepalive pulses (rules P4–P6).
type KeepAlive struct {
	// Disabled turns pulses off entirely: the service refuses keepalives
	// and transports send none. The zero value leaves them on, so that a
	// zero Policy is a working default.
	Disabled bool

	// Interval between pulses. Zero derives it: half of the lower non-zero
	// of IdleTimeout and AuthTimeout, or DefaultKeepAliveInterval when both
	// are zero.
	Interval time.Duration

	// ExtendsIdle says when a pulse resets the idle clock; zero means
	// ExtendsAlways.
	ExtendsIdle KeepAliveScope

	// LivenessTimeout is how long the service lets a connection stay silent
	// before it is lost. Zero means 2×Interval+5s.
	LivenessTimeout time.Duration

	// AckTimeout is how long a client waits for the answer to a pulse before
	// it treats the link as lost. Zero means the lower of 10 s and half the
	// interval.
	AckTimeout time.Duration
}

// Policy governs every session of a Manager. A zero Policy is valid and
// means the defaults; the Manager works on its own copy.
type Policy struct {
	// TTL is how long a session ID is valid from creation, never extended
	// (rule P1). Zero means DefaultTTL.
	TTL time.Duration

	// IdleTimeout ends a session with no activity for this long (rule P2).
	// Zero turns it off.
	IdleTimeout time.Duration

	// AuthTimeout is how long an authentication stays valid without
	// renewal; activity renews it (rule P3). Zero turns it off.
	AuthTimeout time.Duration

	// MaxAuthAge caps the time since the last login; nothing extends it
	// (rule P3). Zero turns it off.
	MaxAuthAge time.Duration

	// NotStartedTimeout prunes sessions that never saw activity (rule P13).
	// Zero means TTL.
	NotStartedTimeout time.Duration

	KeepAlive KeepAlive

	// OnDisconnect applies when a session's last connection is lost or
	// closed (rule P7). Zero means DisconnectEnd.
	OnDisconnect DisconnectAction

	// MaxSessionsPerSubject bounds the live sessions of one subject; a login
	// beyond it supersedes the oldest (rule P9). Zero means unlimited.
	MaxSessionsPerSubject int

	// DraftRetention keeps a draft this long after its last save, whether
	// or not its session has ended (rule P14). Zero means
	// DefaultDraftRetention.
	DraftRetention time.Duration

	// Retention keeps an ended session as a tombstone, so late callers learn
	// why it ended (rule P17). Zero means DefaultRetention.
	Retention time.Duration

	// CheckpointEvery bounds how often activity and keepalives are written
	// to the store: at most once per period per session. After a crash a
	// session may outlive its idle deadline by at most this much; it never
	// ends early. Zero means the lower of DefaultCheckpointEvery and a tenth
	// of the lowest non-zero of IdleTimeout and AuthTimeout.
	CheckpointEvery time.Duration
}

// RealtimePolicy is for a live connection kept up by keepalives every 20 s,
// such as a dictation bar: a lost link ends the session and a second login by
// the same user supersedes the first.
func RealtimePolicy() Policy {
	return Policy{
		KeepAlive:             KeepAlive{Interval: 20 * time.Second},
		OnDisconnect:          DisconnectEnd,
		MaxSessionsPerSubject: 1,
	}
}

// ResumablePolicy is for a flow a user leaves and re-enters over days under a
// 7-day session ID: a dropped connection suspends the session, and the same ID
// resumes it until the TTL.
func ResumablePolicy() Policy {
	return Policy{
		TTL:          168 * time.Hour,
		OnDisconnect: DisconnectSuspend,
	}
}

// FormsPolicy is for form-filling portals with idle and authentication
// timeouts: keepalives extend the idle clock only while a form is in progress,
// and drafts keep the user's typing across timeouts.
func FormsPolicy() Policy {
	return Policy{
		IdleTimeout:  15 * time.Minute,
		AuthTimeout:  30 * time.Minute,
		MaxAuthAge:   12 * time.Hour,
		KeepAlive:    KeepAlive{ExtendsIdle: ExtendsWhileInProgress},
		OnDisconnect: DisconnectSuspend,
	}
}

// withDefaults returns p with every zero field that has a default filled in.
// It never modifies the caller's value.
func (p Policy) withDefaults() Policy {
	if p.TTL == 0 {
		p.TTL = DefaultTTL
	}
	if p.NotStartedTimeout == 0 {
		p.NotStartedTimeout = p.TTL
	}
	if p.OnDisconnect == "" {
		p.OnDisconnect = DisconnectEnd
	}
	if p.DraftRetention == 0 {
		p.DraftRetention = DefaultDraftRetention
	}
	if p.Retention == 0 {
		p.Retention = DefaultRetention
	}
	k := &p.KeepAlive
	if k.ExtendsIdle == "" {
		k.ExtendsIdle = ExtendsAlways
	}
	if k.Interval == 0 {
		k.Interval = DefaultKeepAliveInterval
		if low := lowerNonZero(p.IdleTimeout, p.AuthTimeout); low > 0 {
			k.Interval = low / 2
		}
	}
	if k.LivenessTimeout == 0 {
		k.LivenessTimeout = 2*k.Interval + livenessSlack
	}
	if k.AckTimeout == 0 {
		k.AckTimeout = min(maxAckTimeout, k.Interval/2)
	}
	if p.CheckpointEvery == 0 {
		p.CheckpointEvery = DefaultCheckpointEvery
		if low := lowerNonZero(p.IdleTimeout, p.AuthTimeout); low > 0 {
			p.CheckpointEvery = min(p.CheckpointEvery, low/10)
		}
	}
	return p
}

// lowerNonZero returns the lower of the non-zero values of a and b, or 0.
func lowerNonZero(a, b time.Duration) time.Duration {
	switch {
	case a == 0:
		return b
	case b == 0:
		return a
	}
	return min(a, b)
}

// Effective returns the policy with every default filled in: the values the
// Manager actually uses. It does not validate.
func (p Policy) Effective() Policy { return p.withDefaults() }

// Interval returns the keepalive interval clients are told (rule P4), or 0
// when keepalives are disabled.
func (p Policy) Interval() time.Duration {
	if p.KeepAlive.Disabled {
		return 0
	}
	return p.withDefaults().KeepAlive.Interval
}

// Validate reports the first field that is wrong, as a *PolicyError that
// matches ErrInvalidPolicy. It checks the policy with defaults filled in, so
// a contradiction with a default is reported against the field the caller set.
func (p Policy) Validate() error {
	for _, d := range []struct {
		field string
		v     time.Duration
	}{
		{"TTL", p.TTL},
		{"IdleTimeout", p.IdleTimeout},
		{"AuthTimeout", p.AuthTimeout},
		{"MaxAuthAge", p.MaxAuthAge},
		{"NotStartedTimeout", p.NotStartedTimeout},
		{"KeepAlive.Interval", p.KeepAlive.Interval},
		{"KeepAlive.LivenessTimeout", p.KeepAlive.LivenessTimeout},
		{"KeepAlive.AckTimeout", p.KeepAlive.AckTimeout},
		{"DraftRetention", p.DraftRetention},
		{"Retention", p.Retention},
		{"CheckpointEvery", p.CheckpointEvery},
	} {
		if d.v < 0 {
			return &PolicyError{d.field, fmt.Sprintf("must not be negative, got %v", d.v)}
		}
	}
	if p.MaxSessionsPerSubject < 0 {
		return &PolicyError{"MaxSessionsPerSubject", fmt.Sprintf("must not be negative, got %d", p.MaxSessionsPerSubject)}
	}
	switch p.OnDisconnect {
	case "", DisconnectEnd, DisconnectSuspend:
	default:
		return &PolicyError{"OnDisconnect", fmt.Sprintf("must be %q or %q, got %q", DisconnectEnd, DisconnectSuspend, p.OnDisconnect)}
	}
	switch p.KeepAlive.ExtendsIdle {
	case "", ExtendsAlways, ExtendsWhileInProgress:
	default:
		return &PolicyError{"KeepAlive.ExtendsIdle", fmt.Sprintf("must be %q or %q, got %q", ExtendsAlways, ExtendsWhileInProgress, p.KeepAlive.ExtendsIdle)}
	}

	e := p.withDefaults()
	k := e.KeepAlive
	if e.NotStartedTimeout > e.TTL {
		return &PolicyError{"NotStartedTimeout", fmt.Sprintf("%v exceeds TTL %v", e.NotStartedTimeout, e.TTL)}
	}
	if e.MaxAuthAge > 0 && e.AuthTimeout > e.MaxAuthAge {
		return &PolicyError{"AuthTimeout", fmt.Sprintf("%v exceeds MaxAuthAge %v, so it could never apply", e.AuthTimeout, e.MaxAuthAge)}
	}
	if !k.Disabled {
		if low := lowerNonZero(e.IdleTimeout, e.AuthTimeout); low > 0 && k.Interval >= low {
			return &PolicyError{"KeepAlive.Interval", fmt.Sprintf("%v is not below the lowest timeout %v, so pulses could not keep a session alive", k.Interval, low)}
		}
		// The service probes a connection silent for the interval plus a
		// margin (the lower of 5 s and a quarter of the interval), and must
		// leave the probe time to be answered.
		if floor := k.Interval + min(5*time.Second, k.Interval/4); k.LivenessTimeout <= floor {
			return &PolicyError{"KeepAlive.LivenessTimeout", fmt.Sprintf("%v must exceed the interval plus the probe margin (%v), or punctual clients would be lost", k.LivenessTimeout, floor)}
		}
		if k.AckTimeout >= k.Interval {
			return &PolicyError{"KeepAlive.AckTimeout", fmt.Sprintf("%v must be below the interval %v", k.AckTimeout, k.Interval)}
		}
	}
	if low := lowerNonZero(e.IdleTimeout, e.AuthTimeout); low > 0 && e.CheckpointEvery >= low {
		return &PolicyError{"CheckpointEvery", fmt.Sprintf("%v is not below the lowest timeout %v", e.CheckpointEvery, low)}
	}
	return nil
}
