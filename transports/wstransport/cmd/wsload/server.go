package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"

	"github.com/sessionkit/sessionkit/adapters/memstore"
	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/transports/wstransport"
)

// stats is what a server process reports about itself.
type stats struct {
	RSSKiB      int64  `json:"rss_kib"`
	HeapAlloc   uint64 `json:"heap_alloc"`
	HeapInuse   uint64 `json:"heap_inuse"`
	StackInuse  uint64 `json:"stack_inuse"`
	Goroutines  int    `json:"goroutines"`
	CPU         int64  `json:"cpu_us"` // user+system
	Conns       int64  `json:"conns"`
	Keepalives  int64  `json:"keepalives"`
	ServerProbe uint64 `json:"probes"`
	ServerLost  uint64 `json:"lost"`
}

// runServer serves one implementation on a loopback port until its stdin
// closes or the deadline passes.
func runServer(impl string, interval, deadline time.Duration) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	if err := raiseFileLimit(int(min(lim.Max, maxConns+fdReserve)) - fdReserve); err != nil {
		return err
	}
	if os.Getenv("WSLOAD_HEAPPROFILE") != "" {
		runtime.MemProfileRate = 1
	}
	if path := os.Getenv("WSLOAD_CPUPROFILE"); path != "" {
		if f, err := os.Create(path + "." + impl); err == nil {
			if err := pprof.StartCPUProfile(f); err == nil {
				defer pprof.StopCPUProfile()
			}
		}
	}
	var (
		handler http.Handler
		conns   atomic.Int64
		srv     *wstransport.Server
	)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	switch impl {
	case "sessionkit":
		p := core.RealtimePolicy()
		p.KeepAlive.Interval = interval
		m, err := core.New(core.Config{Store: memstore.New(), Policy: p})
		if err != nil {
			return err
		}
		srv, err = wstransport.NewServer(m, wstransport.Options{
			Authenticate: func(_ context.Context, raw json.RawMessage) (string, error) {
				var c struct{ User string }
				err := json.Unmarshal(raw, &c)
				return c.User, err
			},
		})
		if err != nil {
			return err
		}
		go func() { _ = m.Run(ctx, nil) }()
		go func() { _ = srv.Run(ctx) }()
		handler = srv
	case "echo":
		handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := websocket.Accept(w, r, nil)
			if err != nil {
				return
			}
			defer c.CloseNow()
			conns.Add(1)
			defer conns.Add(-1)
			for {
				typ, b, err := c.Read(r.Context())
				if err != nil {
					return
				}
				if err := c.Write(r.Context(), typ, b); err != nil {
					return
				}
			}
		})
	default:
		return fmt.Errorf("unknown server %q: want sessionkit or echo", impl)
	}

	mux := http.NewServeMux()
	mux.Handle("/ws", handler)
	mux.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("gc") != "" {
			runtime.GC()
			debug.FreeOSMemory()
		}
		if path := os.Getenv("WSLOAD_HEAPPROFILE"); path != "" && r.URL.Query().Get("gc") != "" {
			if f, err := os.Create(path + "." + impl); err == nil {
				_ = pprof.WriteHeapProfile(f)
				f.Close()
			}
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		st := stats{RSSKiB: rssKiB(), HeapAlloc: ms.HeapAlloc, HeapInuse: ms.HeapInuse, StackInuse: ms.StackInuse,
			Goroutines: runtime.NumGoroutine(), CPU: cpuMicros(), Conns: conns.Load()}
		if srv != nil {
			s := srv.Stats()
			st.Conns, st.ServerProbe, st.ServerLost = int64(s.Conns), s.Probes, s.Lost
		}
		_ = json.NewEncoder(w).Encode(st)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	fmt.Printf("ADDR %s\n", ln.Addr())
	go func() { // the parent closes stdin to stop us
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	<-ctx.Done()
	if srv != nil {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		_ = srv.Shutdown(sctx)
	}
	return hs.Close()
}

// rssKiB reads VmRSS from /proc/self/status.
func rssKiB() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			v, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return v
		}
	}
	return -1
}

func cpuMicros() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return ru.Utime.Nano()/1000 + ru.Stime.Nano()/1000
}
