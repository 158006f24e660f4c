// Package simcmd is the command line of sessionkit's deterministic
// simulator, shared by cmd/simulate and the sessionkit sim command: the
// built-in scenarios (sim/scenarios), scenario files, random seeds, or a
// steady load of many clients, with a summary table and an HTML timeline.
//
//	simulate                                   # every built-in scenario
//	simulate -scenario realtime -v             # one, with its event log
//	simulate -seeds 50 -duration 6h            # 50 random seeds
//	simulate -scenario forms -seeds 2          # a scenario and 2 random seeds
//	simulate -steady -clients 10000 -duration 24h
package simcmd

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sessionkit/sessionkit/sim"
)

// Main runs the simulator with command-line args (without the program
// name), writing reports to stdout and progress and errors to stderr. It
// returns the exit status: 0 when every run passed, 1 when one failed, 2
// for bad usage or an error. Cancelling ctx stops after the current run.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		scenarios = fs.String("scenario", "", "comma-separated built-in scenario names or .sim files, or 'all' (the default without -seeds or -steady); with -seeds, runs both")
		seeds     = fs.Int("seeds", 0, "run this many random seeds")
		seed      = fs.Uint64("seed", 1, "first random seed; with -scenario, overrides the scenario's seed")
		clients   = fs.Int("clients", 0, "clients per random or steady run (default 12 random, 1000 steady)")
		duration  = fs.Duration("duration", 0, "simulated time per random or steady run (default 6h random, 24h steady)")
		preset    = fs.String("preset", "", "policy preset for random or steady runs: realtime, resumable, forms (default: drawn by seed; realtime when steady)")
		faults    = fs.Float64("faults", 0, "random runs: faults and user actions per client per hour (default 1.5; negative for none)")
		restarts  = fs.Float64("restarts", 0, "random runs: service restarts per day (default 12; negative for none)")
		steady    = fs.Bool("steady", false, "run the steady load: clients keeping alive with no faults")
		sweep     = fs.Duration("sweep", 0, "how often the service sweeps its Manager (default: the scenario's, 1s for random and steady runs)")
		override  = fs.String("override", "", "steady runs: comma-separated policy overrides, as on a scenario's policy line (checkpoint=1h)")
		htmlOut   = fs.String("html", "sim/out/timeline.html", "write the HTML timeline here ('' for none)")
		verbose   = fs.Bool("v", false, "print each run's event log")
		logAll    = fs.Bool("log-all", false, "log every keepalive, answer and probe too")
		mutate    = fs.String("mutate", "", "comma-separated mutations that break the engine on purpose: "+mutationNames())
		keepGoing = fs.Bool("keep-going", false, "record every oracle failure instead of stopping at the first")
		shrink    = fs.Bool("shrink", true, "shrink failing runs to a smaller scenario that fails the same way")
		printSc   = fs.Bool("print", false, "print each scenario as run (random ones as generated)")
		cpuprof   = fs.String("cpuprofile", "", "write a CPU profile here")
	)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *cpuprof != "" {
		f, err := os.Create(*cpuprof)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
		defer pprof.StopCPUProfile()
	}

	opt := sim.Options{Timeline: *htmlOut != "", KeepGoing: *keepGoing, KeepLog: *verbose}
	if *logAll {
		opt.Log = sim.LogAll
	}
	if *mutate != "" {
		for _, name := range strings.Split(*mutate, ",") {
			m, err := sim.ParseMutation(strings.TrimSpace(name))
			if err != nil {
				fmt.Fprintln(stderr, err)
				return 2
			}
			opt.Mutations = append(opt.Mutations, m)
		}
	}

	// What to run: a list of jobs, each making a scenario.
	type job struct {
		sc   *sim.Scenario
		seed uint64
	}
	var jobs []job
	switch {
	case *steady:
		n, d, p := *clients, *duration, *preset
		if n == 0 {
			n = 1000
		}
		if d == 0 {
			d = 24 * time.Hour
		}
		if p == "" {
			p = "realtime"
		}
		var over []string
		if *override != "" {
			over = strings.Split(*override, ",")
		}
		sc, err := sim.SteadyScenario(n, d, p, over...)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
		opt.Progress = func(p sim.Progress) {
			rate := float64(p.Now) / float64(p.Wall)
			fmt.Fprintf(stderr, "\r%s: simulated %s of %s, %d events, wall %s (%.0f× real time)   ",
				p.Scenario, p.Now.Round(time.Minute), p.Duration, p.Events, p.Wall.Round(time.Second), rate)
		}
		jobs = append(jobs, job{sc, 0})
	default:
		if *scenarios != "" || *seeds == 0 {
			names := *scenarios
			if names == "" {
				names = "all"
			}
			for _, name := range strings.Split(names, ",") {
				scs, err := load(strings.TrimSpace(name))
				if err != nil {
					fmt.Fprintln(stderr, err)
					return 2
				}
				for _, sc := range scs {
					s := uint64(0)
					if isSet(fs, "seed") && *seeds == 0 {
						s = *seed
					}
					jobs = append(jobs, job{sc, s})
				}
			}
		}
		cfg := sim.RandomConfig{Clients: *clients, Duration: *duration, Preset: *preset, FaultsPerHour: *faults, RestartsPerDay: *restarts}
		for i := range *seeds {
			s := *seed + uint64(i)
			jobs = append(jobs, job{sim.RandomScenario(s, cfg), s})
		}
	}

	if *sweep > 0 {
		for _, j := range jobs {
			j.sc.Sweep = *sweep
		}
	}

	var reports []*sim.Report
	failed := 0
	start := time.Now()
	for i, j := range jobs {
		if ctx.Err() != nil {
			break
		}
		o := opt
		o.Seed = j.seed
		if *printSc {
			fmt.Fprintf(stdout, "%s\n", j.sc)
		}
		r, err := sim.RunScenario(ctx, j.sc, o)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
		if o.Progress != nil {
			fmt.Fprintln(stderr)
		}
		reports = append(reports, r)
		if *verbose {
			fmt.Fprintf(stdout, "== %s (seed %d)\n%s\n", r.Scenario, r.Seed, strings.Join(r.Log, "\n"))
		}
		if !r.OK() {
			failed++
			explain(stdout, r)
			if *shrink && len(r.Failures) > 0 && !r.ExpectedFailure {
				small, sr := sim.Shrink(ctx, j.sc, o, r)
				fmt.Fprintf(stdout, "\nShrunk to %d client(s) and %d action(s); replay with this scenario file and -seed %d:\n\n%s\n",
					len(small.Clients), len(small.Timeline), sr.Seed, small)
				explain(stdout, sr)
				reports = append(reports, sr)
			}
		}
		fmt.Fprintf(stderr, "\r[%d/%d] %-32s ok=%d fail=%d wall=%s   ", i+1, len(jobs), r.Scenario,
			i+1-failed, failed, time.Since(start).Round(time.Millisecond))
	}
	fmt.Fprintln(stderr)
	table(stdout, reports)

	if *htmlOut != "" && len(reports) > 0 {
		if err := writeHTML(*htmlOut, reports); err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
		fmt.Fprintf(stdout, "timeline: %s\n", *htmlOut)
	}
	if failed > 0 {
		return 1
	}
	return 0
}

