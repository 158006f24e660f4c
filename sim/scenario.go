package sim

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
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
// because they check a promise of DESIGN.md that core does not keep yet
// (see the bug-*.sim scenarios).
var optionalOracles = map[string]bool{
	// store.checkpoints: keepalives and activity alone write a session to
	// the store at most once per CheckpointEvery.
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

// LoadScenario reads a scenario file.
func LoadScenario(path string) (*Scenario, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	return ParseScenario(name, f)
}

// ParseScenario reads a scenario in the line format; name is used unless
// the file names itself.
func ParseScenario(name string, r io.Reader) (*Scenario, error) {
	sc := &Scenario{Name: name, Preset: "realtime", Duration: time.Hour, Sweep: time.Second,
		LatencyMin: 10 * time.Millisecond, LatencyMax: 150 * time.Millisecond}
	var desc []string
	header := true
	policySeen := false
	sn := bufio.NewScanner(r)
	line := 0
	for sn.Scan() {
		line++
		text := strings.TrimSpace(sn.Text())
		if strings.HasPrefix(text, "#") {
			if header {
				desc = append(desc, strings.TrimSpace(strings.TrimPrefix(text, "#")))
			}
			continue
		}
		if i := strings.Index(text, " #"); i >= 0 {
			text = strings.TrimSpace(text[:i])
		}
		if text == "" {
			header = header && len(desc) == 0
			continue
		}
		header = false
		f := strings.Fields(text)
		var err error
		switch f[0] {
		case "name":
			err = want(f, 2, func() error { sc.Name = f[1]; return nil })
		case "seed":
			err = want(f, 2, func() (e error) { sc.Seed, e = strconv.ParseUint(f[1], 10, 64); return })
		case "duration":
			err = want(f, 2, func() (e error) { sc.Duration, e = parseDuration(f[1]); return })
		case "sweep":
			err = want(f, 2, func() (e error) { sc.Sweep, e = parseDuration(f[1]); return })
		case "policy":
			policySeen = true
			err = sc.parsePolicy(f[1:])
		case "network":
			err = sc.parseNetwork(f[1:])
		case "oracle":
			err = want(f, 2, func() error {
				if !optionalOracles[f[1]] {
					return fmt.Errorf("unknown optional oracle %q", f[1])
				}
				sc.Oracles = append(sc.Oracles, f[1])
				return nil
			})
		case "client":
			var c ClientSpec
			c, err = parseClient(f[1:])
			sc.Clients = append(sc.Clients, c)
		case "at":
			var a Action
			a, err = parseAction(f[1:])
			a.Line, a.Source = line, text
			sc.Timeline = append(sc.Timeline, a)
		case "expect":
			var e Expectation
			e, err = parseExpect(f[1:])
			e.Line, e.Source = line, text
			sc.Expect = append(sc.Expect, e)
		default:
			err = fmt.Errorf("unknown directive %q", f[0])
		}
		if err != nil {
			return nil, fmt.Errorf("sim: scenario %s line %d: %w", sc.Name, line, err)
		}
	}
	if err := sn.Err(); err != nil {
		return nil, fmt.Errorf("sim: scenario %s: %w", sc.Name, err)
	}
	if !policySeen {
		if err := sc.parsePolicy([]string{sc.Preset}); err != nil {
			return nil, err
		}
	}
	sc.Description = strings.Join(desc, "\n")
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	return sc, nil
}

func want(f []string, n int, then func() error) error {
	if len(f) != n {
		return fmt.Errorf("%s takes %d argument(s)", f[0], n-1)
	}
	return then()
}

// presetPolicy returns the named preset of core.
func presetPolicy(name string) (core.Policy, bool) {
	switch name {
	case "realtime":
		return core.RealtimePolicy(), true
	case "resumable":
		return core.ResumablePolicy(), true
	case "forms":
		return core.FormsPolicy(), true
	}
	return core.Policy{}, false
}

func (sc *Scenario) parsePolicy(f []string) error {
	if len(f) == 0 {
		return fmt.Errorf("policy needs a preset: realtime, resumable or forms")
	}
	p, ok := presetPolicy(f[0])
	if !ok {
		return fmt.Errorf("unknown policy preset %q", f[0])
	}
	sc.Preset, sc.Overrides = f[0], nil
	for _, kv := range f[1:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("policy override %q is not key=value", kv)
		}
		if err := applyOverride(&p, k, v); err != nil {
			return err
		}
		sc.Overrides = append(sc.Overrides, kv)
	}
	if err := p.Validate(); err != nil {
		return err
	}
	sc.Policy = p
	return nil
}

