package wstransport

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/core"
)

func TestDecode(t *testing.T) {
	deadline := time.Date(2030, 1, 8, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want message
		err  error
	}{
		{`{"type":"keepalive","seq":3}`, message{Type: typeKeepalive, Seq: 3}, nil},
		{`{"type":"ack","seq":3,"state":"active","deadline":"2030-01-08T09:00:00Z","deadline_reason":"expired"}`,
			message{Type: typeAck, Seq: 3, State: core.StateActive, Deadline: deadline, DeadlineReason: core.ReasonExpired}, nil},
		{`{"type":"resume","rid":2,"session":"abc","extra":true}`, message{Type: typeResume, RID: 2, Session: "abc"}, nil},
		{`{"type":"ended","reason":"superseded"}`, message{Type: typeEnded, Reason: core.ReasonSuperseded}, nil},
		{`{"type":"probe_reply"}`, message{Type: typeProbeReply}, nil},
		{``, message{}, errMalformed},
		{`null`, message{}, errMalformed},
		{`"keepalive"`, message{}, errMalformed},
		{`{"type":"keepalive","seq":0}`, message{}, errMalformed},
		{`{"type":"keepalive","seq":-1}`, message{}, errMalformed},
		{`{"type":"keepalive","seq":18446744073709551616}`, message{}, errMalformed},
		{`{"type":"resume"}`, message{}, errMalformed},
		{`{"type":"draft_save"}`, message{}, errMalformed},
		{`{"type":"draft_saved","draft":{}}`, message{}, errMalformed},
		{`{"type":"hello","protocol":1,"interval_ms":-5}`, message{}, errMalformed},
		{`{"type":"error"}`, message{}, errMalformed},
		{`{"type":"ended"}`, message{}, errMalformed},
		{`{"type":"ack","seq":1,"deadline":"tomorrow"}`, message{}, errMalformed},
		{`{"type":"warp","rid":4}`, message{}, errUnknownType},
	}
	for _, tt := range tests {
		got, err := decode([]byte(tt.in))
		if !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
			t.Errorf("decode(%s) error %v, want %v", tt.in, err, tt.err)
			continue
		}
		if err == nil && !sameMessage(got, tt.want) {
			t.Errorf("decode(%s) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func sameMessage(a, b message) bool {
	ea, err1 := encode(&a)
	eb, err2 := encode(&b)
	return err1 == nil && err2 == nil && bytes.Equal(ea, eb)
}

// FuzzDecode checks that decode never panics, fails only with its two
// errors, and that what it accepts encodes to something it decodes to the
// same message.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"type":"hello","protocol":1,"interval_ms":20000,"ack_timeout_ms":10000,"liveness_timeout_ms":45000,"login_timeout_ms":30000}`,
		`{"type":"login","rid":1,"credentials":{"user":"alice","password":"s3cret"}}`,
		`{"type":"resume","rid":2,"session":"q1oEzOdbxw1eA3Zr7ZqGfA"}`,
		`{"type":"session","rid":1,"session":"q1oEzOdbxw1eA3Zr7ZqGfA","subject":"alice","state":"active","deadline":"2030-01-08T09:00:00Z","deadline_reason":"expired"}`,
		`{"type":"keepalive","seq":7}`,
		`{"type":"ack","seq":7,"state":"active","deadline":"2030-01-08T09:00:00+01:00","deadline_reason":"idle_timeout"}`,
		`{"type":"probe","seq":2}`,
		`{"type":"probe_reply","seq":2}`,
		`{"type":"draft_save","rid":3,"draft":{"id":"","version":0,"name":"claim","mode":"auto","data":{"amount":12.5,"notes":["a"]}}}`,
		`{"type":"draft_saved","rid":3,"draft":{"id":"Zm9vYmFyYmF6cXV4cXV1eA","version":4,"name":"claim","mode":"auto","updated_at":"2030-01-01T10:00:00Z"}}`,
		`{"type":"logout","rid":4}`,
		`{"type":"error","rid":2,"code":"ended","message":"sessionkit: session ended: superseded","reason":"superseded"}`,
		`{"type":"ended","reason":"logout"}`,
		`{"TYPE":"keepalive","Seq":1}`,
		`{"type":"keepalive","seq":1,"seq":2}`,
		"{\"type\":\"login\",\"credentials\":\"\xff\"}",
		`[`, `{}`, `null`, `{"type":7}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := decode(data)
		if err != nil {
			if !errors.Is(err, errMalformed) && !errors.Is(err, errUnknownType) {
				t.Fatalf("decode(%q): error %v is neither malformed nor unknown type", data, err)
			}
			return
		}
		b, err := encode(&m)
		if err != nil {
			t.Fatalf("decode(%q) accepted %+v, which does not encode: %v", data, m, err)
		}
		m2, err := decode(b)
		if err != nil {
			t.Fatalf("decode(encode(decode(%q))) = %v; encoded %s", data, err, b)
		}
		if b2, _ := encode(&m2); !bytes.Equal(b, b2) {
			t.Fatalf("round trip of %q changed %s into %s", data, b, b2)
		}
	})
}

// Every example message in docs/protocol.md decodes.
func TestProtocolDocExamples(t *testing.T) {
	f, err := os.Open("../../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	in, n := false, 0
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		switch {
		case text == "```json":
			in = true
		case strings.HasPrefix(text, "```"):
			in = false
		case in && text != "":
			n++
			if _, err := decode([]byte(text)); err != nil {
				t.Errorf("docs/protocol.md:%d: %v", line, err)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 13 {
		t.Errorf("found %d example messages, want one of each of the 13 types at least", n)
	}
}
