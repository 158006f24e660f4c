// Command quickstart walks through sessionkit's three products on an
// in-memory store, with the clock moved by hand so a week passes in a blink.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/sessionkit/sessionkit/adapters/memstore"
	"github.com/sessionkit/sessionkit/core"
)

func main() {
	log.SetFlags(0)
	ctx := context.Background()
	realtime(ctx)
	resumable(ctx)
	forms(ctx)
}

// manager returns a Manager on memstore with a clock this program moves.
func manager(p core.Policy) (*core.Manager, *clock.Mock) {
	c := clock.NewMock()
	c.Set(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	m, err := core.New(core.Config{Store: memstore.New(), Policy: p, Clock: c})
	if err != nil {
		log.Fatal(err)
	}
	events := m.Subscribe(64)
	go func() {
		for e := range events.C {
			line := fmt.Sprintf("    event %-10s %s", e.Type, short(e.Session))
			if e.Reason != "" {
				line += " (" + string(e.Reason) + ")"
			}
			fmt.Println(line)
		}
	}()
	return m, c
}

func short(id string) string { return id[:6] + "…" }

type conn struct{ name string }

func (c conn) CloseSession(r core.Reason) { fmt.Printf("    %s is told to close: %s\n", c.name, r) }

func must[T any](v T, err error) T {
	if err != nil {
		log.Fatal(err)
	}
	return v
}

func pause() { time.Sleep(10 * time.Millisecond) } // let the event printer catch up

func realtime(ctx context.Context) {
	fmt.Println("1. Live connection with keepalives (RealtimePolicy)")
	m, clk := manager(core.RealtimePolicy())
	fmt.Println("   clients pulse every", m.Interval())
	laptop := must(m.Login(ctx, must(m.Create(ctx, core.CreateOptions{})).ID, "ann"))
	must(m.Attach(ctx, laptop.ID, conn{"laptop"}))
	clk.Add(time.Minute)
	phone := must(m.Login(ctx, must(m.Create(ctx, core.CreateOptions{})).ID, "ann"))
	pause()
	_, err := m.KeepAlive(ctx, laptop.ID)
	fmt.Println("   laptop pulse after the phone logged in:", err)
	c := conn{"phone"}
	must(m.Attach(ctx, phone.ID, c))
	if err := m.Detach(ctx, c, core.ReasonConnectionLost); err != nil {
		log.Fatal(err)
	}
	pause()
	_, err = m.Get(ctx, phone.ID)
	fmt.Println("   phone after its link was lost:", err)
}

func resumable(ctx context.Context) {
	fmt.Println("\n2. Resumable sessions with a 7-day TTL (ResumablePolicy)")
	m, clk := manager(core.ResumablePolicy())
	s, _, err := m.GetOrCreate(ctx, "customer-42", core.CreateOptions{Channel: "link"})
	if err != nil {
		log.Fatal(err)
	}
	clk.Add(3 * 24 * time.Hour)
	again, created, _ := m.GetOrCreate(ctx, "customer-42", core.CreateOptions{Channel: "frame"})
	fmt.Println("   day 3, same reference, new channel → same session:", !created && again.ID == s.ID)
	must(m.Resume(ctx, s.ID))
	clk.Add(4*24*time.Hour + time.Second)
	_, err = m.Resume(ctx, s.ID)
	fmt.Println("   day 7 and a second:", err)
	pause()
}

func forms(ctx context.Context) {
	fmt.Println("\n3. Idle and auth timeouts with saved drafts (FormsPolicy)")
	m, clk := manager(core.FormsPolicy())
	fmt.Println("   pulses every", m.Interval(), "while a form is open")
	s := must(m.Login(ctx, must(m.Create(ctx, core.CreateOptions{})).ID, "ann"))
	d := must(m.SaveDraft(ctx, s.ID, core.DraftSave{Name: "tax-return", Data: []byte("line 1: 4200"), Mode: core.SaveAuto}))
	clk.Add(16 * time.Minute)
	must(m.Sweep(ctx, clk.Now()))
	pause()
	next := must(m.Login(ctx, must(m.Create(ctx, core.CreateOptions{})).ID, "ann"))
	back := must(m.ResumeDraft(ctx, next.ID, d.ID))
	fmt.Printf("   after the idle timeout, a new session resumes %q: %q\n", back.Name, back.Data)
	pause()
}
