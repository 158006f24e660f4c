package sim

import (
	"errors"

	"github.com/sessionkit/sessionkit/core"
)

// receive handles a message arriving at the service: keepalives, probe
// answers and closes on a connection, session requests, and requests over
// a connection. A stopped service refuses requests and drops the rest.
func (v *server) receive(e *event) {
	s := v.s
	c := &s.cl[e.client]
	if !s.delivered(c, e) {
		return
	}
	if !v.isUp {
		switch e.op {
		case opCreate, opLogin, opGetOrCreate, opResume, opConnect:
			v.reply(c, e, &payload{err: errRefused})
		}
		return
	}
	switch e.op {
	case opKeepalive:
		v.keepalive(c, e)
	case opProbeReply:
		if sc, _ := v.conn(e); sc != nil {
			v.heard(sc, e)
		} else {
			v.reset(c, e)
		}
	case opBye:
		if sc, _ := v.conn(e); sc != nil {
			s.log.add(s.now, c.idx, sc.sess, "service sees the connection close")
			v.detach(sc, core.ReasonConnectionLost)
		}
	case opCreate, opLogin, opGetOrCreate, opResume:
		v.sessionRequest(c, e)
	case opConnect:
		v.connect(c, e)
	default:
		sc, _ := v.conn(e)
		if sc == nil {
			v.reset(c, e)
			return
		}
		v.heard(sc, e)
		v.connRequest(c, sc, e)
	}
}

func (v *server) keepalive(c *client, e *event) {
	s := v.s
	sc, sess := v.conn(e)
	if sc == nil {
		v.reset(c, e)
		return
	}
	v.heard(sc, e)
	x := &s.mdl.sess[sess]
	s.stats.ManagerCalls++
	st, err := v.m.KeepAlive(s.ctx, x.id)
	if err == nil {
		s.mdl.keepalive(sess, st)
		if !s.muts.dropAcks {
			if s.log.all() {
				s.log.add(s.now, c.idx, sess, "service answers keepalive %d", e.n)
			}
			s.send(c, toClient, event{op: opAck, gen: e.gen, n: e.n})
		}
	}
	v.done()
	if err != nil {
		v.refused(c, sc, "KeepAlive", err)
	}
}

// refused handles a Manager error on a connection's session: an ended
// session's connection is closed with its reason.
func (v *server) refused(c *client, sc *sconn, what string, err error) {
	kind, why := v.classify(err)
	switch kind {
	case errEnded, errNotFound:
		if sc != nil && sc.open {
			if why == "" {
				why = core.ReasonConnectionLost
			}
			v.forget(sc)
			v.s.send(c, toClient, event{op: opClose, gen: sc.gen, p: &payload{reason: why, ended: true}})
		}
	case errOther:
		v.unexpected(c.idx, -1, what, err)
	}
}

// classify maps a Manager error to a reply.
func (v *server) classify(err error) (string, core.Reason) {
	switch {
	case err == nil:
		return "", ""
	case errors.Is(err, core.ErrEnded):
		r, _ := core.EndReason(err)
		return errEnded, r
	case errors.Is(err, core.ErrNotFound):
		return errNotFound, ""
	case errors.Is(err, core.ErrConflict):
		return errConflict, ""
	case errors.Is(err, core.ErrWrongState):
		return errState, ""
	}
	return errOther, ""
}

func (v *server) unexpected(ci, sess int32, what string, err error) {
	var c *client
	if ci >= 0 {
		c = v.s.clients[ci]
	}
	v.s.fail("engine.error", c, sess, "%s: unexpected error: %v", what, err)
}

