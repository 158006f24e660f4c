package liveness

import (
	"strconv"
	"time"
)

// ConnID identifies a connection to a Service. The caller assigns it (a
// counter is enough); it must be unique among the connections tracked.
type ConnID uint64

// ServiceOp is what a Service asks its caller to do with one connection.
type ServiceOp uint8

const (
	// ServiceProbe: send the connection a probe. The client answers it from
	// its message handler; pass the answer (like any message) to Heard.
	ServiceProbe ServiceOp = iota + 1
	// ServiceLost: the connection has been silent for LivenessTimeout and
	// is lost (rules P6, P7). Close it; the Service has already forgotten
	// it.
	ServiceLost
)

func (op ServiceOp) String() string {
	switch op {
	case ServiceProbe:
		return "probe"
	case ServiceLost:
		return "lost"
	}
	return "ServiceOp(" + strconv.Itoa(int(op)) + ")"
}

// ServiceAction is one thing a Service wants done to one connection.
type ServiceAction struct {
	ID ConnID
	Op ServiceOp
}

// svcConn is one tracked connection, linked into one of the Service's two
// lists.
type svcConn struct {
	prev, next *svcConn
	last       time.Duration // last heard, as an offset from Service.base
	id         ConnID
}

// connList is a circular doubly linked list of connections threaded
// through root, which is not a connection. The lists are intrusive, so
// moving a connection between them allocates nothing.
type connList struct{ root svcConn }

func (l *connList) init() { l.root.prev, l.root.next = &l.root, &l.root }

// front returns the first connection, or nil when l is empty.
func (l *connList) front() *svcConn {
	if c := l.root.next; c != &l.root {
		return c
	}
	return nil
}

func (l *connList) pushBack(c *svcConn) {
	tail := l.root.prev
	c.prev, c.next = tail, &l.root
	tail.next, l.root.prev = c, c
}

// unlink takes c out of whichever list holds it.
func (c *svcConn) unlink() {
	c.prev.next, c.next.prev = c.next, c.prev
	c.prev, c.next = nil, nil
}

// Service is the keepalive state machine of the service side: one value
// tracks every connection of a node (or of one interval) behind a single
// timer. It reads no clock and starts no timer or goroutine.
//
// The rules, per connection, where silence is the time since the Service
// last heard from the connection (Add counts as hearing):
//
//   - Any message from the client (keepalive, probe answer, request) is
//     passed to Heard and resets the silence and the probe.
//   - At silence >= Interval+Margin the Service asks for ONE probe. A
//     punctual client is heard every Interval plus a round trip, so the
//     margin keeps its keepalives from racing a probe. The probe is
//     answered from the client's message handler, which browsers do not
//     throttle, so a hidden tab whose timers fire once a minute stays alive
//     and a frozen one is detected.
//   - At silence >= LivenessTimeout the connection is lost and forgotten.
//     If Advance runs so late that both are due, only Lost is reported.
//
// The caller keeps ONE timer armed for Next and calls Advance when it
// fires. Each connection sits in one of two lists, each ordered by when
// its connections were last heard: those not probed since, and those
// probed and still silent. All connections in a list have the same
// silence limit, so each list's head holds its first deadline. Add, Heard
// and Remove relink one connection, O(1) and allocation-free (Add
// allocates for a new id); Next reads the two heads; Advance looks only at
// the heads and costs O(1) for each action it reports.
//
// Next is the first deadline itself, with one exception below, and it
// never moves earlier except when Add starts tracking on an empty Service:
// Heard and Remove need no rearm. A timer armed for a connection that was
// heard or removed since fires early, Advance reports nothing and the
// caller rearms for the new head. With punctual clients the head is always
// the connection heard longest ago, about Margin short of its probe, so
// the timer runs about once per Margin however many connections there
// are. A caller may coalesce wakeups by arming its timer a little after
// Next (say up to 100 ms), at the price of reporting deadlines that much
// late.
//
// The exception: while a probed connection is still silent, Next is no
// later than Interval+Margin after the latest time the Service was given,
// because an answer heard from then on makes the connection due for a
// probe again Interval+Margin later, and Heard must not need a rearm. When
// LivenessTimeout exceeds twice Interval+Margin (as it does by default for
// an Interval under 10 s) that comes before the connection would be lost,
// so an unanswered probe costs a wakeup per Interval+Margin until it is
// answered or the connection is lost.
//
// Times are kept as offsets from the first instant the Service is given,
// computed with time.Time.Sub, so monotonic clock readings are honoured
// when the caller's times carry them (a wall clock step does not declare
// every connection lost). The Service's time never goes backwards: a now
// earlier than one it has already been given counts as that one.
//
// A Service is not safe for concurrent use: the WebSocket server guards it
// with one mutex, and every method is short so the lock is held briefly.
type Service struct {
	probeAfter time.Duration // Interval + Margin
	timeout    time.Duration // LivenessTimeout
	cfg        ServiceConfig

	base    time.Time
	hasBase bool
	latest  time.Duration // latest time seen, offset from base
	conns   map[ConnID]*svcConn

	// unprobed holds the connections not probed since last heard. Add and
	// Heard append at the latest time, which never goes backwards, so the
	// list is ordered by last.
	unprobed connList
	// probed holds the connections probed and not heard since, ordered by
	// last too. Advance at t moves a prefix of unprobed, the connections
	// with last+probeAfter <= t, to its tail in order. What stays in
	// unprobed was heard no earlier than those moved, and what is added
	// or heard later gets a last of t or more, past theirs; so a later
	// Advance appends connections heard no earlier than any in probed.
	probed connList
}

