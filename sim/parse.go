package sim

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/core"
)

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
