package sim

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/core"
)

// Scenario is one simulated run: a policy, the clients, a timeline of
// faults and user actions, and the outcomes expected. Scenario files in
// sim/scenarios use the line format that ParseScenario reads and String
// writes; docs/simulation.md describes it.
type Scenario struct {
	Name        string
	Description string // the comment block at the top of the file
	Seed        uint64 // the default seed; Options.Seed overrides it

	Preset    string   // realtime, resumable or forms
	Overrides []string // policy overrides as written, "idle=15m"
	Policy    core.Policy

	Duration time.Duration
	// Sweep is how often the service sweeps its Manager: deadlines are
	// carried out at most this late.
	Sweep time.Duration
	// Latency bounds the one-way delay of a healthy network.
	LatencyMin, LatencyMax time.Duration

	// Oracles turns on optional oracles (see optionalOracles).
	Oracles []string

	Clients  []ClientSpec
	Timeline []Action
	Expect   []Expectation
}

// optionalOracles are oracles a scenario turns on with an "oracle" line,
// because they cost more than the others (checkpoint-rate decodes every
// session write).
var optionalOracles = map[string]bool{
	// store.checkpoints: keepalives and activity alone write a session to
	// the store at most once per CheckpointEvery (checkpoint-rate.sim).
	"checkpoint-rate": true,
}

// LoginMode says how a client obtains a session.
type LoginMode string

const (
	LoginCreate     LoginMode = "create"      // Create, with the user as subject when there is one
	LoginGuestLogin LoginMode = "guest-login" // Create as a guest, then Login (the ID rotates)
	LoginReference  LoginMode = "reference"   // GetOrCreate by the client reference, then Resume
	// LoginGuest starts as a guest; a "login" action logs the user in on
	// the guest session (the ID rotates), and later sessions log in.
	LoginGuest LoginMode = "guest"
)

// ReconnectMode says what a client does when its link drops or its session
// ends while the tab is open.
type ReconnectMode string

const (
	// ReconnectResume resumes the same session ID; when that fails it
	// obtains a new session.
	ReconnectResume ReconnectMode = "resume"
	// ReconnectLogin shows why and, after Relogin, logs in anew: only an
	// explicit login starts over (product 1).
	ReconnectLogin ReconnectMode = "login"
	// ReconnectNone stays offline until the timeline opens the tab again.
	ReconnectNone ReconnectMode = "none"
)

// ClientSpec is one simulated user with one browser tab.
type ClientSpec struct {
	Name      string
	User      string // the subject; empty for a guest
	Ref       string // the integrator's client reference
	Channel   string
	Login     LoginMode
	Reconnect ReconnectMode
	Start     time.Duration // when the tab opens
	Relogin   time.Duration // the user's delay before logging in again; -1 never
	Activity  time.Duration // mean gap between user actions; 0 is an idle user
	Form      string        // a form the user fills in (a draft)
	// NoStart opens the session by reference and connects, but never
	// starts it: it stays not_started (rule P13).
	NoStart  bool
	Autosave time.Duration // autosave period while typing; 0 saves on demand only
}

// Action is one entry of the timeline.
type Action struct {
	At     time.Duration
	Kind   string // see actionKinds
	Who    string // a client name, "all", or for revoke the user
	For    time.Duration
	P      float64       // loss probability
	Value  time.Duration // extra latency, flap period, restart downtime
	Crash  bool          // restart without a graceful stop
	Line   int
	Source string
}

var actionKinds = map[string]bool{
	"partition": true, "loss": true, "flap": true, "delay": true, "hide": true,
	"freeze": true, "close": true, "open": true, "logout": true, "login": true,
	"save": true, "submit": true, "type": true, "restart": true, "revoke": true,
}

// durationKinds are the actions that last for a while.
var durationKinds = map[string]bool{
	"partition": true, "loss": true, "flap": true, "delay": true, "hide": true, "freeze": true,
}

// Expectation is an outcome a scenario asserts once the run is over.
type Expectation struct {
	Line    int
	Source  string
	Kind    string // ends, live, connected, shows, sessions, draft-intact, draft-restored, failure
	Client  string
	Session int // 1-based session number of the client, for ends and live
	Reason  string
	From    time.Duration
	To      time.Duration
	N       int
	Form    string
	Oracle  string
}

