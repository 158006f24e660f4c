package wstransport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/coder/websocket"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/core/liveness"
)

// Client defaults.
const (
	DefaultStatusBuffer = 8
	clientReadLimit     = 64 << 10
	clientWriteTimeout  = 10 * time.Second
)

// DialOptions configures a Client. The zero value means defaults; Dial
// copies it.
type DialOptions struct {
	// Clock drives the keepalive schedule and the ack deadline. Nil means
	// the real clock; tests pass a clock.Mock.
	Clock clock.Clock

	// HTTPClient and HTTPHeader are passed to websocket.Dial; use them for
	// cookies, a custom dialer or TLS settings. The session token is never
	// put in the URL or a header: Resume sends it in a message.
	HTTPClient *http.Client
	HTTPHeader http.Header

	// StatusBuffer sizes the channel Statuses returns. Zero means
	// DefaultStatusBuffer.
	StatusBuffer int

	// OnAck, if set, is called from the reading goroutine for every
	// accepted keepalive ack, for instance to show the session's deadline.
	// It must not block.
	OnAck func(Ack)
}

// Client is a connection to a sessionkit WebSocket service. It keeps its
// session alive with the core/liveness Client machine: a keepalive every
// interval, the next one scheduled from the ack, the link lost when an ack
// is late (rule P6), probes answered at once. It reports its Status through
// Statuses.
//
// A Client runs one goroutine that reads the connection, and one timer
// armed for the liveness machine's next instant; both end with the
// connection. Its methods are safe for concurrent use. A Client serves one
// connection: after it is lost, Dial again and Resume.
type Client struct {
	ws    *websocket.Conn
	clk   clock.Clock
	o     DialOptions
	hello Hello

	ctx        context.Context // reads
	cancel     context.CancelFunc
	statuses   chan Status
	done       chan struct{} // closed at the terminal status
	readerDone chan struct{}

	mu      sync.Mutex
	lv      *liveness.Client // nil when keepalives are off
	timer   *clock.Timer
	gen     uint64 // invalidates callbacks of stopped timers
	sentAt  time.Time
	status  Status
	session Session
	rid     uint64
	pending map[uint64]chan message
	stats   ClientStats
}

// Dial connects to the service at url (ws:// or wss://), waits for its
// hello, and starts keeping the connection alive. The Client is then
// connecting: call Login or Resume.
func Dial(ctx context.Context, url string, opts DialOptions) (*Client, error) {
	o := opts
	if o.Clock == nil {
		o.Clock = clock.New()
	}
	if o.StatusBuffer <= 0 {
		o.StatusBuffer = DefaultStatusBuffer
	}
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: o.HTTPClient, HTTPHeader: o.HTTPHeader})
	if err != nil {
		return nil, fmt.Errorf("wstransport: dial: %w", err)
	}
	ws.SetReadLimit(clientReadLimit)
	hello, err := readHello(ctx, ws)
	if err != nil {
		ws.CloseNow()
		return nil, err
	}
	c := &Client{
		ws:         ws,
		clk:        o.Clock,
		o:          o,
		hello:      hello,
		statuses:   make(chan Status, o.StatusBuffer),
		done:       make(chan struct{}),
		readerDone: make(chan struct{}),
		pending:    make(map[uint64]chan message),
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	if hello.Interval > 0 {
		lv, err := liveness.NewClient(liveness.ClientConfig{Interval: hello.Interval, AckTimeout: hello.AckTimeout})
		if err != nil {
			ws.CloseNow()
			return nil, fmt.Errorf("%w: hello announces unusable keepalive timing: %v", ErrProtocol, err)
		}
		c.lv = lv
	}
	c.mu.Lock()
	c.setStatusLocked(Status{State: StateConnecting})
	if c.lv != nil {
		c.lv.Start(c.clk.Now())
		c.armLocked()
	}
	c.mu.Unlock()
	go c.readLoop()
	return c, nil
}

func readHello(ctx context.Context, ws *websocket.Conn) (Hello, error) {
	_, data, err := ws.Read(ctx)
	if err != nil {
		return Hello{}, fmt.Errorf("wstransport: waiting for hello: %w", err)
	}
	m, err := decode(data)
	if err != nil || m.Type != typeHello {
		return Hello{}, fmt.Errorf("%w: the first message is not a hello", ErrProtocol)
	}
	return Hello{
		Protocol:        m.Protocol,
		Interval:        fromMillis(m.IntervalMS),
		AckTimeout:      fromMillis(m.AckTimeoutMS),
		LivenessTimeout: fromMillis(m.LivenessTimeoutMS),
		LoginTimeout:    fromMillis(m.LoginTimeoutMS),
	}, nil
}

