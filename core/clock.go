package core

import (
	"time"

	"github.com/benbjohnson/clock"
)

// Clock is the Manager's source of time. github.com/benbjohnson/clock's
// clock.New() and clock.NewMock() both satisfy it; tests drive a Mock, and
// the simulator calls Sweep with its own virtual time instead.
type Clock interface {
	Now() time.Time
	Timer(d time.Duration) *clock.Timer
}
