package wstransport

import (
	"github.com/coder/websocket"

	"github.com/sessionkit/sessionkit/core"
)

// Close codes the service sends (docs/protocol.md has the table). Codes
// 4000–4499 mean the client may reconnect and try to resume; whether the
// session survived is the policy's business (rule P7), and resume says.
// Codes 4500–4999 mean the session is over: the user must log in again.
const (
	// CodeConnectionLost: the connection was silent for LivenessTimeout
	// (rule P6). A client whose keepalive goes unanswered closes with it too.
	CodeConnectionLost websocket.StatusCode = 4000
	// CodeServiceRestart: the service is stopping or restarting (rule P10).
	CodeServiceRestart websocket.StatusCode = 4001
	// CodeLoginTimeout: no login or resume arrived within LoginTimeout.
	CodeLoginTimeout websocket.StatusCode = 4002
	// CodeSlowConsumer: the client did not read what the service sent
	// (send queue full or write timeout).
	CodeSlowConsumer websocket.StatusCode = 4003

	CodeLogout           websocket.StatusCode = 4500 // rule P8
	CodeSuperseded       websocket.StatusCode = 4501 // rule P9
	CodeExpired          websocket.StatusCode = 4502 // rule P1
	CodeIdleTimeout      websocket.StatusCode = 4503 // rule P2
	CodeRevoked          websocket.StatusCode = 4504 // rule P15
	CodeAuthTimeout      websocket.StatusCode = 4505 // rule P3
	CodeMaxAuthAge       websocket.StatusCode = 4506 // rule P3
	CodeNotStartedPruned websocket.StatusCode = 4507 // rule P13
	// CodeSessionEnded is for an end reason this version does not know.
	CodeSessionEnded websocket.StatusCode = 4599
)

// Reasons of the close codes that are not session end reasons. They travel
// as the close frame's reason text, like the core reasons do.
const (
	ReasonLoginTimeout core.Reason = "login_timeout"
	ReasonSlowConsumer core.Reason = "slow_consumer"
)

// codes maps every reason the service closes with to its code.
var codes = map[core.Reason]websocket.StatusCode{
	core.ReasonConnectionLost:   CodeConnectionLost,
	core.ReasonServiceRestart:   CodeServiceRestart,
	ReasonLoginTimeout:          CodeLoginTimeout,
	ReasonSlowConsumer:          CodeSlowConsumer,
	core.ReasonLogout:           CodeLogout,
	core.ReasonSuperseded:       CodeSuperseded,
	core.ReasonExpired:          CodeExpired,
	core.ReasonIdleTimeout:      CodeIdleTimeout,
	core.ReasonRevoked:          CodeRevoked,
	core.ReasonAuthTimeout:      CodeAuthTimeout,
	core.ReasonMaxAuthAge:       CodeMaxAuthAge,
	core.ReasonNotStartedPruned: CodeNotStartedPruned,
}

// reasons is codes inverted.
var reasons = func() map[websocket.StatusCode]core.Reason {
	m := make(map[websocket.StatusCode]core.Reason, len(codes))
	for r, c := range codes {
		m[c] = r
	}
	return m
}()

// CloseCode returns the close code for reason: its entry in the table, or
// CodeSessionEnded for a reason the table does not know.
func CloseCode(reason core.Reason) websocket.StatusCode {
	if c, ok := codes[reason]; ok {
		return c
	}
	return CodeSessionEnded
}

// CloseReason returns the reason of a close code from the table, and
// whether the table has the code.
func CloseReason(code websocket.StatusCode) (core.Reason, bool) {
	r, ok := reasons[code]
	return r, ok
}

// MayReconnect reports whether code lets a client reconnect and try to
// resume its session (4000–4499).
func MayReconnect(code websocket.StatusCode) bool { return code >= 4000 && code < 4500 }

// MustLogIn reports whether code says the session is over and the user must
// log in again (4500–4999).
func MustLogIn(code websocket.StatusCode) bool { return code >= 4500 && code < 5000 }