// Hello returns what the service announced.
func (c *Client) Hello() Hello { return c.hello }

// Statuses returns the channel of status changes: connecting, live, and
// last a terminal one (lost, ended or closed), after which it is closed.
// A reader that falls StatusBuffer behind misses intermediate statuses,
// never the terminal one.
func (c *Client) Statuses() <-chan Status { return c.statuses }

// Status returns the current status.
func (c *Client) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

// Done is closed when the status becomes terminal.
func (c *Client) Done() <-chan struct{} { return c.done }

// Session returns the session the Client is in, as last described by the
// service; its ID is empty before a login or resume.
func (c *Client) Session() Session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.session
}

// Stats returns the keepalive counters.
func (c *Client) Stats() ClientStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// Err returns why the Client is terminal, or nil: ErrClosed after Close,
// an error matching ErrLost for a lost link, and a *core.EndedError (which
// matches core.ErrEnded) for an ended session.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.errLocked()
}

func (c *Client) errLocked() error {
	st := c.status
	switch st.State {
	case StateClosed:
		return ErrClosed
	case StateLost:
		if st.Err != nil && errors.Is(st.Err, ErrLost) {
			return st.Err
		}
		return fmt.Errorf("%w: %s", ErrLost, st.Reason)
	case StateEnded:
		return &core.EndedError{ID: c.session.ID, Reason: st.Reason}
	}
	return nil
}

// Login sends credentials, which the service's Authenticate checks, and
// returns the session it starts: a new one, or on a Client in a guest
// session, that session under a new ID (rule P16).
func (c *Client) Login(ctx context.Context, credentials json.RawMessage) (Session, error) {
	if len(credentials) > 0 && !json.Valid(credentials) {
		return Session{}, fmt.Errorf("%w: credentials are not JSON", core.ErrInvalidInput)
	}
	r, err := c.request(ctx, &message{Type: typeLogin, Credentials: credentials})
	if err != nil {
		return Session{}, err
	}
	return sessionOf(&r), nil
}

// Resume continues session id (rule P11), typically after a lost link. An
// ended session fails with an *Error matching core.ErrEnded (or
// core.ErrExpired), an unknown one with core.ErrNotFound.
func (c *Client) Resume(ctx context.Context, id string) (Session, error) {
	if !core.ValidID(id) {
		return Session{}, core.ErrInvalidID
	}
	r, err := c.request(ctx, &message{Type: typeResume, Session: id})
	if err != nil {
		return Session{}, err
	}
	return sessionOf(&r), nil
}

// Logout ends the session (rule P8). It returns once the service has closed
// the connection with CodeLogout; the Client is then ended (logout).
func (c *Client) Logout(ctx context.Context) error {
	_, err := c.request(ctx, &message{Type: typeLogout})
	if r, ok := core.EndReason(err); ok && r == core.ReasonLogout {
		return nil
	}
	return err
}

// SaveDraft saves a draft; it returns once the save is durable (rule P14).
// A save naming a stale version fails with an error matching
// core.ErrConflict.
func (c *Client) SaveDraft(ctx context.Context, d DraftSave) (SavedDraft, error) {
	if len(d.Data) > 0 && !json.Valid(d.Data) {
		return SavedDraft{}, fmt.Errorf("%w: draft data is not JSON", core.ErrInvalidInput)
	}
	r, err := c.request(ctx, &message{Type: typeDraftSave, Draft: &wireDraft{
		ID: d.ID, Version: d.Version, Name: d.Name, Mode: d.Mode, Data: d.Data,
	}})
	if err != nil {
		return SavedDraft{}, err
	}
	if r.Type != typeDraftSaved {
		return SavedDraft{}, fmt.Errorf("%w: %s in reply to draft_save", ErrProtocol, r.Type)
	}
	w := r.Draft
	return SavedDraft{ID: w.ID, Version: w.Version, Name: w.Name, Mode: w.Mode, UpdatedAt: w.UpdatedAt}, nil
}

// Close closes the connection without logging out: the service applies
// its disconnect policy (rule P7). It waits for the close handshake (a
// couple of seconds at most) and for the reading goroutine to end.
func (c *Client) Close() error {
	if c.finish(Status{State: StateClosed}) {
		t := time.AfterFunc(closeGrace, c.cancel)
		_ = c.ws.Close(websocket.StatusNormalClosure, "client closed")
		t.Stop()
	}
	c.cancel()
	_ = c.ws.CloseNow()
	<-c.readerDone
	return nil
}

