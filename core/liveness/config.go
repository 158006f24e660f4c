package liveness

import "time"

// DefaultInterval is the keepalive interval when none is configured: the
// last fallback of rule P4. Policies usually derive the interval and pass it
// in explicitly.
const DefaultInterval = 20 * time.Second

// DefaultAckTimeout returns how long a client waits for the answer to a
// keepalive when ClientConfig.AckTimeout is zero: the lower of 10 s and half
// the interval (rule P6). Half the interval keeps at most one keepalive
// outstanding; the 10 s cap keeps a long interval from hiding a dead link
// for minutes.
func DefaultAckTimeout(interval time.Duration) time.Duration {
	return min(10*time.Second, interval/2)
}

// DefaultMargin returns the slack the service adds to the interval before
// it probes a silent connection when ServiceConfig.Margin is zero: the lower
// of 5 s and a quarter of the interval.
//
// A punctual client schedules each keepalive Interval after the previous
// answer reached it, so the service hears it Interval plus one round trip
// (plus the client's timer lateness) after the previous keepalive. The
// margin must exceed that round trip, or punctual clients would be probed;
// it must stay small against the interval, or a silent client would be
// probed late. 5 s covers a slow mobile round trip; a quarter of the
// interval keeps short test intervals meaningful.
func DefaultMargin(interval time.Duration) time.Duration {
	return min(5*time.Second, interval/4)
}

// DefaultLivenessTimeout returns the silence after which the service treats
// a connection as lost when ServiceConfig.LivenessTimeout is zero:
// 2×interval + 5 s (rule P6). It leaves room for one missed keepalive and
// for the answer to the probe sent at Interval+Margin.
func DefaultLivenessTimeout(interval time.Duration) time.Duration {
	return 2*interval + 5*time.Second
}

// ClientConfig configures a Client. The zero value means defaults; NewClient
// copies it and never modifies the caller's value.
type ClientConfig struct {
	// Interval is the time from the answer to one keepalive to the sending
	// of the next. Zero means DefaultInterval.
	Interval time.Duration

	// AckTimeout is how long the client waits for the answer to a
	// keepalive before it treats the link as lost. It must be shorter than
	// Interval. Zero means DefaultAckTimeout(Interval), recomputed when
	// SetInterval changes the interval.
	AckTimeout time.Duration
}

// withDefaults returns a copy of c with its zero fields filled in.
func (c ClientConfig) withDefaults() ClientConfig {
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.AckTimeout == 0 {
		c.AckTimeout = DefaultAckTimeout(c.Interval)
	}
	return c
}

// Validate reports whether c, once its zero fields are filled with
// defaults, can drive a Client. The error is a *ConfigError naming the
// first wrong field.
func (c ClientConfig) Validate() error {
	if c.Interval < 0 {
		return &ConfigError{Field: "Interval", Value: c.Interval, Reason: "must not be negative (zero means the default)"}
	}
	if c.AckTimeout < 0 {
		return &ConfigError{Field: "AckTimeout", Value: c.AckTimeout, Reason: "must not be negative (zero means the default)"}
	}
	return c.withDefaults().check()
}

// check validates a config whose defaults are already filled in.
func (c ClientConfig) check() error {
	if c.Interval <= 0 {
		return &ConfigError{Field: "Interval", Value: c.Interval, Reason: "must be positive"}
	}
	if c.AckTimeout <= 0 {
		return &ConfigError{Field: "AckTimeout", Value: c.AckTimeout, Reason: "must be positive (the interval is too short for the default)"}
	}
	if c.AckTimeout >= c.Interval {
		return &ConfigError{Field: "AckTimeout", Value: c.AckTimeout, Reason: "must be less than Interval (" + c.Interval.String() + ")"}
	}
	return nil
}

// ServiceConfig configures a Service. The zero value means defaults;
// NewService copies it and never modifies the caller's value.
type ServiceConfig struct {
	// Interval is the keepalive interval the service announced to its
	// clients. Zero means DefaultInterval.
	Interval time.Duration

	// Margin is added to Interval before a silent connection is probed.
	// Zero means DefaultMargin(Interval); a margin of zero cannot be asked
	// for, as it would race every punctual keepalive.
	Margin time.Duration

	// LivenessTimeout is the silence after which a connection is lost. It
	// must exceed Interval+Margin so the probe has time to be answered.
	// Zero means DefaultLivenessTimeout(Interval).
	LivenessTimeout time.Duration
}

// withDefaults returns a copy of c with its zero fields filled in.
func (c ServiceConfig) withDefaults() ServiceConfig {
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.Margin == 0 {
		c.Margin = DefaultMargin(c.Interval)
	}
	if c.LivenessTimeout == 0 {
		c.LivenessTimeout = DefaultLivenessTimeout(c.Interval)
	}
	return c
}

// Validate reports whether c, once its zero fields are filled with
// defaults, can drive a Service. The error is a *ConfigError naming the
// first wrong field.
func (c ServiceConfig) Validate() error {
	if c.Interval < 0 {
		return &ConfigError{Field: "Interval", Value: c.Interval, Reason: "must not be negative (zero means the default)"}
	}
	if c.Margin < 0 {
		return &ConfigError{Field: "Margin", Value: c.Margin, Reason: "must not be negative (zero means the default)"}
	}
	if c.LivenessTimeout < 0 {
		return &ConfigError{Field: "LivenessTimeout", Value: c.LivenessTimeout, Reason: "must not be negative (zero means the default)"}
	}
	c = c.withDefaults()
	if c.Margin <= 0 {
		return &ConfigError{Field: "Margin", Value: c.Margin, Reason: "must be positive (the interval is too short for the default)"}
	}
	if c.LivenessTimeout <= c.Interval+c.Margin {
		return &ConfigError{Field: "LivenessTimeout", Value: c.LivenessTimeout, Reason: "must exceed Interval+Margin (" + (c.Interval + c.Margin).String() + ") so a probe can be answered"}
	}
	return nil
}
