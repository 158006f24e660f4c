package sim

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/core"
)

// msess is the model's view of one session, kept from what the simulator
// did to it and written independently of core from the policy rules (P1–P3,
// P7–P10, P13). The oracles compare the Manager with it.
type msess struct {
	id      string
	label   string
	client  int32 // the client that created it
	subject string
	ref     string
	state   core.State

	created, lastSeen, authAt time.Duration
	openDrafts                int

	// slack counts the restarts since lastSeen (the clock of the idle and
	// authentication timeouts) was last reset: the new Manager may then
	// allow up to CheckpointEvery more, never less.
	slack int

	conns          int // open connections on the service
	attachedAtStop bool

	ended   bool
	endedAt time.Duration
	reason  core.Reason
	purged  bool
	checkAt time.Duration // the pending lingering check, or 0
}

// endExpect is an end that the current Manager call must (or, when
// optional, may) cause with a reason other than a deadline.
type endExpect struct {
	sess     int32
	reason   core.Reason
	optional bool
	met      bool
}

type model struct {
	s       *Sim
	p       core.Policy
	sess    []msess
	byID    map[string]int32
	retired map[string]int32
	drafts  map[string]*mdraft
	dorder  []string

	expect    []endExpect
	endedNow  []int32
	created   map[int32]int      // sessions created per client
	bySubject map[string][]int32 // sessions per subject, in creation order
	byRef     map[string][]int32 // sessions per reference, in creation order
}

func (m *model) init(s *Sim) {
	m.s, m.p = s, s.p
	m.byID = make(map[string]int32)
	m.retired = make(map[string]int32)
	m.drafts = make(map[string]*mdraft)
	m.created = make(map[int32]int)
	m.bySubject = make(map[string][]int32)
	m.byRef = make(map[string][]int32)
}

// lookup returns the model index of a session ID (current or rotated
// away), or -1.
func (m *model) lookup(id string) int32 {
	if i, ok := m.byID[id]; ok {
		return i
	}
	if i, ok := m.retired[id]; ok {
		return i
	}
	return -1
}

func (m *model) isRetired(id string) bool {
	_, ok := m.retired[id]
	return ok
}

func (m *model) create(id string, creator int32, subject, ref string) int32 {
	now := m.s.now
	m.created[creator]++
	label := "?#" + strconv.Itoa(len(m.sess)+1)
	if creator >= 0 {
		label = m.s.clients[creator].name + "#" + strconv.Itoa(m.created[creator])
	}
	x := msess{id: id, label: label, client: creator, subject: subject, ref: ref,
		state: core.StateNotStarted, created: now, lastSeen: now}
	if subject != "" {
		x.authAt = now
	}
	m.sess = append(m.sess, x)
	idx := int32(len(m.sess) - 1)
	m.byID[id] = idx
	if subject != "" {
		m.bySubject[subject] = append(m.bySubject[subject], idx)
	}
	if ref != "" {
		m.byRef[ref] = append(m.byRef[ref], idx)
	}
	m.ensureCheck(idx)
	if m.s.tl != nil {
		m.s.tl.session(m.s, idx)
	}
	return idx
}

// accepted checks that x could accept an operation now: a session that
// ended, or is past its deadline, accepts nothing.
func (m *model) accepted(idx int32, what string) bool {
	x := &m.sess[idx]
	switch m.class(x) {
	case alreadyEnded:
		m.s.fail("ended.accepts", nil, idx, "a session that ended (%s at %s) accepted %s", x.reason, stamp(x.endedAt), what)
		return false
	case pastDeadline:
		_, hi := m.span(x)
		m.s.fail("ended.accepts", nil, idx, "a session past its deadline %s accepted %s", stamp(hi), what)
		return false
	}
	return true
}

// touch is activity (a request, a resume, a draft save): both clocks reset
// and the session starts or resumes.
func (m *model) touch(idx int32) {
	x := &m.sess[idx]
	now := m.s.now
	x.lastSeen = now
	x.slack = 0
	if x.state == core.StateNotStarted || x.state == core.StateSuspended {
		x.state = core.StateActive
	}
	m.ensureCheck(idx)
}

// keepalive checks an accepted keepalive and the Status that answered it,
// and resets the idle clock as rule P5 says. It is the hot path of a run,
// so it computes the deadlines once.
func (m *model) keepalive(idx int32, st core.Status) {
	x := &m.sess[idx]
	if x.ended || x.purged {
		m.accepted(idx, "a keepalive")
		return
	}
	now := m.s.now
	var buf [5]deadline
	ds := m.deadlines(x, &buf)
	hi := ds[0].hi
	for _, d := range ds[1:] {
		hi = min(hi, d.hi)
	}
	if now >= hi {
		m.accepted(idx, "a keepalive")
		return
	}
	if m.p.KeepAlive.ExtendsIdle == core.ExtendsAlways || x.openDrafts > 0 {
		x.lastSeen = now
		x.slack = 0
		ds = m.deadlines(x, &buf)
		hi = ds[0].hi
		for _, d := range ds[1:] {
			hi = min(hi, d.hi)
		}
	}
	at := st.Deadline.Sub(Epoch)
	for _, d := range ds {
		if d.reason == st.DeadlineReason && at >= d.lo && at <= d.hi && at <= hi {
			return
		}
	}
	m.s.fail("status.deadline", nil, idx, "the service announced %s at %s; the policy says %s", st.DeadlineReason, stamp(at), m.describe(x))
}

