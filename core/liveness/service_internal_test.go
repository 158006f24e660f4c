package liveness

import (
	"math/rand/v2"
	"testing"
	"time"
)

// checkService verifies the Service's internal invariants: the heap is a
// min-heap whose idx fields match positions, the map and the heap hold the
// same connections, and every key is no later than the connection's next
// real deadline, which is what lets Heard skip the heap.
func checkService(t *testing.T, s *Service) {
	t.Helper()
	if len(s.conns) != len(s.heap) {
		t.Fatalf("map holds %d, heap %d", len(s.conns), len(s.heap))
	}
	for i, c := range s.heap {
		if c.idx != i {
			t.Fatalf("heap[%d].idx = %d", i, c.idx)
		}
		if s.conns[c.id] != c {
			t.Fatalf("heap[%d] (conn %d) not in map", i, c.id)
		}
		if i > 0 && c.due < s.heap[(i-1)/2].due {
			t.Fatalf("heap[%d].due %v < parent's %v", i, c.due, s.heap[(i-1)/2].due)
		}
		real := c.last + s.probeAfter
		if c.probed {
			real = c.last + s.timeout
		}
		if c.due > real {
			t.Fatalf("conn %d keyed at %v, after its deadline %v", c.id, c.due, real)
		}
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
		for range 200_000 {
			now = now.Add(time.Duration(rng.Int64N(int64(200 * time.Millisecond))))
			id := ConnID(rng.IntN(500))
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