// sessionRequest handles the requests that find or make a session.
func (v *server) sessionRequest(c *client, e *event) {
	s := v.s
	p := e.p
	s.stats.ManagerCalls++
	out := &payload{}
	var err error
	switch e.op {
	case opCreate:
		var st core.Session
		st, err = v.m.Create(s.ctx, core.CreateOptions{Subject: p.user, Reference: p.ref, Channel: p.channel})
		if err == nil {
			idx := s.mdl.create(st.ID, c.idx, p.user, p.ref)
			s.log.add(s.now, c.idx, idx, "service creates %s (id %.6s…, subject %q, ref %q)", s.mdl.sess[idx].label, st.ID, p.user, p.ref)
			s.mdl.expectSupersede(idx)
			v.done()
			out.sid = st.ID
			if p.user != "" {
				// Logging in is a request: it starts the session.
				_, err = v.m.Activity(s.ctx, st.ID)
				if err == nil && s.mdl.accepted(idx, "the first request") {
					s.mdl.touch(idx)
				}
			}
		}
	case opLogin:
		idx := s.mdl.lookup(p.sid)
		var st core.Session
		st, err = v.m.Login(s.ctx, p.sid, p.user)
		if err == nil && idx >= 0 {
			if s.mdl.isRetired(p.sid) {
				s.fail("ended.accepts", c, idx, "a rotated-away ID accepted a login")
			} else if s.mdl.accepted(idx, "a login") {
				s.mdl.login(idx, st.ID, p.user)
				s.log.add(s.now, c.idx, idx, "service logs %s in as %q: the id rotates to %.6s…", s.mdl.sess[idx].label, p.user, st.ID)
				s.mdl.expectSupersede(idx)
			}
			out.sid = st.ID
		}
	case opGetOrCreate:
		var st core.Session
		var created bool
		st, created, err = v.m.GetOrCreate(s.ctx, p.ref, core.CreateOptions{Subject: p.user, Channel: p.channel})
		if err == nil {
			if created {
				idx := s.mdl.create(st.ID, c.idx, p.user, p.ref)
				s.log.add(s.now, c.idx, idx, "service creates %s for reference %q", s.mdl.sess[idx].label, p.ref)
				s.mdl.expectSupersede(idx)
			}
			v.checkNewest(c, p.ref, st.ID, created)
			out.sid, out.created = st.ID, created
		}
	case opResume:
		idx := s.mdl.lookup(p.sid)
		_, err = v.m.Resume(s.ctx, p.sid)
		if err == nil && idx >= 0 {
			if s.mdl.isRetired(p.sid) {
				s.fail("ended.accepts", c, idx, "a rotated-away ID was resumed")
			} else if s.mdl.accepted(idx, "a resume") {
				s.mdl.touch(idx)
			}
		}
		out.sid = p.sid
	}
	v.done()
	out.err, out.reason = v.classify(err)
	if out.err == errOther {
		v.unexpected(c.idx, -1, e.op.String(), err)
	}
	v.reply(c, e, out)
}

// checkNewest checks rule P12: GetOrCreate returns the newest usable
// session of the reference, and creates one only when none is usable.
func (v *server) checkNewest(c *client, ref, got string, created bool) {
	m := &v.s.mdl
	gi := m.lookup(got)
	if gi < 0 {
		v.s.fail("engine.error", c, -1, "GetOrCreate(%q) returned a session the service never made", ref)
		return
	}
	for _, i := range m.byRef[ref] {
		x := &m.sess[i]
		if i == gi || m.class(x) != definitelyLive {
			continue
		}
		if created {
			v.s.fail("reference.newest", c, gi, "GetOrCreate(%q) created a session although %s is usable", ref, x.label)
			return
		}
		if x.created > m.sess[gi].created {
			v.s.fail("reference.newest", c, gi, "GetOrCreate(%q) returned %s although the newer %s is usable", ref, m.sess[gi].label, x.label)
			return
		}
	}
	if !created {
		m.accepted(gi, "being returned by GetOrCreate")
	}
}

// connect opens a connection: Attach, then track it for liveness.
func (v *server) connect(c *client, e *event) {
	s := v.s
	sid := e.p.sid
	idx := s.mdl.lookup(sid)
	sc := &sconn{srv: v, id: connID(c.idx, e.gen), client: c.idx, gen: e.gen, sess: idx}
	s.stats.ManagerCalls++
	_, err := v.m.Attach(s.ctx, sid, sc)
	if err == nil && idx >= 0 {
		if s.mdl.isRetired(sid) {
			s.fail("ended.accepts", c, idx, "a rotated-away ID accepted a connection")
		} else if s.mdl.accepted(idx, "a connection") {
			s.mdl.attached(idx)
			sc.open, sc.lastHeard = true, s.now
			v.conns[sc.id] = sc
			c.conn, c.connGen, c.connSess = sc, sc.gen, sc.sess
			v.hearings.push(sc, sc.lastHeard)
			v.svc.Add(sc.id, s.wallNow())
			v.armService()
			s.log.add(s.now, c.idx, idx, "service attaches a connection to %s", s.mdl.sess[idx].label)
		}
	}
	v.done()
	if err != nil {
		kind, why := v.classify(err)
		if kind == errOther {
			v.unexpected(c.idx, idx, "Attach", err)
		}
		v.reply(c, e, &payload{err: kind, reason: why})
		return
	}
	k := s.p.KeepAlive
	s.send(c, toClient, event{op: opHello, n: e.n, gen: e.gen, p: &payload{interval: k.Interval, ack: k.AckTimeout}})
}

