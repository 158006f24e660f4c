package main

import (
	"errors"
	"flag"
	"io"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/core"
)

func parsePolicy(t *testing.T, env map[string]string, args ...string) (core.Policy, error) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	pf := addPolicyFlags(fs)
	if err := parse(fs, pf, args); err != nil {
		return core.Policy{}, err
	}
	return pf.policy()
}

func TestPolicyFlags(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		args  []string
		check func(p core.Policy) bool
	}{
		{"preset only", nil, []string{"-preset", "forms"}, func(p core.Policy) bool { return p.IdleTimeout == 15*time.Minute }},
		{"flag over preset", nil, []string{"-preset", "forms", "-idle-timeout", "5m"}, func(p core.Policy) bool { return p.IdleTimeout == 5*time.Minute }},
		{"zero flag turns off", nil, []string{"-preset", "forms", "-idle-timeout", "0", "-auth-timeout", "0"}, func(p core.Policy) bool {
			return p.IdleTimeout == 0 && p.Interval() == 20*time.Second
		}},
		{"env over preset", map[string]string{"SESSIONKIT_TTL": "48h"}, nil, func(p core.Policy) bool { return p.TTL == 48*time.Hour }},
		{"flag over env", map[string]string{"SESSIONKIT_TTL": "48h"}, []string{"-ttl", "24h"}, func(p core.Policy) bool { return p.TTL == 24*time.Hour }},
		{"every kind", map[string]string{"SESSIONKIT_ON_DISCONNECT": "suspend", "SESSIONKIT_MAX_SESSIONS_PER_SUBJECT": "3"},
			[]string{"-keepalive-extends-idle", "while_in_progress", "-keepalive-interval", "30s"},
			func(p core.Policy) bool {
				return p.OnDisconnect == core.DisconnectSuspend && p.MaxSessionsPerSubject == 3 &&
					p.KeepAlive.ExtendsIdle == core.ExtendsWhileInProgress && p.Interval() == 30*time.Second
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := parsePolicy(t, tt.env, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(p) {
				t.Errorf("policy = %+v", p)
			}
		})
	}
}

func TestPolicyFlagsRefuseBadValues(t *testing.T) {
	if _, err := parsePolicy(t, nil, "-preset", "nope"); err == nil {
		t.Error("unknown preset accepted")
	}
	if _, err := parsePolicy(t, nil, "-idle-timeout", "-5m"); !errors.Is(err, core.ErrInvalidPolicy) {
		t.Errorf("negative idle: %v", err)
	}
	if _, err := parsePolicy(t, map[string]string{"SESSIONKIT_TTL": "soon"}); err == nil {
		t.Error("malformed env accepted")
	}
}
