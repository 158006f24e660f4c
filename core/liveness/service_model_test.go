package liveness_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/core/liveness"
)

// serviceModel restates the Service's rules by brute force over every
// connection, with none of its lists.
type serviceModel struct {
	probeAfter, timeout time.Duration
	latest              time.Time // zero until the first time is given
	conns               map[liveness.ConnID]*modelConn
}

type modelConn struct {
	last   time.Time
	probed bool
}

func newServiceModel(cfg liveness.ServiceConfig) *serviceModel {
	return &serviceModel{
		probeAfter: cfg.Interval + cfg.Margin,
		timeout:    cfg.LivenessTimeout,
		conns:      make(map[liveness.ConnID]*modelConn),
	}
}

// clock returns now, or the latest time given if that is later.
func (m *serviceModel) clock(now time.Time) time.Time {
	if now.After(m.latest) || m.latest.IsZero() {
		m.latest = now
	}
	return m.latest
}

func (m *serviceModel) add(id liveness.ConnID, now time.Time) {
	m.conns[id] = &modelConn{last: m.clock(now)}
}

func (m *serviceModel) heard(id liveness.ConnID, now time.Time) bool {
	c, ok := m.conns[id]
	if ok {
		c.last, c.probed = m.clock(now), false
	}
	return ok
}

func (m *serviceModel) remove(id liveness.ConnID) bool {
	_, ok := m.conns[id]
	delete(m.conns, id)
	return ok
}

// deadline is when c must be looked at again if nothing is heard from it.
func (m *serviceModel) deadline(c *modelConn) time.Time {
	if c.probed {
		return c.last.Add(m.timeout)
	}
	return c.last.Add(m.probeAfter)
}

// next is the earliest deadline, except that a probed connection counts as
// due no later than probeAfter after the latest time: if it were heard now,
// that is when it would be due, and Heard asks for no rearm.
func (m *serviceModel) next() (time.Time, bool) {
	var next time.Time
	for _, c := range m.conns {
		d := m.deadline(c)
		if c.probed {
			d = earliest(d, m.latest.Add(m.probeAfter))
		}
		if next.IsZero() || d.Before(next) {
			next = d
		}
	}
	return next, !next.IsZero()
}

// earliestDeadline is the first instant something is really due.
func (m *serviceModel) earliestDeadline() (time.Time, bool) {
	var next time.Time
	for _, c := range m.conns {
		if d := m.deadline(c); next.IsZero() || d.Before(next) {
			next = d
		}
	}
	return next, !next.IsZero()
}

func (m *serviceModel) advance(now time.Time) []liveness.ServiceAction {
	if len(m.conns) == 0 {
		return nil
	}
	t := m.clock(now)
	var acts []liveness.ServiceAction
	for id, c := range m.conns {
		switch {
		case !c.last.Add(m.timeout).After(t):
			delete(m.conns, id)
			acts = append(acts, liveness.ServiceAction{ID: id, Op: liveness.ServiceLost})
		case !c.probed && !c.last.Add(m.probeAfter).After(t):
			c.probed = true
			acts = append(acts, liveness.ServiceAction{ID: id, Op: liveness.ServiceProbe})
		}
	}
	slices.SortFunc(acts, compareActions)
	return acts
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// TestServiceMatchesModel runs seeded random sequences of calls on a Service
// and on serviceModel and compares every answer, Next after every call, and
// the actions of every Advance. Alongside, a caller arms its timer for Next
// after Add and Advance only, as the WebSocket server does; nothing may
// fall due before the timer.
func TestServiceMatchesModel(t *testing.T) {
	cfgs := []liveness.ServiceConfig{
		{Interval: sec(20)}, // lost at 45s, before a second probe could be due
		{Interval: sec(2)},  // probe at 2.5s, lost at 9s: room for two more probes
		{Interval: sec(20), Margin: sec(5), LivenessTimeout: sec(100)},
		{Interval: sec(20), Margin: sec(5), LivenessTimeout: sec(25) + 1},
	}
	for seed := range uint64(400) {
		cfg := cfgs[seed%uint64(len(cfgs))]
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			runModel(t, seed, cfg)
		})
	}
}

