package sim

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// RandomConfig shapes the scenarios RandomScenario draws.
type RandomConfig struct {
	// Clients is how many clients; 0 means 12.
	Clients int
	// Duration is the simulated time; 0 means 6h.
	Duration time.Duration
	// Preset fixes the policy preset; empty lets the seed choose.
	Preset string
	// FaultsPerHour is the mean number of faults and user actions per
	// client per hour; 0 means 1.5. Negative means none.
	FaultsPerHour float64
	// RestartsPerDay is the mean number of service restarts per day; 0
	// means 12. Negative means none.
	RestartsPerDay float64
}

func (c RandomConfig) withDefaults() RandomConfig {
	if c.Clients == 0 {
		c.Clients = 12
	}
	if c.Duration == 0 {
		c.Duration = 6 * time.Hour
	}
	if c.FaultsPerHour == 0 {
		c.FaultsPerHour = 1.5
	}
	if c.RestartsPerDay == 0 {
		c.RestartsPerDay = 12
	}
	return c
}

// RandomScenario draws a scenario from seed: a policy preset (with
// shortened timeouts now and then, so that TTLs and idle timeouts happen
// within the run), a mix of clients (named and guest users, shared users
// that log in twice, typing users with forms, idle users), and a timeline
// of faults and user actions that stops early enough for a quiet period in
// which client and service must come to agree. The same seed always draws
// the same scenario, and String writes it as a file that replays it.
func RandomScenario(seed uint64, cfg RandomConfig) *Scenario {
	cfg = cfg.withDefaults()
	r := rand.New(rand.NewPCG(seed, 0x5ce7a210))
	g := &gen{r: r, cfg: cfg}
	preset := cfg.Preset
	if preset == "" {
		preset = []string{"realtime", "resumable", "forms"}[r.IntN(3)]
	}
	sc := &Scenario{
		Name: fmt.Sprintf("random-%s-%d", preset, seed), Seed: seed, Duration: cfg.Duration,
		Sweep: time.Second, LatencyMin: 5 * time.Millisecond, LatencyMax: time.Duration(20+r.IntN(200)) * time.Millisecond,
		Description: fmt.Sprintf("Drawn by RandomScenario from seed %d.", seed),
	}
	var over []string
	switch preset {
	case "resumable":
		if r.IntN(2) == 0 {
			ttl := g.between(cfg.Duration/4, cfg.Duration).Round(time.Second)
			over = append(over, "ttl="+formatDuration(ttl))
			if r.IntN(2) == 0 {
				over = append(over, "notstarted="+formatDuration(g.between(ttl/8, ttl).Round(time.Second)))
			}
		}
	case "forms":
		if r.IntN(2) == 0 {
			idle := g.between(3*time.Minute, 20*time.Minute).Round(time.Minute)
			over = append(over, "idle="+formatDuration(idle), "auth="+formatDuration(2*idle),
				"maxauth="+formatDuration(g.between(4*idle, 8*time.Hour).Round(time.Minute)))
		}
		if r.IntN(3) == 0 {
			over = append(over, "draftretention="+formatDuration(g.between(30*time.Minute, cfg.Duration).Round(time.Minute)))
		}
	}
	if err := sc.parsePolicy(append([]string{preset}, over...)); err != nil {
		panic("sim: a random policy is invalid: " + err.Error())
	}
	p := sc.Policy.Effective()
	quiet := 2*p.KeepAlive.LivenessTimeout + 10*time.Minute
	faultEnd := cfg.Duration - quiet
	if faultEnd < cfg.Duration/3 {
		faultEnd = cfg.Duration / 3
	}

	users := max(1, cfg.Clients*2/3)
	for i := range cfg.Clients {
		c := ClientSpec{Name: fmt.Sprintf("C%d", i+1)}
		guest := preset != "realtime" && r.IntN(4) == 0
		if !guest {
			c.User = fmt.Sprintf("u%d", r.IntN(users)+1)
		}
		c.Start = g.between(0, min(10*time.Minute, cfg.Duration/10))
		c.Relogin = g.between(5*time.Second, 2*time.Minute).Round(time.Second)
		switch preset {
		case "realtime":
			c.Reconnect = ReconnectLogin
			if r.IntN(3) == 0 {
				c.Login = LoginGuestLogin
			}
			if r.IntN(3) == 0 {
				c.Activity = g.between(10*time.Second, 5*time.Minute).Round(time.Second)
			}
		case "resumable":
			c.Ref = "ref-" + c.Name
			if c.User != "" && r.IntN(2) == 0 {
				c.Ref = "ref-" + c.User // one reference per user, shared by devices
			}
			c.Channel = []string{"frame", "link"}[r.IntN(2)]
			c.Login = LoginReference
			switch r.IntN(6) {
			case 0:
				c.NoStart = true
			case 1, 2, 3:
				c.Activity = g.between(10*time.Second, 10*time.Minute).Round(time.Second)
			}
		case "forms":
			if c.User != "" && r.IntN(3) == 0 {
				c.Login = LoginGuestLogin
			}
			if r.IntN(4) != 0 {
				c.Form = "f-" + c.Name
				c.Activity = g.between(5*time.Second, 3*time.Minute).Round(time.Second)
				c.Autosave = g.between(10*time.Second, 2*time.Minute).Round(time.Second)
			}
		}
		sc.Clients = append(sc.Clients, c)
	}

	for _, c := range sc.Clients {
		g.clientActions(sc, c, faultEnd)
	}
	if cfg.RestartsPerDay > 0 {
		n := g.poisson(cfg.RestartsPerDay * float64(faultEnd) / float64(day))
		for range n {
			a := Action{At: g.between(time.Minute, faultEnd), Kind: "restart",
				Value: g.between(time.Second, 2*time.Minute).Round(time.Second), Crash: r.IntN(2) == 0}
			sc.Timeline = append(sc.Timeline, a)
		}
	}
	if cfg.FaultsPerHour > 0 {
		n := g.poisson(float64(faultEnd) / float64(6*time.Hour))
		for range n {
			at := g.between(time.Minute, faultEnd)
			sc.Timeline = append(sc.Timeline, Action{At: at, Kind: "partition", Who: "all",
				For: min(g.between(5*time.Second, 3*time.Minute), faultEnd-at)})
		}
		if preset != "resumable" && r.IntN(3) == 0 {
			u := sc.Clients[r.IntN(len(sc.Clients))].User
			if u != "" {
				sc.Timeline = append(sc.Timeline, Action{At: g.between(time.Minute, faultEnd), Kind: "revoke", Who: u})
			}
		}
	}
	for i := range sc.Timeline {
		a := &sc.Timeline[i]
		a.At = a.At.Round(time.Millisecond)
		a.For = a.For.Round(time.Millisecond)
		if durationKinds[a.Kind] && a.For <= 0 {
			a.For = time.Second
		}
		a.Source = a.String()
	}
	if err := sc.Validate(); err != nil {
		panic("sim: a random scenario is invalid: " + err.Error())
	}
	return sc
}