func applyOverride(p *core.Policy, k, v string) error {
	durs := map[string]*time.Duration{
		"ttl": &p.TTL, "idle": &p.IdleTimeout, "auth": &p.AuthTimeout, "maxauth": &p.MaxAuthAge,
		"notstarted": &p.NotStartedTimeout, "interval": &p.KeepAlive.Interval,
		"liveness": &p.KeepAlive.LivenessTimeout, "ack": &p.KeepAlive.AckTimeout,
		"draftretention": &p.DraftRetention, "retention": &p.Retention, "checkpoint": &p.CheckpointEvery,
	}
	if d, ok := durs[k]; ok {
		x, err := parseDuration(v)
		if err != nil {
			return err
		}
		*d = x
		return nil
	}
	switch k {
	case "extends":
		p.KeepAlive.ExtendsIdle = core.KeepAliveScope(v)
	case "ondisconnect":
		p.OnDisconnect = core.DisconnectAction(v)
	case "maxpersubject":
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("maxpersubject: %w", err)
		}
		p.MaxSessionsPerSubject = n
	default:
		return fmt.Errorf("unknown policy field %q", k)
	}
	return nil
}

func (sc *Scenario) parseNetwork(f []string) error {
	for _, kv := range f {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "latency":
			lo, hi, ok := strings.Cut(v, "..")
			if !ok {
				hi = lo
			}
			var err error
			if sc.LatencyMin, err = parseDuration(lo); err != nil {
				return err
			}
			if sc.LatencyMax, err = parseDuration(hi); err != nil {
				return err
			}
		default:
			return fmt.Errorf("unknown network setting %q", k)
		}
	}
	return nil
}

func parseClient(f []string) (ClientSpec, error) {
	if len(f) == 0 {
		return ClientSpec{}, fmt.Errorf("client needs a name")
	}
	c := ClientSpec{Name: f[0]}
	if !validName(c.Name) {
		return c, fmt.Errorf("client name %q: use letters, digits, - and _", c.Name)
	}
	for _, kv := range f[1:] {
		if kv == "nostart" {
			c.NoStart = true
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return c, fmt.Errorf("client setting %q is not key=value", kv)
		}
		var err error
		switch k {
		case "user":
			c.User = v
		case "ref":
			c.Ref = v
		case "channel":
			c.Channel = v
		case "login":
			c.Login = LoginMode(v)
		case "reconnect":
			c.Reconnect = ReconnectMode(v)
		case "start":
			c.Start, err = parseDuration(v)
		case "relogin":
			if v == "never" {
				c.Relogin = -1
			} else {
				c.Relogin, err = parseDuration(v)
			}
		case "activity":
			c.Activity, err = parseDuration(v)
		case "form":
			c.Form = v
		case "autosave":
			c.Autosave, err = parseDuration(v)
		default:
			err = fmt.Errorf("unknown client setting %q", k)
		}
		if err != nil {
			return c, err
		}
	}
	return c, nil
}

