package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/transports/wstransport"
)

// service is sessionkit serve running in the test.
type service struct {
	addr   string
	cancel context.CancelFunc
	done   chan int
}

// startServe runs `sessionkit serve args...` on a free loopback port and
// waits for it to say where it listens.
func startServe(t *testing.T, args ...string) *service {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, w := io.Pipe()
	s := &service{cancel: cancel, done: make(chan int, 1)}
	go func() {
		s.done <- run(ctx, append([]string{"serve", "-addr", "127.0.0.1:0"}, args...), w, io.Discard)
		w.Close()
	}()
	lines := bufio.NewScanner(out)
	if !lines.Scan() {
		t.Fatalf("serve printed nothing; exit %d", <-s.done)
	}
	m := regexp.MustCompile(`http://(\S+)`).FindStringSubmatch(lines.Text())
	if m == nil {
		t.Fatalf("serve said %q", lines.Text())
	}
	s.addr = m[1]
	go io.Copy(io.Discard, out)
	t.Cleanup(func() { s.stop(t) })
	return s
}

func (s *service) stop(t *testing.T) {
	t.Helper()
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.cancel = nil
	select {
	case code := <-s.done:
		if code != 0 {
			t.Errorf("serve exited %d", code)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not shut down")
	}
}

// waitStatus waits for a client status that is terminal, with a deadline.
func waitStatus(t *testing.T, c *wstransport.Client) wstransport.Status {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case st, ok := <-c.Statuses():
			if !ok || st.Terminal() {
				return c.Status()
			}
		case <-deadline:
			t.Fatalf("no terminal status; now %v", c.Status())
		}
	}
}

func TestServeMemory(t *testing.T) {
	s := startServe(t, "-store", "memory", "-preset", "forms")
	for path, want := range map[string]string{"/": "text/html", "/sessionkit.js": "text/javascript", "/api/session": "application/json"} {
		resp, err := http.Get("http://" + s.addr + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, want) {
			t.Errorf("GET %s: %d %s, want %s", path, resp.StatusCode, ct, want)
		}
	}
	resp, err := http.Get("http://" + s.addr + "/api/session")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Sessionkit-Keepalive-Interval-Ms"); got != "450000" {
		t.Errorf("forms preset interval header %q, want 450000 (7m30s)", got)
	}
}

// TestServeRestartAndInspect runs the service on a badger directory, logs a
// user in over the WebSocket, stops the service (the client is told it is
// restarting), and reads the store with inspect.
func TestServeRestartAndInspect(t *testing.T) {
	dir := t.TempDir()
	s := startServe(t, "-data", dir)
	ctx := context.Background()
	c, err := wstransport.Dial(ctx, "ws://"+s.addr+"/ws", wstransport.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sess, err := c.Login(ctx, json.RawMessage(`{"user":"ann"}`))
	if err != nil {
		t.Fatal(err)
	}
	s.stop(t)
	if st := waitStatus(t, c); st.State != wstransport.StateLost || st.Reason != core.ReasonServiceRestart {
		t.Errorf("client status after stop: %v, want lost (service_restart)", st)
	}

	var out strings.Builder
	if code := run(ctx, []string{"inspect", "-data", dir, "-subject", "ann", "-json"}, &out, io.Discard); code != 0 {
		t.Fatalf("inspect exited %d", code)
	}
	var got struct{ Sessions []core.Session }
	if err := json.Unmarshal([]byte(out.String()), &got); err != nil {
		t.Fatalf("inspect output: %v\n%s", err, out.String())
	}
	if len(got.Sessions) != 1 || got.Sessions[0].ID != sess.ID || got.Sessions[0].EndReason != core.ReasonServiceRestart {
		t.Errorf("inspect: %+v, want %s ended with service_restart", got.Sessions, sess.ID)
	}

	// The service starts again over the same directory, and a new login works.
	s = startServe(t, "-data", dir)
	c2, err := wstransport.Dial(ctx, "ws://"+s.addr+"/ws", wstransport.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if _, err := c2.Login(ctx, json.RawMessage(`{"user":"ann"}`)); err != nil {
		t.Errorf("login after restart: %v", err)
	}
}

func TestUsageAndBadFlags(t *testing.T) {
	ctx := context.Background()
	for _, args := range [][]string{nil, {"nope"}, {"inspect"}, {"inspect", "-subject", "a", "-reference", "b"}} {
		if code := run(ctx, args, io.Discard, io.Discard); code != 2 {
			t.Errorf("run(%q) = %d, want 2", args, code)
		}
	}
	if code := run(ctx, []string{"serve", "-store", "memory", "-idle-timeout", "-1m"}, io.Discard, io.Discard); code != 1 {
		t.Errorf("a negative timeout: exit %d, want 1", code)
	}
	if code := run(ctx, []string{"serve", "-h"}, io.Discard, io.Discard); code != 0 {
		t.Errorf("-h: exit %d, want 0", code)
	}
}

func TestSim(t *testing.T) {
	var out strings.Builder
	html := t.TempDir() + "/timeline.html"
	if code := run(context.Background(), []string{"sim", "-scenario", "superseded", "-seeds", "1", "-html", html}, &out, io.Discard); code != 0 {
		t.Fatalf("sim exited %d:\n%s", code, out.String())
	}
	if !strings.Contains(out.String(), "superseded") || !strings.Contains(out.String(), "ok") {
		t.Errorf("sim summary:\n%s", out.String())
	}
	if code := run(context.Background(), []string{"sim", "-no-such-flag"}, io.Discard, io.Discard); code == 0 {
		t.Error("a bad flag exited 0")
	}
}
