// Package liveness holds sessionkit's two keepalive state machines: Client,
// one per client connection, and Service, one for all the connections of a
// node. Both are pure: they read no clock, arm no timer and start no
// goroutine. Every method takes the current time; the caller carries out
// the returned actions and keeps one timer armed. The Go WebSocket client,
// the WebSocket server and the simulator drive these same machines, and the
// browser client implements the same rules, which the Client and Service
// doc comments state in full.
//
// # The exchange
//
// The client sends a keepalive (with a sequence number) Interval after the
// previous one was answered, and waits AckTimeout for the answer; no answer
// in time means the link is lost (rule P6). The service answers every
// keepalive, and treats any message from the client as proof of life. A
// connection silent for Interval+Margin gets one probe, which the client
// answers from its message handler; one silent for LivenessTimeout is lost.
// Probes keep alive browser tabs whose timers are throttled to once a
// minute, because message handlers are not throttled.
//
// # Wiring the client
//
// One timer, rearmed after every call:
//
//	c, err := liveness.NewClient(liveness.ClientConfig{Interval: hello.Interval})
//	c.Start(now)
//	arm(c.Next())
//
//	on timer:      act(c.Tick(now)); arm(c.Next())
//	on ack(seq):   if c.Ack(now, seq) == liveness.AckLost { lost() }; arm(c.Next())
//	on probe:      act(c.Probe(now))
//	on hello(d):   c.SetInterval(d); arm(c.Next())
//	on visible:    act(c.Kick(now)); arm(c.Next())
//
// where act sends a keepalive for ClientSendKeepalive, answers for
// ClientReplyProbe and closes the connection for ClientLost, and a zero
// Next means no timer is needed. Decisions compare now with deadlines, so a
// timer that fires late (a hidden tab) is harmless: it only delays noticing
// a loss.
//
// # Wiring the service
//
// One Service and one timer per node (or per keepalive interval), under
// the server's mutex:
//
//	on connect:    s.Add(id, now); rearm()
//	on message:    if !s.Heard(id, now) { close(id) }  // O(1); no rearm needed
//	on close:      s.Remove(id)
//	on timer:      buf = s.Advance(now, buf[:0]); rearm()
//	               for each action: send a probe, or close as lost (rule P7)
//	rearm():       if t, ok := s.Next(); ok { timer.Reset(t.Sub(now)) }
//
// Heard only ever pushes deadlines later, so it never needs a rearm: the
// timer may fire early, Advance then returns nothing and the caller
// rearms. Add needs one when nothing was tracked before. The
// Service's time never runs backwards, so a clock reading taken before the
// mutex was acquired is safe to pass.
package liveness
