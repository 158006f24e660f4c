package liveness_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/core/liveness"
)

var base = time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)

// at returns the instant d after base.
func at(d time.Duration) time.Time { return base.Add(d) }

// ms is shorthand for a number of milliseconds.
func ms(n int64) time.Duration { return time.Duration(n) * time.Millisecond }

func sec(n int64) time.Duration { return time.Duration(n) * time.Second }

func TestDefaultAckTimeout(t *testing.T) {
	tests := []struct {
		interval, want time.Duration
	}{
		{sec(2), sec(1)},
		{sec(10), sec(5)},
		{sec(20), sec(10)},
		{sec(30), sec(10)},
		{time.Hour, sec(10)},
	}
	for _, tt := range tests {
		if got := liveness.DefaultAckTimeout(tt.interval); got != tt.want {
			t.Errorf("DefaultAckTimeout(%v) = %v, want %v", tt.interval, got, tt.want)
		}
	}
}

func TestClientConfigValidate(t *testing.T) {
	tests := []struct {
		name      string
		cfg       liveness.ClientConfig
		wantField string // "" for valid
	}{
		{"zero means defaults", liveness.ClientConfig{}, ""},
		{"interval only", liveness.ClientConfig{Interval: sec(30)}, ""},
		{"explicit ack", liveness.ClientConfig{Interval: sec(30), AckTimeout: sec(29)}, ""},
		{"negative interval", liveness.ClientConfig{Interval: -1}, "Interval"},
		{"negative ack", liveness.ClientConfig{AckTimeout: -sec(1)}, "AckTimeout"},
		{"ack equals interval", liveness.ClientConfig{Interval: sec(10), AckTimeout: sec(10)}, "AckTimeout"},
		{"ack above default interval", liveness.ClientConfig{AckTimeout: sec(25)}, "AckTimeout"},
		{"interval too short for default ack", liveness.ClientConfig{Interval: 1}, "AckTimeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			checkConfigError(t, err, tt.wantField)
			_, err = liveness.NewClient(tt.cfg)
			checkConfigError(t, err, tt.wantField)
		})
	}
}

// checkConfigError checks that err is nil when wantField is empty, and
// otherwise a *ConfigError for wantField that matches ErrInvalidConfig.
func checkConfigError(t *testing.T, err error, wantField string) {
	t.Helper()
	if wantField == "" {
		if err != nil {
			t.Fatalf("err = %v, want nil", err)
		}
		return
	}
	if !errors.Is(err, liveness.ErrInvalidConfig) {
		t.Fatalf("err = %v, want ErrInvalidConfig", err)
	}
	var ce *liveness.ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %T, want *ConfigError", err)
	}
	if ce.Field != wantField {
		t.Errorf("Field = %q, want %q (%v)", ce.Field, wantField, err)
	}
	if !strings.HasPrefix(err.Error(), "liveness: ") {
		t.Errorf("message %q does not start with the package name", err)
	}
}

// clientStep is one call in a client script: do names the method, want is
// the formatted result, and next is the wanted Next afterwards (noNext for
// the zero Time).
type clientStep struct {
	at   time.Duration
	do   string // start, tick, ack, probe, kick, interval
	arg  time.Duration
	want string
	next time.Duration
}

const noNext = -1

func (s clientStep) String() string {
	return fmt.Sprintf("%s(%v) at %v", s.do, s.arg, s.at)
}

func fmtClientAction(a liveness.ClientAction) string {
	if a.Op == liveness.ClientSendKeepalive {
		return fmt.Sprintf("%v %d", a.Op, a.Seq)
	}
	return a.Op.String()
}

// runClient plays steps against a Client made from cfg.
func runClient(t *testing.T, cfg liveness.ClientConfig, steps []clientStep) {
	t.Helper()
	c, err := liveness.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	lost := false // a step has reported lost; it must stay so
	for i, s := range steps {
		now := at(s.at)
		var got string
		switch s.do {
		case "start":
			c.Start(now)
			got = ""
		case "tick":
			got = fmtClientAction(c.Tick(now))
		case "ack":
			got = c.Ack(now, uint64(s.arg)).String()
		case "probe":
			got = fmtClientAction(c.Probe(now))
		case "kick":
			got = fmtClientAction(c.Kick(now))
		case "interval":
			if err := c.SetInterval(s.arg); err != nil {
				got = err.Error()
			}
		default:
			t.Fatalf("step %d: unknown call %q", i, s.do)
		}
		if got != s.want {
			t.Errorf("step %d %v = %q, want %q", i, s, got, s.want)
		}
		gotNext := time.Duration(noNext)
		if n := c.Next(); !n.IsZero() {
			gotNext = n.Sub(base)
		}
		if gotNext != s.next {
			t.Errorf("step %d %v: Next = %v, want %v", i, s, gotNext, s.next)
		}
		if got == "lost" {
			lost = true
		}
		if c.Lost() != lost {
			t.Errorf("step %d %v: Lost() = %v, want %v", i, s, c.Lost(), lost)
		}
	}
}