func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func mutationNames() string {
	var names []string
	for m := range sim.Mutations() {
		names = append(names, string(m))
	}
	return strings.Join(sortStrings(names), ", ")
}

func sortStrings(s []string) []string {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s
}

// load returns the scenarios a -scenario entry names.
func load(name string) ([]*sim.Scenario, error) {
	switch {
	case name == "all":
		return sim.Scenarios()
	case strings.HasSuffix(name, ".sim") || strings.ContainsRune(name, filepath.Separator):
		sc, err := sim.LoadScenario(name)
		if err != nil {
			return nil, err
		}
		return []*sim.Scenario{sc}, nil
	}
	sc, err := sim.BuiltinScenario(name)
	if err != nil {
		return nil, err
	}
	return []*sim.Scenario{sc}, nil
}

// explain prints why a run failed: the seed, the failures with their
// traces, and the expectations not met.
func explain(w io.Writer, r *sim.Report) {
	fmt.Fprintf(w, "\nFAIL %s\n", r.Summary())
	for _, f := range r.Failures {
		who := f.Client
		if who == "" {
			who = "the service"
		}
		fmt.Fprintf(w, "  oracle %s\n  trace (the last events of %s, and of the whole run):\n", f, who)
		for _, l := range f.Trace {
			fmt.Fprintf(w, "    %s\n", l)
		}
	}
	for _, e := range r.Expectations {
		if !e.OK {
			fmt.Fprintf(w, "  expectation not met: %s: %s\n", e.Source, e.Detail)
		}
	}
}

func table(w io.Writer, reports []*sim.Report) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tseed\tpolicy\tclients\tsimulated\twall\tevents\tsessions\tkeepalives\trestarts\tends\tlog\tverdict")
	for _, r := range reports {
		verdict := "ok"
		switch {
		case !r.OK():
			verdict = "FAIL"
			if len(r.Failures) > 0 {
				verdict += " " + r.Failures[0].Oracle
			}
		case r.ExpectedFailure:
			verdict = "ok (caught " + r.Failures[0].Oracle + ")"
		}
		var ends []string
		for why, n := range r.Stats.Ends {
			ends = append(ends, fmt.Sprintf("%s=%d", why, n))
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%s\t%s\t%d\t%d\t%d\t%d\t%s\t%.12s\t%s\n", r.Scenario, r.Seed, r.Policy, r.Clients,
			r.Simulated, r.Wall.Round(time.Millisecond), r.Stats.Events, r.Stats.Sessions, r.Stats.Keepalives,
			r.Stats.Restarts, strings.Join(sortStrings(ends), " "), r.LogHash, verdict)
	}
	tw.Flush()
}

func writeHTML(path string, reports []*sim.Report) error {
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := sim.WriteHTML(f, reports...); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