type gen struct {
	r   *rand.Rand
	cfg RandomConfig
}

func (g *gen) between(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(g.r.Int64N(int64(hi-lo)))
}

func (g *gen) poisson(mean float64) int {
	n := 0
	for t := g.r.ExpFloat64(); t < mean; t += g.r.ExpFloat64() {
		n++
	}
	return n
}

// clientActions draws the faults and user actions of one client.
func (g *gen) clientActions(sc *Scenario, c ClientSpec, faultEnd time.Duration) {
	r := g.r
	if g.cfg.FaultsPerHour < 0 || faultEnd <= c.Start {
		return
	}
	n := g.poisson(g.cfg.FaultsPerHour * float64(faultEnd-c.Start) / float64(time.Hour))
	add := func(a Action) {
		a.Who = c.Name
		if durationKinds[a.Kind] {
			a.For = min(a.For, faultEnd-a.At)
		}
		sc.Timeline = append(sc.Timeline, a)
	}
	for range n {
		at := g.between(c.Start+time.Second, faultEnd)
		switch k := r.IntN(100); {
		case k < 18:
			add(Action{At: at, Kind: "partition", For: g.between(5*time.Second, 5*time.Minute)})
		case k < 26:
			add(Action{At: at, Kind: "loss", P: float64(5+r.IntN(60)) / 100, For: g.between(30*time.Second, 10*time.Minute)})
		case k < 33:
			add(Action{At: at, Kind: "flap", For: g.between(time.Minute, 10*time.Minute), Value: g.between(4*time.Second, 40*time.Second).Round(time.Second)})
		case k < 39:
			add(Action{At: at, Kind: "delay", Value: g.between(time.Second, 20*time.Second).Round(100 * time.Millisecond), For: g.between(30*time.Second, 5*time.Minute)})
		case k < 52:
			add(Action{At: at, Kind: "hide", For: g.between(time.Minute, 2*time.Hour)})
		case k < 58:
			add(Action{At: at, Kind: "freeze", For: g.between(5*time.Second, 20*time.Minute)})
		case k < 70:
			add(Action{At: at, Kind: "close"})
			if back := at + g.between(10*time.Second, 2*time.Hour); back < faultEnd {
				add(Action{At: back, Kind: "open"})
			}
		case k < 76:
			add(Action{At: at, Kind: "logout"})
			if back := at + g.between(10*time.Second, 30*time.Minute); back < faultEnd {
				add(Action{At: back, Kind: "login"})
			}
		case k < 82:
			add(Action{At: at, Kind: "login"})
		case k < 90:
			add(Action{At: at, Kind: "save"})
		case k < 93:
			add(Action{At: at, Kind: "submit"})
		default:
			add(Action{At: at, Kind: "type"})
		}
	}
}

// SteadyScenario is the load scenario: n named clients of the preset that
// connect within the first minute and keep alive, with no faults and no
// user actions, for d. It measures the simulator's speed on the keepalive
// hot path.
//
// overrides adjust the preset as a scenario's policy line does
// ("checkpoint=1h").
func SteadyScenario(n int, d time.Duration, preset string, overrides ...string) (*Scenario, error) {
	sc := &Scenario{
		Name: fmt.Sprintf("steady-%s-%d", preset, n), Seed: 1, Duration: d, Sweep: time.Second,
		LatencyMin: 5 * time.Millisecond, LatencyMax: 100 * time.Millisecond,
		Description: fmt.Sprintf("%d clients keeping alive for %s, no faults.", n, formatDuration(d)),
	}
	if err := sc.parsePolicy(append([]string{preset}, overrides...)); err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range n {
		sc.Clients = append(sc.Clients, ClientSpec{
			Name: fmt.Sprintf("C%d", i+1), User: fmt.Sprintf("u%d", i+1),
			Start: time.Duration(r.Int64N(int64(time.Minute))).Round(time.Millisecond),
		})
	}
	return sc, sc.Validate()
}
