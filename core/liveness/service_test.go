package liveness_test

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/core/liveness"
)

func TestServiceConfigDefaults(t *testing.T) {
	tests := []struct {
		cfg  liveness.ServiceConfig
		want liveness.ServiceConfig
	}{
		{liveness.ServiceConfig{}, liveness.ServiceConfig{Interval: sec(20), Margin: sec(5), LivenessTimeout: sec(45)}},
		{liveness.ServiceConfig{Interval: sec(8)}, liveness.ServiceConfig{Interval: sec(8), Margin: sec(2), LivenessTimeout: sec(21)}},
		{liveness.ServiceConfig{Interval: time.Hour}, liveness.ServiceConfig{Interval: time.Hour, Margin: sec(5), LivenessTimeout: 2*time.Hour + sec(5)}},
		{liveness.ServiceConfig{Interval: sec(20), Margin: sec(1), LivenessTimeout: sec(60)}, liveness.ServiceConfig{Interval: sec(20), Margin: sec(1), LivenessTimeout: sec(60)}},
	}
	for _, tt := range tests {
		s, err := liveness.NewService(tt.cfg)
		if err != nil {
			t.Fatalf("NewService(%+v): %v", tt.cfg, err)
		}
		if got := s.Config(); got != tt.want {
			t.Errorf("NewService(%+v).Config() = %+v, want %+v", tt.cfg, got, tt.want)
		}
	}
}

func TestServiceConfigValidate(t *testing.T) {
	tests := []struct {
		name      string
		cfg       liveness.ServiceConfig
		wantField string
	}{
		{"zero means defaults", liveness.ServiceConfig{}, ""},
		{"negative interval", liveness.ServiceConfig{Interval: -sec(1)}, "Interval"},
		{"negative margin", liveness.ServiceConfig{Margin: -1}, "Margin"},
		{"negative timeout", liveness.ServiceConfig{LivenessTimeout: -1}, "LivenessTimeout"},
		{"interval too short for default margin", liveness.ServiceConfig{Interval: 3}, "Margin"},
		{"timeout equals interval+margin", liveness.ServiceConfig{Interval: sec(20), Margin: sec(5), LivenessTimeout: sec(25)}, "LivenessTimeout"},
		{"timeout below interval", liveness.ServiceConfig{LivenessTimeout: sec(10)}, "LivenessTimeout"},
		{"timeout just above interval+margin", liveness.ServiceConfig{Interval: sec(20), Margin: sec(5), LivenessTimeout: sec(25) + 1}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkConfigError(t, tt.cfg.Validate(), tt.wantField)
			_, err := liveness.NewService(tt.cfg)
			checkConfigError(t, err, tt.wantField)
		})
	}
}

// drive runs s the way its caller does: Advance at every Next up to and
// including until, then at until itself. It returns the actions formatted
// as "probe 1@25s", with the instant as an offset from base.
func drive(t *testing.T, s *liveness.Service, until time.Time) []string {
	t.Helper()
	var got []string
	var buf []liveness.ServiceAction
	for {
		next, ok := s.Next()
		if !ok || next.After(until) {
			break
		}
		got = append(got, formatActions(s.Advance(next, buf[:0]), next)...)
	}
	return append(got, formatActions(s.Advance(until, buf[:0]), until)...)
}

// formatActions formats the actions of one Advance at now as "probe 1@25s",
// sorted, as Advance reports them in no specified order.
func formatActions(acts []liveness.ServiceAction, now time.Time) []string {
	var out []string
	for _, a := range slices.SortedFunc(slices.Values(acts), compareActions) {
		out = append(out, fmt.Sprintf("%v %d@%v", a.Op, a.ID, now.Sub(base)))
	}
	return out
}

func compareActions(a, b liveness.ServiceAction) int {
	if a.ID != b.ID {
		return cmp.Compare(a.ID, b.ID)
	}
	return cmp.Compare(a.Op, b.Op)
}

// serviceStep is one call in a service script. "run" drives the timer up
// to at; "advance" calls Advance once at at, as a late timer would.
type serviceStep struct {
	at   time.Duration
	do   string // add, heard, remove, run, advance
	id   liveness.ConnID
	want string // run/advance: actions joined by ", "; heard/remove: "true"/"false"
}

