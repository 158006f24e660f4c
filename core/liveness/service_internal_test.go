package liveness

import (
	"math/rand/v2"
	"testing"
	"time"
)

// checkService verifies the Service's internal invariants: each list is
// well linked and ordered by last, every tracked connection is in exactly
// one of them and in the map under its id, and a probed connection was
// silent for Interval+Margin by the latest time the Service was given.
func checkService(t *testing.T, s *Service) {
	t.Helper()
	seen := make(map[*svcConn]string, len(s.conns))
	walk := func(name string, l *connList) {
		t.Helper()
		prev := &l.root
		for c := l.root.next; c != &l.root; prev, c = c, c.next {
			if c.prev != prev {
				t.Fatalf("%s: conn %d's prev is not the one before it", name, c.id)
			}
			if other, ok := seen[c]; ok {
				t.Fatalf("conn %d is in %s and %s", c.id, other, name)
			}
			seen[c] = name
			if s.conns[c.id] != c {
				t.Fatalf("%s: conn %d is not in the map", name, c.id)
			}
			if prev != &l.root && c.last < prev.last {
				t.Fatalf("%s: conn %d heard at %v after conn %d heard at %v", name, c.id, c.last, prev.id, prev.last)
			}
			if c.last > s.latest {
				t.Fatalf("%s: conn %d heard at %v, after the latest time %v", name, c.id, c.last, s.latest)
			}
			if name == "probed" && c.last+s.probeAfter > s.latest {
				t.Fatalf("probed: conn %d heard at %v, probed before %v", c.id, c.last, c.last+s.probeAfter)
			}
		}
		if l.root.prev != prev {
			t.Fatalf("%s: root's prev is not the last connection", name)
		}
	}
	walk("unprobed", &s.unprobed)
	walk("probed", &s.probed)
	if len(seen) != len(s.conns) {
		t.Fatalf("map holds %d connections, the lists %d", len(s.conns), len(seen))
	}
}

func TestServiceInvariants(t *testing.T) {
	for _, cfg := range []ServiceConfig{
		{Interval: 20 * time.Second},
		{Interval: 20 * time.Second, Margin: time.Second, LivenessTimeout: 5 * time.Minute},
	} {
		s, err := NewService(cfg)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(3, 5))
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		var buf []ServiceAction
		for range 60_000 {
			now = now.Add(time.Duration(rng.Int64N(int64(200 * time.Millisecond))))
			id := ConnID(rng.IntN(300))
			switch r := rng.IntN(100); {
			case r < 5:
				s.Add(id, now)
			case r < 7:
				s.Remove(id)
			case r < 60:
				s.Heard(id, now)
			case r < 65:
				// A reading taken before the last one, handled after it.
				s.Heard(id, now.Add(-time.Duration(rng.Int64N(int64(time.Second)))))
			default:
				buf = s.Advance(now, buf[:0])
			}
			checkService(t, s)
		}
	}
}