func validName(s string) bool {
	if s == "" || s == "all" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// parseAction reads "TIME KIND WHO ..." (the "at" is already gone).
func parseAction(f []string) (Action, error) {
	var a Action
	if len(f) < 2 {
		return a, fmt.Errorf("at needs a time and an action")
	}
	var err error
	if a.At, err = parseDuration(f[0]); err != nil {
		return a, err
	}
	a.Kind = f[1]
	if !actionKinds[a.Kind] {
		return a, fmt.Errorf("unknown action %q", a.Kind)
	}
	rest := f[2:]
	if a.Kind != "restart" {
		if len(rest) == 0 {
			return a, fmt.Errorf("%s needs a client (or all)", a.Kind)
		}
		a.Who, rest = rest[0], rest[1:]
	}
	switch a.Kind {
	case "loss":
		if len(rest) == 0 {
			return a, fmt.Errorf("loss needs a probability")
		}
		if a.P, err = strconv.ParseFloat(rest[0], 64); err != nil || a.P < 0 || a.P > 1 {
			return a, fmt.Errorf("loss probability %q is not in [0,1]", rest[0])
		}
		rest = rest[1:]
	case "delay":
		if len(rest) == 0 {
			return a, fmt.Errorf("delay needs an extra latency")
		}
		if a.Value, err = parseDuration(rest[0]); err != nil {
			return a, err
		}
		rest = rest[1:]
	}
	for len(rest) > 0 {
		switch {
		case rest[0] == "for" && len(rest) > 1:
			if a.For, err = parseDuration(rest[1]); err != nil {
				return a, err
			}
			rest = rest[2:]
		case rest[0] == "crash" && a.Kind == "restart":
			a.Crash, rest = true, rest[1:]
		case strings.HasPrefix(rest[0], "down=") && a.Kind == "restart",
			strings.HasPrefix(rest[0], "period=") && a.Kind == "flap":
			_, v, _ := strings.Cut(rest[0], "=")
			if a.Value, err = parseDuration(v); err != nil {
				return a, err
			}
			rest = rest[1:]
		default:
			return a, fmt.Errorf("unexpected %q in %s", rest[0], a.Kind)
		}
	}
	if durationKinds[a.Kind] && a.For <= 0 {
		return a, fmt.Errorf("%s needs 'for DURATION'", a.Kind)
	}
	if !durationKinds[a.Kind] && a.For != 0 {
		return a, fmt.Errorf("%s takes no duration", a.Kind)
	}
	return a, nil
}

// parseExpect reads an expectation (the "expect" is already gone).
func parseExpect(f []string) (Expectation, error) {
	var e Expectation
	if len(f) < 2 {
		return e, fmt.Errorf("expect needs a subject and an outcome")
	}
	if f[0] == "failure" {
		e.Kind, e.Oracle = "failure", f[1]
		return e, nil
	}
	who := f[0]
	if name, n, ok := strings.Cut(who, "#"); ok {
		num, err := strconv.Atoi(n)
		if err != nil || num < 1 {
			return e, fmt.Errorf("bad session number in %q", who)
		}
		who, e.Session = name, num
	}
	e.Client = who
	rest := f[2:]
	switch f[1] {
	case "ends":
		e.Kind = "ends"
		if len(rest) == 0 {
			return e, fmt.Errorf("ends needs a reason")
		}
		e.Reason, rest = rest[0], rest[1:]
		if len(rest) == 2 && rest[0] == "at" {
			lo, hi, ok := strings.Cut(rest[1], "..")
			var err error
			if e.From, err = parseDuration(lo); err != nil {
				return e, err
			}
			e.To = e.From
			if ok {
				if e.To, err = parseDuration(hi); err != nil {
					return e, err
				}
			}
			rest = nil
		}
	case "live", "connected":
		e.Kind = f[1]
	case "shows":
		e.Kind = "shows"
		if len(rest) == 0 {
			return e, fmt.Errorf("shows needs a reason")
		}
		e.Reason, rest = rest[0], rest[1:]
	case "sessions":
		e.Kind = "sessions"
		if len(rest) == 0 {
			return e, fmt.Errorf("sessions needs a count")
		}
		n, err := strconv.Atoi(rest[0])
		if err != nil {
			return e, err
		}
		e.N, rest = n, rest[1:]
	case "draft":
		if len(rest) != 2 || (rest[1] != "intact" && rest[1] != "restored") {
			return e, fmt.Errorf("draft expectations read 'draft FORM intact' or 'draft FORM restored'")
		}
		e.Kind, e.Form, rest = "draft-"+rest[1], rest[0], nil
	default:
		return e, fmt.Errorf("unknown expectation %q", f[1])
	}
	if len(rest) > 0 {
		return e, fmt.Errorf("unexpected %q", strings.Join(rest, " "))
	}
	if e.Session == 0 && (e.Kind == "ends" || e.Kind == "live") {
		e.Session = 1
	}
	return e, nil
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
