package sim

import (
	"time"

	"github.com/sessionkit/sessionkit/core"
)

// op is a message on the virtual wire. Requests that create or find a
// session travel like HTTP requests; the rest belong to a connection (a
// WebSocket) and carry its generation.
type op uint8

const (
	// client → service
	opCreate      op = iota + 1 // Create (and a first request when logged in)
	opLogin                     // Login on a guest session: the ID rotates
	opGetOrCreate               // GetOrCreate by client reference
	opResume                    // Resume by ID
	opConnect                   // open a connection: Attach
	opKeepalive                 // a pulse, answered by opAck
	opProbeReply                // the answer to a probe
	opActivity                  // a user action
	opSave                      // SaveDraft
	opResumeDraft               // ResumeDraft into the current session
	opLoadDraft                 // LoadDraft after a conflict
	opSubmit                    // CloseDraft
	opLogout                    // Logout
	opBye                       // the client closes the connection (tab closed, link given up)

	// service → client
	opReply // the answer to a request
	opHello // the connection is open; carries the interval
	opAck   // the answer to a keepalive
	opProbe // "are you there?"
	opClose // the service closes the connection, with a reason
)

var opNames = [...]string{
	opCreate: "create", opLogin: "login", opGetOrCreate: "get_or_create", opResume: "resume",
	opConnect: "connect", opKeepalive: "keepalive", opProbeReply: "probe_reply",
	opActivity: "activity", opSave: "save_draft", opResumeDraft: "resume_draft",
	opLoadDraft: "load_draft", opSubmit: "submit_draft", opLogout: "logout", opBye: "bye",
	opReply: "reply", opHello: "hello", opAck: "ack", opProbe: "probe", opClose: "close",
}

func (o op) String() string {
	if int(o) < len(opNames) && opNames[o] != "" {
		return opNames[o]
	}
	return "op?"
}

// Error kinds a reply can carry.
const (
	errEnded    = "ended"
	errNotFound = "not_found"
	errConflict = "conflict"
	errRefused  = "refused" // the service is down
	errState    = "wrong_state"
	errOther    = "error"
)

// payload is the body of a message that needs more than an op and a
// number. Keepalives, answers and probes have none.
type payload struct {
	replyTo  op
	sid      string
	user     string
	ref      string
	channel  string
	draftID  string
	version  uint64
	data     []byte
	mode     core.SaveMode
	created  bool
	err      string
	reason   core.Reason
	ended    bool // opClose: the session ended, not only the link
	interval time.Duration
	ack      time.Duration
}