func (m *model) login(idx int32, newID, subject string) {
	x := &m.sess[idx]
	now := m.s.now
	delete(m.byID, x.id)
	m.retired[x.id] = idx
	m.byID[newID] = idx
	if x.subject != subject {
		m.bySubject[subject] = append(m.bySubject[subject], idx)
	}
	x.id, x.subject = newID, subject
	x.authAt, x.lastSeen = now, now
	x.slack = 0
	x.state = core.StateActive
	m.ensureCheck(idx)
}

func (m *model) attached(idx int32) {
	x := &m.sess[idx]
	x.conns++
	if x.state == core.StateSuspended {
		x.state = core.StateActive
	}
}

// detached records a connection gone; when it was the last, the Manager
// applies OnDisconnect (rule P7) for reason.
func (m *model) detached(idx int32, reason core.Reason) {
	x := &m.sess[idx]
	x.conns--
	if x.conns > 0 {
		return
	}
	m.expectDisconnect(idx, reason)
}

func (m *model) expectDisconnect(idx int32, reason core.Reason) {
	x := &m.sess[idx]
	switch m.class(x) {
	case definitelyLive, maybeEnded:
		if m.p.OnDisconnect == core.DisconnectEnd {
			m.expect = append(m.expect, endExpect{sess: idx, reason: reason})
		}
	}
}

// expectSupersede: a login (or a create with a subject) of keep's subject
// ends the subject's sessions beyond MaxSessionsPerSubject (rule P9). All
// its live sessions, keep among them, are ranked by last login, newest
// first, ties by ID, so keep itself may be the one beyond the limit when
// another login of the same instant has a lower ID. A session that may have
// ended by a deadline and not been swept yet may still take a place in the
// ranking: a session that is beyond the limit only when such sessions
// count may be superseded, and one beyond it without them must be.
func (m *model) expectSupersede(keep int32) {
	limit := m.p.MaxSessionsPerSubject
	subject := m.sess[keep].subject
	if limit == 0 || subject == "" {
		return
	}
	var cands []int32
	for _, i := range m.bySubject[subject] {
		if x := &m.sess[i]; x.subject == subject && m.class(x) != alreadyEnded && !slices.Contains(cands, i) {
			cands = append(cands, i)
		}
	}
	slices.SortFunc(cands, func(a, b int32) int {
		x, y := &m.sess[a], &m.sess[b]
		if x.authAt != y.authAt {
			return cmp.Compare(y.authAt, x.authAt)
		}
		return strings.Compare(x.id, y.id)
	})
	sure, all := 0, 0 // sessions ranked before: definitely live, any
	for _, i := range cands {
		live := m.class(&m.sess[i]) == definitelyLive
		switch {
		case live && sure >= limit:
			m.expect = append(m.expect, endExpect{sess: i, reason: core.ReasonSuperseded})
		case all >= limit:
			m.expect = append(m.expect, endExpect{sess: i, reason: core.ReasonSuperseded, optional: true})
		}
		if live {
			sure++
		}
		all++
	}
}

// expectAll: every live session of subject must end with reason (revoke).
func (m *model) expectAll(subject string, reason core.Reason) {
	for _, i := range m.bySubject[subject] {
		x := &m.sess[i]
		if x.subject != subject {
			continue
		}
		switch m.class(x) {
		case definitelyLive:
			m.expect = append(m.expect, endExpect{sess: i, reason: reason})
		case maybeEnded:
			m.expect = append(m.expect, endExpect{sess: i, reason: reason, optional: true})
		}
	}
}

// restart: the service stopped. Its connections are gone; every session's
// idle and authentication clocks may now be allowed CheckpointEvery more.
func (m *model) restart() {
	for i := range m.sess {
		x := &m.sess[i]
		if x.ended {
			continue
		}
		x.slack++
		x.attachedAtStop = x.conns > 0
		x.conns = 0
	}
}

// expectRecover: sessions attached when the service stopped get
// OnDisconnect with reason service_restart (rule P10).
func (m *model) expectRecover() {
	for i := range m.sess {
		x := &m.sess[i]
		if x.attachedAtStop {
			x.attachedAtStop = false
			m.expectDisconnect(int32(i), core.ReasonServiceRestart)
		}
	}
}

// ---- events ----