func sessionOf(m *message) Session {
	return Session{ID: m.Session, Subject: m.Subject, State: m.State, Deadline: m.Deadline, DeadlineReason: m.DeadlineReason}
}

// request sends m with a fresh rid and waits for the reply with that rid.
// An error reply is returned as *Error; a connection that ends first
// returns Err.
func (c *Client) request(ctx context.Context, m *message) (message, error) {
	c.mu.Lock()
	if c.status.Terminal() {
		err := c.errLocked()
		c.mu.Unlock()
		return message{}, err
	}
	c.rid++
	m.RID = c.rid
	ch := make(chan message, 1)
	c.pending[m.RID] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, m.RID)
		c.mu.Unlock()
	}()
	if err := c.send(m); err != nil {
		return message{}, err
	}
	var r message
	select {
	case r = <-ch:
	case <-c.done:
		select {
		case r = <-ch: // the reply raced the end
		default:
			return message{}, c.Err()
		}
	case <-ctx.Done():
		return message{}, ctx.Err()
	}
	if r.Type == typeError {
		return r, &Error{Code: r.Code, Message: r.Message, Reason: r.Reason}
	}
	return r, nil
}

// send writes m. A write that fails loses the connection. The caller's
// context is not used for writing: coder/websocket closes the connection
// when a write's context ends.
func (c *Client) send(m *message) error {
	data, err := encode(m)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), clientWriteTimeout)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, data); err != nil {
		c.lose(fmt.Errorf("%w: writing %s: %v", ErrLost, m.Type, err), 0)
		return c.Err()
	}
	return nil
}

// finish sets the terminal status st unless there is one already, and
// reports whether it did.
func (c *Client) finish(st Status) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.status.Terminal() {
		return false
	}
	c.gen++
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	c.setStatusLocked(st)
	return true
}

// setStatusLocked records st and offers it on the channel without
// blocking; a terminal status makes room by dropping the oldest one, then
// closes the channel.
func (c *Client) setStatusLocked(st Status) {
	c.status = st
	select {
	case c.statuses <- st:
	default:
		if st.Terminal() {
			select {
			case <-c.statuses:
			default:
			}
			c.statuses <- st // the only sender holds c.mu: there is room now
		}
	}
	if st.Terminal() {
		close(c.statuses)
		close(c.done)
	}
}

func (c *Client) readLoop() {
	defer close(c.readerDone)
	for {
		_, data, err := c.ws.Read(c.ctx)
		if err != nil {
			c.readFailed(err)
			return
		}
		m, err := decode(data)
		if err != nil {
			continue // not for this version of the protocol: ignore it
		}
		now := c.clk.Now()
		switch m.Type {
		case typeAck:
			c.onAck(now, &m)
		case typeProbe:
			c.onProbe(now, &m)
		case typeSession, typeDraftSaved, typeError:
			c.onReply(&m)
		case typeEnded:
			c.finish(Status{State: StateEnded, Reason: m.Reason, Code: CloseCode(m.Reason)})
			// The close frame follows; go on reading to answer it.
		}
	}
}

// onReply hands a reply to the request waiting for its rid. A session reply
// also makes the Client live.
func (c *Client) onReply(m *message) {
	c.mu.Lock()
	if m.Type == typeSession && !c.status.Terminal() {
		c.session = sessionOf(m)
		c.setStatusLocked(Status{State: StateLive})
	}
	ch := c.pending[m.RID]
	delete(c.pending, m.RID)
	c.mu.Unlock()
	if ch != nil {
		ch <- *m
	}
}

// readFailed turns the end of the connection into the terminal status, if
// there is none yet: a close code 4500–4999 ends the session, anything
// else loses the link.
func (c *Client) readFailed(err error) {
	var ce websocket.CloseError
	if !errors.As(err, &ce) {
		c.lose(fmt.Errorf("%w: %v", ErrLost, err), 0)
		return
	}
	reason, known := CloseReason(ce.Code)
	if !known {
		reason = core.ReasonConnectionLost
		if MustLogIn(ce.Code) && ce.Reason != "" {
			reason = core.Reason(ce.Reason)
		}
	}
	st := Status{State: StateLost, Reason: reason, Code: ce.Code, Err: fmt.Errorf("%w: %v", ErrLost, ce)}
	if MustLogIn(ce.Code) {
		st = Status{State: StateEnded, Reason: reason, Code: ce.Code}
	}
	c.finish(st)
}
