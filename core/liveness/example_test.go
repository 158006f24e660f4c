package liveness_test

import (
	"fmt"
	"time"

	"github.com/sessionkit/sessionkit/core/liveness"
)

func ExampleClient() {
	start := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	since := func(t time.Time) time.Duration { return t.Sub(start) }

	c, err := liveness.NewClient(liveness.ClientConfig{Interval: 20 * time.Second})
	if err != nil {
		fmt.Println(err)
		return
	}
	c.Start(start)
	fmt.Println("timer at", since(c.Next()))

	a := c.Tick(c.Next())
	fmt.Println(a.Op, a.Seq, "- ack due by", since(c.Next()))

	// The ack takes 300ms; the next keepalive runs from it.
	fmt.Println("ack", c.Ack(start.Add(20300*time.Millisecond), a.Seq), "- next send at", since(c.Next()))

	a = c.Tick(c.Next())
	fmt.Println(a.Op, a.Seq, "- ack due by", since(c.Next()))

	// No answer: the timer fires at the deadline.
	fmt.Println(c.Tick(c.Next()).Op)
	// Output:
	// timer at 20s
	// send_keepalive 1 - ack due by 30s
	// ack accepted - next send at 40.3s
	// send_keepalive 2 - ack due by 50.3s
	// lost
}

func ExampleService() {
	start := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	since := func(t time.Time) time.Duration { return t.Sub(start) }

	s, err := liveness.NewService(liveness.ServiceConfig{Interval: 20 * time.Second})
	if err != nil {
		fmt.Println(err)
		return
	}
	s.Add(1, start)
	s.Add(2, start)

	// The caller's timer: run Advance at each Next up to until.
	var buf []liveness.ServiceAction
	runUntil := func(until time.Time) {
		for next, ok := s.Next(); ok && !next.After(until); next, ok = s.Next() {
			buf = s.Advance(next, buf[:0])
			for _, a := range buf {
				fmt.Println(since(next), a.Op, a.ID)
			}
		}
	}

	// Connection 1 keeps alive on time; connection 2 goes silent.
	for _, d := range []time.Duration{20, 40, 60} {
		now := start.Add(d*time.Second + 50*time.Millisecond)
		runUntil(now)
		s.Heard(1, now)
	}
	runUntil(start.Add(time.Minute))
	// Output:
	// 25s probe 2
	// 45s lost 2
}
