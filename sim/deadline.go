package sim

import (
	"time"

	"github.com/sessionkit/sessionkit/core"
)

// deadline is one of a session's deadlines: it falls in [lo, hi].
type deadline struct {
	lo, hi time.Duration
	reason core.Reason
}

// deadlines lists the deadlines of x as the policy defines them. Idle and
// authentication timeouts both run from the last counted touch (lastSeen:
// activity, or a keepalive that counts under rule P5); MaxAuthAge runs from
// the last login and nothing extends it. A session created for a subject
// has its authentication deadlines from creation, started or not.
func (m *model) deadlines(x *msess, out *[5]deadline) []deadline {
	p := &m.p
	d := out[:0]
	d = append(d, deadline{x.created + p.TTL, x.created + p.TTL, core.ReasonExpired})
	if x.subject != "" {
		if p.MaxAuthAge > 0 {
			t := x.authAt + p.MaxAuthAge
			d = append(d, deadline{t, t, core.ReasonMaxAuthAge})
		}
		if p.AuthTimeout > 0 {
			lo, hi := m.window(x.lastSeen+p.AuthTimeout, x.slack)
			d = append(d, deadline{lo, hi, core.ReasonAuthTimeout})
		}
	}
	if x.state == core.StateNotStarted {
		t := x.created + p.NotStartedTimeout
		return append(d, deadline{t, t, core.ReasonNotStartedPruned})
	}
	if p.IdleTimeout > 0 {
		lo, hi := m.window(x.lastSeen+p.IdleTimeout, x.slack)
		d = append(d, deadline{lo, hi, core.ReasonIdleTimeout})
	}
	return d
}

// window is where an idle or authentication deadline t may fall after
// restarts restarts since the clock was last reset: a touch held in memory
// is written once it moves the clock CheckpointEvery past the stored
// value, so a new Manager allows up to CheckpointEvery more
// (docs/semantics.md, "Time, checkpoints and crashes"), never less, however
// many restarts there were.
func (m *model) window(t time.Duration, restarts int) (lo, hi time.Duration) {
	if restarts == 0 {
		return t, t
	}
	return t, t + m.p.CheckpointEvery
}

// span returns the earliest and the latest instant x can end by itself.
func (m *model) span(x *msess) (lo, hi time.Duration) {
	var buf [5]deadline
	ds := m.deadlines(x, &buf)
	lo, hi = ds[0].lo, ds[0].hi
	for _, d := range ds[1:] {
		lo, hi = min(lo, d.lo), min(hi, d.hi)
	}
	return lo, hi
}

func isDeadlineReason(r core.Reason) bool {
	switch r {
	case core.ReasonExpired, core.ReasonNotStartedPruned, core.ReasonMaxAuthAge,
		core.ReasonAuthTimeout, core.ReasonIdleTimeout:
		return true
	}
	return false
}

// liveness classes of a session at now.
const (
	definitelyLive = iota
	maybeEnded
	pastDeadline
	alreadyEnded
)

func (m *model) class(x *msess) int {
	if x.ended || x.purged {
		return alreadyEnded
	}
	lo, hi := m.span(x)
	now := m.s.now
	switch {
	case now < lo:
		return definitelyLive
	case now < hi:
		return maybeEnded
	}
	return pastDeadline
}

// describe writes x's deadlines, for failure messages.
func (m *model) describe(x *msess) string {
	var buf [5]deadline
	s := ""
	for i, d := range m.deadlines(x, &buf) {
		if i > 0 {
			s += ", "
		}
		s += string(d.reason) + " " + stamp(d.lo)
		if d.hi != d.lo {
			s += ".." + stamp(d.hi)
		}
	}
	return s
}

// ensureCheck schedules the lingering check of a session: past its latest
// deadline plus a sweep, it must have ended.
func (m *model) ensureCheck(idx int32) {
	x := &m.sess[idx]
	if x.ended {
		return
	}
	at := m.lingerAt(x)
	if x.checkAt == 0 || at < x.checkAt {
		x.checkAt = at
		m.s.schedule(event{at: at, kind: evCheckSession, arg: idx})
	}
}

func (m *model) lingerAt(x *msess) time.Duration {
	_, hi := m.span(x)
	return max(hi, m.s.srv.upBound()) + m.s.sc.Sweep + time.Millisecond
}

func (m *model) checkLingering(idx int32) {
	x := &m.sess[idx]
	if x.ended || x.purged || x.checkAt != m.s.now {
		return
	}
	at := m.lingerAt(x)
	if at > m.s.now {
		x.checkAt = at
		m.s.schedule(event{at: at, kind: evCheckSession, arg: idx})
		return
	}
	x.checkAt = 0
	_, hi := m.span(x)
	m.s.fail("deadline.lingers", nil, idx, "still live at %s, past its deadline %s (%s)", stamp(m.s.now), stamp(hi), m.describe(x))
}
