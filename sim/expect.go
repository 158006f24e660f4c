package sim

import (
	"fmt"
	"time"
)

// checkAgreement is the liveness check once faults stop: every client that
// believes it is connected is connected, to a live session, and every
// client that wants to be online got there.
func (s *Sim) checkAgreement() {
	k := s.p.KeepAlive
	relogin := time.Duration(0)
	for _, c := range s.clients {
		relogin = max(relogin, c.spec.Relogin)
	}
	// How long a disagreement may last before one side must have noticed.
	notice := k.Interval + k.AckTimeout + throttle + 2*s.sc.LatencyMax
	// How long a client may take to get back online.
	recover := relogin + maxBackoff + maxBackoff/5 + 4*reqTimeout + notice
	quiet := s.sc.quietFrom() + s.settle
	if s.now < quiet+recover {
		s.log.global(s.now, "agreement not checked: faults stop at %s, too close to the end", stamp(s.sc.quietFrom()))
		return
	}
	s.log.global(s.now, "checking agreement: faults stopped at %s", stamp(s.sc.quietFrom()))
	for _, c := range s.clients {
		switch c.state {
		case cOnline:
			sc := s.srv.conns[connID(c.idx, c.gen)]
			if sc == nil || !sc.open {
				lc := s.srv.lastClosed[c.idx]
				if lc.gen != c.gen || s.now-lc.at > notice {
					s.fail("agree", c, c.sess, "the client believes it is connected, but the service has no such connection (closed at %s)", stamp(lc.at))
					return
				}
				continue
			}
			x := &s.mdl.sess[sc.sess]
			if x.ended && s.now-x.endedAt > notice {
				s.fail("agree", c, sc.sess, "the client is connected to a session that ended %s at %s", x.reason, stamp(x.endedAt))
				return
			}
			if !x.ended && s.srv.isUp {
				if _, err := s.srv.m.Get(s.ctx, x.id); err != nil && s.mdl.class(x) == definitelyLive {
					s.fail("agree", c, sc.sess, "the client is connected, but the Manager says: %v", err)
					return
				}
				s.srv.done()
			}
		case cWait, cBusy:
			since := max(c.wantSince, quiet)
			if s.now-since > recover {
				s.fail("agree", c, c.sess, "the client has been trying to get back online since %s (state %s)", stamp(since), c.state)
				return
			}
		}
	}
}

// evaluate checks the scenario's expectations against what happened.
func (s *Sim) evaluate(r *Report) {
	for _, e := range s.sc.Expect {
		ok, detail := s.expectation(e, r)
		r.Expectations = append(r.Expectations, ExpectResult{Source: e.Source, OK: ok, Detail: detail})
	}
}

func (s *Sim) sessionByLabel(label string) *msess {
	for i := range s.mdl.sess {
		if s.mdl.sess[i].label == label {
			return &s.mdl.sess[i]
		}
	}
	return nil
}

func (s *Sim) expectation(e Expectation, r *Report) (bool, string) {
	if e.Kind == "failure" {
		for _, f := range r.Failures {
			if f.Oracle == e.Oracle {
				r.ExpectedFailure = true
				return true, "caught: " + f.String()
			}
		}
		return false, fmt.Sprintf("no %s failure happened", e.Oracle)
	}
	c := s.byName[e.Client]
	label := fmt.Sprintf("%s#%d", e.Client, e.Session)
	switch e.Kind {
	case "ends":
		x := s.sessionByLabel(label)
		if x == nil {
			return false, label + " never existed"
		}
		if !x.ended {
			return false, label + " did not end"
		}
		if string(x.reason) != e.Reason {
			return false, fmt.Sprintf("%s ended %s at %s", label, x.reason, stamp(x.endedAt))
		}
		if e.To > 0 && (x.endedAt < e.From || x.endedAt > e.To) {
			return false, fmt.Sprintf("%s ended %s at %s, outside %s..%s", label, x.reason, stamp(x.endedAt), stamp(e.From), stamp(e.To))
		}
		return true, fmt.Sprintf("%s ended %s at %s", label, x.reason, stamp(x.endedAt))
	case "live":
		x := s.sessionByLabel(label)
		if x == nil {
			return false, label + " never existed"
		}
		if x.ended {
			return false, fmt.Sprintf("%s ended %s at %s", label, x.reason, stamp(x.endedAt))
		}
		return true, label + " is live at the end"
	case "connected":
		if c.state != cOnline {
			return false, fmt.Sprintf("%s is %s at the end", c.name, c.state)
		}
		return true, fmt.Sprintf("%s is online on %s", c.name, c.label())
	case "shows":
		for _, sh := range c.shows {
			if sh.what == e.Reason {
				return true, fmt.Sprintf("%s showed %q at %s", c.name, sh.what, stamp(sh.at))
			}
		}
		var all []string
		for _, sh := range c.shows {
			all = append(all, sh.what)
		}
		return false, fmt.Sprintf("%s showed %q", c.name, all)
	case "sessions":
		n := s.mdl.created[c.idx]
		return n == e.N, fmt.Sprintf("%s created %d session(s)", c.name, n)
	case "draft-intact", "draft-restored":
		if c.spec.Form != e.Form {
			return false, fmt.Sprintf("%s fills in %q, not %q", c.name, c.spec.Form, e.Form)
		}
		md := s.mdl.drafts[c.form.id]
		if md == nil {
			return false, fmt.Sprintf("%s has no acknowledged draft", c.name)
		}
		if e.Kind == "draft-restored" {
			if c.form.restored == 0 {
				return false, fmt.Sprintf("%s never took its draft up in a new session", c.name)
			}
			return true, fmt.Sprintf("%s took its draft up %d time(s)", c.name, c.form.restored)
		}
		if rev := revOf(md.acked); rev < c.form.savedRev {
			return false, fmt.Sprintf("the draft holds revision %d; %s was told revision %d was saved", rev, c.name, c.form.savedRev)
		}
		// The content itself was checked against the store by the draft
		// oracle after every restart and at the end.
		return true, fmt.Sprintf("the draft holds %q", md.acked)
	}
	return false, "unknown expectation"
}
