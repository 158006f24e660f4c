package liveness

import (
	"strconv"
	"time"
)

// ClientOp is what a Client asks its caller to do.
type ClientOp uint8

const (
	// ClientNone: nothing to do; rearm the timer for Next.
	ClientNone ClientOp = iota
	// ClientSendKeepalive: send a keepalive carrying ClientAction.Seq now,
	// then rearm the timer for Next (the ack deadline).
	ClientSendKeepalive
	// ClientReplyProbe: answer the service's probe now, from the message
	// handler, without waiting for a timer.
	ClientReplyProbe
	// ClientLost: the link is lost (rule P6). Close the connection, stop
	// the timer and tell the user. The Client is now terminal.
	ClientLost
)

func (op ClientOp) String() string {
	switch op {
	case ClientNone:
		return "none"
	case ClientSendKeepalive:
		return "send_keepalive"
	case ClientReplyProbe:
		return "reply_probe"
	case ClientLost:
		return "lost"
	}
	return "ClientOp(" + strconv.Itoa(int(op)) + ")"
}

// ClientAction is the effect a Client returns. Seq is set only with
// ClientSendKeepalive.
type ClientAction struct {
	Op  ClientOp
	Seq uint64
}

// AckResult says what a Client made of an ack.
type AckResult uint8

const (
	// AckAccepted: the ack answered the outstanding keepalive in time. The
	// next keepalive is due Interval after this ack; rearm the timer.
	AckAccepted AckResult = iota
	// AckStale: no keepalive with this sequence number is outstanding (a
	// duplicate, a very late ack or a confused peer). It was ignored and
	// changed nothing; callers may count it.
	AckStale
	// AckLost: the Client is lost, either already or because this ack came
	// at or after the deadline. Act as for ClientLost.
	AckLost
)

func (r AckResult) String() string {
	switch r {
	case AckAccepted:
		return "accepted"
	case AckStale:
		return "stale"
	case AckLost:
		return "lost"
	}
	return "AckResult(" + strconv.Itoa(int(r)) + ")"
}

type clientState uint8

const (
	clientNew         clientState = iota // before Start
	clientWaiting                        // nothing outstanding; next send at nextSend
	clientOutstanding                    // keepalive seq outstanding until ackDeadline
	clientLost                           // terminal
)

// Client is the keepalive state machine of one client connection. It reads
// no clock and starts no timer or goroutine: every method takes the current
// time, and the caller carries out the returned action and keeps ONE timer
// armed for Next.
//
// The rules, which the Go client, the simulator and the browser client all
// follow:
//
//   - Start(now) schedules the first keepalive at now+Interval. The
//     handshake that opened the connection has just shown the link works
//     both ways, so an immediate keepalive would tell nothing new; a caller
//     that wants one anyway calls Kick after Start.
//   - At most one keepalive is outstanding. Sending keepalive N (sequence
//     numbers start at 1) arms the ack deadline at send time + AckTimeout,
//     where send time is the now of the Tick or Kick that sent it, not the
//     instant the send was due: a late timer does not eat the wait.
//   - An ack for N that arrives strictly before the deadline clears it and
//     schedules keepalive N+1 at ack time + Interval. The schedule follows
//     the answers, never a free-running ticker, so a slow round trip or a
//     late timer shifts the schedule rather than piling up sends.
//   - At or after the deadline with no ack the link is lost. Every method
//     checks this against its own now before doing anything else, so an
//     ack handled after the deadline is too late even if the timer has not
//     fired yet (a throttled or frozen tab). The outcome depends only on
//     when messages are handled, never on how late the timer fires; timer
//     lateness only delays the moment a loss is noticed.
//   - Lost is terminal: every later call reports it again. Make a new
//     Client for a new connection.
//   - A probe from the service is answered at once (ClientReplyProbe). It
//     leaves the ack deadline and the send schedule alone: the service
//     probes only after hearing nothing from this client for
//     Interval+Margin, so a probe that arrives while a keepalive is
//     outstanding is evidence that the keepalive has not arrived, not that
//     it was answered. Rule P6 defines the client's view of the link as
//     "keepalives are answered", and only an ack satisfies it.
//   - Nothing else the service sends is an input: such messages prove the
//     link carries traffic to the client, but only the ack proves the
//     service has heard the client.
//
// Times passed to a Client must not go backwards. A Client is not safe for
// concurrent use; a connection's reader and its timer callback must share a
// mutex (or run on one event loop, as in a browser).
type Client struct {
	interval   time.Duration
	ackTimeout time.Duration
	ackDefault bool // ackTimeout follows interval (config had AckTimeout 0)

	state       clientState
	seq         uint64    // last sequence number sent
	anchor      time.Time // start or last accepted ack: the next send is anchor+interval
	nextSend    time.Time // valid in clientWaiting
	ackDeadline time.Time // valid in clientOutstanding
}

// NewClient returns a Client for cfg, with zero fields filled by defaults,
// or a *ConfigError if cfg is invalid. The Client does nothing until Start.
func NewClient(cfg ClientConfig) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	eff := cfg.withDefaults()
	return &Client{
		interval:   eff.Interval,
		ackTimeout: eff.AckTimeout,
		ackDefault: cfg.AckTimeout == 0,
	}, nil
}