// event checks one event from the Manager against the model.
func (m *model) event(e core.Event) {
	s := m.s
	switch e.Type {
	case core.EventEnded:
		idx, ok := m.byID[e.Session]
		if !ok {
			s.fail("engine.error", nil, -1, "an ended event for a session the service never made: %s", e.Session)
			return
		}
		m.ended(idx, e.Reason, e.At.Sub(Epoch))
	case core.EventPurged:
		if e.Draft != "" {
			md := m.drafts[e.Draft]
			if md == nil {
				return
			}
			md.purged = true
			s.log.add(s.now, md.client, md.session, "draft %.6s… purged after its retention", md.id)
			if s.now < md.expires {
				s.fail("draft.lost", s.clients[md.client], md.session, "draft %s purged at %s, before its retention ends at %s", md.id, stamp(s.now), stamp(md.expires))
			}
			if md.open && md.session >= 0 {
				m.sess[md.session].openDrafts--
			}
			md.open = false
			return
		}
		idx := m.lookup(e.Session)
		if idx < 0 {
			return
		}
		x := &m.sess[idx]
		x.purged = true
		s.log.add(s.now, x.client, idx, "%s purged", x.label)
		if !x.ended || s.now < x.endedAt+m.p.Retention {
			s.fail("deadline.early", nil, idx, "purged at %s; the tombstone is kept until %s", stamp(s.now), stamp(x.endedAt+m.p.Retention))
		}
	case core.EventSuspended:
		idx := m.lookup(e.Session)
		if idx < 0 {
			return
		}
		if m.p.OnDisconnect != core.DisconnectSuspend {
			s.fail("end.unexplained", nil, idx, "suspended under OnDisconnect=%s", m.p.OnDisconnect)
		}
		m.sess[idx].state = core.StateSuspended
		s.log.add(s.now, m.sess[idx].client, idx, "%s suspended", m.sess[idx].label)
	case core.EventResumed, core.EventStarted:
		if idx := m.lookup(e.Session); idx >= 0 {
			m.sess[idx].state = core.StateActive
		}
	}
}

// ended checks an end against the model: a deadline end must fall inside
// the deadline's window and be carried out within a sweep; any other end
// must be one the current call was expected to cause. The end is recorded
// whatever the verdict.
func (m *model) ended(idx int32, why core.Reason, at time.Duration) {
	s := m.s
	x := &m.sess[idx]
	if s.tl != nil {
		s.tl.ended(idx, why, at)
	}
	if x.ended {
		s.fail("engine.error", nil, idx, "ended twice: %s, then %s", x.reason, why)
		return
	}
	s.log.add(s.now, x.client, idx, "%s ended: %s at %s", x.label, why, stamp(at))
	s.stats.Ends[why]++
	m.checkEnd(idx, why, at)
	x.ended, x.endedAt, x.reason = true, at, why
	x.state = core.StateEnded
	m.endedNow = append(m.endedNow, idx)
}

func (m *model) checkEnd(idx int32, why core.Reason, at time.Duration) {
	s := m.s
	x := &m.sess[idx]
	_, hi := m.span(x)
	met := false
	for i := range m.expect {
		ex := &m.expect[i]
		if ex.sess == idx && !ex.met && (ex.reason == why || isDeadlineReason(why)) {
			ex.met, met = true, true
		}
	}
	if !isDeadlineReason(why) {
		switch {
		case !met:
			s.fail("end.unexplained", nil, idx, "ended %s at %s, which nothing the service did explains", why, stamp(at))
		case at != s.now:
			s.fail("engine.error", nil, idx, "ended %s with time %s, not now (%s)", why, stamp(at), stamp(s.now))
		case s.now >= hi:
			s.fail("deadline.lingers", nil, idx, "ended %s at %s, past its deadline %s (%s)", why, stamp(at), stamp(hi), m.describe(x))
		}
		return
	}
	var buf [5]deadline
	for _, d := range m.deadlines(x, &buf) {
		if d.reason != why {
			continue
		}
		switch {
		case at < d.lo:
			s.fail("deadline.early", nil, idx, "ended %s at %s, before its deadline %s (%s)", why, stamp(at), stamp(d.lo), m.describe(x))
		case at > d.hi:
			s.fail("deadline.late", nil, idx, "ended %s at %s, after its deadline %s (%s)", why, stamp(at), stamp(d.hi), m.describe(x))
		case at > hi:
			s.fail("deadline.late", nil, idx, "ended %s at %s, after an earlier deadline at %s (%s)", why, stamp(at), stamp(hi), m.describe(x))
		case s.now > max(at, s.srv.upAt)+s.sc.Sweep:
			s.fail("deadline.late", nil, idx, "its %s deadline %s was carried out at %s, over a sweep late", why, stamp(at), stamp(s.now))
		}
		return
	}
	s.fail("deadline.early", nil, idx, "ended %s, which is not one of its deadlines (%s)", why, m.describe(x))
}

// settle checks, after a Manager call, that every end the call had to
// cause happened, and clears the expectations.
func (m *model) settle() {
	for _, ex := range m.expect {
		if !ex.met && !ex.optional && !m.sess[ex.sess].ended {
			m.s.fail("end.missing", nil, ex.sess, "should have ended %s (%s) but did not", ex.reason, m.describe(&m.sess[ex.sess]))
			break
		}
	}
	m.expect = m.expect[:0]
	for _, idx := range m.endedNow {
		if x := &m.sess[idx]; x.conns > 0 {
			m.s.fail("end.untold", nil, idx, "ended %s but %d connection(s) were not closed", x.reason, x.conns)
			break
		}
	}
	m.endedNow = m.endedNow[:0]
}
