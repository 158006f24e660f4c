package sim

import (
	"context"
	"slices"
	"time"
)

// maxShrinkRuns bounds how many runs Shrink spends.
const maxShrinkRuns = 80

// Shrink looks for a smaller scenario that fails the same oracle as the
// report r of sc: it cuts the run short after the failure, then drops
// timeline actions and clients (with their actions and expectations) one
// at a time, keeping each cut that still fails. Each client draws from its
// own seeded stream, so dropping one leaves the others' behaviour alone.
// It returns the smallest failing scenario found and its report; the
// failure's trace there is the shortest account of it.
func Shrink(ctx context.Context, sc *Scenario, opt Options, r *Report) (*Scenario, *Report) {
	if len(r.Failures) == 0 {
		return sc, r
	}
	oracle := r.Failures[0].Oracle
	opt.Seed = r.Seed
	opt.KeepGoing = false
	best, bestR := sc, r
	runs := 0
	try := func(cand *Scenario) bool {
		if runs >= maxShrinkRuns || ctx.Err() != nil {
			return false
		}
		runs++
		cand.Expect = slices.DeleteFunc(slices.Clone(cand.Expect), func(e Expectation) bool { return e.Kind != "failure" })
		rep, err := RunScenario(ctx, cand, opt)
		if err != nil || len(rep.Failures) == 0 || rep.Failures[0].Oracle != oracle {
			return false
		}
		best, bestR = cand, rep
		return true
	}
	// End the run a little after the failure.
	if at := r.Failures[0].At + time.Minute; at < sc.Duration {
		cand := clone(sc)
		cand.Duration = at
		cand.Timeline = slices.DeleteFunc(cand.Timeline, func(a Action) bool { return a.At > at })
		try(cand)
	}
	// Drop clients, then actions, while the failure stays.
	for i := len(best.Clients) - 1; i >= 0 && len(best.Clients) > 1; i-- {
		if i >= len(best.Clients) {
			continue
		}
		name := best.Clients[i].Name
		cand := clone(best)
		cand.Clients = slices.Delete(cand.Clients, i, i+1)
		cand.Timeline = slices.DeleteFunc(cand.Timeline, func(a Action) bool { return a.Who == name })
		cand.Expect = slices.DeleteFunc(cand.Expect, func(e Expectation) bool { return e.Client == name })
		if !usersKnown(cand) {
			continue
		}
		try(cand)
	}
	for i := len(best.Timeline) - 1; i >= 0; i-- {
		if i >= len(best.Timeline) {
			continue
		}
		cand := clone(best)
		cand.Timeline = slices.Delete(cand.Timeline, i, i+1)
		try(cand)
	}
	best.Name = sc.Name + "-shrunk"
	bestR.Scenario = best.Name
	bestR.Text = best.String()
	return best, bestR
}

func clone(sc *Scenario) *Scenario {
	c := *sc
	c.Clients = slices.Clone(sc.Clients)
	c.Timeline = slices.Clone(sc.Timeline)
	c.Expect = slices.Clone(sc.Expect)
	c.Overrides = slices.Clone(sc.Overrides)
	return &c
}

// usersKnown reports whether every revoke still names a client's user.
func usersKnown(sc *Scenario) bool {
	users := map[string]bool{}
	for _, c := range sc.Clients {
		users[c.User] = true
	}
	for _, a := range sc.Timeline {
		if a.Kind == "revoke" && !users[a.Who] {
			return false
		}
	}
	return true
}
