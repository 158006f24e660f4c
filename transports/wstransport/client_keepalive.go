package wstransport

import (
	"time"

	"github.com/coder/websocket"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/core/liveness"
)

// The client's keepalives: one timer, armed for the liveness machine's next
// instant, and the handling of acks and probes from the reader.

// armLocked arms the one timer for the liveness machine's next instant.
func (c *Client) armLocked() {
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	c.gen++
	next := c.lv.Next()
	if next.IsZero() {
		return
	}
	gen := c.gen
	c.timer = c.clk.AfterFunc(next.Sub(c.clk.Now()), func() { c.tick(gen) })
}

// tick is the timer callback: send the next keepalive, or declare the link
// lost when the ack is late.
func (c *Client) tick(gen uint64) {
	c.mu.Lock()
	if gen != c.gen || c.status.Terminal() {
		c.mu.Unlock()
		return
	}
	now := c.clk.Now()
	act := c.lv.Tick(now)
	switch act.Op {
	case liveness.ClientLost:
		c.mu.Unlock()
		c.lose(ErrAckTimeout, 0)
		return
	case liveness.ClientSendKeepalive:
		c.sentAt = now
		c.stats.KeepalivesSent++
	}
	c.armLocked()
	c.mu.Unlock()
	if act.Op == liveness.ClientSendKeepalive {
		_ = c.send(&message{Type: typeKeepalive, Seq: act.Seq})
	}
}

// lose makes the Client lost and drops the connection: the link is
// presumed dead, so there is no close handshake to wait for.
func (c *Client) lose(err error, code websocket.StatusCode) {
	if c.finish(Status{State: StateLost, Reason: core.ReasonConnectionLost, Code: code, Err: err}) {
		c.cancel()
		_ = c.ws.CloseNow()
	}
}

// onAck hands an ack to the liveness machine: an accepted one schedules
// the next keepalive from now (rule P6), a late one loses the link.
func (c *Client) onAck(now time.Time, m *message) {
	c.mu.Lock()
	if c.lv == nil || c.status.Terminal() {
		c.mu.Unlock()
		return
	}
	switch c.lv.Ack(now, m.Seq) {
	case liveness.AckLost:
		c.mu.Unlock()
		c.lose(ErrAckTimeout, 0)
		return
	case liveness.AckStale:
		c.stats.StaleAcks++
		c.mu.Unlock()
		return
	}
	c.stats.Acks++
	if m.State != "" {
		c.session.State, c.session.Deadline, c.session.DeadlineReason = m.State, m.Deadline, m.DeadlineReason
	}
	a := Ack{Seq: m.Seq, RTT: now.Sub(c.sentAt), State: m.State, Deadline: m.Deadline, DeadlineReason: m.DeadlineReason}
	c.armLocked()
	c.mu.Unlock()
	if c.o.OnAck != nil {
		c.o.OnAck(a)
	}
}

// onProbe answers a probe at once, from the reading goroutine (rule P6).
func (c *Client) onProbe(now time.Time, m *message) {
	c.mu.Lock()
	if c.status.Terminal() {
		c.mu.Unlock()
		return
	}
	act := liveness.ClientAction{Op: liveness.ClientReplyProbe}
	if c.lv != nil {
		act = c.lv.Probe(now)
	}
	if act.Op == liveness.ClientReplyProbe {
		c.stats.Probes++
	}
	c.mu.Unlock()
	switch act.Op {
	case liveness.ClientLost:
		c.lose(ErrAckTimeout, 0)
	case liveness.ClientReplyProbe:
		_ = c.send(&message{Type: typeProbeReply, Seq: m.Seq})
	}
}
