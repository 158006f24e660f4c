package sim

import (
	"math/rand/v2"
	"testing"
	"time"
	"unsafe"
)

// TestTimersMatchBruteForce drives the timing wheel and a plain list of
// armed slots with the same random arms, stops and firings, near and far,
// and checks that they always agree on the earliest timer.
func TestTimersMatchBruteForce(t *testing.T) {
	type armed struct {
		at  time.Duration
		seq uint64
		on  bool
	}
	for seed := uint64(1); seed <= 20; seed++ {
		r := rand.New(rand.NewPCG(seed, 7))
		const n = 64
		tm := newTimers(n)
		ref := make([]armed, n)
		var now time.Duration
		var seq uint64
		refTop := func() (int32, bool) {
			best := int32(-1)
			for i, a := range ref {
				if !a.on {
					continue
				}
				if best < 0 || a.at < ref[best].at || a.at == ref[best].at && a.seq < ref[best].seq {
					best = int32(i)
				}
			}
			return best, best >= 0
		}
		for step := 0; step < 20000; step++ {
			slot := int32(r.IntN(n))
			switch op := r.IntN(10); {
			case op < 6: // arm: mostly within seconds, sometimes minutes or hours away
				var d time.Duration
				switch r.IntN(10) {
				case 0:
					d = time.Duration(r.Int64N(int64(3 * time.Hour)))
				case 1:
					d = time.Duration(r.IntN(3)) * time.Millisecond // ties
				default:
					d = time.Duration(r.Int64N(int64(30 * time.Second)))
				}
				seq++
				tm.set(slot, now+d, seq, now)
				ref[slot] = armed{now + d, seq, true}
			case op < 7:
				tm.stop(slot)
				ref[slot].on = false
			default: // fire the earliest
				want, ok := refTop()
				got, at, sq, gok := tm.top(now)
				if ok != gok || ok && (got != want || at != ref[want].at || sq != ref[want].seq) {
					t.Fatalf("seed %d step %d: top = %d at %v (ok %v), want %d at %v (ok %v)",
						seed, step, got, at, gok, want, ref[max(want, 0)].at, ok)
				}
				if !ok {
					continue
				}
				if tm.seqOf(got) != sq {
					t.Fatalf("seed %d step %d: seqOf = %d, want %d", seed, step, tm.seqOf(got), sq)
				}
				now = at
				tm.stop(got)
				ref[got].on = false
				if tm.seqOf(got) != 0 {
					t.Fatalf("seed %d step %d: a stopped slot still has a sequence number", seed, step)
				}
			}
		}
	}
}

// TestClientLayout keeps what a keepalive reads of a client in its first
// four cache lines and the client a multiple of 128 bytes long (see the
// client type).
func TestClientLayout(t *testing.T) {
	var c client
	if n := unsafe.Sizeof(c); n%128 != 0 {
		t.Errorf("a client is %d bytes, not a multiple of 128", n)
	}
	if end := unsafe.Offsetof(c.connSess) + unsafe.Sizeof(c.connSess); end > 256 {
		t.Errorf("the fields a keepalive reads end at byte %d, past the first four lines", end)
	}
}
