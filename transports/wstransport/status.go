package wstransport

import (
	"encoding/json"
	"time"

	"github.com/coder/websocket"

	"github.com/sessionkit/sessionkit/core"
)

// State is where a Client's connection stands, as a status bar shows it.
type State string

const (
	// StateConnecting: dialled and greeted, not in a session yet.
	StateConnecting State = "connecting"
	// StateLive: in a session, keepalives answered.
	StateLive State = "live"
	// StateLost: the link is gone (rule P6), for Status.Reason. Whether the
	// session survived depends on the policy: dial again and resume.
	StateLost State = "lost"
	// StateEnded: the session ended, for Status.Reason. Only a new login
	// starts over.
	StateEnded State = "ended"
	// StateClosed: the application closed the Client.
	StateClosed State = "closed"
)

// Status is a Client's state and, once it is lost or ended, why.
type Status struct {
	State State
	// Reason is set with StateLost and StateEnded: connection_lost,
	// service_restart, login_timeout and slow_consumer for a lost link, a
	// core end reason (logout, superseded, expired, ...) for an ended session.
	Reason core.Reason
	// Code is the close code that told it, or 0 if there was none (a
	// dropped TCP connection, or the client's own ack timeout).
	Code websocket.StatusCode
	// Err is the underlying error of a lost link.
	Err error
}

// Terminal reports whether s is final: lost, ended or closed.
func (s Status) Terminal() bool {
	return s.State == StateLost || s.State == StateEnded || s.State == StateClosed
}

func (s Status) String() string {
	if s.Reason == "" {
		return string(s.State)
	}
	return string(s.State) + " (" + string(s.Reason) + ")"
}

// Hello is what the service announces when a client connects (rule P4).
type Hello struct {
	Protocol int
	// Interval is the keepalive interval, or 0 when keepalives are off.
	Interval time.Duration
	// AckTimeout is how long the client waits for an ack.
	AckTimeout time.Duration
	// LivenessTimeout is the silence after which the service drops the
	// connection.
	LivenessTimeout time.Duration
	// LoginTimeout is how long the service waits for a login or resume.
	LoginTimeout time.Duration
}

// Session is the session a Client is in, as the service last described it.
type Session struct {
	// ID is the session token: keep it to resume after a lost link. It
	// changes when a guest logs in (rule P16).
	ID      string
	Subject string
	State   core.State
	// Deadline is when the session ends by itself unless something happens,
	// and DeadlineReason the reason it would end with.
	Deadline       time.Time
	DeadlineReason core.Reason
}

// Ack describes an accepted keepalive ack, for DialOptions.OnAck.
type Ack struct {
	Seq uint64
	// RTT is from sending the keepalive to handling its ack.
	RTT            time.Duration
	State          core.State // zero before a login
	Deadline       time.Time
	DeadlineReason core.Reason
}

// DraftSave is a draft to save (rule P14). Data is any JSON value; the
// service stores it as its JSON text.
type DraftSave struct {
	// ID names the draft to update; empty creates one.
	ID string
	// Version is the version being replaced; 0 for a new draft.
	Version uint64
	Name    string
	Data    json.RawMessage
	Mode    core.SaveMode
}

// SavedDraft is the service's acknowledgement of a save: the draft is
// durable. Version is what the next save must name.
type SavedDraft struct {
	ID        string
	Version   uint64
	Name      string
	Mode      core.SaveMode
	UpdatedAt time.Time
}

// ClientStats counts a Client's keepalive traffic.
type ClientStats struct {
	KeepalivesSent uint64
	Acks           uint64 // accepted acks
	StaleAcks      uint64 // acks for no outstanding keepalive
	Probes         uint64 // probes answered
}
