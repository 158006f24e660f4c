package sim_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/adapters/memstore"
	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/sim"
)

var ctx = context.Background()

// run runs sc and fails the test with the report's account if it does not
// pass.
func run(t *testing.T, sc *sim.Scenario, opt sim.Options) *sim.Report {
	t.Helper()
	r, err := sim.RunScenario(ctx, sc, opt)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func explain(r *sim.Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", r.Summary())
	for _, f := range r.Failures {
		fmt.Fprintf(&b, "oracle %s\n  %s\n", f, strings.Join(f.Trace, "\n  "))
	}
	for _, e := range r.Expectations {
		if !e.OK {
			fmt.Fprintf(&b, "expectation not met: %s: %s\n", e.Source, e.Detail)
		}
	}
	fmt.Fprintf(&b, "scenario:\n%s", r.Text)
	return b.String()
}

func TestScenarios(t *testing.T) {
	scs, err := sim.Scenarios()
	if err != nil {
		t.Fatal(err)
	}
	if len(scs) < 8 {
		t.Fatalf("only %d built-in scenarios", len(scs))
	}
	for _, sc := range scs {
		t.Run(sc.Name, func(t *testing.T) {
			t.Parallel()
			r := run(t, sc, sim.Options{})
			if !r.OK() {
				t.Fatal(explain(r))
			}
			if len(r.Expectations) == 0 {
				t.Errorf("%s expects nothing", sc.Name)
			}
		})
	}
}

// TestRandomSeeds is the CI-sized batch of random runs: every preset, with
// faults, restarts and user actions drawn from the seed.
func TestRandomSeeds(t *testing.T) {
	seeds, d := 21, 3*time.Hour
	if testing.Short() {
		seeds = 6
	}
	for seed := uint64(1); seed <= uint64(seeds); seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			// No known issue is tolerated: every oracle holds.
			opt := sim.Options{}
			r, err := sim.RunRandom(ctx, seed, sim.RandomConfig{Clients: 10, Duration: d}, opt)
			if err != nil {
				t.Fatal(err)
			}
			if !r.OK() {
				t.Fatal(explain(r))
			}
			if r.Stats.Sessions == 0 || r.Stats.Keepalives == 0 {
				t.Errorf("seed %d did nothing: %+v", seed, r.Stats)
			}
		})
	}
}

// TestRandomPoliciesValidate: every policy RandomScenario draws passes
// core's Policy.Validate, which needs LivenessTimeout above the interval
// plus min(5s, interval/4) (rule P6), so a random batch never runs a policy
// core would refuse.
func TestRandomPoliciesValidate(t *testing.T) {
	for seed := uint64(1); seed <= 500; seed++ {
		sc := sim.RandomScenario(seed, sim.RandomConfig{})
		if err := sc.Policy.Validate(); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		m, err := core.NewMachine(sc.Policy)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		k := m.Policy().KeepAlive
		if floor := k.Interval + min(5*time.Second, k.Interval/4); k.LivenessTimeout <= floor {
			t.Fatalf("seed %d: liveness %v within the interval plus margin %v", seed, k.LivenessTimeout, floor)
		}
	}
}

func TestSameSeedSameLog(t *testing.T) {
	cfg := sim.RandomConfig{Clients: 8, Duration: 2 * time.Hour, Preset: "forms"}
	opt := sim.Options{Log: sim.LogAll, KeepLog: true}
	a, err := sim.RunRandom(ctx, 7, cfg, opt)
	if err != nil {
		t.Fatal(err)
	}
	b, err := sim.RunRandom(ctx, 7, cfg, opt)
	if err != nil {
		t.Fatal(err)
	}
	if a.LogHash != b.LogHash {
		for i := range min(len(a.Log), len(b.Log)) {
			if a.Log[i] != b.Log[i] {
				t.Fatalf("logs differ at line %d:\n%s\n%s", i, a.Log[i], b.Log[i])
			}
		}
		t.Fatalf("log hashes differ: %s vs %s", a.LogHash, b.LogHash)
	}
	if !slices.Equal(a.Log, b.Log) || len(a.Log) < 1000 {
		t.Fatalf("logs differ or are too short to mean anything (%d lines)", len(a.Log))
	}
	c, err := sim.RunRandom(ctx, 8, cfg, opt)
	if err != nil {
		t.Fatal(err)
	}
	if c.LogHash == a.LogHash {
		t.Error("seeds 7 and 8 gave the same log")
	}
}

