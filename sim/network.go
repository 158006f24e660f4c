package sim

import (
	"time"
)

// link is the virtual network between one client and the service (or, for
// Sim.global, faults that hit every client). Messages are delayed, dropped
// while the link is down, lost at random under a loss fault, and kept in
// order per direction, as on one TCP connection.
type link struct {
	down  int32         // active partitions, and flaps in their down phase
	extra time.Duration // added latency
	last  [2]time.Duration
	loss  *[]int32 // active loss actions, once there has been one
}

// losses returns the active loss actions.
func (l *link) losses() []int32 {
	if l.loss == nil {
		return nil
	}
	return *l.loss
}

// actionState is what a running timeline action needs to remember.
type actionState struct {
	flapDown bool
}

const (
	toServer = 0
	toClient = 1
)

func (s *Sim) linkDown(c *client) bool { return c.link.down > 0 || s.global.down > 0 }

func (s *Sim) lossP(c *client) float64 {
	if len(c.link.losses()) == 0 && len(s.global.losses()) == 0 {
		return 0
	}
	pass := 1.0
	for _, l := range [2][]int32{c.link.losses(), s.global.losses()} {
		for _, i := range l {
			pass *= 1 - s.sc.Timeline[i].P
		}
	}
	return 1 - pass
}

// send puts a message on c's link in direction dir.
func (s *Sim) send(c *client, dir int, e event) {
	s.stats.Messages++
	if s.linkDown(c) {
		s.dropped(c, dir, e.op, "link down")
		return
	}
	if p := s.lossP(c); p > 0 && c.nrng.Float64() < p {
		s.dropped(c, dir, e.op, "lost")
		return
	}
	lat := s.sc.LatencyMin
	if span := s.sc.LatencyMax - s.sc.LatencyMin; span > 0 {
		lat += time.Duration(c.nrng.Int64N(int64(span) + 1))
	}
	lat += c.link.extra + s.global.extra
	at := s.now + lat
	if at < c.link.last[dir] {
		at = c.link.last[dir]
	}
	c.link.last[dir] = at
	e.at, e.client = at, c.idx
	e.kind = evToServer
	if dir == toClient {
		e.kind = evToClient
	}
	s.schedule(e)
}

// delivered reports whether a message arriving now survives: a partition
// that began while it was in flight drops it.
func (s *Sim) delivered(c *client, e *event) bool {
	if s.linkDown(c) {
		dir := toServer
		if e.kind == evToClient {
			dir = toClient
		}
		s.dropped(c, dir, e.op, "link went down in flight")
		return false
	}
	return true
}

func (s *Sim) dropped(c *client, dir int, o op, why string) {
	s.stats.Dropped++
	if s.log.all() {
		arrow := "->"
		if dir == toClient {
			arrow = "<-"
		}
		s.log.add(s.now, c.idx, c.sess, "%s %s dropped (%s)", arrow, o, why)
	}
}

// targets returns the clients an action names.
func (s *Sim) targets(who string) []*client {
	if who == "all" {
		return s.clients
	}
	if c := s.byName[who]; c != nil {
		return []*client{c}
	}
	return nil
}