// NewService returns a Service for cfg, with zero fields filled by
// defaults, or a *ConfigError if cfg is invalid.
func NewService(cfg ServiceConfig) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := &Service{
		probeAfter: cfg.Interval + cfg.Margin,
		timeout:    cfg.LivenessTimeout,
		cfg:        cfg,
		conns:      make(map[ConnID]*svcConn),
	}
	s.unprobed.init()
	s.probed.init()
	return s, nil
}

// Config returns the configuration in effect, defaults filled in.
func (s *Service) Config() ServiceConfig { return s.cfg }

// Len returns the number of connections tracked.
func (s *Service) Len() int { return len(s.conns) }

// offset converts now to the Service's internal time, which never goes
// backwards: a time earlier than one already seen counts as that one. Two
// goroutines may read the clock in one order and take the caller's mutex in
// the other; what the Service has done at t, it has done before anything it
// hears afterwards.
func (s *Service) offset(now time.Time) time.Duration {
	if !s.hasBase {
		s.base, s.hasBase = now, true
	}
	t := now.Sub(s.base)
	if t < s.latest {
		return s.latest
	}
	s.latest = t
	return t
}

// Add starts tracking connection id as heard at now. Adding an id that is
// already tracked restarts it, as Remove followed by Add would. O(1); it
// allocates for a new id. Rearm the timer after Add if nothing was tracked
// before; otherwise Next is already no later than the new deadline.
func (s *Service) Add(id ConnID, now time.Time) {
	t := s.offset(now)
	c, ok := s.conns[id]
	if ok {
		c.unlink()
	} else {
		c = &svcConn{id: id}
		s.conns[id] = c
	}
	c.last = t
	s.unprobed.pushBack(c)
}

// Remove stops tracking connection id (closed by either side) so nothing is
// reported for it. It returns false if id was not tracked: already removed,
// or reported lost. O(1).
func (s *Service) Remove(id ConnID) bool {
	c, ok := s.conns[id]
	if !ok {
		return false
	}
	s.drop(c)
	return true
}

// Heard records a message from connection id at now: it resets the
// connection's silence and re-enables its probe. It returns false if id is
// not tracked (never added, removed, or already reported lost); the caller
// should then close the connection if it is still open. O(1) and
// allocation-free. Heard never makes Next earlier, so it never requires
// rearming the timer.
func (s *Service) Heard(id ConnID, now time.Time) bool {
	c, ok := s.conns[id]
	if !ok {
		return false
	}
	c.unlink()
	c.last = s.offset(now)
	s.unprobed.pushBack(c)
	return true
}

// Next returns the instant the first deadline falls due, and false when no
// connection is tracked. It never moves earlier except when Add starts
// tracking on an empty Service; see Service for when an Advance at Next
// finds nothing to do.
func (s *Service) Next() (time.Time, bool) {
	if len(s.conns) == 0 {
		return time.Time{}, false
	}
	var due time.Duration
	u, p := s.unprobed.front(), s.probed.front()
	switch {
	case p == nil:
		due = u.last + s.probeAfter
	default:
		// A probed connection heard from now on is due for its next probe
		// no earlier than latest+probeAfter; Next must not be later than
		// that, as Heard does not ask for a rearm.
		due = min(p.last+s.timeout, s.latest+s.probeAfter)
		if u != nil {
			due = min(due, u.last+s.probeAfter)
		}
	}
	return s.base.Add(due), true
}

// Advance appends to buf the actions due at now (in no specified order)
// and returns the extended slice; pass buf[:0] of a kept slice to avoid
// allocating. Each silence yields at most one ServiceProbe, and a
// connection reported ServiceLost is forgotten. Rearm the timer for Next
// afterwards. Advance costs O(1) per action plus a look at each list's
// head.
func (s *Service) Advance(now time.Time, buf []ServiceAction) []ServiceAction {
	if len(s.conns) == 0 {
		return buf
	}
	t := s.offset(now)
	for c := s.probed.front(); c != nil && c.last+s.timeout <= t; c = s.probed.front() {
		s.drop(c)
		buf = append(buf, ServiceAction{ID: c.id, Op: ServiceLost})
	}
	for c := s.unprobed.front(); c != nil && c.last+s.probeAfter <= t; c = s.unprobed.front() {
		if c.last+s.timeout <= t {
			s.drop(c)
			buf = append(buf, ServiceAction{ID: c.id, Op: ServiceLost})
			continue
		}
		c.unlink()
		s.probed.pushBack(c)
		buf = append(buf, ServiceAction{ID: c.id, Op: ServiceProbe})
	}
	return buf
}

// drop forgets c.
func (s *Service) drop(c *svcConn) {
	delete(s.conns, c.id)
	c.unlink()
}
