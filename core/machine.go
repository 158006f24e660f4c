package core

import (
	"fmt"
	"maps"
	"time"
)

// InputKind names what happened to a session.
type InputKind uint8

// Inputs to Step.
const (
	InputCreate      InputKind = iota + 1 // a new session; Step is given the zero Session
	InputActivity                         // a request or user action
	InputKeepAlive                        // a pulse
	InputResume                           // a client came back with the ID
	InputLogin                            // authentication; rotates the ID
	InputAttach                           // a connection attached on Input.Node
	InputDisconnect                       // the last connection went away (Input.Reason)
	InputLogout                           // the user logged out
	InputRevoke                           // the application revoked the subject's sessions
	InputSupersede                        // a newer login of the subject displaced this session
	InputDeadline                         // time passed; end what is due
	InputDraftOpened                      // a draft was opened in the session
	InputDraftClosed                      // a draft open in the session was closed, deleted or moved
)

var inputNames = [...]string{
	InputCreate: "create", InputActivity: "activity", InputKeepAlive: "keepalive",
	InputResume: "resume", InputLogin: "login", InputAttach: "attach",
	InputDisconnect: "disconnect", InputLogout: "logout", InputRevoke: "revoke",
	InputSupersede: "supersede", InputDeadline: "deadline",
	InputDraftOpened: "draft_opened", InputDraftClosed: "draft_closed",
}

func (k InputKind) String() string {
	if int(k) < len(inputNames) && inputNames[k] != "" {
		return inputNames[k]
	}
	return fmt.Sprintf("InputKind(%d)", k)
}

// Input is one thing that happened to a session. Only the fields its Kind
// names are read.
type Input struct {
	Kind InputKind

	// ID is the new session's ID (InputCreate) or the rotated ID
	// (InputLogin). Step is pure, so the caller draws it.
	ID string
	// Subject is the user, for InputCreate (optional) and InputLogin.
	Subject string
	// Reference and Channel and Metadata are for InputCreate.
	Reference string
	Channel   string
	Metadata  map[string]string
	// Node is the node holding the connection, for InputAttach.
	Node string
	// Reason is why the connection went, for InputDisconnect:
	// ReasonConnectionLost (the default) or ReasonServiceRestart.
	Reason Reason
}

// Effects is what Step decided; the caller carries it out in order: store
// (Persist, Touched, Purge), then emit Event, then close connections, then
// arm the deadline.
type Effects struct {
	// Err is set when the input is refused. The session may still have
	// changed (it was found past a deadline and ended); Persist says so.
	Err error

	// Persist says the session changed in a way that must be stored before
	// anything else happens.
	Persist bool
	// Touched says the idle or authentication clock moved. The caller may
	// store it lazily, at most once per Policy.CheckpointEvery.
	Touched bool
	// Purge says the ended session's retention is over: delete it.
	Purge bool

	// Event is the event to emit after storing, or "".
	Event EventType
	// Reason is the end reason, with EventEnded.
	Reason Reason
	// Close asks the caller to close the session's connections with this
	// reason, or is "".
	Close Reason
	// PreviousID is the ID before a login rotated it.
	PreviousID string

	// Deadline is the next instant the session changes by itself, and
	// DeadlineReason what happens then ("" for a tombstone's purge).
	Deadline       time.Time
	DeadlineReason Reason
}

// Machine is the pure policy state machine: it decides, and its caller acts.
// It reads no clock, does no I/O and starts no goroutine. A Machine is
// immutable and safe for concurrent use.
type Machine struct {
	p Policy // with defaults filled in
}

// NewMachine validates p and returns a Machine for it.
func NewMachine(p Policy) (*Machine, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &Machine{p: p.withDefaults()}, nil
}

// Policy returns the effective policy, defaults filled in.
func (m *Machine) Policy() Policy { return m.p }

// Deadline returns the next instant s changes by itself and why: the
// earliest of its TTL, not-started, authentication and idle deadlines, or for
// an ended session the end of its retention (with reason "").
func (m *Machine) Deadline(s *Session) (time.Time, Reason) {
	p := &m.p
	if s.State == StateEnded {
		return s.EndedAt.Add(p.Retention), ""
	}
	at, why := s.CreatedAt.Add(p.TTL), ReasonExpired
	// A session created for a subject counts as a login: its
	// authentication runs even before its first activity.
	if s.Subject != "" && p.MaxAuthAge > 0 {
		if t := s.AuthAt.Add(p.MaxAuthAge); t.Before(at) {
			at, why = t, ReasonMaxAuthAge
		}
	}
	if s.Subject != "" && p.AuthTimeout > 0 {
		if t := s.LastSeen.Add(p.AuthTimeout); t.Before(at) {
			at, why = t, ReasonAuthTimeout
		}
	}
	if s.State == StateNotStarted {
		if t := s.CreatedAt.Add(p.NotStartedTimeout); t.Before(at) {
			at, why = t, ReasonNotStartedPruned
		}
		return at, why
	}
	if p.IdleTimeout > 0 {
		if t := s.LastSeen.Add(p.IdleTimeout); t.Before(at) {
			at, why = t, ReasonIdleTimeout
		}
	}
	return at, why
}

// Step decides what input in does to s at now. It never modifies the
// caller's session (Metadata is copied when it changes) and keeps no state.
func (m *Machine) Step(now time.Time, s Session, in Input) (Session, Effects) {
	eff := m.step(now, &s, in)
	return s, eff
}

