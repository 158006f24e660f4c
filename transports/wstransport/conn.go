package wstransport

import (
	"bytes"
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/core/liveness"
)

// reasonPolicyViolation is the close text of 1008.
const reasonPolicyViolation = "too many bad messages"

// bufPool holds read buffers, so that an idle connection holds none.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// conn is one client connection on the server. Its reader goroutine owns
// the session fields; the write side is shared with Run and with the
// Manager, which calls CloseSession.
type conn struct {
	s  *Server
	ws *websocket.Conn
	// tcp is the connection under ws. Closing it drops the connection at
	// once: that is how a close handshake is cut short and a stuck writer
	// released, without a cancellable context on every read.
	tcp      net.Conn
	id       liveness.ConnID
	reqCtx   context.Context // the upgrade request's values, for Authenticate
	loggedIn atomic.Bool

	// Owned by the reader goroutine.
	session  string
	bad      int
	badSince time.Time

	mu           sync.Mutex
	queue        [][]byte
	writing      bool // a flusher holds the write side
	closing      bool // a close was asked for; nothing more is queued
	closeStarted bool // the close handshake has begun
	code         websocket.StatusCode
	why          core.Reason
	lost         bool // closed as lost by the liveness timer
	probeSeq     uint64
}

var _ core.Conn = (*conn)(nil)

// drop closes the TCP connection without a close handshake.
func (c *conn) drop() { _ = c.tcp.Close() }

// readLoop reads and handles messages until the connection fails or closes.
func (c *conn) readLoop() {
	for {
		// A context that is never done: coder/websocket then arms no
		// timer per read. drop ends a read instead.
		typ, r, err := c.ws.Reader(context.Background())
		if err != nil {
			return
		}
		buf := bufPool.Get().(*bytes.Buffer)
		buf.Reset()
		_, err = buf.ReadFrom(r)
		if err != nil {
			bufPool.Put(buf)
			return // over the read limit (closed with 1009), or the connection failed
		}
		now := c.s.o.Clock.Now()
		c.s.heard(c, now)
		if !c.isClosing() {
			c.dispatch(now, typ, buf.Bytes())
		}
		if buf.Cap() <= 2*DefaultReadLimit {
			bufPool.Put(buf)
		}
	}
}

func (c *conn) dispatch(now time.Time, typ websocket.MessageType, data []byte) {
	if typ != websocket.MessageText {
		c.reject(now, 0, ErrorMalformed, "messages are JSON in text frames", true)
		return
	}
	msg, err := decode(data)
	switch {
	case errors.Is(err, errUnknownType):
		c.reject(now, msg.RID, ErrorUnknownType, err.Error(), true)
		return
	case err != nil:
		c.reject(now, msg.RID, ErrorMalformed, err.Error(), true)
		return
	}
	switch msg.Type {
	case typeKeepalive:
		c.keepalive(&msg)
	case typeProbeReply:
		// Heard already; that is all a probe reply is for.
	case typeLogin:
		c.login(now, &msg)
	case typeResume:
		c.resume(now, &msg)
	case typeDraftSave:
		c.saveDraft(&msg)
	case typeLogout:
		c.logout(&msg)
	default:
		c.reject(now, msg.RID, ErrorUnknownType, "clients do not send "+msg.Type, true)
	}
}

// keepalive answers a keepalive with an ack, carrying the session's
// deadline when there is a session (rule P6). Manager.KeepAlive handles it
// in memory (see its doc for when a pulse is written through).
func (c *conn) keepalive(msg *message) {
	ack := message{Type: typeAck, Seq: msg.Seq}
	if c.session != "" {
		st, err := c.s.m.KeepAlive(context.Background(), c.session)
		if err != nil {
			c.reply(&ack)
			c.fail(0, err, true)
			return
		}
		ack.State, ack.Deadline, ack.DeadlineReason = st.State, st.Deadline, st.DeadlineReason
	}
	c.reply(&ack)
}

// login authenticates the credentials and starts a session: a new one, or
// on a connection that holds a guest session, that session logged in (rule
// P16: its ID rotates).
func (c *conn) login(now time.Time, msg *message) {
	subject := ""
	if auth := c.s.o.Authenticate; auth != nil {
		var err error
		if subject, err = auth(c.reqCtx, msg.Credentials); err != nil {
			c.reject(now, msg.RID, ErrorUnauthorized, "credentials refused", true)
			return
		}
	}
	ctx := context.Background()
	if c.session != "" {
		if subject == "" {
			c.reject(now, msg.RID, ErrorWrongState, "already in a session; a guest login cannot replace it", false)
			return
		}
		s, err := c.s.m.Login(ctx, c.session, subject)
		if err != nil {
			c.fail(msg.RID, err, true)
			return
		}
		c.session = s.ID
		c.started(msg.RID, s)
		return
	}
	s, err := c.s.m.Create(ctx, core.CreateOptions{Subject: subject, Channel: c.s.o.Channel})
	if err != nil {
		c.fail(msg.RID, err, false)
		return
	}
	c.attach(msg.RID, s.ID)
}

