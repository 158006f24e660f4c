package sim

import (
	"encoding/binary"
	"hash/fnv"
	"math/rand/v2"
	"time"
	"unsafe"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/core/liveness"
)

const (
	// throttle is how often a hidden tab's timers may fire at most.
	throttle = time.Minute
	// reqTimeout is how long a client waits for the answer to a request.
	reqTimeout = 10 * time.Second
	// maxBackoff caps the wait between reconnection attempts.
	maxBackoff = 30 * time.Second
)

// cstate is where a client is.
type cstate uint8

const (
	cOff    cstate = iota // tab closed, or logged out: only the timeline wakes it
	cWait                 // tab open, waiting to retry (backoff) or to log in again
	cBusy                 // obtaining a session or opening a connection
	cOnline               // connected, keeping alive
)

var cstateNames = [...]string{cOff: "off", cWait: "waiting", cBusy: "busy", cOnline: "online"}

func (s cstate) String() string { return cstateNames[s] }

// then says what a waiting client does when its wait is over.
type then uint8

const (
	thenObtain then = iota // obtain a new session
	thenResume             // resume the session it holds
)

// request is a request awaiting its answer.
type request struct {
	n        uint64
	op       op
	deadline time.Duration
}

type shown struct {
	at   time.Duration
	what string
}

// client is one simulated user with one browser tab: it obtains sessions,
// connects, keeps alive with the real liveness.Client, types, saves its
// form, and reacts to what the service and the network do to it.
//
// Clients live side by side in one slice (Sim.cl) and never move. The
// fields a keepalive round trip reads come first, and the liveness.Client
// and the random sources are held by value, so that a keepalive touches a
// few adjacent cache lines of one client rather than five objects spread
// over the heap: with 10,000 clients, those misses were most of the cost.
// A client is padded to a multiple of 128 bytes so that, in Sim.cl, each
// one's first four lines are two aligned pairs, which processors fetch
// together (TestClientLayout).
type client struct {
	clientData
	_ [(128 - unsafe.Sizeof(clientData{})%128) % 128]byte
}

// clientData is what a client holds; see client.
type clientData struct {
	// First cache line: what every keepalive, answer and probe reads.
	s        *Sim
	idx      int32
	gen      uint32
	frozen   int32
	hidden   int32
	state    cstate
	awaiting bool             // the last keepalive has not been answered
	lc       *liveness.Client // nil while offline; else points at lcv
	ack      time.Duration    // its ack timeout
	sentAt   time.Duration    // when the last keepalive left
	lastFire time.Duration

	// The next three lines: the keepalive machine, the link and its random
	// source, and the service's side.
	lcv  liveness.Client
	nrng rand.Rand // its network link
	npcg rand.PCG
	link link
	// conn is the service's open connection from this client, with copies
	// of its generation and session. They are the server's, kept here so
	// that the server finds a keepalive's connection in a line the client
	// side has just used, and only writes to the connection itself.
	conn     *sconn
	connGen  uint32
	connSess int32

	sess int32 // model index of sid, or -1
	name string
	spec *ClientSpec
	rng  rand.Rand // behaviour
	rpcg rand.PCG

	then      then
	retryAt   time.Duration
	backoff   time.Duration
	changedAt time.Duration
	wantSince time.Duration // since when it has been trying to get online

	sid      string
	sessUser string
	sessions []int32 // distinct sessions used, in order

	ctl        request
	dreq       request
	reqN       uint64
	loggingOut bool
	loggedIn   bool // the user has logged in once
	opening    bool // the user opened the tab and is not yet online

	inbox    []event
	nextAct  time.Duration
	nextSave time.Duration

	form    form
	faults  int
	cleanAt time.Duration
	shows   []shown
}

// initClient sets up client idx of s in place (it must not move
// afterwards: its random sources point into it).
func initClient(c *client, s *Sim, idx int32, spec *ClientSpec) {
	// Each client draws from streams keyed by the seed and its name, so
	// removing another client (when shrinking) leaves its behaviour alone.
	h := fnv.New64a()
	h.Write([]byte(spec.Name))
	k := h.Sum64()
	*c = client{clientData: clientData{s: s, idx: idx, name: spec.Name, spec: spec, sess: -1, cleanAt: -s.settleFor()}}
	c.rpcg.Seed(s.seed, k)
	c.npcg.Seed(s.seed^0x9e3779b97f4a7c15, k)
	c.rng = *rand.New(&c.rpcg)
	c.nrng = *rand.New(&c.npcg)
	s.log.names = append(s.log.names, spec.Name)
}