// step is Step on the caller's copy, which it changes in place: the
// keepalive path uses it to spare copying a Session in and out.
func (m *Machine) step(now time.Time, s *Session, in Input) Effects {
	var eff Effects
	switch {
	case in.Kind == InputCreate:
		*s = m.create(now, in)
		eff.Persist, eff.Event = true, EventCreated
	case s.State == StateEnded:
		return m.stepEnded(now, s, in)
	default:
		if d, why := m.Deadline(s); !now.Before(d) {
			end(s, d, why)
			eff = Effects{Persist: true, Event: EventEnded, Reason: why, Close: why}
			if in.Kind != InputDeadline {
				eff.Err = &EndedError{ID: s.ID, Reason: why}
			}
		} else {
			eff = m.stepLive(now, s, in)
		}
	}
	eff.Deadline, eff.DeadlineReason = m.Deadline(s)
	return eff
}

func (m *Machine) create(now time.Time, in Input) Session {
	s := Session{
		ID:           in.ID,
		ReferenceID:  in.Reference,
		Subject:      in.Subject,
		Channel:      in.Channel,
		State:        StateNotStarted,
		CreatedAt:    now,
		LastActivity: now,
		LastSeen:     now,
		Metadata:     maps.Clone(in.Metadata),
	}
	if in.Subject != "" {
		s.AuthAt = now
	}
	return s
}

func (m *Machine) stepEnded(now time.Time, s *Session, in Input) Effects {
	purgeAt, _ := m.Deadline(s)
	if in.Kind != InputDeadline {
		return Effects{Err: &EndedError{ID: s.ID, Reason: s.EndReason}, Deadline: purgeAt}
	}
	if !now.Before(purgeAt) {
		return Effects{Purge: true, Event: EventPurged, Deadline: purgeAt}
	}
	return Effects{Deadline: purgeAt}
}

func (m *Machine) stepLive(now time.Time, s *Session, in Input) Effects {
	var eff Effects
	switch in.Kind {
	case InputDeadline:
		// Not due: nothing changes.
	case InputActivity, InputResume:
		s.LastActivity, s.LastSeen = now, now
		eff.Touched = true
		switch s.State {
		case StateNotStarted:
			s.State = StateActive
			eff.Persist, eff.Event = true, EventStarted
		case StateSuspended:
			s.State = StateActive
			eff.Persist, eff.Event = true, EventResumed
		}
	case InputKeepAlive:
		// A pulse that counts resets the idle clock, which also renews the
		// authentication: the pulse exists so that a user busy on a form is
		// not timed out by either (rule P3, P5).
		k := m.p.KeepAlive
		switch {
		case k.Disabled:
			eff.Err = fmt.Errorf("%w: keepalives are disabled by policy", ErrWrongState)
		case k.ExtendsIdle == ExtendsAlways || s.OpenDrafts > 0:
			s.LastSeen = now
			eff.Touched = true
		}
	case InputLogin:
		switch {
		case in.Subject == "":
			eff.Err = fmt.Errorf("%w: login needs a subject", ErrInvalidInput)
			return eff
		case s.Subject != "" && s.Subject != in.Subject:
			eff.Err = fmt.Errorf("%w: the session belongs to another subject; log out first", ErrWrongState)
			return eff
		}
		if in.ID != "" {
			eff.PreviousID, s.ID = s.ID, in.ID
		}
		s.Subject = in.Subject
		s.AuthAt, s.LastActivity, s.LastSeen = now, now, now
		s.State = StateActive
		eff.Persist, eff.Event = true, EventLogin
	case InputAttach:
		if s.Node != in.Node {
			s.Node = in.Node
			eff.Persist, eff.Event = true, EventAttached
		}
		if s.State == StateSuspended {
			s.State = StateActive
			eff.Persist, eff.Event = true, EventResumed
		}
	case InputDisconnect:
		why := in.Reason
		if why == "" {
			why = ReasonConnectionLost
		}
		s.Node = ""
		eff.Persist = true
		if m.p.OnDisconnect == DisconnectEnd {
			end(s, now, why)
			eff.Event, eff.Reason = EventEnded, why
		} else if s.State == StateActive {
			s.State = StateSuspended
			eff.Event = EventSuspended
		}
	case InputLogout, InputRevoke, InputSupersede:
		why := endReasons[in.Kind]
		end(s, now, why)
		eff = Effects{Persist: true, Event: EventEnded, Reason: why, Close: why}
	case InputDraftOpened:
		s.OpenDrafts++
		eff.Persist = true
	case InputDraftClosed:
		if s.OpenDrafts > 0 {
			s.OpenDrafts--
			eff.Persist = true
		}
	default:
		eff.Err = fmt.Errorf("%w: unknown input %v", ErrInvalidInput, in.Kind)
	}
	return eff
}

// endReasons gives the end reason of the inputs that end a session outright.
var endReasons = map[InputKind]Reason{
	InputLogout:    ReasonLogout,
	InputRevoke:    ReasonRevoked,
	InputSupersede: ReasonSuperseded,
}

// end marks s ended at `at` for why.
func end(s *Session, at time.Time, why Reason) {
	s.State, s.EndReason, s.EndedAt, s.Node = StateEnded, why, at, ""
}
