package sim

import (
	"slices"
	"time"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/core/liveness"
)

// node is the name the simulated service writes on attached sessions.
const node = "node-1"

// sconn is one connection as the service holds it. It is the core.Conn the
// Manager closes when the session ends.
type sconn struct {
	srv       *server
	id        liveness.ConnID
	client    int32
	gen       uint32
	sess      int32 // model index of its session
	open      bool
	lastHeard time.Duration
}

// CloseSession is called by the Manager, from inside one of its calls; the
// service acts on it once the call returns.
func (c *sconn) CloseSession(r core.Reason) {
	c.srv.closing = append(c.srv.closing, closeReq{c, r})
}

type closeReq struct {
	c *sconn
	r core.Reason
}

func connID(client int32, gen uint32) liveness.ConnID {
	return liveness.ConnID(uint64(client)<<32 | uint64(gen))
}

// server is the simulated service node: the real core.Manager over the
// run's store, and the real liveness.Service over its connections. It
// answers keepalives with Manager.KeepAlive, probes silent connections,
// detaches lost ones, and sweeps the Manager every Scenario.Sweep.
type server struct {
	s    *Sim
	isUp bool
	// stopping is set while a graceful stop closes the Manager.
	stopping bool
	upAt     time.Duration // when it last started
	nextUp   time.Duration // while down: when it starts again
	m        *core.Manager
	sub      *core.Subscription
	svc      serviceMachine
	conns    map[liveness.ConnID]*sconn
	// hearings records, in order, when each connection was heard, for the
	// dead-link oracle; entries overtaken by a later hearing are skipped.
	hearings fifo

	closing []closeReq
	acts    []liveness.ServiceAction
	margin  time.Duration
	// lastClosed is, per client, its last connection the service let go.
	lastClosed []closedConn
}

type closedConn struct {
	gen uint32
	at  time.Duration
}

func (v *server) init(s *Sim) error {
	v.s = s
	v.conns = make(map[liveness.ConnID]*sconn)
	v.lastClosed = make([]closedConn, len(s.clients))
	svc, err := liveness.NewService(s.serviceConfig())
	if err != nil {
		return err
	}
	v.margin = svc.Config().Margin
	return nil
}

func (v *server) start() {
	if err := v.boot(); err != nil {
		v.s.fail("engine.error", nil, -1, "starting the service: %v", err)
	}
}

// boot starts a Manager and a liveness.Service, as a process start does.
func (v *server) boot() error {
	s := v.s
	m, err := core.New(core.Config{Store: s.store, Policy: s.sc.Policy, Clock: vclock{s}, IDs: s.ids, Node: node})
	if err != nil {
		return err
	}
	svc, err := liveness.NewService(s.serviceConfig())
	if err != nil {
		return err
	}
	v.m, v.svc = m, s.muts.wrapService(svc)
	v.sub = m.Subscribe(1 << 14)
	v.isUp, v.upAt = true, s.now
	if _, err := m.Recover(s.ctx); err != nil {
		return err
	}
	s.mdl.expectRecover()
	v.done()
	v.sweep()
	return nil
}

// upBound is the earliest the service can carry out a deadline: now when
// it is up, when it comes back when it is down.
func (v *server) upBound() time.Duration {
	if v.isUp {
		return v.upAt
	}
	return v.nextUp
}