// TestReplayFromText: a random scenario written out as a file and read back
// replays the same run, so a failure's printed scenario reproduces it.
func TestReplayFromText(t *testing.T) {
	sc := sim.RandomScenario(11, sim.RandomConfig{Clients: 6, Duration: 2 * time.Hour})
	back, err := sim.ParseScenario("replay", strings.NewReader(sc.String()))
	if err != nil {
		t.Fatalf("%v\n%s", err, sc)
	}
	if got, want := back.String(), sc.String(); got != want {
		t.Fatalf("round trip changed the scenario:\n%s\nwant\n%s", got, want)
	}
	opt := sim.Options{Log: sim.LogAll}
	a, b := run(t, sc, opt), run(t, back, opt)
	if a.LogHash != b.LogHash {
		t.Errorf("the replayed scenario took another path")
	}
}

// TestMutationsAreCaught breaks the engine on purpose, one way at a time,
// and checks that the oracle meant for it fails: the oracles can fail.
func TestMutationsAreCaught(t *testing.T) {
	tests := []struct {
		mutation sim.Mutation
		scenario string
	}{
		{sim.MutIgnoreLivenessTimeout, "tabs"},
		{sim.MutAckDraftBeforeStore, "lossy-forms"},
		{sim.MutDropKeepaliveAnswers, "realtime"},
		{sim.MutStaleSessionReads, "superseded"},
		// Core ends a session past its deadline on any access; in forms,
		// Hal's never-started session (auth_timeout at 1h) is accessed only
		// by pulses 7m30s apart, so only a sweep ends it on time.
		{sim.MutNoSweep, "forms"},
	}
	for _, tt := range tests {
		t.Run(string(tt.mutation), func(t *testing.T) {
			t.Parallel()
			sc, err := sim.BuiltinScenario(tt.scenario)
			if err != nil {
				t.Fatal(err)
			}
			want := sim.Mutations()[tt.mutation]
			r := run(t, sc, sim.Options{Mutations: []sim.Mutation{tt.mutation}})
			if r.OK() || len(r.Failures) == 0 {
				t.Fatalf("the broken engine passed:\n%s", explain(r))
			}
			if got := r.Failures[0].Oracle; got != want {
				t.Fatalf("caught by %s, want %s:\n%s", got, want, explain(r))
			}
			if len(r.Failures[0].Trace) == 0 {
				t.Error("the failure has no trace")
			}
		})
	}
	if len(tests) != len(sim.Mutations()) {
		t.Errorf("%d mutations tested, %d exist", len(tests), len(sim.Mutations()))
	}
}

// TestShrink: a failing random run shrinks to a smaller scenario that fails
// the same way, with a short trace.
func TestShrink(t *testing.T) {
	sc := sim.RandomScenario(3, sim.RandomConfig{Clients: 8, Duration: 2 * time.Hour, Preset: "realtime"})
	opt := sim.Options{Mutations: []sim.Mutation{sim.MutIgnoreLivenessTimeout}}
	r := run(t, sc, opt)
	if len(r.Failures) == 0 {
		t.Fatal("the mutation was not caught; pick another seed")
	}
	small, sr := sim.Shrink(ctx, sc, opt, r)
	if len(sr.Failures) == 0 || sr.Failures[0].Oracle != r.Failures[0].Oracle {
		t.Fatalf("the shrunk scenario does not fail the same way:\n%s", explain(sr))
	}
	if len(small.Clients) >= len(sc.Clients) && len(small.Timeline) >= len(sc.Timeline) {
		t.Errorf("nothing was shrunk: %d clients, %d actions", len(small.Clients), len(small.Timeline))
	}
	if len(small.Clients) > 2 {
		t.Errorf("shrunk to %d clients; one should do:\n%s", len(small.Clients), small)
	}
	// The shrunk scenario, as printed, replays the failure.
	back, err := sim.ParseScenario("shrunk", strings.NewReader(small.String()))
	if err != nil {
		t.Fatal(err)
	}
	opt.Seed = sr.Seed
	if rr := run(t, back, opt); len(rr.Failures) == 0 {
		t.Error("the printed shrunk scenario does not fail")
	}
}

// restartStore is a store whose restarts and crashes a test can count.
type restartStore struct {
	*memstore.Store
	reopens, crashes *int
}

func (r restartStore) Reopen() (core.Store, error) { *r.reopens++; return r, nil }
func (r restartStore) Crash()                      { *r.crashes++ }

