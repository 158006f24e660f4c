package liveness_test

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/core/liveness"
)

// This file runs Client and Service machines against each other over a
// simulated network with random delays, late timers, throttled tabs,
// closed tabs and partitions, all driven by one seed, and checks that a
// live client is never declared lost (by either end) and that a silent one
// is detected within its bound.

type simKind uint8

const (
	evConnect simKind = iota
	evClientTimer
	evServiceTimer
	evToService
	evToClient
	evKick
	evFail
)

type simMsg uint8

const (
	msgKeepalive simMsg = iota
	msgAck
	msgProbe
	msgProbeReply
)

type simEvent struct {
	at     time.Time
	order  uint64 // FIFO among events at one instant
	kind   simKind
	client int
	msg    simMsg
	seq    uint64
	gen    uint64
}

type eventQueue []simEvent

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if c := q[i].at.Compare(q[j].at); c != 0 {
		return c < 0
	}
	return q[i].order < q[j].order
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(simEvent)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

type fate uint8

const (
	fateLive        fate = iota
	fateClosed           // tab closed at failAt: nothing more is sent or handled
	fatePartitioned      // from failAt nothing gets through either way; the client runs on
)

func (f fate) String() string {
	return [...]string{"live", "closed", "partitioned"}[f]
}

type simClient struct {
	id        liveness.ConnID
	c         *liveness.Client
	fate      fate
	failAt    time.Time
	failed    bool
	stopped   bool // closed tab, or client-side lost
	throttled bool // timers fire at the next whole minute, as in a hidden tab

	timerGen         uint64
	upFree, downFree time.Time // FIFO delivery per direction

	lastHeard     time.Time // last message the service heard
	clientLostAt  time.Time
	serviceLostAt time.Time
	probes, stale int
}

type sim struct {
	t        *testing.T
	rng      *rand.Rand
	q        eventQueue
	order    uint64
	now      time.Time
	svc      *liveness.Service
	svcCfg   liveness.ServiceConfig
	svcGen   uint64
	buf      []liveness.ServiceAction
	clients  []*simClient
	maxDelay time.Duration // one way
	maxLate  time.Duration // timer lateness when not throttled
}

// later returns the later of a and b.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func (s *sim) push(e simEvent) {
	s.order++
	e.order = s.order
	heap.Push(&s.q, e)
}

func (s *sim) late() time.Duration { return time.Duration(s.rng.Int64N(int64(s.maxLate))) }

func (s *sim) armClient(i int) {
	cl := s.clients[i]
	cl.timerGen++
	next := cl.c.Next()
	if next.IsZero() || cl.stopped {
		return
	}
	if cl.throttled {
		d := next.Sub(base)
		next = base.Add((d + time.Minute - 1) / time.Minute * time.Minute)
	} else {
		next = next.Add(s.late())
	}
	s.push(simEvent{at: later(next, s.now), kind: evClientTimer, client: i, gen: cl.timerGen})
}

func (s *sim) armService() {
	s.svcGen++
	if next, ok := s.svc.Next(); ok {
		s.push(simEvent{at: later(next.Add(s.late()), s.now), kind: evServiceTimer, gen: s.svcGen})
	}
}

func (s *sim) delay() time.Duration { return time.Duration(s.rng.Int64N(int64(s.maxDelay))) }

func (s *sim) sendUp(i int, m simMsg, seq uint64) {
	cl := s.clients[i]
	if cl.failed {
		return
	}
	at := later(s.now.Add(s.delay()), cl.upFree)
	cl.upFree = at
	s.push(simEvent{at: at, kind: evToService, client: i, msg: m, seq: seq})
}

func (s *sim) sendDown(i int, m simMsg, seq uint64) {
	cl := s.clients[i]
	if cl.failed {
		return
	}
	at := later(s.now.Add(s.delay()), cl.downFree)
	cl.downFree = at
	s.push(simEvent{at: at, kind: evToClient, client: i, msg: m, seq: seq})
}

