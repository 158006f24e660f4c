// Command wsload measures what idle WebSocket sessions cost the service:
// it holds N sessions keeping alive against a sessionkit wstransport server
// and, in the same run, N connections against a bare coder/websocket echo
// server, and reports the server's RSS per connection and CPU.
//
// Each server runs in its own process (this binary with -serve), so that the
// server's RSS is not mixed with the clients'. Everything stays on loopback;
// N, the hold time and the whole run are bounded, and the program stops by
// itself.
//
//	go run ./transports/wstransport/cmd/wsload -n 10000,20000 -hold 60s
//
// For each server it reports the RSS of the server process before any
// connection, while the connections are held (as the runtime left it), and
// after a forced GC that returns free memory to the system; per connection,
// each less the first. Setting WSLOAD_HEAPPROFILE=path or
// WSLOAD_CPUPROFILE=path makes the server processes write profiles to
// path.sessionkit and path.echo.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Bounds, so that a typo cannot run away with the machine.
const (
	maxConns    = 50000
	maxHold     = 10 * time.Minute
	maxDuration = 60 * time.Minute
)

func main() {
	var (
		serve       = flag.String("serve", "", "run as the server process: sessionkit or echo")
		counts      = flag.String("n", "10000,20000", "comma-separated numbers of connections")
		impls       = flag.String("impl", "sessionkit,echo", "comma-separated servers to measure")
		interval    = flag.Duration("interval", 20*time.Second, "keepalive interval")
		hold        = flag.Duration("hold", 60*time.Second, "how long to hold the connections once all are up")
		sources     = flag.Int("sources", 8, "loopback source addresses 127.0.0.1.. to spread client ports over")
		concurrency = flag.Int("concurrency", 128, "connections being opened at once")
		deadline    = flag.Duration("max-duration", 30*time.Minute, "stop everything after this long")
	)
	flag.Parse()
	log.SetFlags(log.Ltime)
	if *deadline > maxDuration {
		*deadline = maxDuration
	}
	if *serve != "" {
		if err := runServer(*serve, *interval, *deadline); err != nil {
			log.Fatal(err)
		}
		return
	}
	if *hold > maxHold {
		log.Fatalf("-hold %v is over the bound %v", *hold, maxHold)
	}
	var ns []int
	for _, s := range strings.Split(*counts, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > maxConns {
			log.Fatalf("-n %q: want counts from 1 to %d", s, maxConns)
		}
		ns = append(ns, n)
	}
	if *sources < 1 || *sources > 250 {
		log.Fatalf("-sources %d: want 1 to 250", *sources)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *deadline)
	defer cancel()

	most := 0
	for _, n := range ns {
		most = max(most, n)
	}
	if err := raiseFileLimit(most); err != nil {
		log.Fatal(err)
	}
	var results []result
	for _, n := range ns {
		for _, impl := range strings.Split(*impls, ",") {
			r, err := measure(ctx, strings.TrimSpace(impl), n, *interval, *hold, *sources, *concurrency)
			if err != nil {
				log.Fatalf("%s with %d connections: %v", impl, n, err)
			}
			results = append(results, r)
		}
	}
	printResults(results, *interval, *hold)
}

// fdReserve is how many descriptors beside the connections a process
// needs: stdio, pipes, the listener, the stats requests.
const fdReserve = 64

// raiseFileLimit lifts RLIMIT_NOFILE for n connections: the soft limit up to
// the hard one, and the hard one too when the process may (it needs
// CAP_SYS_RESOURCE). It fails when n connections cannot fit.
func raiseFileLimit(n int) error {
	want := uint64(n + fdReserve)
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	if lim.Cur >= want {
		return nil
	}
	if lim.Max < want {
		raised := syscall.Rlimit{Cur: want, Max: want}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err == nil {
			return nil
		}
		return fmt.Errorf("%d connections need %d descriptors, over the hard limit of %d, which this process may not raise (CAP_SYS_RESOURCE); at most %d connections fit",
			n, want, lim.Max, int(lim.Max)-fdReserve)
	}
	lim.Cur = want
	return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
}

// result is one measurement.
type result struct {
	impl              string
	n                 int
	connectTime       time.Duration
	base, held, gced  stats
	cpuStart, cpuEnd  int64
	holdTime          time.Duration
	acksInHold, fails int64
}

