package wstransport

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sessionkit/sessionkit/core"
)

// ProtocolVersion is the version of the message protocol the service
// announces in its hello. docs/protocol.md describes it.
const ProtocolVersion = 1

// Message types. Each message is one WebSocket text frame holding one JSON
// object whose "type" field is one of these.
const (
	// Service to client.
	typeHello      = "hello"
	typeSession    = "session"
	typeAck        = "ack"
	typeProbe      = "probe"
	typeDraftSaved = "draft_saved"
	typeError      = "error"
	typeEnded      = "ended"

	// Client to service.
	typeLogin      = "login"
	typeResume     = "resume"
	typeKeepalive  = "keepalive"
	typeProbeReply = "probe_reply"
	typeDraftSave  = "draft_save"
	typeLogout     = "logout"
)

// message is every message of the protocol, service to client and client to
// service, flattened: each type uses the fields docs/protocol.md lists for
// it and leaves the others zero. A flat struct decodes in one pass, and
// unknown fields are ignored so that either side may add some.
type message struct {
	Type string `json:"type"`
	// RID is the client's request id, echoed in the reply to a request;
	// 0 means none.
	RID uint64 `json:"rid,omitempty"`
	// Seq numbers keepalives and acks, and probes and their replies.
	Seq uint64 `json:"seq,omitempty"`

	// hello
	Protocol          int   `json:"protocol,omitempty"`
	IntervalMS        int64 `json:"interval_ms,omitempty"`
	AckTimeoutMS      int64 `json:"ack_timeout_ms,omitempty"`
	LivenessTimeoutMS int64 `json:"liveness_timeout_ms,omitempty"`
	LoginTimeoutMS    int64 `json:"login_timeout_ms,omitempty"`

	// login
	Credentials json.RawMessage `json:"credentials,omitempty"`

	// resume, session
	Session string `json:"session,omitempty"`
	Subject string `json:"subject,omitempty"`

	// session, ack
	State          core.State  `json:"state,omitempty"`
	Deadline       time.Time   `json:"deadline,omitzero"`
	DeadlineReason core.Reason `json:"deadline_reason,omitempty"`

	// draft_save, draft_saved
	Draft *wireDraft `json:"draft,omitempty"`

	// error
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`

	// error (for code "ended" and "expired"), ended
	Reason core.Reason `json:"reason,omitempty"`
}

// wireDraft is a draft in draft_save and draft_saved. Data is any JSON value,
// stored as its JSON text; draft_saved does not echo it.
type wireDraft struct {
	ID        string          `json:"id,omitempty"`
	Version   uint64          `json:"version,omitempty"`
	Name      string          `json:"name,omitempty"`
	Mode      core.SaveMode   `json:"mode,omitempty"`
	Data      json.RawMessage `json:"data,omitempty"`
	UpdatedAt time.Time       `json:"updated_at,omitzero"`
}

// Decoding errors. The service answers errMalformed with error code
// "malformed" and errUnknownType with "unknown_type".
var (
	errMalformed   = errors.New("wstransport: malformed message")
	errUnknownType = errors.New("wstransport: unknown message type")
)

// decode parses one message and checks the fields its type requires. It
// never panics, whatever data holds; the error wraps errMalformed or
// errUnknownType. With a valid JSON object that fails the check, the
// message is returned too, so that its rid can be echoed.
func decode(data []byte) (message, error) {
	var m message
	if err := json.Unmarshal(data, &m); err != nil {
		return message{}, fmt.Errorf("%w: %v", errMalformed, err)
	}
	return m, m.check()
}

// check reports a message whose type is unknown or that lacks a field its
// type requires.
func (m *message) check() error {
	missing := func(field string) error {
		return fmt.Errorf("%w: %s needs %s", errMalformed, m.Type, field)
	}
	switch m.Type {
	case "":
		return fmt.Errorf("%w: no type", errMalformed)
	case typeKeepalive, typeAck:
		if m.Seq == 0 {
			return missing("a seq of 1 or more")
		}
	case typeProbe, typeProbeReply, typeLogin, typeLogout:
	case typeResume, typeSession:
		if m.Session == "" {
			return missing("a session")
		}
	case typeDraftSave:
		if m.Draft == nil {
			return missing("a draft")
		}
	case typeDraftSaved:
		if m.Draft == nil || m.Draft.ID == "" {
			return missing("a draft with an id")
		}
	case typeHello:
		if m.Protocol < 1 {
			return missing("a protocol of 1 or more")
		}
		if m.IntervalMS < 0 || m.AckTimeoutMS < 0 || m.LivenessTimeoutMS < 0 || m.LoginTimeoutMS < 0 {
			return fmt.Errorf("%w: hello has a negative duration", errMalformed)
		}
	case typeError:
		if m.Code == "" {
			return missing("a code")
		}
	case typeEnded:
		if m.Reason == "" {
			return missing("a reason")
		}
	default:
		return fmt.Errorf("%w %.64q", errUnknownType, m.Type)
	}
	return nil
}

// encode marshals m. It fails only when a RawMessage field does not hold
// valid JSON, which only a caller's credentials or draft data can cause.
func encode(m *message) ([]byte, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("wstransport: encoding %s: %w", m.Type, err)
	}
	return b, nil
}

func millis(d time.Duration) int64 { return d.Milliseconds() }

func fromMillis(ms int64) time.Duration { return time.Duration(ms) * time.Millisecond }