func (c *client) log(format string, args ...any) {
	c.s.log.add(c.s.now, c.idx, c.sess, format, args...)
}

func (c *client) setState(st cstate) {
	if c.state == st {
		return
	}
	stable := func(x cstate) bool { return x == cOnline || x == cOff }
	if stable(c.state) && !stable(st) {
		c.wantSince = c.s.now
	}
	c.state, c.changedAt = st, c.s.now
}

func (c *client) show(what string) {
	c.shows = append(c.shows, shown{c.s.now, what})
	c.log("shows %q", what)
	if c.s.tl != nil {
		c.s.tl.mark(c.s, c, "show", what)
	}
}

func (c *client) label() string {
	if c.sess >= 0 {
		return c.s.mdl.sess[c.sess].label
	}
	return c.name + "#?"
}

// ---- session lifecycle ----

// open starts the client when its tab opens: it resumes the session it
// holds (a cookie), or obtains one.
func (c *client) open(why string) {
	if c.state != cOff {
		return
	}
	c.log("%s", why)
	c.opening = true
	if c.sid != "" && c.spec.Reconnect == ReconnectResume && !c.spec.NoStart {
		c.request(opResume, &payload{sid: c.sid})
		return
	}
	c.obtain()
}

// obtain asks for a new (or, by reference, the newest usable) session.
func (c *client) obtain() {
	sp := c.spec
	switch sp.Login {
	case LoginReference:
		c.request(opGetOrCreate, &payload{ref: sp.Ref, user: sp.User, channel: sp.Channel})
	case LoginGuestLogin:
		c.request(opCreate, &payload{ref: sp.Ref, channel: sp.Channel})
	case LoginGuest:
		user := ""
		if c.loggedIn {
			user = sp.User // having logged in once, the user logs in again
		}
		c.request(opCreate, &payload{user: user, ref: sp.Ref, channel: sp.Channel})
	default:
		c.request(opCreate, &payload{user: sp.User, ref: sp.Ref, channel: sp.Channel})
	}
}

// request sends a control request (one in flight at a time).
func (c *client) request(o op, p *payload) {
	c.reqN++
	c.ctl = request{n: c.reqN, op: o, deadline: c.s.now + reqTimeout}
	if c.state != cOnline {
		c.setState(cBusy)
	}
	c.s.stats.Requests++
	c.log("-> %s", o)
	c.s.send(c, toServer, event{op: o, n: c.reqN, gen: c.gen, p: p})
	c.armBehaviour()
}

// draftRequest sends a request about the form (one in flight at a time).
func (c *client) draftRequest(o op, p *payload) {
	c.reqN++
	c.dreq = request{n: c.reqN, op: o, deadline: c.s.now + reqTimeout}
	c.s.stats.Requests++
	c.log("-> %s %s", o, p.mode)
	c.s.send(c, toServer, event{op: o, n: c.reqN, gen: c.gen, p: p})
	c.armBehaviour()
}

// wait retries (or logs in again) after d.
func (c *client) wait(d time.Duration, t then) {
	c.setState(cWait)
	c.retryAt, c.then = c.s.now+d, t
	c.armBehaviour()
}

func (c *client) nextBackoff() time.Duration {
	c.backoff = min(max(2*c.backoff, time.Second), maxBackoff)
	jitter := time.Duration(c.rng.Int64N(int64(c.backoff)/5 + 1))
	return c.backoff + jitter
}

// useSession makes sid the client's session.
func (c *client) useSession(sid, user string) {
	c.sid, c.sessUser = sid, user
	c.sess = c.s.mdl.lookup(sid)
	if c.sess >= 0 {
		found := false
		for _, x := range c.sessions {
			found = found || x == c.sess
		}
		if !found {
			c.sessions = append(c.sessions, c.sess)
			c.form.inSession = false
		}
	}
}

// connect opens a connection to the session it holds, closing the one it
// has if a new login replaced its session.
func (c *client) connect() {
	if c.state == cOnline {
		c.bye()
	}
	c.gen++
	c.setState(cBusy)
	c.request(opConnect, &payload{sid: c.sid})
}

