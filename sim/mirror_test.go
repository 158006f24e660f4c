package sim

import (
	"context"
	"testing"
	"time"
)

// TestClientConnMirror checks, after every event of the built-in scenarios
// shorter than a day and of 20 random seeds, that a client's copy of the service's connection
// (client.conn, connGen, connSess) names an open connection the service
// holds, with its generation and session: the server finds keepalives'
// connections through it, so a stale copy would answer for a connection
// the service has let go.
func TestClientConnMirror(t *testing.T) {
	all, err := Scenarios()
	if err != nil {
		t.Fatal(err)
	}
	var scs []*Scenario
	for _, sc := range all {
		if sc.Duration < 24*time.Hour {
			scs = append(scs, sc)
		}
	}
	for seed := uint64(1); seed <= 20; seed++ {
		scs = append(scs, RandomScenario(seed, RandomConfig{}))
	}
	for _, sc := range scs {
		s, err := newSim(context.Background(), sc, Options{})
		if err != nil {
			t.Fatal(err)
		}
		bad := ""
		s.afterEvent = func() {
			for i := range s.cl {
				c := &s.cl[i]
				k := c.conn
				switch {
				case k == nil || bad != "":
				case !k.open || s.srv.conns[k.id] != k:
					bad = "a connection the service no longer holds"
				case c.connGen != k.gen || c.connSess != k.sess || k.client != c.idx:
					bad = "the wrong generation, session or client"
				}
				if bad != "" {
					bad = c.name + " at " + stamp(s.now) + ": " + bad
					s.stopped = true
					return
				}
			}
		}
		r := s.run()
		if bad != "" {
			t.Fatalf("%s (seed %d): the client's copy of its connection names %s", sc.Name, r.Seed, bad)
		}
		if !r.OK() {
			t.Fatalf("%s (seed %d) failed: %v", sc.Name, r.Seed, r.Failures)
		}
	}
}
