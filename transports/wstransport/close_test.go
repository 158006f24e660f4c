package wstransport_test

import (
	"testing"

	"github.com/coder/websocket"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/transports/wstransport"
)

// Every core reason has its own close code, in the range that says whether
// the client may reconnect, and the code maps back to the reason.
func TestCloseCodeForEveryReason(t *testing.T) {
	tests := []struct {
		reason    core.Reason
		code      websocket.StatusCode
		reconnect bool
	}{
		{core.ReasonConnectionLost, 4000, true},
		{core.ReasonServiceRestart, 4001, true},
		{wstransport.ReasonLoginTimeout, 4002, true},
		{wstransport.ReasonSlowConsumer, 4003, true},
		{core.ReasonLogout, 4500, false},
		{core.ReasonSuperseded, 4501, false},
		{core.ReasonExpired, 4502, false},
		{core.ReasonIdleTimeout, 4503, false},
		{core.ReasonRevoked, 4504, false},
		{core.ReasonAuthTimeout, 4505, false},
		{core.ReasonMaxAuthAge, 4506, false},
		{core.ReasonNotStartedPruned, 4507, false},
		{core.Reason("meteor_strike"), 4599, false},
	}
	for _, tt := range tests {
		code := wstransport.CloseCode(tt.reason)
		if code != tt.code {
			t.Errorf("CloseCode(%s) = %d, want %d", tt.reason, code, tt.code)
		}
		if wstransport.MayReconnect(code) != tt.reconnect || wstransport.MustLogIn(code) == tt.reconnect {
			t.Errorf("code %d of %s: MayReconnect %v, MustLogIn %v; want reconnect=%v",
				code, tt.reason, wstransport.MayReconnect(code), wstransport.MustLogIn(code), tt.reconnect)
		}
		if r, ok := wstransport.CloseReason(code); code != wstransport.CodeSessionEnded && (!ok || r != tt.reason) {
			t.Errorf("CloseReason(%d) = %q, %v; want %q", code, r, ok, tt.reason)
		}
	}
	for _, code := range []websocket.StatusCode{1000, 1001, 1008, 1009, 3999} {
		if wstransport.MayReconnect(code) || wstransport.MustLogIn(code) {
			t.Errorf("standard code %d classified as a sessionkit code", code)
		}
	}
}
