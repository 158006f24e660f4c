package web_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/core/liveness"
)

// The browser client follows the rules of core/liveness.Client, held to the
// same cases: TestBrowserLivenessMatchesGo replays seeded random traces on
// both machines and compares every answer; TestBrowserClientRules drives
// SessionClient over a fake socket and clock, and TestBrowserFormsPulse
// FormsClient against the API on a fake clock (testdata/client_check.js).

// traceOp is one call on a liveness client, at an instant in milliseconds.
type traceOp struct {
	Op  string `json:"op"` // start, tick, kick, probe, ack
	At  int64  `json:"at"`
	Seq uint64 `json:"seq,omitempty"`
}

type trace struct {
	Interval   int64     `json:"interval"`
	AckTimeout int64     `json:"ackTimeout"`
	Ops        []traceOp `json:"ops"`
}

// goResult applies op to c and describes the answer as runTraces does.
func goResult(c *liveness.Client, op traceOp) string {
	now := time.UnixMilli(op.At)
	var r string
	action := func(a liveness.ClientAction) string {
		switch a.Op {
		case liveness.ClientSendKeepalive:
			return fmt.Sprintf("send:%d", a.Seq)
		case liveness.ClientReplyProbe:
			return "reply"
		case liveness.ClientLost:
			return "lost"
		}
		return "none"
	}
	switch op.Op {
	case "start":
		c.Start(now)
		r = "ok"
	case "tick":
		r = action(c.Tick(now))
	case "kick":
		r = action(c.Kick(now))
	case "probe":
		r = action(c.Probe(now))
	case "ack":
		r = c.Ack(now, op.Seq).String()
	}
	next := int64(-1)
	if n := c.Next(); !n.IsZero() {
		next = n.UnixMilli()
	}
	return fmt.Sprintf("%s next=%d", r, next)
}

// makeTraces builds seeded random traces and what the Go machine answers
// to each step. Instants cluster on the machine's own deadlines (exactly
// on them, a millisecond either side) where the rules are decided.
func makeTraces(t *testing.T) ([]trace, [][]string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 2026))
	var traces []trace
	var want [][]string
	seen := map[string]int{}
	for range 300 {
		interval := []int64{1000, 2000, 20000}[rng.IntN(3)]
		ack := []int64{interval / 4, interval / 2, interval - 1, 10}[rng.IntN(4)]
		c, err := liveness.NewClient(liveness.ClientConfig{
			Interval: time.Duration(interval) * time.Millisecond, AckTimeout: time.Duration(ack) * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		tr := trace{Interval: interval, AckTimeout: ack}
		var out []string
		now := int64(1_700_000_000_000)
		startAt := rng.IntN(3)
		for i := range 40 {
			if next := c.Next(); !next.IsZero() {
				d := next.UnixMilli() - now
				switch rng.IntN(8) {
				case 0:
					now += d // exactly on the deadline
				case 1:
					now += d - 1
				case 2:
					now += d + 1
				case 3:
					now += rng.Int64N(interval)
				case 4:
					now += rng.Int64N(3 * interval) // a throttled or frozen tab
				}
				now = max(now, tr.lastAt())
			} else {
				now += rng.Int64N(interval)
			}
			op := traceOp{At: now}
			switch k := rng.IntN(20); {
			case i == startAt:
				op.Op = "start"
			case k < 7:
				op.Op = "tick"
			case k < 13:
				op.Op = "ack"
				seq, _ := c.Outstanding()
				op.Seq = seq
				if rng.IntN(4) == 0 {
					op.Seq = seq + uint64(rng.IntN(3)) - 1
				}
			case k < 16:
				op.Op = "probe"
			default:
				op.Op = "kick"
			}
			tr.Ops = append(tr.Ops, op)
			r := goResult(c, op)
			out = append(out, r)
			kind, _, _ := strings.Cut(strings.Fields(r)[0], ":")
			seen[op.Op+" "+kind]++
		}
		traces = append(traces, tr)
		want = append(want, out)
	}
	// The traces must reach every outcome, or the comparison proves little.
	for _, k := range []string{"tick send", "tick lost", "tick none", "ack accepted", "ack stale", "ack lost",
		"probe reply", "probe lost", "kick send", "kick none", "kick lost"} {
		if seen[k] == 0 {
			t.Fatalf("the traces never reach %q: %v", k, seen)
		}
	}
	return traces, want
}

func (tr *trace) lastAt() int64 {
	if len(tr.Ops) == 0 {
		return 0
	}
	return tr.Ops[len(tr.Ops)-1].At
}

func TestBrowserLivenessMatchesGo(t *testing.T) {
	traces, want := makeTraces(t)
	srv := startServer(t, serverOptions{policy: core.RealtimePolicy(), extra: map[string]string{"/testdata/": "testdata"}})
	ctx := newBrowser(t)
	open(t, ctx, srv.URL+"/dictation.html")
	js, err := json.Marshal(traces)
	if err != nil {
		t.Fatal(err)
	}
	got := eval[[][]string](t, ctx, `import('/testdata/client_check.js').then((m) => m.runTraces(`+string(js)+`))`)
	if len(got) != len(want) {
		t.Fatalf("%d results, want %d", len(got), len(want))
	}
	for i := range want {
		for j := range want[i] {
			if j >= len(got[i]) || got[i][j] != want[i][j] {
				g := "nothing"
				if j < len(got[i]) {
					g = got[i][j]
				}
				t.Fatalf("trace %d (interval %d, ack timeout %d), step %d %+v: JS %q, Go %q\nsteps before: %+v",
					i, traces[i].Interval, traces[i].AckTimeout, j, traces[i].Ops[j], g, want[i][j], traces[i].Ops[:j])
			}
		}
	}
}

func TestBrowserClientRules(t *testing.T) {
	srv := startServer(t, serverOptions{policy: core.RealtimePolicy(), extra: map[string]string{"/testdata/": "testdata"}})
	ctx := newBrowser(t)
	open(t, ctx, srv.URL+"/dictation.html")
	fails := eval[[]string](t, ctx, `import('/testdata/client_check.js').then((m) => m.checkClient())`)
	for _, f := range fails {
		t.Error(f)
	}
}

func TestBrowserFormsPulse(t *testing.T) {
	srv := startServer(t, serverOptions{policy: core.FormsPolicy(), extra: map[string]string{"/testdata/": "testdata"}})
	ctx := newBrowser(t)
	open(t, ctx, srv.URL+"/dictation.html")
	fails := eval[[]string](t, ctx, `import('/testdata/client_check.js').then((m) => m.checkForms('/api'))`)
	for _, f := range fails {
		t.Error(f)
	}
}