// connRequest handles requests sent over an open connection.
func (v *server) connRequest(c *client, sc *sconn, e *event) {
	s := v.s
	x := &s.mdl.sess[sc.sess]
	sid := x.id
	p := e.p
	s.stats.ManagerCalls++
	var err error
	out := &payload{}
	touched := false
	switch e.op {
	case opActivity:
		_, err = v.m.Activity(s.ctx, sid)
		touched = err == nil
	case opLogout:
		err = v.m.Logout(s.ctx, sid)
		if err == nil && s.mdl.accepted(sc.sess, "a logout") {
			s.mdl.expect = append(s.mdl.expect, endExpect{sess: sc.sess, reason: core.ReasonLogout})
		}
		v.done()
		if err != nil {
			v.refused(c, sc, "Logout", err)
		}
		return
	case opSave:
		var d core.Draft
		d, err = v.m.SaveDraft(s.ctx, sid, core.DraftSave{ID: p.draftID, Version: p.version,
			Name: c.spec.Form, Data: p.data, Mode: p.mode})
		touched = v.touchedFirst(err, x)
		if err == nil {
			s.mdl.draftSaved(sc.sess, &d, c.idx)
			out.draftID, out.version = d.ID, d.Version
		}
	case opResumeDraft, opLoadDraft:
		var d core.Draft
		if e.op == opResumeDraft {
			d, err = v.m.ResumeDraft(s.ctx, sid, p.draftID)
			touched = v.touchedFirst(err, x)
		} else {
			d, err = v.m.LoadDraft(s.ctx, sid, p.draftID)
		}
		if err == nil {
			s.stats.DraftLoads++
			s.mdl.checkContent(d.ID, d.Data, e.op.String())
			if md := s.mdl.drafts[d.ID]; md != nil && e.op == opResumeDraft {
				s.mdl.moveDraft(md, sc.sess)
			}
			out.draftID, out.version, out.data = d.ID, d.Version, d.Data
		}
	case opSubmit:
		var d core.Draft
		d, err = v.m.CloseDraft(s.ctx, sid, p.draftID, p.version)
		if err == nil {
			s.mdl.draftClosed(d.ID)
			out.version = d.Version
		}
	}
	if touched && !s.mdl.sess[sc.sess].ended {
		if s.mdl.accepted(sc.sess, e.op.String()) {
			s.mdl.touch(sc.sess)
		}
	}
	v.done()
	out.err, out.reason = v.classify(err)
	switch {
	case err == nil:
	case e.op != opActivity && !errors.Is(err, core.ErrEnded) && (!errors.Is(err, core.ErrNotFound) || !s.mdl.sess[sc.sess].ended):
		// The draft was missing, stale or closed; the session is fine.
		if out.err == errOther {
			v.unexpected(c.idx, sc.sess, e.op.String(), err)
		}
	default:
		v.refused(c, sc, e.op.String(), err)
	}
	if e.op != opActivity {
		v.reply(c, e, out)
	}
}

// touchedFirst reports whether a draft call that counts as activity got as
// far as touching the session: it does so first, so only an ended or
// missing session stops it.
func (v *server) touchedFirst(err error, x *msess) bool {
	switch {
	case err == nil, errors.Is(err, core.ErrConflict), errors.Is(err, core.ErrWrongState):
		return true
	case errors.Is(err, core.ErrNotFound):
		return !x.ended // the draft is missing, not the session
	}
	return false
}
