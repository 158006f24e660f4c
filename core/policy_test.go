package core

import (
	"errors"
	"testing"
	"time"
)

// TestP4KeepAliveInterval checks rule P4: the interval is the configured one,
// or half of the lower non-zero of IdleTimeout and AuthTimeout, or 20 s.
func TestP4KeepAliveInterval(t *testing.T) {
	tests := []struct {
		name string
		p    Policy
		want time.Duration
	}{
		{"both off", Policy{}, 20 * time.Second},
		{"idle only", Policy{IdleTimeout: 10 * time.Minute}, 5 * time.Minute},
		{"auth only", Policy{AuthTimeout: 30 * time.Minute}, 15 * time.Minute},
		{"lower of both", Policy{IdleTimeout: 15 * time.Minute, AuthTimeout: 10 * time.Minute}, 5 * time.Minute},
		{"explicit", Policy{IdleTimeout: 15 * time.Minute, KeepAlive: KeepAlive{Interval: time.Minute}}, time.Minute},
		{"disabled", Policy{KeepAlive: KeepAlive{Disabled: true}}, 0},
		{"forms preset", FormsPolicy(), 7*time.Minute + 30*time.Second},
		{"realtime preset", RealtimePolicy(), 20 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.p.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if got := tt.p.Interval(); got != tt.want {
				t.Errorf("Interval() = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestP6Defaults checks rule P6's derived LivenessTimeout and AckTimeout.
func TestP6Defaults(t *testing.T) {
	tests := []struct {
		interval, liveness, ack time.Duration
	}{
		{20 * time.Second, 45 * time.Second, 10 * time.Second},
		{8 * time.Second, 21 * time.Second, 4 * time.Second},
		{5 * time.Minute, 10*time.Minute + 5*time.Second, 10 * time.Second},
	}
	for _, tt := range tests {
		k := Policy{KeepAlive: KeepAlive{Interval: tt.interval}}.Effective().KeepAlive
		if k.LivenessTimeout != tt.liveness || k.AckTimeout != tt.ack {
			t.Errorf("interval %v: liveness, ack = %v, %v; want %v, %v", tt.interval, k.LivenessTimeout, k.AckTimeout, tt.liveness, tt.ack)
		}
	}
}

func TestPolicyDefaults(t *testing.T) {
	p := Policy{}.Effective()
	if p.TTL != 168*time.Hour || p.NotStartedTimeout != p.TTL || p.OnDisconnect != DisconnectEnd ||
		p.DraftRetention != 90*24*time.Hour || p.KeepAlive.ExtendsIdle != ExtendsAlways {
		t.Errorf("zero policy effective = %+v", p)
	}
	in := FormsPolicy()
	_ = in.Effective()
	if in.KeepAlive.Interval != 0 {
		t.Error("Effective modified the caller's policy")
	}
}

func TestPolicyValidate(t *testing.T) {
	tests := []struct {
		name  string
		p     Policy
		field string
	}{
		{"negative ttl", Policy{TTL: -time.Second}, "TTL"},
		{"negative idle", Policy{IdleTimeout: -1}, "IdleTimeout"},
		{"negative max sessions", Policy{MaxSessionsPerSubject: -1}, "MaxSessionsPerSubject"},
		{"unknown disconnect", Policy{OnDisconnect: "explode"}, "OnDisconnect"},
		{"unknown scope", Policy{KeepAlive: KeepAlive{ExtendsIdle: "sometimes"}}, "KeepAlive.ExtendsIdle"},
		{"not started beyond ttl", Policy{TTL: time.Hour, NotStartedTimeout: 2 * time.Hour}, "NotStartedTimeout"},
		{"auth beyond max age", Policy{AuthTimeout: 2 * time.Hour, MaxAuthAge: time.Hour}, "AuthTimeout"},
		{"interval not below idle", Policy{IdleTimeout: time.Minute, KeepAlive: KeepAlive{Interval: time.Minute}}, "KeepAlive.Interval"},
		{"liveness below interval", Policy{KeepAlive: KeepAlive{Interval: time.Minute, LivenessTimeout: time.Minute}}, "KeepAlive.LivenessTimeout"},
		{"liveness within probe margin", Policy{KeepAlive: KeepAlive{Interval: 20 * time.Second, LivenessTimeout: 22 * time.Second}}, "KeepAlive.LivenessTimeout"},
		{"ack not below interval", Policy{KeepAlive: KeepAlive{Interval: time.Minute, AckTimeout: time.Minute}}, "KeepAlive.AckTimeout"},
		{"checkpoint not below idle", Policy{IdleTimeout: time.Minute, CheckpointEvery: time.Minute}, "CheckpointEvery"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate()
			var pe *PolicyError
			if !errors.As(err, &pe) || !errors.Is(err, ErrInvalidPolicy) {
				t.Fatalf("Validate() = %v, want a *PolicyError", err)
			}
			if pe.Field != tt.field {
				t.Errorf("field = %q, want %q (%v)", pe.Field, tt.field, err)
			}
		})
	}
	for _, p := range []Policy{{}, RealtimePolicy(), ResumablePolicy(), FormsPolicy(), {KeepAlive: KeepAlive{Disabled: true, Interval: time.Hour}, IdleTimeout: time.Minute}} {
		if err := p.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v, want nil", p, err)
		}
	}
}
