package wstransport_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/coder/websocket"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/transports/wstransport"
)

// randomID is a well-formed session ID that no one issued.
func randomID(t *testing.T) string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	id := base64.RawURLEncoding.EncodeToString(b[:])
	if !core.ValidID(id) {
		t.Fatalf("%s is not a valid ID", id)
	}
	return id
}

// Bad input gets the documented error reply and the connection stays; an
// oversized frame closes with 1009 and repeated abuse with 1008. Through
// all of it the service keeps serving a well-behaved client.
func TestBadInput(t *testing.T) {
	mock := clock.NewMock()
	mock.Set(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	p := resumable(slow)
	p.TTL = time.Hour
	s := start(t, config{policy: p, clock: mock, opts: wstransport.Options{AbuseLimit: 50}})

	// A session past its TTL, then a healthy client in a fresh one.
	old, err := s.m.Create(ctxT(t), core.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mock.Add(2 * time.Hour)
	healthy, _ := s.login("healthy")

	r, _ := dialRaw(t, s.url)
	tests := []struct {
		name, send string
		code       string
		rid        float64
		reason     core.Reason
	}{
		{"truncated JSON", `{"type":`, wstransport.ErrorMalformed, 0, ""},
		{"not an object", `[1,2]`, wstransport.ErrorMalformed, 0, ""},
		{"no type", `{"rid":9}`, wstransport.ErrorMalformed, 9, ""},
		{"keepalive without seq", `{"type":"keepalive"}`, wstransport.ErrorMalformed, 0, ""},
		{"wrong field type", `{"type":"keepalive","seq":"1"}`, wstransport.ErrorMalformed, 0, ""},
		{"unknown type", `{"type":"teleport","rid":7}`, wstransport.ErrorUnknownType, 7, ""},
		{"service-only type", `{"type":"ack","seq":1,"rid":8}`, wstransport.ErrorUnknownType, 8, ""},
		{"forged token", `{"type":"resume","rid":2,"session":"../../etc/passwd"}`, wstransport.ErrorInvalidID, 2, ""},
		{"unknown token", `{"type":"resume","rid":3,"session":"` + randomID(t) + `"}`, wstransport.ErrorNotFound, 3, ""},
		{"expired token", `{"type":"resume","rid":4,"session":"` + old.ID + `"}`, wstransport.ErrorExpired, 4, core.ReasonExpired},
		{"refused credentials", `{"type":"login","rid":5,"credentials":{"user":"x","password":"wrong"}}`, wstransport.ErrorUnauthorized, 5, ""},
		{"draft before login", `{"type":"draft_save","rid":6,"draft":{"mode":"auto"}}`, wstransport.ErrorWrongState, 6, ""},
		{"logout before login", `{"type":"logout","rid":10}`, wstransport.ErrorWrongState, 10, ""},
	}
	for _, tt := range tests {
		r.send(tt.send)
		m := r.recv()
		if m["type"] != "error" || m["code"] != tt.code || num(m["rid"]) != tt.rid || core.Reason(str(m["reason"])) != tt.reason {
			t.Errorf("%s: reply %v, want error %q rid %v reason %q", tt.name, m, tt.code, tt.rid, tt.reason)
		}
	}
	r.sendType(websocket.MessageBinary, []byte(`{"type":"keepalive","seq":1}`))
	if m := r.recv(); m["code"] != wstransport.ErrorMalformed {
		t.Errorf("binary frame: reply %v, want error malformed", m)
	}
	r.send(`{"type":"keepalive","seq":1}`)
	if m := r.recv(); m["type"] != "ack" || num(m["seq"]) != 1 {
		t.Errorf("keepalive after bad input: %v, want ack 1: the connection should stay", m)
	}

	big, _ := dialRaw(t, s.url)
	big.send(`{"type":"login","credentials":"` + strings.Repeat("x", wstransport.DefaultReadLimit) + `"}`)
	if _, err := big.closed(); websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
		t.Errorf("oversized frame: connection ended with %v, want 1009", err)
	}

	if _, err := healthy.SaveDraft(ctxT(t), wstransport.DraftSave{Name: "n", Data: json.RawMessage(`1`), Mode: core.SaveAuto}); err != nil {
		t.Errorf("healthy client after the bad input: %v", err)
	}
	if st := healthy.Status(); st.State != wstransport.StateLive {
		t.Errorf("healthy client %v, want live", st)
	}
}

// AbuseLimit bad messages within AbuseWindow close the connection with
// 1008; each gets its error reply first.
func TestRepeatedAbuseCloses(t *testing.T) {
	s := start(t, config{policy: realtime(slow), opts: wstransport.Options{AbuseLimit: 4}})
	healthy, _ := s.login("healthy")
	r, _ := dialRaw(t, s.url)
	for i := 0; i < 4; i++ {
		r.send(`nonsense`)
		if m := r.recv(); m["code"] != wstransport.ErrorMalformed {
			t.Fatalf("bad message %d: reply %v, want error malformed", i+1, m)
		}
	}
	if _, err := r.closed(); websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
		t.Errorf("after 4 bad messages: %v, want 1008", err)
	}
	if got := s.srv.Stats().Abusive; got != 1 {
		t.Errorf("Stats().Abusive = %d, want 1", got)
	}
	doLogin(t, s.dial(wstransport.DialOptions{}), "newcomer")
	if st := healthy.Status(); st.State != wstransport.StateLive {
		t.Errorf("healthy client %v, want live", st)
	}
}

// A connection that neither logs in nor resumes within LoginTimeout is
// closed with CodeLoginTimeout; one that logged in is not.
func TestLoginTimeout(t *testing.T) {
	const timeout = 300 * time.Millisecond
	s := start(t, config{policy: realtime(slow), opts: wstransport.Options{LoginTimeout: timeout}})
	in, _ := dialRaw(t, s.url)
	in.send(`{"type":"login","rid":1,"credentials":{"user":"hal"}}`)
	if m := in.recv(); m["type"] != "session" {
		t.Fatalf("login reply %v", m)
	}
	idle, hello := dialRaw(t, s.url)
	if got := time.Duration(num(hello["login_timeout_ms"])) * time.Millisecond; got != timeout {
		t.Errorf("hello login_timeout_ms %v, want %v", got, timeout)
	}
	opened := time.Now()
	_, err := idle.closed()
	if websocket.CloseStatus(err) != wstransport.CodeLoginTimeout {
		t.Fatalf("idle connection ended with %v, want %d", err, wstransport.CodeLoginTimeout)
	}
	if waited := time.Since(opened); waited > timeout+500*time.Millisecond {
		t.Errorf("closed after %v, want about %v", waited, timeout)
	}
	// The logged-in connection opened earlier, so its login deadline has
	// passed too.
	in.send(`{"type":"keepalive","seq":1}`)
	if m := in.recv(); m["type"] != "ack" {
		t.Errorf("logged-in connection after its login deadline: %v, want an ack", m)
	}
}

func num(v any) float64 {
	f, _ := v.(float64)
	return f
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