// Config returns the configuration in effect, defaults filled in and
// changed by SetInterval.
func (c *Client) Config() ClientConfig {
	return ClientConfig{Interval: c.interval, AckTimeout: c.ackTimeout}
}

// Start starts the schedule: the first keepalive is due at now+Interval.
// Calling Start again on a started (or lost) Client does nothing.
func (c *Client) Start(now time.Time) {
	if c.state != clientNew {
		return
	}
	c.state = clientWaiting
	c.anchor = now
	c.nextSend = now.Add(c.interval)
}

// Next returns the instant at which the caller should next call Tick: the
// ack deadline while a keepalive is outstanding, else the next send. It is
// the zero Time before Start and once lost, when no timer is needed. Tick
// may be called later than Next (throttled timers) or earlier (it then
// returns ClientNone).
func (c *Client) Next() time.Time {
	switch c.state {
	case clientWaiting:
		return c.nextSend
	case clientOutstanding:
		return c.ackDeadline
	}
	return time.Time{}
}

// expire moves an outstanding Client whose deadline has passed to lost and
// reports whether the Client is lost.
func (c *Client) expire(now time.Time) bool {
	if c.state == clientOutstanding && !now.Before(c.ackDeadline) {
		c.state = clientLost
	}
	return c.state == clientLost
}

// send emits the next keepalive and arms its ack deadline from now.
func (c *Client) send(now time.Time) ClientAction {
	c.seq++
	c.state = clientOutstanding
	c.ackDeadline = now.Add(c.ackTimeout)
	return ClientAction{Op: ClientSendKeepalive, Seq: c.seq}
}

// Tick is the timer callback. It returns ClientLost if the ack deadline has
// passed with no ack, ClientSendKeepalive if the next keepalive is due, and
// ClientNone otherwise. Afterwards rearm the timer for Next (unless lost).
func (c *Client) Tick(now time.Time) ClientAction {
	if c.expire(now) {
		return ClientAction{Op: ClientLost}
	}
	if c.state == clientWaiting && !now.Before(c.nextSend) {
		return c.send(now)
	}
	return ClientAction{}
}

// Ack handles the service's answer to keepalive seq. See AckResult for the
// outcomes. After AckAccepted rearm the timer for Next.
func (c *Client) Ack(now time.Time, seq uint64) AckResult {
	if c.expire(now) {
		return AckLost
	}
	if c.state != clientOutstanding || seq != c.seq {
		return AckStale
	}
	c.state = clientWaiting
	c.anchor = now
	c.nextSend = now.Add(c.interval)
	return AckAccepted
}

// Probe handles a probe from the service. It returns ClientReplyProbe, to
// be answered at once, or ClientLost if the ack deadline has already passed
// (then there is no point answering). Before Start it also answers: the
// connection is open, and silence would get it dropped.
func (c *Client) Probe(now time.Time) ClientAction {
	if c.expire(now) {
		return ClientAction{Op: ClientLost}
	}
	return ClientAction{Op: ClientReplyProbe}
}

// Kick sends a keepalive now unless one is outstanding; call it when the
// link may have changed under the page (visibilitychange to visible,
// pageshow, online, network change). It returns ClientSendKeepalive (rearm
// the timer for Next), ClientNone when a keepalive is already outstanding
// or before Start, or ClientLost. Kicks are not rate-limited: after each
// ack the next Kick sends again.
func (c *Client) Kick(now time.Time) ClientAction {
	if c.expire(now) {
		return ClientAction{Op: ClientLost}
	}
	if c.state == clientWaiting {
		return c.send(now)
	}
	return ClientAction{}
}

// SetInterval applies an interval announced by the service (its hello,
// rule P4). The next keepalive is rescheduled to Interval after the last
// ack (or Start); if that is already past, the next Tick sends. An
// outstanding keepalive keeps the deadline it was sent with. When the
// configured AckTimeout was zero it follows the new interval; an explicit
// AckTimeout must stay shorter than it. On error (a *ConfigError) nothing
// changes. Rearm the timer for Next afterwards.
func (c *Client) SetInterval(interval time.Duration) error {
	cfg := ClientConfig{Interval: interval, AckTimeout: c.ackTimeout}
	if c.ackDefault {
		cfg.AckTimeout = DefaultAckTimeout(interval)
	}
	if interval <= 0 {
		return &ConfigError{Field: "Interval", Value: interval, Reason: "must be positive"}
	}
	if err := cfg.check(); err != nil {
		return err
	}
	c.interval, c.ackTimeout = cfg.Interval, cfg.AckTimeout
	if c.state == clientWaiting {
		c.nextSend = c.anchor.Add(c.interval)
	}
	return nil
}

// Outstanding returns the sequence number of the keepalive awaiting an ack,
// and whether there is one.
func (c *Client) Outstanding() (seq uint64, ok bool) {
	return c.seq, c.state == clientOutstanding
}

// Lost reports whether the Client has declared the link lost. It reflects
// the last call; a deadline that has passed since is noticed by the next
// call that takes now.
func (c *Client) Lost() bool { return c.state == clientLost }
