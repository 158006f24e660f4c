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

// svcConn is one tracked connection. due is its key in the heap: the
// instant Advance must look at it again. Heard moves last forward without
// touching the heap, so due may be earlier than the connection's real next
// event, never later; Advance re-checks and pushes it back.
type svcConn struct {
	id     ConnID
	last   time.Duration // last heard, as an offset from Service.base
	due    time.Duration // heap key, offset from Service.base
	idx    int           // position in Service.heap
	probed bool          // a probe was sent since last
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
// fires. Deadlines are kept lazily: Heard, called on every keepalive, only
// records the time (O(1), no allocation; the first message after a probe
// also moves the connection up the heap, O(log n)), so Next can be earlier
// than anything actually due. Advance then re-files those connections at
// their real deadline and returns nothing, and the caller rearms. Next is
// never later than a real deadline. With punctual clients this costs about
// one wakeup per connection per interval; a caller may coalesce wakeups by
// arming its timer a little after Next (say up to 100 ms), at the price of
// reporting deadlines that much late.
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
	heap    []*svcConn // min-heap on due
}

// NewService returns a Service for cfg, with zero fields filled by
// defaults, or a *ConfigError if cfg is invalid.
func NewService(cfg ServiceConfig) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &Service{
		probeAfter: cfg.Interval + cfg.Margin,
		timeout:    cfg.LivenessTimeout,
		cfg:        cfg,
		conns:      make(map[ConnID]*svcConn),
	}, nil
}

// Config returns the configuration in effect, defaults filled in.
func (s *Service) Config() ServiceConfig { return s.cfg }

// Len returns the number of connections tracked.
func (s *Service) Len() int { return len(s.heap) }

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
// already tracked restarts it, as Remove followed by Add would. O(log n);
// it allocates for a new id.
func (s *Service) Add(id ConnID, now time.Time) {
	t := s.offset(now)
	if c, ok := s.conns[id]; ok {
		c.last, c.probed = t, false
		c.due = t + s.probeAfter
		s.fix(c.idx)
		return
	}
	c := &svcConn{id: id, last: t, due: t + s.probeAfter, idx: len(s.heap)}
	s.conns[id] = c
	s.heap = append(s.heap, c)
	s.up(c.idx)
}

// Remove stops tracking connection id (closed by either side) so nothing is
// reported for it. It returns false if id was not tracked: already removed,
// or reported lost. O(log n).
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
// allocation-free. Heard only ever moves deadlines later, so it never
// requires rearming the timer.
func (s *Service) Heard(id ConnID, now time.Time) bool {
	c, ok := s.conns[id]
	if !ok {
		return false
	}
	c.last = s.offset(now)
	c.probed = false
	return true
}

// Next returns the earliest instant at which Advance may have something to
// report, and false when no connection is tracked. It may be earlier than
// any real deadline (see Service), never later.
func (s *Service) Next() (time.Time, bool) {
	if len(s.heap) == 0 {
		return time.Time{}, false
	}
	return s.base.Add(s.heap[0].due), true
}

// Advance appends to buf the actions due at now (in no specified order)
// and returns the extended slice; pass buf[:0] of a kept slice to avoid
// allocating. Each silence yields at most one ServiceProbe, and a
// connection reported ServiceLost is forgotten. Rearm the timer for Next
// afterwards. Each connection looked at costs O(log n).
func (s *Service) Advance(now time.Time, buf []ServiceAction) []ServiceAction {
	if len(s.heap) == 0 {
		return buf
	}
	t := s.offset(now)
	for len(s.heap) > 0 {
		c := s.heap[0]
		if c.due > t {
			break
		}
		lostAt := c.last + s.timeout
		switch {
		case lostAt <= t:
			s.drop(c)
			buf = append(buf, ServiceAction{ID: c.id, Op: ServiceLost})
			continue
		case c.probed:
			// Still silent after the probe. While probed the key is the
			// earlier of the lost deadline and the probe deadline an
			// answer heard at t or later would set, so Heard never has
			// to move the connection up the heap.
			c.due = min(lostAt, t+s.probeAfter)
		case c.last+s.probeAfter <= t:
			c.probed = true
			c.due = min(lostAt, t+s.probeAfter)
			buf = append(buf, ServiceAction{ID: c.id, Op: ServiceProbe})
		default:
			c.due = c.last + s.probeAfter // heard since it was filed
		}
		s.down(0)
	}
	return buf
}

// drop removes c from the map and the heap.
func (s *Service) drop(c *svcConn) {
	delete(s.conns, c.id)
	i, last := c.idx, len(s.heap)-1
	if i != last {
		s.swap(i, last)
	}
	s.heap[last] = nil
	s.heap = s.heap[:last]
	if i != last {
		s.fix(i)
	}
}

// The heap is hand-rolled rather than container/heap so that sifting does
// not go through interface calls on the Advance path.

func (s *Service) less(i, j int) bool { return s.heap[i].due < s.heap[j].due }

func (s *Service) swap(i, j int) {
	h := s.heap
	h[i], h[j] = h[j], h[i]
	h[i].idx = i
	h[j].idx = j
}

func (s *Service) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !s.less(i, p) {
			return
		}
		s.swap(i, p)
		i = p
	}
}

// down sifts i towards the leaves and reports whether it moved.
func (s *Service) down(i int) bool {
	i0, n := i, len(s.heap)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && s.less(r, l) {
			m = r
		}
		if !s.less(m, i) {
			break
		}
		s.swap(i, m)
		i = m
	}
	return i != i0
}

// fix restores the heap after the key at i changed either way.
func (s *Service) fix(i int) {
	if !s.down(i) {
		s.up(i)
	}
}