// bye closes the client's end of the connection: a close frame that the
// service sees if the link carries it.
func (c *client) bye() {
	c.s.send(c, toServer, event{op: opBye, gen: c.gen})
	c.lc = nil
	c.s.t.stop(liveSlot(c.idx))
	c.nextAct, c.nextSave = 0, 0
}

func (c *client) onReply(e *event) {
	p := e.p
	switch {
	case c.ctl.n != 0 && e.n == c.ctl.n:
		c.ctl = request{}
		c.onControl(p)
	case c.dreq.n != 0 && e.n == c.dreq.n:
		c.dreq = request{}
		c.onDraft(p)
	}
	c.armBehaviour()
}

func (c *client) onControl(p *payload) {
	if c.state == cOff {
		return
	}
	if p.err != "" {
		c.log("<- %s failed: %s %s", p.replyTo, p.err, p.reason)
	}
	switch p.err {
	case "":
	case errEnded, errNotFound:
		if c.state == cOnline {
			return // a login while online failed; the connection says the rest
		}
		if c.opening {
			// The user opened the app: the old session is gone, so they
			// log in (or start) anew.
			if p.reason != "" {
				c.show(string(p.reason))
			}
			c.sid = ""
			c.obtain()
			return
		}
		if p.reason != "" {
			c.sessionOver(p.reason)
			return
		}
		c.sid = ""
		c.wait(c.nextBackoff(), thenObtain)
		return
	default:
		if c.state == cOnline {
			return
		}
		t := thenObtain
		if c.sid != "" && (p.replyTo == opResume || p.replyTo == opConnect) {
			t = thenResume
		}
		c.wait(c.nextBackoff(), t)
		return
	}
	switch p.replyTo {
	case opCreate:
		user := c.spec.User
		if c.spec.Login == LoginGuestLogin || c.spec.Login == LoginGuest && !c.loggedIn {
			user = ""
		}
		c.loggedIn = c.loggedIn || user != ""
		c.useSession(p.sid, user)
		c.log("<- created %s", c.label())
		if c.spec.Login == LoginGuestLogin {
			c.request(opLogin, &payload{sid: c.sid, user: c.spec.User})
			return
		}
		c.connect()
	case opLogin:
		c.loggedIn = true
		c.useSession(p.sid, c.spec.User)
		c.log("<- logged in as %s: %s", c.spec.User, c.label())
		if c.state != cOnline {
			c.connect()
		}
	case opGetOrCreate:
		c.useSession(p.sid, c.spec.User)
		c.log("<- %s (created=%v)", c.label(), p.created)
		if c.spec.NoStart {
			c.connect() // looks, but never starts the flow
			return
		}
		c.request(opResume, &payload{sid: c.sid})
	case opResume:
		c.log("<- resumed %s", c.label())
		c.connect()
	}
}

// online: the connection is open. Start keeping alive, and take up the form.
func (c *client) online(interval, ack time.Duration) {
	lc, err := liveness.NewClient(liveness.ClientConfig{Interval: interval, AckTimeout: ack})
	if err != nil {
		c.s.fail("engine.error", c, c.sess, "the announced interval %v is refused by liveness.NewClient: %v", interval, err)
		return
	}
	c.setState(cOnline)
	c.backoff, c.opening = 0, false
	c.lcv = *lc
	c.lc, c.ack, c.awaiting = &c.lcv, lc.Config().AckTimeout, false
	c.lc.Start(c.s.wallNow())
	c.log("<- hello: online on %s, interval %s", c.label(), interval)
	if c.s.tl != nil {
		c.s.tl.mark(c.s, c, "connect", "")
	}
	c.armLive()
	if c.spec.Activity > 0 {
		c.nextAct = c.s.now + c.exp(c.spec.Activity)
	}
	if c.spec.Autosave > 0 {
		c.nextSave = c.s.now + c.spec.Autosave
	}
	if c.spec.Form != "" && !c.form.closed && c.dreq.n == 0 {
		switch {
		case c.form.id == "":
			c.form.rev++
			c.save(core.SaveAuto)
		case !c.form.inSession:
			c.draftRequest(opResumeDraft, &payload{draftID: c.form.id})
		}
	}
	c.armBehaviour()
}

// closed: the service closed the connection.
func (c *client) closed(p *payload) {
	c.lc = nil
	c.s.t.stop(liveSlot(c.idx))
	c.nextAct, c.nextSave = 0, 0
	c.log("<- close: %s (session ended: %v)", p.reason, p.ended)
	if p.ended {
		c.sessionOver(p.reason)
		return
	}
	what := string(p.reason)
	if what == "reset" {
		what = "link_lost" // a crashed service resets the connection
	}
	c.linkLost(what)
}