// act carries out a client action the way the Go and browser clients do.
func (s *sim) act(i int, a liveness.ClientAction) {
	switch a.Op {
	case liveness.ClientSendKeepalive:
		s.sendUp(i, msgKeepalive, a.Seq)
	case liveness.ClientReplyProbe:
		s.sendUp(i, msgProbeReply, 0)
	case liveness.ClientLost:
		s.clientLost(i)
	}
}

func (s *sim) clientLost(i int) {
	cl := s.clients[i]
	if cl.clientLostAt.IsZero() {
		cl.clientLostAt = s.now
	}
	cl.stopped = true
}

func (s *sim) step(e simEvent) {
	s.now = e.at
	if e.kind == evServiceTimer {
		if e.gen != s.svcGen {
			return
		}
		s.buf = s.svc.Advance(s.now, s.buf[:0])
		for _, a := range s.buf {
			i := int(a.ID)
			switch a.Op {
			case liveness.ServiceProbe:
				s.clients[i].probes++
				s.sendDown(i, msgProbe, 0)
			case liveness.ServiceLost:
				s.clients[i].serviceLostAt = s.now
			}
		}
		s.armService()
		return
	}
	cl := s.clients[e.client]
	switch e.kind {
	case evConnect:
		s.svc.Add(cl.id, s.now)
		cl.lastHeard = s.now
		s.armService()
		cl.c.Start(s.now)
		// The service's hello announces its interval.
		if err := cl.c.SetInterval(s.svcCfg.Interval); err != nil {
			s.t.Fatal(err)
		}
		s.armClient(e.client)
	case evFail:
		cl.failed = true
		if cl.fate == fateClosed {
			cl.stopped = true
		}
	case evClientTimer:
		if e.gen != cl.timerGen || cl.stopped {
			return
		}
		s.act(e.client, cl.c.Tick(s.now))
		s.armClient(e.client)
	case evKick:
		if cl.stopped {
			return
		}
		s.act(e.client, cl.c.Kick(s.now))
		s.armClient(e.client)
	case evToService:
		if !s.svc.Heard(cl.id, s.now) {
			return // already lost: the real server has closed it
		}
		cl.lastHeard = s.now
		if e.msg == msgKeepalive {
			s.sendDown(e.client, msgAck, e.seq)
		}
	case evToClient:
		if cl.stopped {
			return
		}
		switch e.msg {
		case msgAck:
			switch cl.c.Ack(s.now, e.seq) {
			case liveness.AckStale:
				cl.stale++
			case liveness.AckLost:
				s.clientLost(e.client)
			}
			s.armClient(e.client)
		case msgProbe:
			s.act(e.client, cl.c.Probe(s.now))
		}
	}
}

func TestSimulatedClientsAndService(t *testing.T) {
	intervals := []time.Duration{sec(2), sec(20), sec(45)}
	for seed := uint64(1); seed <= 24; seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			runSim(t, seed, intervals[seed%uint64(len(intervals))])
		})
	}
}

