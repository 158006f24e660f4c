package core_test

import (
	"context"
	"fmt"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/sessionkit/sessionkit/adapters/memstore"
	"github.com/sessionkit/sessionkit/core"
)

// exampleManager returns a Manager on memstore whose clock the example moves.
func exampleManager(p core.Policy) (*core.Manager, *clock.Mock) {
	c := clock.NewMock()
	c.Set(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	m, err := core.New(core.Config{Store: memstore.New(), Policy: p, Clock: c})
	if err != nil {
		panic(err)
	}
	return m, c
}

// printConn stands in for a WebSocket: it prints why it is told to close.
type printConn struct{ name string }

func (c printConn) CloseSession(r core.Reason) { fmt.Printf("%s closed: %s\n", c.name, r) }

// A live connection kept up by keepalives: a second login by the same user
// supersedes the first, and a lost link ends the session.
func Example_realtime() {
	ctx := context.Background()
	m, c := exampleManager(core.RealtimePolicy())
	fmt.Println("keepalive every", m.Interval())

	guest, _ := m.Create(ctx, core.CreateOptions{Channel: "api"})
	first, _ := m.Login(ctx, guest.ID, "ann")
	m.Attach(ctx, first.ID, printConn{"laptop"})
	m.KeepAlive(ctx, first.ID)

	c.Add(time.Minute)
	other, _ := m.Create(ctx, core.CreateOptions{Channel: "api"})
	second, _ := m.Login(ctx, other.ID, "ann") // the laptop is told to close
	_, err := m.KeepAlive(ctx, first.ID)
	fmt.Println("laptop keepalive:", err)

	phone := printConn{"phone"}
	m.Attach(ctx, second.ID, phone)
	m.Detach(ctx, phone, core.ReasonConnectionLost) // the network went away
	_, err = m.Get(ctx, second.ID)
	fmt.Println("phone session:", err)
	// Output:
	// keepalive every 20s
	// laptop closed: superseded
	// laptop keepalive: sessionkit: session ended: superseded
	// phone session: sessionkit: session ended: connection_lost
}

// A resumable session with a 7-day TTL and a client reference: the same ID
// continues within the TTL, and the reference finds it again.
func Example_resumable() {
	ctx := context.Background()
	m, c := exampleManager(core.ResumablePolicy())

	s, created, _ := m.GetOrCreate(ctx, "customer-42", core.CreateOptions{Channel: "link"})
	fmt.Println("created:", created, "state:", s.State)

	c.Add(3 * 24 * time.Hour)
	again, created, _ := m.GetOrCreate(ctx, "customer-42", core.CreateOptions{Channel: "frame"})
	fmt.Println("day 3 reuses it:", !created && again.ID == s.ID)
	resumed, _ := m.Resume(ctx, s.ID)
	fmt.Println("resumed:", resumed.State)

	c.Add(4*24*time.Hour + time.Second)
	_, err := m.Resume(ctx, s.ID)
	fmt.Println("day 7:", err)
	list, _ := m.ListByReference(ctx, "customer-42")
	fmt.Println("sessions of the reference:", len(list), list[0].State, list[0].EndReason)
	// Output:
	// created: true state: not_started
	// day 3 reuses it: true
	// resumed: active
	// day 7: sessionkit: session expired
	// sessions of the reference: 1 ended expired
}

// Idle and authentication timeouts that never cost the user their typing:
// the draft outlives the session and comes back in the next one.
func Example_forms() {
	ctx := context.Background()
	m, c := exampleManager(core.FormsPolicy())
	fmt.Println("keepalive every", m.Interval(), "while a form is open")

	guest, _ := m.Create(ctx, core.CreateOptions{})
	s, _ := m.Login(ctx, guest.ID, "ann")
	d, _ := m.SaveDraft(ctx, s.ID, core.DraftSave{Name: "tax-return", Data: []byte("line 1: 4200"), Mode: core.SaveAuto})

	c.Add(16 * time.Minute) // the user walked away
	m.Sweep(ctx, c.Now())
	_, err := m.Get(ctx, s.ID)
	fmt.Println("after 16 idle minutes:", err)

	g2, _ := m.Create(ctx, core.CreateOptions{})
	next, _ := m.Login(ctx, g2.ID, "ann")
	back, _ := m.ResumeDraft(ctx, next.ID, d.ID)
	fmt.Printf("resumed %s: %q\n", back.Name, back.Data)
	// Output:
	// keepalive every 7m30s while a form is open
	// after 16 idle minutes: sessionkit: session ended: idle_timeout
	// resumed tax-return: "line 1: 4200"
}