// Validate checks the scenario for contradictions that would make its
// oracles meaningless: unknown clients, a healthy latency that could
// already break the keepalive answer deadline, actions after the end.
func (sc *Scenario) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("sim: scenario %s: %s", sc.Name, fmt.Sprintf(format, args...))
	}
	if sc.Duration <= 0 {
		return bad("duration must be positive")
	}
	if sc.Sweep <= 0 {
		return bad("sweep must be positive")
	}
	if err := sc.Policy.Validate(); err != nil {
		return bad("%v", err)
	}
	p := sc.Policy.Effective()
	if sc.LatencyMin < 0 || sc.LatencyMax < sc.LatencyMin {
		return bad("latency range %v..%v is empty", sc.LatencyMin, sc.LatencyMax)
	}
	if !p.KeepAlive.Disabled && 2*sc.LatencyMax >= p.KeepAlive.AckTimeout {
		return bad("a round trip of up to %v does not fit the ack timeout %v", 2*sc.LatencyMax, p.KeepAlive.AckTimeout)
	}
	names := map[string]bool{}
	users := map[string]bool{}
	for i := range sc.Clients {
		c := &sc.Clients[i]
		if names[c.Name] {
			return bad("client %s is declared twice", c.Name)
		}
		names[c.Name] = true
		if c.User != "" {
			users[c.User] = true
		}
		switch c.Login {
		case "":
			c.Login = LoginCreate
			if c.Ref != "" {
				c.Login = LoginReference
			}
		case LoginCreate:
		case LoginGuestLogin, LoginGuest:
			if c.User == "" {
				return bad("client %s: login=guest-login needs a user", c.Name)
			}
		case LoginReference:
			if c.Ref == "" {
				return bad("client %s: login=reference needs ref=", c.Name)
			}
		default:
			return bad("client %s: unknown login mode %q", c.Name, c.Login)
		}
		switch c.Reconnect {
		case "":
			c.Reconnect = ReconnectResume
			if sc.Preset == "realtime" {
				c.Reconnect = ReconnectLogin
			}
		case ReconnectResume, ReconnectLogin, ReconnectNone:
		default:
			return bad("client %s: unknown reconnect mode %q", c.Name, c.Reconnect)
		}
		if c.Relogin == 0 {
			c.Relogin = 30 * time.Second
		}
		if c.Autosave > 0 && c.Form == "" {
			return bad("client %s: autosave without a form", c.Name)
		}
		if c.NoStart && (c.Login != LoginReference || c.Activity > 0 || c.Form != "") {
			return bad("client %s: nostart needs login=reference, no activity and no form", c.Name)
		}
		for _, s := range []string{c.User, c.Ref, c.Channel, c.Form} {
			if strings.ContainsAny(s, " \t") {
				return bad("client %s: settings cannot contain spaces", c.Name)
			}
		}
	}
	for _, a := range sc.Timeline {
		switch {
		case a.Kind == "revoke":
			if !users[a.Who] {
				return bad("line %d: revoke names no user of a client: %q", a.Line, a.Who)
			}
		case a.Kind != "restart" && a.Who != "all" && !names[a.Who]:
			return bad("line %d: unknown client %q", a.Line, a.Who)
		}
		if a.At < 0 || a.At > sc.Duration {
			return bad("line %d: %v is outside the run", a.Line, a.At)
		}
	}
	for _, e := range sc.Expect {
		if e.Kind != "failure" && !names[e.Client] {
			return bad("line %d: unknown client %q", e.Line, e.Client)
		}
	}
	slices.SortStableFunc(sc.Timeline, func(a, b Action) int { return int(a.At - b.At) })
	return nil
}

// quietFrom returns the instant after which no fault is active: the end of
// the last fault or restart.
func (sc *Scenario) quietFrom() time.Duration {
	var q time.Duration
	for _, a := range sc.Timeline {
		end := a.At + a.For
		if a.Kind == "restart" {
			end = a.At + a.Value
		}
		if durationKinds[a.Kind] || a.Kind == "restart" {
			q = max(q, end)
		}
	}
	return q
}

// String writes the scenario in the format ParseScenario reads.
func (sc *Scenario) String() string {
	var b strings.Builder
	for _, l := range strings.Split(sc.Description, "\n") {
		if l != "" {
			fmt.Fprintf(&b, "# %s\n", l)
		}
	}
	fmt.Fprintf(&b, "name %s\n", sc.Name)
	if sc.Seed != 0 {
		fmt.Fprintf(&b, "seed %d\n", sc.Seed)
	}
	fmt.Fprintf(&b, "policy %s\n", strings.Join(append([]string{sc.Preset}, sc.Overrides...), " "))
	fmt.Fprintf(&b, "duration %s\nsweep %s\n", formatDuration(sc.Duration), formatDuration(sc.Sweep))
	fmt.Fprintf(&b, "network latency=%s..%s\n", formatDuration(sc.LatencyMin), formatDuration(sc.LatencyMax))
	for _, o := range sc.Oracles {
		fmt.Fprintf(&b, "oracle %s\n", o)
	}
	for _, c := range sc.Clients {
		fmt.Fprintf(&b, "client %s", c.Name)
		for _, kv := range [][2]string{{"user", c.User}, {"ref", c.Ref}, {"channel", c.Channel},
			{"login", string(c.Login)}, {"reconnect", string(c.Reconnect)}, {"form", c.Form}} {
			if kv[1] != "" {
				fmt.Fprintf(&b, " %s=%s", kv[0], kv[1])
			}
		}
		for _, kv := range []struct {
			k string
			d time.Duration
		}{{"start", c.Start}, {"relogin", c.Relogin}, {"activity", c.Activity}, {"autosave", c.Autosave}} {
			if kv.d < 0 {
				fmt.Fprintf(&b, " %s=never", kv.k)
			} else if kv.d != 0 {
				fmt.Fprintf(&b, " %s=%s", kv.k, formatDuration(kv.d))
			}
		}
		if c.NoStart {
			b.WriteString(" nostart")
		}
		b.WriteByte('\n')
	}
	for _, a := range sc.Timeline {
		b.WriteString(a.String())
		b.WriteByte('\n')
	}
	for _, e := range sc.Expect {
		fmt.Fprintf(&b, "%s\n", e.Source)
	}
	return b.String()
}

// String writes the action as a timeline line.
func (a Action) String() string {
	s := fmt.Sprintf("at %s %s", formatDuration(a.At), a.Kind)
	if a.Who != "" {
		s += " " + a.Who
	}
	switch a.Kind {
	case "loss":
		s += " " + strconv.FormatFloat(a.P, 'g', -1, 64)
	case "delay":
		s += " " + formatDuration(a.Value)
	case "flap":
		if a.Value != 0 {
			s += " period=" + formatDuration(a.Value)
		}
	case "restart":
		if a.Value != 0 {
			s += " down=" + formatDuration(a.Value)
		}
		if a.Crash {
			s += " crash"
		}
	}
	if a.For != 0 {
		s += " for " + formatDuration(a.For)
	}
	return s
}