// sessionOver: the session has ended; show why, and log in again after
// Relogin unless the user was logged out on purpose.
func (c *client) sessionOver(why core.Reason) {
	c.show(string(why))
	c.sid, c.form.inSession = "", false
	if c.loggingOut {
		c.loggingOut = false
		c.setState(cOff)
		return
	}
	switch why {
	case core.ReasonSuperseded, core.ReasonRevoked, core.ReasonLogout:
		// Logged out on purpose (here or elsewhere): the user does not
		// log straight back in.
		c.setState(cOff)
		return
	}
	if c.spec.Relogin < 0 {
		c.setState(cOff)
		return
	}
	c.wait(c.spec.Relogin, thenObtain)
}

// linkLost: the connection is gone but the session may live on.
func (c *client) linkLost(what string) {
	c.show(what)
	switch c.spec.Reconnect {
	case ReconnectResume:
		c.wait(c.nextBackoff(), thenResume)
	case ReconnectLogin:
		// Product 1: the client ends the session; only a login starts over.
		c.sid, c.form.inSession = "", false
		if c.spec.Relogin < 0 {
			c.setState(cOff)
			return
		}
		c.wait(c.spec.Relogin, thenObtain)
	default:
		c.setState(cOff)
	}
}

// lost: the liveness.Client declared the link lost.
func (c *client) lost() {
	c.s.stats.ClientLost++
	if c.s.healthy(c) {
		c.s.fail("live.dropped", c, c.sess, "the client lost its link with no fault for %s (keepalive sent at %s unanswered)",
			formatDuration(c.s.now-c.cleanAt), stamp(c.sentAt))
	}
	c.log("link lost: no answer to the keepalive sent at %s", stamp(c.sentAt))
	c.bye()
	c.linkLost("link_lost")
}

// ---- messages ----

func (c *client) receive(e *event) {
	if !c.s.delivered(c, e) {
		return
	}
	if c.frozen > 0 {
		c.inbox = append(c.inbox, *e)
		return
	}
	c.handle(e)
}

func (c *client) handle(e *event) {
	switch e.op {
	case opAck:
		if c.state == cOnline && e.gen == c.gen && c.lc != nil {
			c.onAck(e.n)
		}
	case opProbe:
		if c.state == cOnline && e.gen == c.gen && c.lc != nil {
			c.onProbe()
		}
	case opHello:
		if c.state == cBusy && c.ctl.op == opConnect && e.n == c.ctl.n && e.gen == c.gen {
			c.ctl = request{}
			c.online(e.p.interval, e.p.ack)
		}
	case opClose:
		if e.gen == c.gen && (c.state == cOnline || c.state == cBusy && c.ctl.op == opConnect) {
			c.ctl = request{}
			c.closed(e.p)
		}
	case opReply:
		c.onReply(e)
	}
}

func (c *client) onAck(seq uint64) {
	s := c.s
	deadline := c.sentAt + c.ack
	switch c.lc.Ack(s.wallNow(), seq) {
	case liveness.AckAccepted:
		s.stats.Acks++
		c.awaiting = false
		if s.now >= deadline {
			s.fail("liveness.client", c, c.sess, "an answer at %s was accepted after the ack deadline %s", stamp(s.now), stamp(deadline))
			return
		}
		if s.log.all() {
			c.log("<- ack %d", seq)
		}
		c.armLive()
	case liveness.AckLost:
		if s.now < deadline {
			s.fail("liveness.client", c, c.sess, "an answer at %s, before the ack deadline %s, was called lost", stamp(s.now), stamp(deadline))
			return
		}
		c.lost()
	}
}

func (c *client) onProbe() {
	a := c.lc.Probe(c.s.wallNow())
	switch a.Op {
	case liveness.ClientReplyProbe:
		if c.s.log.all() {
			c.log("<- probe, answered")
		}
		c.s.send(c, toServer, event{op: opProbeReply, gen: c.gen})
	case liveness.ClientLost:
		c.lost()
	}
}

// ---- timers ----