func runSim(t *testing.T, seed uint64, interval time.Duration) {
	rng := rand.New(rand.NewPCG(seed, 0x5e55))
	svcCfg := liveness.ServiceConfig{Interval: interval}
	svc, err := liveness.NewService(svcCfg)
	if err != nil {
		t.Fatal(err)
	}
	svcCfg = svc.Config()
	ack := liveness.DefaultAckTimeout(interval)
	s := &sim{
		t: t, rng: rng, svc: svc, svcCfg: svcCfg,
		// A round trip below both the margin and the ack timeout, with
		// room for the client's timer lateness.
		maxDelay: min(svcCfg.Margin, ack) * 2 / 5,
		maxLate:  min(svcCfg.Margin, ack) / 20,
	}
	const n = 40
	// Long enough for hundreds of keepalives and for minute-throttled
	// timers, short enough to keep the race detector's run brief.
	end := at(min(2*time.Hour, max(30*time.Minute, 300*interval)))
	failBy := end.Add(-svcCfg.LivenessTimeout - 5*time.Minute)
	for i := range n {
		// Clients start with another interval and learn the service's
		// from its hello.
		c, err := liveness.NewClient(liveness.ClientConfig{Interval: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		cl := &simClient{id: liveness.ConnID(i), c: c, throttled: rng.IntN(3) == 0}
		switch r := rng.IntN(10); {
		case r < 2:
			cl.fate = fateClosed
		case r < 4:
			cl.fate = fatePartitioned
		}
		s.clients = append(s.clients, cl)
		s.push(simEvent{at: at(time.Duration(rng.Int64N(int64(interval)))), kind: evConnect, client: i})
		if cl.fate != fateLive {
			cl.failAt = at(time.Duration(rng.Int64N(int64(failBy.Sub(base)))) + interval)
			s.push(simEvent{at: cl.failAt, kind: evFail, client: i})
		}
		for k := rng.IntN(5); k > 0; k-- { // visibilitychange, online
			s.push(simEvent{at: at(time.Duration(rng.Int64N(int64(end.Sub(base))))), kind: evKick, client: i})
		}
	}
	for s.q.Len() > 0 {
		e := heap.Pop(&s.q).(simEvent)
		if e.at.After(end) {
			break
		}
		s.step(e)
	}

	lt := svcCfg.LivenessTimeout
	var fates [3]int
	probes := 0
	for _, cl := range s.clients {
		fates[cl.fate]++
		probes += cl.probes
	}
	t.Logf("interval %v: %d live, %d closed, %d partitioned clients; %d probes", interval, fates[fateLive], fates[fateClosed], fates[fatePartitioned], probes)
	for i, cl := range s.clients {
		desc := fmt.Sprintf("seed %d interval %v client %d (%v, throttled=%v, failAt=%v)",
			seed, interval, i, cl.fate, cl.throttled, cl.failAt.Sub(base))
		if cl.stale != 0 {
			t.Errorf("%s: %d stale acks on an ordered link", desc, cl.stale)
		}
		if cl.fate == fateLive {
			if !cl.clientLostAt.IsZero() {
				t.Errorf("%s: live client declared the link lost at %v", desc, cl.clientLostAt.Sub(base))
			}
			if !cl.serviceLostAt.IsZero() {
				t.Errorf("%s: service declared a live client lost at %v", desc, cl.serviceLostAt.Sub(base))
			}
			if !cl.throttled && cl.probes != 0 {
				t.Errorf("%s: punctual client probed %d times", desc, cl.probes)
			}
			continue
		}
		// Silent from failAt: the service must notice LivenessTimeout
		// after it last heard the client (plus its own timer lateness),
		// and never before the failure.
		switch {
		case cl.serviceLostAt.IsZero():
			t.Errorf("%s: service never noticed the silence", desc)
		case !cl.serviceLostAt.After(cl.failAt):
			t.Errorf("%s: service declared it lost at %v, before it failed", desc, cl.serviceLostAt.Sub(base))
		case cl.serviceLostAt.Before(cl.lastHeard.Add(lt)) || cl.serviceLostAt.After(cl.lastHeard.Add(lt+s.maxLate)):
			t.Errorf("%s: service declared it lost at %v, last heard %v, want LivenessTimeout %v later",
				desc, cl.serviceLostAt.Sub(base), cl.lastHeard.Sub(base), lt)
		case cl.serviceLostAt.After(cl.failAt.Add(s.maxDelay + lt + s.maxLate)):
			t.Errorf("%s: service declared it lost at %v, later than the bound", desc, cl.serviceLostAt.Sub(base))
		}
		if cl.fate != fatePartitioned {
			continue
		}
		// The client side of a partition: no ack within AckTimeout of the
		// next keepalive, sent at most Interval after the last ack.
		bound := cl.failAt.Add(s.maxDelay + interval + ack + 2*s.maxLate)
		if cl.throttled {
			bound = bound.Add(2 * time.Minute)
		}
		switch {
		case cl.clientLostAt.IsZero():
			t.Errorf("%s: client never noticed the partition", desc)
		case !cl.clientLostAt.After(cl.failAt):
			t.Errorf("%s: client declared the link lost at %v, before the partition", desc, cl.clientLostAt.Sub(base))
		case cl.clientLostAt.After(bound):
			t.Errorf("%s: client noticed the partition at %v, bound %v", desc, cl.clientLostAt.Sub(base), bound.Sub(base))
		}
	}
}