// resume continues a session by its ID (rule P11) on this connection.
func (c *conn) resume(now time.Time, msg *message) {
	if c.session != "" {
		c.reject(now, msg.RID, ErrorWrongState, "already in a session", false)
		return
	}
	if !core.ValidID(msg.Session) {
		c.reject(now, msg.RID, ErrorInvalidID, core.ErrInvalidID.Error(), true)
		return
	}
	s, err := c.s.m.Resume(context.Background(), msg.Session)
	if err != nil {
		c.fail(msg.RID, err, false)
		if errors.Is(err, core.ErrNotFound) {
			c.abuse(now) // guessing tokens
		}
		return
	}
	c.attach(msg.RID, s.ID)
}

// attach attaches this connection to session id, starts it, and replies
// with the session.
func (c *conn) attach(rid uint64, id string) {
	ctx := context.Background()
	s, err := c.s.m.Attach(ctx, id, c)
	if err != nil {
		c.fail(rid, err, false)
		return
	}
	c.session = id
	c.started(rid, s)
}

// started replies with the session, after an activity that starts a
// not_started session and gives its deadline.
func (c *conn) started(rid uint64, s core.Session) {
	c.loggedIn.Store(true)
	st, err := c.s.m.Activity(context.Background(), s.ID)
	if err != nil {
		c.fail(rid, err, true)
		return
	}
	c.reply(&message{Type: typeSession, RID: rid, Session: s.ID, Subject: s.Subject,
		State: st.State, Deadline: st.Deadline, DeadlineReason: st.DeadlineReason})
}

func (c *conn) saveDraft(msg *message) {
	if c.session == "" {
		c.fail(msg.RID, errNoSession, false)
		return
	}
	d := msg.Draft
	saved, err := c.s.m.SaveDraft(context.Background(), c.session, core.DraftSave{
		ID: d.ID, Version: d.Version, Name: d.Name, Data: d.Data, Mode: d.Mode,
	})
	if err != nil {
		c.fail(msg.RID, err, true)
		return
	}
	c.reply(&message{Type: typeDraftSaved, RID: msg.RID, Draft: &wireDraft{
		ID: saved.ID, Version: saved.Version, Name: saved.Name, Mode: saved.Mode, UpdatedAt: saved.UpdatedAt,
	}})
}

// logout ends the session (rule P8). The Manager closes this connection
// with CodeLogout through CloseSession; that, with the ended message before
// it, is the reply.
func (c *conn) logout(msg *message) {
	if c.session == "" {
		c.fail(msg.RID, errNoSession, false)
		return
	}
	if err := c.s.m.Logout(context.Background(), c.session); err != nil {
		c.fail(msg.RID, err, true)
		return
	}
	c.session = ""
	c.CloseSession(core.ReasonLogout) // a no-op if the Manager already did
}

var errNoSession = &wrongState{"log in or resume first"}

// wrongState is an ErrWrongState of this transport.
type wrongState struct{ s string }

func (e *wrongState) Error() string        { return e.s }
func (e *wrongState) Is(target error) bool { return target == core.ErrWrongState }

// fail replies to request rid with err. When own is set, err is about this
// connection's session, and a session that has ended closes the connection
// with its reason.
func (c *conn) fail(rid uint64, err error, own bool) {
	code, text, reason, internal := wireError(err)
	if internal {
		c.s.report(err)
	}
	c.reply(&message{Type: typeError, RID: rid, Code: code, Message: text, Reason: reason})
	if own && (code == ErrorEnded || code == ErrorExpired) {
		c.session = ""
		c.CloseSession(reason)
	}
}

// reject replies with an error; an abusive one counts towards AbuseLimit.
func (c *conn) reject(now time.Time, rid uint64, code, text string, abusive bool) {
	c.reply(&message{Type: typeError, RID: rid, Code: code, Message: text})
	if abusive {
		c.abuse(now)
	}
}

// abuse counts a bad message and closes the connection with 1008 at
// AbuseLimit of them within AbuseWindow.
func (c *conn) abuse(now time.Time) {
	if c.bad == 0 || now.Sub(c.badSince) >= c.s.o.AbuseWindow {
		c.bad, c.badSince = 0, now
	}
	c.bad++
	if c.bad >= c.s.o.AbuseLimit {
		c.s.stats.abusive.Add(1)
		c.closeWith(websocket.StatusPolicyViolation, reasonPolicyViolation, nil, false)
	}
}

// reply queues m from the reader goroutine, which then writes it itself.
func (c *conn) reply(m *message) {
	data, err := encode(m)
	if err != nil {
		c.s.report(err)
		return
	}
	c.push(data, true)
}

// probe queues a probe (rule P6). It never blocks: Run calls it.
func (c *conn) probe() {
	c.mu.Lock()
	c.probeSeq++
	seq := c.probeSeq
	c.mu.Unlock()
	data, _ := encode(&message{Type: typeProbe, Seq: seq})
	c.push(data, false)
}

// CloseSession sends the ended message and closes the connection with the
// reason's code. The Manager calls it when the session ends; it never
// blocks.
func (c *conn) CloseSession(reason core.Reason) {
	data, err := encode(&message{Type: typeEnded, Reason: reason})
	if err != nil {
		data = nil
	}
	c.closeWith(CloseCode(reason), reason, data, false)
}