// armLive sets the keepalive timer for the liveness.Client's next instant;
// a hidden tab's timers fire at most once a minute.
func (c *client) armLive() {
	slot := liveSlot(c.idx)
	if c.lc == nil || c.frozen > 0 {
		c.s.t.stop(slot)
		return
	}
	at := c.lc.Next()
	if at.IsZero() {
		c.s.t.stop(slot)
		return
	}
	d := at.Sub(Epoch)
	if c.hidden > 0 {
		d = max(d, c.lastFire+throttle)
	}
	c.s.arm(slot, d)
}

func (c *client) fireLive() {
	s := c.s
	if c.state != cOnline || c.lc == nil || c.frozen > 0 {
		return
	}
	c.lastFire = s.now
	deadline := c.sentAt + c.ack
	a := c.lc.Tick(s.wallNow())
	switch a.Op {
	case liveness.ClientLost:
		if !c.awaiting || s.now < deadline {
			s.fail("liveness.client", c, c.sess, "Tick at %s declared the link lost before the ack deadline %s", stamp(s.now), stamp(deadline))
			return
		}
		c.lost()
		return
	case liveness.ClientSendKeepalive:
		c.sentAt, c.awaiting = s.now, true
		s.stats.Keepalives++
		if s.log.all() {
			c.log("-> keepalive %d", a.Seq)
		}
		if s.tl != nil {
			s.tl.keepalive(c)
		}
		s.send(c, toServer, event{op: opKeepalive, gen: c.gen, n: a.Seq})
	default:
		if c.awaiting && s.now >= deadline {
			s.fail("link.undetected", c, c.sess, "the ack deadline %s passed with no answer but Tick at %s did not declare the link lost", stamp(deadline), stamp(s.now))
			return
		}
	}
	c.armLive()
}

// armBehaviour sets the behaviour timer: the next user action, autosave,
// retry, or request timeout.
func (c *client) armBehaviour() {
	slot := behaviourSlot(c.idx)
	if c.frozen > 0 || c.state == cOff {
		c.s.t.stop(slot)
		return
	}
	var at time.Duration = -1
	consider := func(t time.Duration) {
		if t > 0 && (at < 0 || t < at) {
			at = t
		}
	}
	if c.ctl.n != 0 {
		consider(c.ctl.deadline)
	}
	if c.dreq.n != 0 {
		consider(c.dreq.deadline)
	}
	switch c.state {
	case cWait:
		consider(max(c.retryAt, 1))
	case cOnline:
		consider(c.nextAct)
		consider(c.nextSave)
	}
	if at < 0 {
		c.s.t.stop(slot)
		return
	}
	if c.hidden > 0 {
		at = max(at, c.lastFire+throttle)
	}
	c.s.arm(slot, at)
}

func (c *client) fireBehaviour() {
	s := c.s
	if c.frozen > 0 {
		return
	}
	c.lastFire = s.now
	if c.ctl.n != 0 && s.now >= c.ctl.deadline {
		c.log("%s timed out", c.ctl.op)
		o := c.ctl.op
		c.ctl = request{}
		if c.state != cOnline {
			t := thenObtain
			if c.sid != "" && (o == opResume || o == opConnect) {
				t = thenResume
			}
			c.wait(c.nextBackoff(), t)
			return
		}
	}
	if c.dreq.n != 0 && s.now >= c.dreq.deadline {
		c.log("%s timed out", c.dreq.op)
		c.dreq = request{}
	}
	switch c.state {
	case cWait:
		if s.now >= c.retryAt {
			if c.then == thenResume && c.sid != "" && !c.spec.NoStart {
				c.request(opResume, &payload{sid: c.sid})
			} else {
				c.obtain()
			}
			return
		}
	case cOnline:
		if c.nextAct > 0 && s.now >= c.nextAct {
			if c.hidden == 0 {
				c.typing()
			}
			c.nextAct = s.now + c.exp(c.spec.Activity)
		}
		if c.nextSave > 0 && s.now >= c.nextSave {
			if c.form.rev > c.form.savedRev && c.canSave() {
				c.save(core.SaveAuto)
			}
			c.nextSave = s.now + c.spec.Autosave
		}
	}
	c.armBehaviour()
}

// exp draws an exponential gap with the given mean (at least a second).
func (c *client) exp(mean time.Duration) time.Duration {
	return max(time.Second, time.Duration(c.rng.ExpFloat64()*float64(mean)))
}

// seedBytes is a helper for per-run byte streams.
func seedBytes(seed uint64, tag string) [32]byte {
	var k [32]byte
	binary.LittleEndian.PutUint64(k[:], seed)
	copy(k[8:], tag)
	return k
}