// TestStoreFactory: the run opens its store once, reopens it at every
// restart when it can, and tells it of crashes.
func TestStoreFactory(t *testing.T) {
	sc, err := sim.ParseScenario("restarts", strings.NewReader(`
policy forms
duration 1h
client A user=ann form=f activity=20s autosave=30s
at 10m restart
at 20m restart crash
at 30m restart down=1m crash
expect A connected
expect A draft f intact
`))
	if err != nil {
		t.Fatal(err)
	}
	opens, reopens, crashes := 0, 0, 0
	opt := sim.Options{Store: func() (core.Store, error) {
		opens++
		return restartStore{memstore.New(), &reopens, &crashes}, nil
	}}
	r := run(t, sc, opt)
	if !r.OK() {
		t.Fatal(explain(r))
	}
	if opens != 1 || reopens != 3 || crashes != 2 {
		t.Errorf("opens, reopens, crashes = %d, %d, %d; want 1, 3, 2", opens, reopens, crashes)
	}
}

func TestWriteHTML(t *testing.T) {
	sc, err := sim.BuiltinScenario("realtime")
	if err != nil {
		t.Fatal(err)
	}
	r := run(t, sc, sim.Options{Timeline: true})
	var b strings.Builder
	if err := sim.WriteHTML(&b, r); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{"<svg", "A#1", "superseded", "service_restart", "class=\"tick\""} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	for _, external := range []string{"src=\"http", "href=\"http", "<script src", "<link"} {
		if strings.Contains(page, external) {
			t.Errorf("the page loads an external asset (%q)", external)
		}
	}
}

func TestParseScenarioErrors(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"unknown directive", "bogus 1", "unknown directive"},
		{"unknown preset", "policy fast", "unknown policy preset"},
		{"bad override", "policy forms idle=abc", "bad duration"},
		{"invalid policy", "policy forms interval=20m", "KeepAlive.Interval"},
		{"liveness without room for the probe", "policy realtime liveness=25s", "KeepAlive.LivenessTimeout"},
		{"unknown client", "client A\nat 1m partition B for 1m", "unknown client"},
		{"fault without duration", "client A\nat 1m partition A", "needs 'for DURATION'"},
		{"action after the end", "duration 1h\nclient A\nat 2h close A", "outside the run"},
		{"latency beyond ack", "network latency=5s..6s", "does not fit the ack timeout"},
		{"duplicate client", "client A\nclient A", "declared twice"},
		{"bad expectation", "client A\nexpect A flies", "unknown expectation"},
		{"revoke a stranger", "client A user=ann\nat 1m revoke bob", "revoke names no user"},
		{"unknown optional oracle", "oracle psychic", "unknown optional oracle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sim.ParseScenario(tt.name, strings.NewReader(tt.text))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestSteadyScenario(t *testing.T) {
	sc, err := sim.SteadyScenario(200, 10*time.Minute, "realtime")
	if err != nil {
		t.Fatal(err)
	}
	r := run(t, sc, sim.Options{})
	if !r.OK() {
		t.Fatal(explain(r))
	}
	// Each client keeps alive every 20 s once connected (within a minute).
	if min := uint64(200 * 25); r.Stats.Keepalives < min {
		t.Errorf("%d keepalives, want at least %d", r.Stats.Keepalives, min)
	}
	if r.Stats.ServiceLost+r.Stats.ClientLost != 0 {
		t.Errorf("a healthy load lost links: %+v", r.Stats)
	}
}

// BenchmarkSteady measures the simulator on the keepalive hot path: 1,000
// clients keeping alive for a simulated hour per iteration.
func BenchmarkSteady(b *testing.B) {
	sc, err := sim.SteadyScenario(1000, time.Hour, "realtime")
	if err != nil {
		b.Fatal(err)
	}
	var events uint64
	for b.Loop() {
		r, err := sim.RunScenario(ctx, sc, sim.Options{})
		if err != nil || !r.OK() {
			b.Fatalf("%v %v", err, r.Summary())
		}
		events += r.Stats.Events
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(b.N)*float64(time.Hour)/float64(b.Elapsed()), "simulated/wall")
}

func ExampleRunScenario() {
	sc, err := sim.ParseScenario("example", strings.NewReader(`
policy realtime
duration 10m
client A user=ann
client B user=ann start=5m
expect A#1 ends superseded at 5m..5m1s
expect B connected
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	r, err := sim.RunScenario(context.Background(), sc, sim.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("ok:", r.OK())
	for _, e := range r.Expectations {
		fmt.Println(e.Detail)
	}
	// Output:
	// ok: true
	// A#1 ended superseded at 00:05:00.070
	// B is online on B#1
}