func measure(ctx context.Context, impl string, n int, interval, hold time.Duration, sources, concurrency int) (result, error) {
	r := result{impl: impl, n: n}
	cmd := exec.CommandContext(ctx, os.Args[0], "-serve", impl, "-interval", interval.String(),
		"-max-duration", (hold + 10*time.Minute).String())
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return r, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return r, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return r, err
	}
	defer func() {
		stdin.Close()
		_ = cmd.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		return r, fmt.Errorf("server did not start: %w", err)
	}
	addr := strings.TrimSpace(strings.TrimPrefix(line, "ADDR "))
	if host, _, _ := net.SplitHostPort(addr); !net.ParseIP(host).IsLoopback() {
		return r, fmt.Errorf("server address %s is not loopback", addr)
	}
	get := func(gc bool) (stats, error) {
		u := "http://" + addr + "/stats"
		if gc {
			u += "?gc=1"
		}
		resp, err := http.Get(u)
		if err != nil {
			return stats{}, err
		}
		defer resp.Body.Close()
		var s stats
		return s, json.NewDecoder(resp.Body).Decode(&s)
	}
	if r.base, err = get(true); err != nil {
		return r, err
	}

	log.Printf("%s: opening %d connections", impl, n)
	var acks, fails atomic.Int64
	pool := newPool(impl, "ws://"+addr+"/ws", interval, sources, &acks, &fails)
	began := time.Now()
	if err := pool.open(ctx, n, concurrency); err != nil {
		pool.close(concurrency)
		return r, err
	}
	r.connectTime = time.Since(began)
	log.Printf("%s: %d connections up in %v; holding %v", impl, n, r.connectTime.Round(time.Millisecond), hold)

	// Let the connection burst's garbage be collected and every client
	// get into its keepalive rhythm before measuring.
	settle := min(interval, 20*time.Second)
	if err := sleep(ctx, settle); err != nil {
		return r, err
	}
	start, err := get(false)
	if err != nil {
		return r, err
	}
	acksBefore, heldFrom := acks.Load(), time.Now()
	if err := sleep(ctx, hold); err != nil {
		return r, err
	}
	if r.held, err = get(false); err != nil {
		return r, err
	}
	r.holdTime = time.Since(heldFrom)
	r.acksInHold = acks.Load() - acksBefore
	r.cpuStart, r.cpuEnd = start.CPU, r.held.CPU
	if r.gced, err = get(true); err != nil {
		return r, err
	}
	r.fails = fails.Load()
	log.Printf("%s: closing", impl)
	pool.close(concurrency)
	return r, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func printResults(rs []result, interval, hold time.Duration) {
	fmt.Printf("\nkeepalive interval %v, hold %v, GOMAXPROCS %d, %s\n\n", interval, hold, runtime.GOMAXPROCS(0), runtime.Version())
	fmt.Println("| server | N | connect | RSS before (KiB) | RSS held (KiB) | RSS/conn held | RSS after GC (KiB) | RSS/conn after GC | heap+stack/conn | CPU % of a core | CPU µs/keepalive | keepalives in hold | failed |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rs {
		perConn := func(kib int64) string {
			return fmt.Sprintf("%.1f KiB", float64(kib-r.base.RSSKiB)/float64(r.n))
		}
		mem := float64(r.gced.HeapInuse+r.gced.StackInuse-r.base.HeapInuse-r.base.StackInuse) / 1024 / float64(r.n)
		cpu := float64(r.cpuEnd - r.cpuStart)
		pct := cpu / float64(r.holdTime.Microseconds()) * 100
		perKA := "-"
		if r.acksInHold > 0 {
			perKA = fmt.Sprintf("%.1f", cpu/float64(r.acksInHold))
		}
		fmt.Printf("| %s | %d | %v | %d | %d | %s | %d | %s | %.1f KiB | %.2f | %s | %d | %d |\n",
			r.impl, r.n, r.connectTime.Round(100*time.Millisecond), r.base.RSSKiB, r.held.RSSKiB, perConn(r.held.RSSKiB),
			r.gced.RSSKiB, perConn(r.gced.RSSKiB), mem, pct, perKA, r.acksInHold, r.fails)
	}
	fmt.Println()
	for _, r := range rs {
		fmt.Printf("%s N=%d: %d goroutines and %d connections held; after GC per connection: live heap %.1f KiB, heap spans in use %.1f KiB, stacks %.1f KiB",
			r.impl, r.n, r.held.Goroutines, r.held.Conns, perConnKiB(r.gced.HeapAlloc, r.base.HeapAlloc, r.n),
			perConnKiB(r.gced.HeapInuse, r.base.HeapInuse, r.n), perConnKiB(r.gced.StackInuse, r.base.StackInuse, r.n))
		if r.impl == "sessionkit" {
			fmt.Printf("; server probes %d, lost %d", r.held.ServerProbe, r.held.ServerLost)
		}
		fmt.Println()
	}
}

func perConnKiB(v, base uint64, n int) float64 {
	return (float64(v) - float64(base)) / 1024 / float64(n)
}