func TestClient(t *testing.T) {
	cfg := liveness.ClientConfig{Interval: sec(20)} // AckTimeout 10s
	tests := []struct {
		name  string
		cfg   liveness.ClientConfig
		steps []clientStep
	}{
		{"keepalive every interval after prompt acks", cfg, []clientStep{
			{at: 0, do: "start", next: sec(20)},
			{at: sec(19), do: "tick", want: "none", next: sec(20)},
			{at: sec(20), do: "tick", want: "send_keepalive 1", next: sec(30)},
			{at: sec(20) + ms(100), do: "ack", arg: 1, want: "accepted", next: sec(40) + ms(100)},
			{at: sec(40), do: "tick", want: "none", next: sec(40) + ms(100)},
			{at: sec(40) + ms(100), do: "tick", want: "send_keepalive 2", next: sec(50) + ms(100)},
			{at: sec(40) + ms(300), do: "ack", arg: 2, want: "accepted", next: sec(60) + ms(300)},
			{at: sec(60) + ms(300), do: "tick", want: "send_keepalive 3", next: sec(70) + ms(300)},
		}},
		{"late ack schedules the next send from the answer", cfg, []clientStep{
			{at: 0, do: "start", next: sec(20)},
			{at: sec(20), do: "tick", want: "send_keepalive 1", next: sec(30)},
			{at: sec(29), do: "ack", arg: 1, want: "accepted", next: sec(49)},
			{at: sec(40), do: "tick", want: "none", next: sec(49)},
			{at: sec(49), do: "tick", want: "send_keepalive 2", next: sec(59)},
		}},
		{"no ack: lost exactly at the deadline, then terminal", cfg, []clientStep{
			{at: 0, do: "start", next: sec(20)},
			{at: sec(20), do: "tick", want: "send_keepalive 1", next: sec(30)},
			{at: sec(30) - 1, do: "tick", want: "none", next: sec(30)},
			{at: sec(30), do: "tick", want: "lost", next: noNext},
			{at: sec(31), do: "tick", want: "lost", next: noNext},
			{at: sec(31), do: "ack", arg: 1, want: "lost", next: noNext},
			{at: sec(31), do: "kick", want: "lost", next: noNext},
			{at: sec(31), do: "probe", want: "lost", next: noNext},
			{at: sec(31), do: "start", next: noNext},
		}},
		{"ack just before the deadline is in time", cfg, []clientStep{
			{at: 0, do: "start", next: sec(20)},
			{at: sec(20), do: "tick", want: "send_keepalive 1", next: sec(30)},
			{at: sec(30) - 1, do: "ack", arg: 1, want: "accepted", next: sec(50) - 1},
		}},
		{"ack at the deadline is too late, timer not yet fired", cfg, []clientStep{
			{at: 0, do: "start", next: sec(20)},
			{at: sec(20), do: "tick", want: "send_keepalive 1", next: sec(30)},
			{at: sec(30), do: "ack", arg: 1, want: "lost", next: noNext},
		}},
		{"stale and unknown acks are ignored", cfg, []clientStep{
			{at: 0, do: "start", next: sec(20)},
			{at: sec(1), do: "ack", arg: 1, want: "stale", next: sec(20)},
			{at: sec(20), do: "tick", want: "send_keepalive 1", next: sec(30)},
			{at: sec(21), do: "ack", arg: 0, want: "stale", next: sec(30)},
			{at: sec(21), do: "ack", arg: 2, want: "stale", next: sec(30)},
			{at: sec(22), do: "ack", arg: 1, want: "accepted", next: sec(42)},
			{at: sec(23), do: "ack", arg: 1, want: "stale", next: sec(42)},
			{at: sec(42), do: "tick", want: "send_keepalive 2", next: sec(52)},
			{at: sec(43), do: "ack", arg: 1, want: "stale", next: sec(52)},
			{at: sec(52), do: "tick", want: "lost", next: noNext},
		}},
		{"kick sends at once but not twice", cfg, []clientStep{
			{at: 0, do: "kick", want: "none", next: noNext}, // before Start
			{at: 0, do: "start", next: sec(20)},
			{at: sec(5), do: "kick", want: "send_keepalive 1", next: sec(15)},
			{at: sec(6), do: "kick", want: "none", next: sec(15)},
			{at: sec(7), do: "tick", want: "none", next: sec(15)},
			{at: sec(8), do: "ack", arg: 1, want: "accepted", next: sec(28)},
			{at: sec(9), do: "kick", want: "send_keepalive 2", next: sec(19)},
			{at: sec(19), do: "kick", want: "lost", next: noNext},
		}},
		{"throttled tick 60s late after a received ack is not lost", cfg, []clientStep{
			{at: 0, do: "start", next: sec(20)},
			{at: sec(20), do: "tick", want: "send_keepalive 1", next: sec(30)},
			{at: sec(20) + ms(200), do: "ack", arg: 1, want: "accepted", next: sec(40) + ms(200)},
			// The timer armed for 40.2s fires a minute late; the new
			// deadline runs from the actual send.
			{at: sec(100) + ms(200), do: "tick", want: "send_keepalive 2", next: sec(110) + ms(200)},
			{at: sec(100) + ms(500), do: "ack", arg: 2, want: "accepted", next: sec(120) + ms(500)},
		}},
		{"throttled tick 60s late with no ack is lost", cfg, []clientStep{
			{at: 0, do: "start", next: sec(20)},
			{at: sec(20), do: "tick", want: "send_keepalive 1", next: sec(30)},
			{at: sec(90), do: "tick", want: "lost", next: noNext},
		}},
		{"probe is answered and keeps the ack deadline", cfg, []clientStep{
			{at: 0, do: "probe", want: "reply_probe", next: noNext}, // before Start
			{at: 0, do: "start", next: sec(20)},
			{at: sec(5), do: "probe", want: "reply_probe", next: sec(20)},
			{at: sec(20), do: "tick", want: "send_keepalive 1", next: sec(30)},
			{at: sec(25), do: "probe", want: "reply_probe", next: sec(30)},
			{at: sec(30), do: "tick", want: "lost", next: noNext},
		}},
		{"new interval reschedules from the last answer", cfg, []clientStep{
			{at: 0, do: "start", next: sec(20)},
			{at: 0, do: "interval", arg: sec(60), next: sec(60)},
			{at: sec(60), do: "tick", want: "send_keepalive 1", next: sec(70)},
			{at: sec(61), do: "ack", arg: 1, want: "accepted", next: sec(121)},
			{at: sec(62), do: "interval", arg: sec(4), next: sec(65)},
			{at: sec(65), do: "tick", want: "send_keepalive 2", next: sec(67)}, // default ack follows: 2s
			{at: sec(65), do: "interval", arg: sec(30), next: sec(67)},         // outstanding keeps its deadline
			{at: sec(66), do: "ack", arg: 2, want: "accepted", next: sec(96)},
			{at: sec(66), do: "interval", arg: 0, want: "liveness: invalid config: Interval 0s: must be positive", next: sec(96)},
		}},
		{"explicit ack timeout must stay below a new interval",
			liveness.ClientConfig{Interval: sec(20), AckTimeout: sec(8)}, []clientStep{
				{at: 0, do: "start", next: sec(20)},
				{at: 0, do: "interval", arg: sec(8), want: "liveness: invalid config: AckTimeout 8s: must be less than Interval (8s)", next: sec(20)},
				{at: sec(20), do: "tick", want: "send_keepalive 1", next: sec(28)},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { runClient(t, tt.cfg, tt.steps) })
	}
}

func TestClientConfigFilled(t *testing.T) {
	c, err := liveness.NewClient(liveness.ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	got := c.Config()
	want := liveness.ClientConfig{Interval: sec(20), AckTimeout: sec(10)}
	if got != want {
		t.Errorf("Config() = %+v, want %+v", got, want)
	}
}

func TestClientOutstanding(t *testing.T) {
	c, err := liveness.NewClient(liveness.ClientConfig{Interval: sec(20)})
	if err != nil {
		t.Fatal(err)
	}
	c.Start(at(0))
	if _, ok := c.Outstanding(); ok {
		t.Fatal("Outstanding before any send: ok = true")
	}
	c.Tick(at(sec(20)))
	if seq, ok := c.Outstanding(); !ok || seq != 1 {
		t.Fatalf("Outstanding after send = %d, %v; want 1, true", seq, ok)
	}
	c.Ack(at(sec(21)), 1)
	if _, ok := c.Outstanding(); ok {
		t.Fatal("Outstanding after ack: ok = true")
	}
}
