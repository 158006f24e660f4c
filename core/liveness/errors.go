package liveness

import (
	"errors"
	"fmt"
	"time"
)

// ErrInvalidConfig reports a ClientConfig or ServiceConfig that fails
// Validate, or an interval that SetInterval cannot accept. The wrapping
// *ConfigError names the field; check with errors.Is.
var ErrInvalidConfig = errors.New("liveness: invalid config")

// ConfigError names the configuration field that is wrong, the value it had
// once defaults were filled in, and why it is wrong. It matches
// ErrInvalidConfig with errors.Is.
type ConfigError struct {
	Field  string
	Value  time.Duration
	Reason string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("liveness: invalid config: %s %v: %s", e.Field, e.Value, e.Reason)
}

// Unwrap makes errors.Is(err, ErrInvalidConfig) true.
func (e *ConfigError) Unwrap() error { return ErrInvalidConfig }
