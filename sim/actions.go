package sim

import (
	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/core/liveness"
)

// typing is one user action: a request, and a change to the form.
func (c *client) typing() {
	if c.state != cOnline {
		return
	}
	if c.spec.Form != "" && c.form.inSession && !c.form.closed {
		c.form.rev++
	}
	c.log("-> activity")
	c.s.send(c, toServer, event{op: opActivity, gen: c.gen})
}

// act carries out a user action of the timeline.
func (c *client) act(kind string) {
	s := c.s
	switch kind {
	case "close":
		if c.state == cOff {
			return
		}
		if c.state == cOnline {
			c.bye()
		}
		c.ctl, c.dreq, c.inbox, c.opening = request{}, request{}, nil, false
		c.form.rev = c.form.savedRev // unsaved typing goes with the tab
		c.setState(cOff)
		s.t.stop(behaviourSlot(c.idx))
	case "open":
		c.open("tab opened")
	case "logout":
		switch c.state {
		case cOnline:
			c.loggingOut = true
			c.s.send(c, toServer, event{op: opLogout, gen: c.gen})
		case cOff:
		default:
			c.sid = ""
			c.ctl = request{}
			c.setState(cOff)
			s.t.stop(behaviourSlot(c.idx))
		}
	case "login":
		switch {
		case c.state == cOnline && c.sessUser == "" && c.spec.User != "" && c.ctl.n == 0:
			c.request(opLogin, &payload{sid: c.sid, user: c.spec.User})
		case c.state == cOnline:
			c.obtain()
		default:
			c.obtain()
		}
	case "save":
		if c.canSave() {
			c.save(core.SaveManual)
		}
	case "submit":
		if c.state == cOnline && c.form.id != "" && c.form.inSession && !c.form.closed && c.dreq.n == 0 {
			c.draftRequest(opSubmit, &payload{draftID: c.form.id, version: c.form.version})
		}
	case "type":
		c.typing()
	}
}

// suspendPage hides or freezes the tab. A hidden tab's timers are
// throttled; a frozen one runs nothing and its messages wait.
func (c *client) suspendPage(freeze bool) {
	if freeze {
		c.frozen++
	} else {
		c.hidden++
	}
	c.armLive()
	c.armBehaviour()
}

// resumePage ends a hide or freeze: the page handles what waited and kicks
// a keepalive, as a browser client does on visibilitychange and resume.
func (c *client) resumePage(freeze bool) {
	if freeze {
		c.frozen--
		if c.frozen > 0 {
			return
		}
		inbox := c.inbox
		c.inbox = nil
		for i := range inbox {
			c.handle(&inbox[i])
		}
	} else {
		c.hidden--
	}
	if c.state == cOnline && c.lc != nil && c.hidden == 0 && c.frozen == 0 {
		a := c.lc.Kick(c.s.wallNow())
		switch a.Op {
		case liveness.ClientLost:
			c.lost()
		case liveness.ClientSendKeepalive:
			c.sentAt, c.awaiting = c.s.now, true
			c.s.stats.Keepalives++
			c.s.send(c, toServer, event{op: opKeepalive, gen: c.gen, n: a.Seq})
		}
	}
	c.armLive()
	c.armBehaviour()
}
