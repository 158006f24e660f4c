package wstransport

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/benbjohnson/clock"
)

// Defaults for zero Options fields.
const (
	DefaultReadLimit    = 64 << 10
	DefaultSendQueue    = 16
	DefaultWriteTimeout = 10 * time.Second
	DefaultLoginTimeout = 30 * time.Second
	DefaultAbuseLimit   = 10
	DefaultAbuseWindow  = time.Minute
	DefaultChannel      = "ws"

	// maxTimerSlack caps the derived TimerSlack.
	maxTimerSlack = 100 * time.Millisecond
)

// Options configures a Server. The zero value means defaults; NewServer
// copies it and never modifies the caller's value.
type Options struct {
	// Authenticate checks a login's credentials, which are the
	// application's own JSON (a password, a signed token, ...), and returns
	// the subject, or "" for a guest. An error refuses the login with error
	// code "unauthorized"; its text is not sent to the client. The context
	// is the upgrade request's, so middleware may have put values in it.
	// Nil means every login is a guest.
	Authenticate func(ctx context.Context, credentials json.RawMessage) (subject string, err error)

	// Channel is the Channel of sessions created by a login
	// (core.CreateOptions.Channel). Empty means DefaultChannel.
	Channel string

	// Clock drives the liveness timer. Nil means the real clock. The
	// Manager keeps its own clock for session deadlines.
	Clock clock.Clock

	// ReadLimit is the largest message accepted, in bytes; a larger one
	// closes the connection with 1009 (message too big). It also bounds
	// draft data saved over this transport. Zero means DefaultReadLimit.
	ReadLimit int64

	// SendQueue bounds the messages waiting to be written to one
	// connection; a client that lets it fill is closed with
	// CodeSlowConsumer. Zero means DefaultSendQueue.
	SendQueue int

	// WriteTimeout bounds one write; a client that does not take a message
	// within it is closed with CodeSlowConsumer. Zero means
	// DefaultWriteTimeout.
	WriteTimeout time.Duration

	// LoginTimeout is how long a connection may stay open without a
	// successful login or resume before it is closed with
	// CodeLoginTimeout. Zero means DefaultLoginTimeout.
	LoginTimeout time.Duration

	// AbuseLimit bad messages (malformed, unknown type, refused
	// credentials, invalid or unknown session ids) within AbuseWindow close
	// the connection with 1008 (policy violation). Each one gets an error
	// reply until then. Zero means DefaultAbuseLimit and DefaultAbuseWindow.
	AbuseLimit  int
	AbuseWindow time.Duration

	// ProbeMargin is added to the keepalive interval before a silent
	// connection is probed (liveness.ServiceConfig.Margin). Zero means
	// liveness.DefaultMargin, shortened if the policy's LivenessTimeout
	// leaves too little room for it.
	ProbeMargin time.Duration

	// TimerSlack lets the liveness timer fire up to this late so that
	// deadlines close together share one wakeup. Zero means the lower of
	// 100 ms and a twentieth of the interval.
	TimerSlack time.Duration

	// OriginPatterns and InsecureSkipVerify are passed to
	// websocket.AcceptOptions: by default only same-origin browsers (and
	// clients that send no Origin, like the Go client) may connect.
	OriginPatterns     []string
	InsecureSkipVerify bool

	// OnError receives errors that no client is told about: a Detach or an
	// internal error the store returned. Nil drops them.
	OnError func(error)
}

// Validate reports the first field that is wrong, naming it.
func (o *Options) Validate() error {
	for _, d := range []struct {
		field string
		v     time.Duration
	}{
		{"WriteTimeout", o.WriteTimeout},
		{"LoginTimeout", o.LoginTimeout},
		{"AbuseWindow", o.AbuseWindow},
		{"ProbeMargin", o.ProbeMargin},
		{"TimerSlack", o.TimerSlack},
	} {
		if d.v < 0 {
			return fmt.Errorf("wstransport: Options.%s must not be negative, got %v", d.field, d.v)
		}
	}
	if o.ReadLimit < 0 {
		return fmt.Errorf("wstransport: Options.ReadLimit must not be negative, got %d", o.ReadLimit)
	}
	if o.SendQueue < 0 {
		return fmt.Errorf("wstransport: Options.SendQueue must not be negative, got %d", o.SendQueue)
	}
	if o.AbuseLimit < 0 {
		return fmt.Errorf("wstransport: Options.AbuseLimit must not be negative, got %d", o.AbuseLimit)
	}
	return nil
}

// withDefaults returns a copy of o with its zero fields filled in, given the
// keepalive interval (0 when keepalives are off).
func (o Options) withDefaults(interval time.Duration) Options {
	if o.Channel == "" {
		o.Channel = DefaultChannel
	}
	if o.Clock == nil {
		o.Clock = clock.New()
	}
	if o.ReadLimit == 0 {
		o.ReadLimit = DefaultReadLimit
	}
	if o.SendQueue == 0 {
		o.SendQueue = DefaultSendQueue
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.LoginTimeout == 0 {
		o.LoginTimeout = DefaultLoginTimeout
	}
	if o.AbuseLimit == 0 {
		o.AbuseLimit = DefaultAbuseLimit
	}
	if o.AbuseWindow == 0 {
		o.AbuseWindow = DefaultAbuseWindow
	}
	if o.TimerSlack == 0 {
		o.TimerSlack = min(maxTimerSlack, interval/20)
	}
	return o
}