func runModel(t *testing.T, seed uint64, cfg liveness.ServiceConfig) {
	rng := rand.New(rand.NewPCG(seed, 0x11fe))
	s, err := liveness.NewService(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg = s.Config()
	m := newServiceModel(cfg)
	probeAfter := cfg.Interval + cfg.Margin

	now := at(0)
	var armed time.Time // the caller's timer; zero when not armed
	var buf []liveness.ServiceAction
	var trace []string
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("seed %d %+v after\n\t%s\n%s", seed, cfg, strings.Join(trace[max(0, len(trace)-12):], "\n\t"), fmt.Sprintf(format, args...))
	}
	rearm := func() {
		armed, _ = s.Next()
	}
	for range 600 {
		// Mostly small steps, some ties, now and then a long silence.
		switch r := rng.IntN(20); {
		case r < 2:
		case r < 19:
			now = now.Add(time.Duration(rng.Int64N(int64(probeAfter / 3))))
		default:
			now = now.Add(time.Duration(rng.Int64N(int64(2 * cfg.LivenessTimeout))))
		}
		id := liveness.ConnID(rng.IntN(12))
		before, hadNext := s.Next()
		var op string
		switch r := rng.IntN(100); {
		case r < 12:
			op = fmt.Sprintf("Add(%d, %v)", id, now.Sub(base))
			s.Add(id, now)
			m.add(id, now)
			rearm()
		case r < 55:
			op = fmt.Sprintf("Heard(%d, %v)", id, now.Sub(base))
			if got, want := s.Heard(id, now), m.heard(id, now); got != want {
				fail("%s = %v, want %v", op, got, want)
			}
		case r < 60:
			// A clock reading taken before the latest one, passed after it.
			early := now.Add(-time.Duration(rng.Int64N(int64(sec(1)))))
			op = fmt.Sprintf("Heard(%d, %v)", id, early.Sub(base))
			if got, want := s.Heard(id, early), m.heard(id, early); got != want {
				fail("%s = %v, want %v", op, got, want)
			}
		case r < 66:
			op = fmt.Sprintf("Remove(%d)", id)
			if got, want := s.Remove(id), m.remove(id); got != want {
				fail("%s = %v, want %v", op, got, want)
			}
		case r < 72:
			// A late or early timer: Advance at an arbitrary instant.
			op = fmt.Sprintf("Advance(%v)", now.Sub(base))
			buf = s.Advance(now, buf[:0])
			if got, want := formatActions(buf, now), formatActions(m.advance(now), now); !slices.Equal(got, want) {
				fail("%s = %v, want %v", op, got, want)
			}
			rearm()
		default:
			// The caller's timer fires at the instant it was armed for.
			if armed.IsZero() || armed.Before(now) {
				continue
			}
			now = armed
			op = fmt.Sprintf("Advance(%v) at Next", now.Sub(base))
			buf = s.Advance(now, buf[:0])
			if got, want := formatActions(buf, now), formatActions(m.advance(now), now); !slices.Equal(got, want) {
				fail("%s = %v, want %v", op, got, want)
			}
			rearm()
		}
		trace = append(trace, op)

		got, ok := s.Next()
		want, wantOK := m.next()
		if ok != wantOK || !got.Equal(want) {
			fail("Next = %v, %v; want %v, %v", got.Sub(base), ok, want.Sub(base), wantOK)
		}
		if s.Len() != len(m.conns) {
			fail("Len = %d, want %d", s.Len(), len(m.conns))
		}
		// Heard and Remove never move Next earlier, nor does Add but on
		// an empty Service, so the caller's timer needs no rearm for them.
		if hadNext && ok && got.Before(before) {
			fail("Next moved earlier, from %v to %v", before.Sub(base), got.Sub(base))
		}
		if due, ok := m.earliestDeadline(); ok && due.Before(armed) {
			fail("timer armed for %v, after a deadline at %v", armed.Sub(base), due.Sub(base))
		}
	}
}