func runService(t *testing.T, cfg liveness.ServiceConfig, steps []serviceStep) {
	t.Helper()
	s, err := liveness.NewService(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, st := range steps {
		now := at(st.at)
		var got string
		switch st.do {
		case "add":
			s.Add(st.id, now)
		case "heard":
			got = fmt.Sprint(s.Heard(st.id, now))
		case "remove":
			got = fmt.Sprint(s.Remove(st.id))
		case "run":
			got = strings.Join(drive(t, s, now), ", ")
		case "advance":
			got = strings.Join(formatActions(s.Advance(now, nil), now), ", ")
		default:
			t.Fatalf("step %d: unknown call %q", i, st.do)
		}
		if got != st.want {
			t.Errorf("step %d %s(%d) at %v = %q, want %q", i, st.do, st.id, st.at, got, st.want)
		}
	}
}

func TestService(t *testing.T) {
	cfg := liveness.ServiceConfig{Interval: sec(20)} // probe at 25s, lost at 45s
	tests := []struct {
		name  string
		cfg   liveness.ServiceConfig
		steps []serviceStep
	}{
		{"probe after Interval+Margin, lost at LivenessTimeout", cfg, []serviceStep{
			{at: 0, do: "add", id: 1},
			{at: sec(25) - 1, do: "run", want: ""},
			{at: sec(25), do: "run", want: "probe 1@25s"},
			{at: sec(45) - 1, do: "run", want: ""},
			{at: sec(45), do: "run", want: "lost 1@45s"},
			{at: sec(46), do: "heard", id: 1, want: "false"},
			{at: sec(46), do: "remove", id: 1, want: "false"},
			{at: sec(200), do: "run", want: ""},
		}},
		{"heard resets the probe deadline", cfg, []serviceStep{
			{at: 0, do: "add", id: 1},
			{at: sec(10), do: "heard", id: 1, want: "true"},
			{at: sec(35) - 1, do: "run", want: ""},
			{at: sec(35), do: "run", want: "probe 1@35s"},
		}},
		{"probe answer resets both deadlines", cfg, []serviceStep{
			{at: 0, do: "add", id: 1},
			{at: sec(25), do: "run", want: "probe 1@25s"},
			{at: sec(26), do: "heard", id: 1, want: "true"},
			{at: sec(51) - 1, do: "run", want: ""},
			{at: sec(51), do: "run", want: "probe 1@51s"},
			{at: sec(71), do: "run", want: "lost 1@1m11s"},
		}},
		{"one probe per silence", cfg, []serviceStep{
			{at: 0, do: "add", id: 1},
			{at: sec(44), do: "run", want: "probe 1@25s"},
			{at: sec(44), do: "advance", want: ""},
		}},
		{"late timer reports only lost", cfg, []serviceStep{
			{at: 0, do: "add", id: 1},
			{at: sec(100), do: "advance", want: "lost 1@1m40s"},
		}},
		{"late timer probes a connection heard since", cfg, []serviceStep{
			{at: 0, do: "add", id: 1},
			{at: sec(20), do: "heard", id: 1, want: "true"},
			{at: sec(50), do: "advance", want: "probe 1@50s"},
			{at: sec(65), do: "run", want: "lost 1@1m5s"},
		}},
		{"remove prevents reports", cfg, []serviceStep{
			{at: 0, do: "add", id: 1},
			{at: 0, do: "add", id: 2},
			{at: sec(1), do: "add", id: 3},
			{at: sec(10), do: "remove", id: 1, want: "true"},
			{at: sec(30), do: "run", want: "probe 2@25s, probe 3@26s"},
			{at: sec(30), do: "remove", id: 3, want: "true"},
			{at: sec(100), do: "run", want: "lost 2@45s"},
		}},
		{"add again restarts a connection", cfg, []serviceStep{
			{at: 0, do: "add", id: 1},
			{at: sec(25), do: "run", want: "probe 1@25s"},
			{at: sec(30), do: "add", id: 1},
			{at: sec(55), do: "run", want: "probe 1@55s"},
		}},
		{"heard is unknown before add", cfg, []serviceStep{
			{at: 0, do: "heard", id: 7, want: "false"},
			{at: 0, do: "run", want: ""},
		}},
		{"a time earlier than one seen counts as the latest", cfg, []serviceStep{
			{at: 0, do: "add", id: 1},
			{at: sec(25), do: "run", want: "probe 1@25s"},
			// Read the clock before the timer ran, handled after it.
			{at: sec(24), do: "heard", id: 1, want: "true"},
			{at: sec(50) - 1, do: "run", want: ""},
			{at: sec(50), do: "run", want: "probe 1@50s"},
		}},
		{"an answered probe is not repeated until a new silence", cfg, []serviceStep{
			{at: 0, do: "add", id: 1},
			{at: 0, do: "add", id: 2},
			{at: sec(25), do: "run", want: "probe 1@25s, probe 2@25s"},
			{at: sec(30), do: "heard", id: 1, want: "true"},
			// 1 is back among the unprobed: neither lost at 45s nor probed
			// again before 30s+25s; 2 is still waiting to be lost.
			{at: sec(45), do: "advance", want: "lost 2@45s"},
			{at: sec(55) - 1, do: "advance", want: ""},
			{at: sec(55), do: "run", want: "probe 1@55s"},
			{at: sec(75), do: "run", want: "lost 1@1m15s"},
		}},
		{"late timer reports lost from both lists, and probes", cfg, []serviceStep{
			{at: 0, do: "add", id: 1},
			{at: sec(5), do: "add", id: 2},
			{at: sec(25), do: "run", want: "probe 1@25s"},
			{at: sec(60), do: "add", id: 3},
			{at: sec(80), do: "add", id: 4},
			// 1 probed and 2 never probed are both past LivenessTimeout,
			// 3 is past its probe only, 4 is due for nothing.
			{at: sec(100), do: "advance", want: "lost 1@1m40s, lost 2@1m40s, probe 3@1m40s"},
			{at: sec(200), do: "advance", want: "lost 3@3m20s, lost 4@3m20s"},
		}},
		{"long timeout: answer to a probe is probed again on time",
			liveness.ServiceConfig{Interval: sec(20), Margin: sec(5), LivenessTimeout: sec(100)}, []serviceStep{
				{at: 0, do: "add", id: 1},
				{at: sec(25), do: "run", want: "probe 1@25s"},
				{at: sec(60), do: "run", want: ""},
				{at: sec(60), do: "heard", id: 1, want: "true"},
				{at: sec(85), do: "run", want: "probe 1@1m25s"},
				{at: sec(160), do: "run", want: "lost 1@2m40s"},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { runService(t, tt.cfg, tt.steps) })
	}
}

func TestServiceNext(t *testing.T) {
	s, err := liveness.NewService(liveness.ServiceConfig{Interval: sec(20)})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Next(); ok {
		t.Fatal("Next on an empty Service: ok = true")
	}
	s.Add(2, at(sec(1)))
	s.Add(1, at(sec(3)))
	if got, ok := s.Next(); !ok || !got.Equal(at(sec(26))) {
		t.Errorf("Next = %v, %v; want %v, true", got, ok, at(sec(26)))
	}
	if got := s.Len(); got != 2 {
		t.Errorf("Len = %d, want 2", got)
	}
	s.Remove(2)
	if got, ok := s.Next(); !ok || !got.Equal(at(sec(28))) {
		t.Errorf("Next after Remove = %v, %v; want %v, true", got, ok, at(sec(28)))
	}
}

// TestServiceNextExact checks that Next is the first deadline itself, not
// an earlier instant, as the heads of the lists are heard and removed.
func TestServiceNextExact(t *testing.T) {
	s, err := liveness.NewService(liveness.ServiceConfig{Interval: sec(20)}) // probe at 25s, lost at 45s
	if err != nil {
		t.Fatal(err)
	}
	wantNext := func(want time.Duration) {
		t.Helper()
		if got, ok := s.Next(); !ok || !got.Equal(at(want)) {
			t.Fatalf("Next = %v, %v; want %v, true", got.Sub(base), ok, want)
		}
	}
	s.Add(1, at(0))
	s.Add(2, at(sec(10)))
	s.Add(3, at(sec(20)))
	wantNext(sec(25))
	s.Heard(1, at(sec(21))) // the head, heard: 2 is first now
	wantNext(sec(35))
	s.Heard(2, at(sec(22)))
	wantNext(sec(45))
	s.Remove(3)
	wantNext(sec(46)) // 1, heard at 21s
	if got := formatActions(s.Advance(at(sec(46)), nil), at(sec(46))); !slices.Equal(got, []string{"probe 1@46s"}) {
		t.Fatalf("Advance at Next = %v, want probe 1@46s", got)
	}
	wantNext(sec(47)) // 2 before 1's loss at 66s
	if got := formatActions(s.Advance(at(sec(47)), nil), at(sec(47))); !slices.Equal(got, []string{"probe 2@47s"}) {
		t.Fatalf("Advance at Next = %v, want probe 2@47s", got)
	}
	wantNext(sec(66))
	s.Heard(1, at(sec(50))) // a probed head answers: 2's loss is first
	wantNext(sec(67))
}

// TestServiceNoRearmAfterHeard drives the Service as the WebSocket server
// does: the timer is armed for Next after Add and Advance only. It must
// never fire after a deadline, however LivenessTimeout compares with
// Interval+Margin: with a long one, a probed connection that answers is due
// for its next probe long before it would have been lost.
func TestServiceNoRearmAfterHeard(t *testing.T) {
	for _, cfg := range []liveness.ServiceConfig{
		{Interval: sec(20)}, // probe at 25s, lost at 45s
		{Interval: sec(20), Margin: sec(5), LivenessTimeout: sec(100)},
		{Interval: sec(2)}, // probe at 2.5s, lost at 9s
	} {
		s, err := liveness.NewService(cfg)
		if err != nil {
			t.Fatal(err)
		}
		cfg = s.Config()
		probeAfter := cfg.Interval + cfg.Margin
		s.Add(1, at(0))
		s.Add(2, at(0))
		armed, _ := s.Next()
		if got := formatActions(s.Advance(armed, nil), armed); !slices.Equal(got, []string{"probe 1@" + probeAfter.String(), "probe 2@" + probeAfter.String()}) {
			t.Fatalf("%+v: first run = %v, want both probed", cfg, got)
		}
		armed, _ = s.Next()
		// 1 answers at once; the timer is not rearmed.
		answer := at(probeAfter + time.Millisecond)
		s.Heard(1, answer)
		due := answer.Add(probeAfter)
		if armed.After(due) {
			t.Fatalf("%+v: timer armed for %v, after 1's probe at %v", cfg, armed.Sub(base), due.Sub(base))
		}
		// Run the timer as armed until 1 is probed again.
		var got []string
		for len(got) == 0 {
			got = formatActions(s.Advance(armed, nil), armed)
			if armed.After(due) {
				t.Fatalf("%+v: timer at %v, after 1's probe at %v", cfg, armed.Sub(base), due.Sub(base))
			}
			armed, _ = s.Next()
		}
		want := "probe 1@" + due.Sub(base).String()
		if lost := at(cfg.LivenessTimeout); !lost.After(due) {
			want = "lost 2@" + lost.Sub(base).String()
		}
		if !slices.Contains(got, want) {
			t.Errorf("%+v: the timer reported %v, want %s", cfg, got, want)
		}
	}
}

// TestServiceAddWhileProbed adds a connection while only probed ones are
// tracked. Next must be no later than the new connection's probe, and Add
// does not make it earlier: it was already no later than Interval+Margin
// after the latest time given, which is as early as a new connection can
// be due.
func TestServiceAddWhileProbed(t *testing.T) {
	for _, cfg := range []liveness.ServiceConfig{
		{Interval: sec(20)},
		{Interval: sec(20), Margin: sec(5), LivenessTimeout: sec(100)},
	} {
		s, err := liveness.NewService(cfg)
		if err != nil {
			t.Fatal(err)
		}
		s.Add(1, at(0))
		s.Advance(at(sec(25)), nil) // probe 1
		before, _ := s.Next()
		s.Add(2, at(sec(30)))
		after, ok := s.Next()
		if !ok || after.Before(before) || after.After(at(sec(55))) {
			t.Errorf("%+v: Next = %v before Add, %v, %v after; want between the two and 55s", cfg, before.Sub(base), after.Sub(base), ok)
		}
		got := drive(t, s, at(sec(56)))
		if !slices.Contains(got, "probe 2@55s") {
			t.Errorf("%+v: got %v, want probe 2@55s", cfg, got)
		}
	}
}

// TestServicePunctualNeverProbed keeps clients heard every Interval plus
// a round trip below Margin, as the Client schedules them, for six hours.
func TestServicePunctualNeverProbed(t *testing.T) {
	s, err := liveness.NewService(liveness.ServiceConfig{Interval: sec(20)})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 100
	next := make([]time.Time, n)
	for i := range n {
		add := at(time.Duration(rng.Int64N(int64(sec(20)))))
		s.Add(liveness.ConnID(i), add)
		next[i] = add.Add(sec(20) + time.Duration(rng.Int64N(int64(sec(5)))))
	}
	end := at(6 * time.Hour)
	for {
		i := 0
		for j := range next {
			if next[j].Before(next[i]) {
				i = j
			}
		}
		if next[i].After(end) {
			break
		}
		if got := drive(t, s, next[i]); len(got) != 0 {
			t.Fatalf("punctual clients got %v", got)
		}
		s.Heard(liveness.ConnID(i), next[i])
		next[i] = next[i].Add(sec(20) + time.Duration(rng.Int64N(int64(sec(5)))))
	}
}

// TestServiceManyConnections checks that every one of many connections,
// added, heard and removed at varied times, is reported exactly once at
// exactly the instant its rule says.
func TestServiceManyConnections(t *testing.T) {
	cfg := liveness.ServiceConfig{Interval: sec(20)}
	probeAfter, timeout := sec(25), sec(45)
	s, err := liveness.NewService(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 11))

	type event struct {
		at time.Time
		do string // add, heard, remove
		id liveness.ConnID
	}
	const n = 10_000
	var events []event
	want := map[liveness.ConnID][]string{}
	for i := range n {
		id := liveness.ConnID(i)
		last := at(time.Duration(rng.Int64N(int64(time.Minute))))
		events = append(events, event{last, "add", id})
		// Gaps up to 50s: some heard in time, some probed first, some lost.
		var removed bool
		for k := rng.IntN(6); k > 0; k-- {
			gap := time.Duration(rng.Int64N(int64(sec(50))))
			next := last.Add(gap)
			if gap >= probeAfter {
				want[id] = append(want[id], fmt.Sprintf("probe@%v", last.Add(probeAfter).Sub(base)))
			}
			if gap >= timeout {
				want[id] = append(want[id], fmt.Sprintf("lost@%v", last.Add(timeout).Sub(base)))
				events = append(events, event{next, "heard", id}) // too late: must be refused
				removed = true
				break
			}
			if rng.IntN(10) == 0 {
				events = append(events, event{next, "remove", id})
				removed = true
				break
			}
			events = append(events, event{next, "heard", id})
			last = next
		}
		if !removed {
			want[id] = append(want[id],
				fmt.Sprintf("probe@%v", last.Add(probeAfter).Sub(base)),
				fmt.Sprintf("lost@%v", last.Add(timeout).Sub(base)))
		}
	}
	// Deadlines at an instant come before messages at the same instant,
	// as drive runs up to and including each event's time.
	slices.SortStableFunc(events, func(a, b event) int { return a.at.Compare(b.at) })

	got := map[liveness.ConnID][]string{}
	var buf []liveness.ServiceAction
	record := func(now time.Time) {
		for _, a := range buf {
			got[a.ID] = append(got[a.ID], fmt.Sprintf("%v@%v", a.Op, now.Sub(base)))
		}
	}
	runTo := func(until time.Time) {
		for {
			next, ok := s.Next()
			if !ok || next.After(until) {
				return
			}
			buf = s.Advance(next, buf[:0])
			record(next)
		}
	}
	for _, e := range events {
		runTo(e.at)
		switch e.do {
		case "add":
			s.Add(e.id, e.at)
		case "heard":
			// Heard must refuse exactly the connections already lost.
			lost := len(got[e.id]) > 0 && strings.HasPrefix(got[e.id][len(got[e.id])-1], "lost")
			if ok := s.Heard(e.id, e.at); ok == lost {
				t.Fatalf("Heard(%d) at %v = %v after %v", e.id, e.at.Sub(base), ok, got[e.id])
			}
		case "remove":
			if !s.Remove(e.id) {
				t.Fatalf("Remove(%d) = false", e.id)
			}
		}
	}
	runTo(at(time.Hour))
	if s.Len() != 0 {
		t.Errorf("Len after everything is due = %d, want 0", s.Len())
	}
	for i := range n {
		id := liveness.ConnID(i)
		if !slices.Equal(got[id], want[id]) {
			t.Errorf("conn %d: got %v, want %v", id, got[id], want[id])
		}
	}
}
