package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/core"
)

// policyFlags binds every policy value to a flag and to an environment
// variable SESSIONKIT_<FLAG> (upper case, dashes as underscores). A flag on the
// command line wins over the environment, which wins over the preset.
type policyFlags struct {
	preset string
	durs   map[string]*time.Duration
	set    map[string]bool

	maxSessions  int
	onDisconnect string
	extendsIdle  string
	keepaliveOff bool
}

// durationFlags names each duration flag and the Policy field it sets.
var durationFlags = []struct {
	name, usage string
	field       func(*core.Policy) *time.Duration
}{
	{"ttl", "session ID lifetime from creation (P1)", func(p *core.Policy) *time.Duration { return &p.TTL }},
	{"idle-timeout", "end sessions idle this long; 0 off (P2)", func(p *core.Policy) *time.Duration { return &p.IdleTimeout }},
	{"auth-timeout", "sliding authentication lifetime; 0 off (P3)", func(p *core.Policy) *time.Duration { return &p.AuthTimeout }},
	{"max-auth-age", "absolute cap since login; 0 off (P3)", func(p *core.Policy) *time.Duration { return &p.MaxAuthAge }},
	{"not-started-timeout", "prune sessions never started; 0 = TTL (P13)", func(p *core.Policy) *time.Duration { return &p.NotStartedTimeout }},
	{"keepalive-interval", "keepalive interval; 0 derives it (P4)", func(p *core.Policy) *time.Duration { return &p.KeepAlive.Interval }},
	{"liveness-timeout", "silence after which a connection is lost; 0 = 2×interval+5s (P6)", func(p *core.Policy) *time.Duration { return &p.KeepAlive.LivenessTimeout }},
	{"ack-timeout", "client wait for a keepalive answer; 0 = min(10s, interval/2) (P6)", func(p *core.Policy) *time.Duration { return &p.KeepAlive.AckTimeout }},
	{"draft-retention", "keep drafts this long after their last save (P14)", func(p *core.Policy) *time.Duration { return &p.DraftRetention }},
	{"retention", "keep ended sessions as tombstones this long (P17)", func(p *core.Policy) *time.Duration { return &p.Retention }},
	{"checkpoint-every", "write touches at most this often per session", func(p *core.Policy) *time.Duration { return &p.CheckpointEvery }},
}

func addPolicyFlags(fs *flag.FlagSet) *policyFlags {
	pf := &policyFlags{durs: make(map[string]*time.Duration)}
	fs.StringVar(&pf.preset, "preset", "realtime", "policy preset: realtime, resumable or forms")
	for _, d := range durationFlags {
		pf.durs[d.name] = fs.Duration(d.name, 0, d.usage+" (default: the preset's)")
	}
	fs.IntVar(&pf.maxSessions, "max-sessions-per-subject", 0, "live sessions per user before the oldest is superseded; 0 unlimited (P9) (default: the preset's)")
	fs.StringVar(&pf.onDisconnect, "on-disconnect", "", "end or suspend a session whose last connection goes (P7) (default: the preset's)")
	fs.StringVar(&pf.extendsIdle, "keepalive-extends-idle", "", "always or while_in_progress (P5) (default: the preset's)")
	fs.BoolVar(&pf.keepaliveOff, "keepalive-disabled", false, "turn keepalives off (P4)")
	return pf
}

// fromEnv sets every flag not given on the command line from its
// environment variable, if set.
func fromEnv(fs *flag.FlagSet, lookup func(string) (string, bool)) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		name := "SESSIONKIT_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := lookup(name); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %v", name, v, e)
			}
		}
	})
	return err
}

// parse parses args, then the environment, and records what was set.
func parse(fs *flag.FlagSet, pf *policyFlags, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := fromEnv(fs, os.LookupEnv); err != nil {
		return err
	}
	if pf != nil {
		pf.set = map[string]bool{}
		fs.Visit(func(f *flag.Flag) { pf.set[f.Name] = true })
	}
	return nil
}

// policy returns the preset with every flag that was set applied, validated.
func (pf *policyFlags) policy() (core.Policy, error) {
	var p core.Policy
	switch pf.preset {
	case "realtime":
		p = core.RealtimePolicy()
	case "resumable":
		p = core.ResumablePolicy()
	case "forms":
		p = core.FormsPolicy()
	default:
		return p, fmt.Errorf("-preset %q: want realtime, resumable or forms", pf.preset)
	}
	for _, d := range durationFlags {
		if pf.set[d.name] {
			*d.field(&p) = *pf.durs[d.name]
		}
	}
	if pf.set["max-sessions-per-subject"] {
		p.MaxSessionsPerSubject = pf.maxSessions
	}
	if pf.set["on-disconnect"] {
		p.OnDisconnect = core.DisconnectAction(pf.onDisconnect)
	}
	if pf.set["keepalive-extends-idle"] {
		p.KeepAlive.ExtendsIdle = core.KeepAliveScope(pf.extendsIdle)
	}
	if pf.set["keepalive-disabled"] {
		p.KeepAlive.Disabled = pf.keepaliveOff
	}
	return p, p.Validate()
}