// stop stops the service: every connection drops (clients see a close, or a
// reset after a crash); a graceful stop flushes the Manager first; a crash
// loses what the store would lose.
func (v *server) stop(crash bool, nextUp time.Duration) {
	s := v.s
	if !v.isUp {
		return
	}
	s.stats.Restarts++
	ids := make([]liveness.ConnID, 0, len(v.conns))
	for id, c := range v.conns {
		if c.open {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	why := core.ReasonServiceRestart
	if crash {
		why = "reset"
	}
	for _, id := range ids {
		c := v.conns[id]
		c.open = false
		v.lastClosed[c.client] = closedConn{c.gen, s.now}
		s.send(s.clients[c.client], toClient, event{op: opClose, gen: c.gen, p: &payload{reason: why}})
	}
	if !crash {
		v.stopping = true
		if err := v.m.Close(s.ctx); err != nil {
			s.fail("engine.error", nil, -1, "graceful stop: %v", err)
		}
		v.stopping = false
		v.drain()
	} else if cr, ok := s.store.(Crasher); ok {
		cr.Crash()
	}
	v.sub.Close()
	v.m, v.svc, v.sub = nil, nil, nil
	v.conns = make(map[liveness.ConnID]*sconn)
	for _, c := range s.clients {
		c.conn = nil
	}
	v.hearings.reset()
	v.closing = v.closing[:0]
	v.isUp, v.nextUp = false, nextUp
	s.t.stop(slotService)
	s.t.stop(slotSweep)
	s.mdl.restart()
	s.faultStart("all")
	if s.tl != nil {
		s.tl.restart(s, crash)
	}
}

// up starts the service again over the same store.
func (v *server) up() {
	s := v.s
	if v.isUp || s.now != v.nextUp {
		return
	}
	if r, ok := s.base.(Reopener); ok {
		st, err := r.Reopen()
		if err != nil {
			s.fail("engine.error", nil, -1, "reopening the store: %v", err)
			return
		}
		s.useStore(st)
	}
	s.log.global(s.now, "service starts: new Manager, Recover")
	if err := v.boot(); err != nil {
		s.fail("engine.error", nil, -1, "restarting the service: %v", err)
		return
	}
	s.faultEnd("all")
	s.mdl.checkDrafts("after the restart")
}

// done finishes a Manager call: check the events it emitted, close the
// connections it asked to close, and check the ends it had to cause.
func (v *server) done() {
	v.drain()
	if len(v.closing) > 0 {
		v.processClosing()
	}
	if len(v.s.mdl.expect) > 0 || len(v.s.mdl.endedNow) > 0 {
		v.s.mdl.settle()
	}
}

func (v *server) drain() {
	if v.sub == nil {
		return
	}
	for {
		select {
		case e := <-v.sub.C:
			v.s.mdl.event(e)
		default:
			if n := v.sub.Dropped(); n > 0 {
				v.s.fail("engine.error", nil, -1, "the subscription dropped %d events", n)
			}
			return
		}
	}
}

func (v *server) processClosing() {
	s := v.s
	list := v.closing
	v.closing = nil
	for _, r := range list {
		c := r.c
		if !c.open {
			continue
		}
		v.forget(c)
		s.log.add(s.now, c.client, c.sess, "service closes the connection: %s", r.r)
		s.send(s.clients[c.client], toClient, event{op: opClose, gen: c.gen, p: &payload{reason: r.r, ended: true}})
	}
	v.closing = list[:0]
}

// drop stops tracking c on the service's side.
func (v *server) drop(c *sconn) {
	v.lastClosed[c.client] = closedConn{c.gen, v.s.now}
	c.open = false
	delete(v.conns, c.id)
	if cl := &v.s.cl[c.client]; cl.conn == c {
		cl.conn = nil
	}
	v.svc.Remove(c.id)
}

// forget closes c on the service's side without telling the Manager (it
// has already let the connection go).
func (v *server) forget(c *sconn) {
	v.drop(c)
	v.s.mdl.sess[c.sess].conns--
}

// detach closes c and tells the Manager, which applies OnDisconnect when it
// was the session's last connection (rule P7).
func (v *server) detach(c *sconn, why core.Reason) {
	s := v.s
	v.drop(c)
	s.mdl.detached(c.sess, why)
	err := v.m.Detach(s.ctx, c, why)
	v.done()
	if err != nil {
		v.unexpected(c.client, c.sess, "Detach", err)
	}
}

// conn returns the open connection e came on and its session, or nil. The
// client's copy of its current connection answers first, so that the hot
// path reads no connection.
func (v *server) conn(e *event) (*sconn, int32) {
	if cl := &v.s.cl[e.client]; cl.conn != nil && cl.connGen == e.gen {
		return cl.conn, cl.connSess
	}
	c := v.conns[connID(e.client, e.gen)]
	if c == nil || !c.open {
		return nil, -1
	}
	return c, c.sess
}

// heard records a message e on c. It only writes to c (its ID comes from
// e), and a write to a line not in cache does not hold up the processor
// the way a read does.
func (v *server) heard(c *sconn, e *event) {
	c.lastHeard = v.s.now
	v.hearings.push(c, v.s.now)
	v.svc.Heard(connID(e.client, e.gen), v.s.wallNow())
}

func (v *server) reply(c *client, e *event, p *payload) {
	p.replyTo = e.op
	v.s.send(c, toClient, event{op: opReply, n: e.n, gen: e.gen, p: p})
}

// reset answers a message on a connection the service does not have, as a
// TCP reset would.
func (v *server) reset(c *client, e *event) {
	v.s.send(c, toClient, event{op: opClose, gen: e.gen, p: &payload{reason: "reset"}})
}

// revoke ends every session of a user (an administrator's action).
func (v *server) revoke(user string) {
	s := v.s
	if !v.isUp {
		return
	}
	s.stats.ManagerCalls++
	_, err := v.m.Revoke(s.ctx, user)
	s.mdl.expectAll(user, core.ReasonRevoked)
	v.done()
	if err != nil {
		v.unexpected(-1, -1, "Revoke", err)
	}
}

// ---- timers ----

// svcCoalesce is how long after the liveness.Service's Next its timer is
// armed: one wakeup then handles every connection due in that window, as
// the Service's documentation allows, at the price of reporting a lost
// connection up to that much late.
const svcCoalesce = 100 * time.Millisecond

func (v *server) armService() {
	if next, ok := v.svc.Next(); ok {
		v.s.arm(slotService, next.Sub(Epoch)+svcCoalesce)
		return
	}
	v.s.t.stop(slotService)
}

// advance runs the liveness.Service when its timer fires: probe silent
// connections, detach lost ones.
func (v *server) advance() {
	s := v.s
	if !v.isUp {
		return
	}
	v.acts = v.svc.Advance(s.wallNow(), v.acts[:0])
	k := s.p.KeepAlive
	for _, a := range v.acts {
		sc := v.conns[a.ID]
		if sc == nil {
			s.fail("engine.error", nil, -1, "the liveness service reported %v for an unknown connection", a.Op)
			continue
		}
		c := s.clients[sc.client]
		silence := s.now - sc.lastHeard
		switch a.Op {
		case liveness.ServiceProbe:
			s.stats.Probes++
			if silence < k.Interval+v.margin {
				s.fail("link.early", c, sc.sess, "probed after %s of silence, under interval+margin %s", silence, k.Interval+v.margin)
			}
			if s.log.all() {
				s.log.add(s.now, c.idx, sc.sess, "service probes after %s of silence", silence)
			}
			s.send(c, toClient, event{op: opProbe, gen: sc.gen})
		case liveness.ServiceLost:
			s.stats.ServiceLost++
			if silence < k.LivenessTimeout {
				s.fail("link.early", c, sc.sess, "declared lost after %s of silence, under the liveness timeout %s", silence, k.LivenessTimeout)
			}
			if s.healthy(c) && c.state == cOnline && c.gen == sc.gen && c.frozen == 0 {
				s.fail("live.dropped", c, sc.sess, "the service dropped a live client with no fault for %s", formatDuration(s.now-c.cleanAt))
			}
			s.log.add(s.now, c.idx, sc.sess, "service: connection lost after %s of silence", silence)
			if s.tl != nil {
				s.tl.mark(s, c, "lost", "service")
			}
			s.send(c, toClient, event{op: opClose, gen: sc.gen, p: &payload{reason: core.ReasonConnectionLost}})
			v.detach(sc, core.ReasonConnectionLost)
		}
		if s.stopped {
			return
		}
	}
	v.armService()
}

// sweep runs Manager.Sweep on the sweep grid.
func (v *server) sweep() {
	s := v.s
	if !v.isUp {
		return
	}
	if !s.muts.noSweep {
		s.stats.Sweeps++
		res, err := v.m.Sweep(s.ctx, s.wallNow())
		s.stats.Checkpoints += uint64(res.Checkpoints)
		v.done()
		if err != nil {
			v.unexpected(-1, -1, "Sweep", err)
		}
	}
	v.checkSilent()
	g := s.sc.Sweep
	s.arm(slotSweep, (s.now/g+1)*g)
}

// checkSilent is the dead-link oracle, run at every sweep tick: a
// connection silent for the liveness timeout must have been let go. The
// oldest hearing still current belongs to the most silent open connection.
// A silence is reported once: its hearing then leaves the queue, so that a
// run that goes on after a failure (KeepGoing) does not pile up hearings
// behind it.
func (v *server) checkSilent() {
	s := v.s
	for v.hearings.len() > 0 {
		h := v.hearings.front()
		c := h.c
		if !c.open || c.lastHeard != h.at {
			v.hearings.pop() // closed, or heard again since
			continue
		}
		if limit := c.lastHeard + s.p.KeepAlive.LivenessTimeout + svcCoalesce; s.now > limit {
			s.fail("link.undetected", s.clients[c.client], c.sess, "the connection has been silent since %s, over the liveness timeout %s, and is still open",
				stamp(c.lastHeard), s.p.KeepAlive.LivenessTimeout)
			v.hearings.pop()
		}
		return
	}
}

// fifo is a queue of hearings, oldest first.
type fifo struct {
	buf  []hearing
	head int
}

type hearing struct {
	c  *sconn
	at time.Duration
}

func (f *fifo) len() int        { return len(f.buf) - f.head }
func (f *fifo) front() *hearing { return &f.buf[f.head] }
func (f *fifo) push(c *sconn, at time.Duration) {
	if f.head > 0 && f.head >= len(f.buf)/2 {
		n := copy(f.buf, f.buf[f.head:])
		clear(f.buf[n:])
		f.buf, f.head = f.buf[:n], 0
	}
	f.buf = append(f.buf, hearing{c, at})
}

func (f *fifo) pop() {
	f.buf[f.head] = hearing{}
	f.head++
}

func (f *fifo) reset() {
	clear(f.buf)
	f.buf, f.head = f.buf[:0], 0
}