// startAction carries out timeline action i.
func (s *Sim) startAction(i int) {
	a := &s.sc.Timeline[i]
	if s.tl != nil {
		s.tl.action(s, a)
	}
	who := a.Who
	if who == "" {
		who = "service"
	}
	s.log.add(s.now, s.whoIdx(a.Who), -1, "%s", a.String())
	switch a.Kind {
	case "partition", "loss", "flap", "delay":
		s.faultStart(a.Who)
		l := &s.global
		if a.Who != "all" {
			l = &s.byName[a.Who].link
		}
		switch a.Kind {
		case "partition":
			l.down++
		case "loss":
			if l.loss == nil {
				l.loss = new([]int32)
			}
			*l.loss = append(*l.loss, int32(i))
		case "flap":
			l.down++
			s.acts[i].flapDown = true
			s.schedule(event{at: s.now + s.flapHalf(a), kind: evFlap, arg: int32(i)})
		case "delay":
			l.extra += a.Value
		}
		s.schedule(event{at: s.now + a.For, kind: evActionEnd, arg: int32(i)})
	case "freeze", "hide":
		if a.Kind == "freeze" {
			s.faultStart(a.Who)
		}
		for _, c := range s.targets(a.Who) {
			c.suspendPage(a.Kind == "freeze")
		}
		s.schedule(event{at: s.now + a.For, kind: evActionEnd, arg: int32(i)})
	case "restart":
		down := a.Value
		if down == 0 {
			down = 10 * time.Second
		}
		if !s.srv.isUp {
			s.log.global(s.now, "the service is already down")
			return
		}
		s.srv.stop(a.Crash, s.now+down)
		s.schedule(event{at: s.now + down, kind: evServerUp})
	case "revoke":
		s.srv.revoke(a.Who)
	default:
		for _, c := range s.targets(a.Who) {
			c.act(a.Kind)
		}
	}
}

func (s *Sim) whoIdx(who string) int32 {
	if c := s.byName[who]; c != nil {
		return c.idx
	}
	return -1
}

func (s *Sim) flapHalf(a *Action) time.Duration {
	if a.Value > 0 {
		return a.Value / 2
	}
	return 5 * time.Second
}

// flap toggles a flapping link until its action ends.
func (s *Sim) flap(i int) {
	a := &s.sc.Timeline[i]
	if s.now >= a.At+a.For {
		return
	}
	l := &s.global
	if a.Who != "all" {
		l = &s.byName[a.Who].link
	}
	st := &s.acts[i]
	if st.flapDown {
		l.down--
	} else {
		l.down++
	}
	st.flapDown = !st.flapDown
	if s.log.all() {
		s.log.add(s.now, s.whoIdx(a.Who), -1, "flap: link %s", map[bool]string{true: "down", false: "up"}[st.flapDown])
	}
	s.schedule(event{at: s.now + s.flapHalf(a), kind: evFlap, arg: int32(i)})
}

func (s *Sim) endAction(i int) {
	a := &s.sc.Timeline[i]
	s.log.add(s.now, s.whoIdx(a.Who), -1, "end of %s %s", a.Kind, a.Who)
	l := &s.global
	if a.Who != "all" && a.Kind != "freeze" && a.Kind != "hide" {
		l = &s.byName[a.Who].link
	}
	switch a.Kind {
	case "partition":
		l.down--
	case "loss":
		for j, k := range l.losses() {
			if k == int32(i) {
				*l.loss = append((*l.loss)[:j], (*l.loss)[j+1:]...)
				break
			}
		}
	case "flap":
		if s.acts[i].flapDown {
			l.down--
			s.acts[i].flapDown = false
		}
	case "delay":
		l.extra -= a.Value
	case "freeze", "hide":
		for _, c := range s.targets(a.Who) {
			c.resumePage(a.Kind == "freeze")
		}
	}
	if a.Kind != "hide" {
		s.faultEnd(a.Who)
	}
}

// faultStart and faultEnd track, per client, whether a fault is active and
// since when none has been: the "live client is never dropped" oracle only
// speaks for clients that have been healthy for a while.
func (s *Sim) faultStart(who string) {
	for _, c := range s.targets(who) {
		c.faults++
	}
}

func (s *Sim) faultEnd(who string) {
	for _, c := range s.targets(who) {
		c.faults--
		if c.faults == 0 {
			c.cleanAt = s.now
		}
	}
}

// healthy reports whether c has had no fault (network, freeze, restart) for
// long enough that nothing that happened during one can still drop it.
func (s *Sim) healthy(c *client) bool {
	return c.faults == 0 && s.now-c.cleanAt >= s.settle
}
