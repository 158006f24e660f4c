package wstransport

import (
	"context"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sessionkit/sessionkit/adapters/memstore"
	"github.com/sessionkit/sessionkit/core"
)

// A client that lets its send queue fill is dropped, and queueing for it
// never blocks: the liveness timer's probes keep going to the others.
// The test holds the write side the way a write stuck on a client that
// reads nothing would.
func TestFullSendQueueDropsClient(t *testing.T) {
	m, err := core.New(core.Config{Store: memstore.New(), Policy: core.Policy{KeepAlive: core.KeepAlive{Interval: 5 * time.Second}}})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := NewServer(m, Options{SendQueue: 4})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	if _, _, err := ws.Read(ctx); err != nil { // the hello
		t.Fatal(err)
	}

	srv.mu.Lock()
	var c *conn
	for _, x := range srv.conns {
		c = x
	}
	srv.mu.Unlock()
	// Take the write side once the hello's flusher has let go of it.
	for held := false; !held; {
		c.mu.Lock()
		held = !c.writing
		c.writing = true
		c.mu.Unlock()
		if ctx.Err() != nil {
			t.Fatal("the write side stayed busy")
		}
		runtime.Gosched()
	}

	for i := 0; i < 4; i++ {
		c.probe()
	}
	if got := srv.Stats().SlowConsumers; got != 0 {
		t.Fatalf("dropped with the queue at its bound: %d", got)
	}
	c.probe() // one over the bound
	if _, _, err := ws.Read(ctx); err == nil || websocket.CloseStatus(err) != -1 {
		t.Errorf("read after the overflow: %v, want the connection dropped", err)
	}
	if got := srv.Stats().SlowConsumers; got != 1 {
		t.Errorf("Stats().SlowConsumers = %d, want 1", got)
	}
}
