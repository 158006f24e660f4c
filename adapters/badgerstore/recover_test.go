package badgerstore_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/sessionkit/sessionkit/adapters/badgerstore"
	"github.com/sessionkit/sessionkit/core"
)

type nopConn struct{}

func (nopConn) CloseSession(core.Reason) {}

// TestManagerRecoverOverReopenedStore is rule P10 on a durable store:
// sessions and drafts acknowledged before Close are there after Open,
// unchanged, and Recover applies OnDisconnect with service_restart to the
// sessions that had a connection.
func TestManagerRecoverOverReopenedStore(t *testing.T) {
	for _, tt := range []struct {
		name  string
		p     core.Policy
		state core.State
	}{
		{"realtime ends", core.RealtimePolicy(), core.StateEnded},
		{"resumable suspends", core.ResumablePolicy(), core.StateSuspended},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			clk := clock.NewMock()
			clk.Set(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
			open := func() (*badgerstore.Store, *core.Manager) {
				t.Helper()
				st, err := badgerstore.Open(dir, nil)
				if err != nil {
					t.Fatal(err)
				}
				m, err := core.New(core.Config{Store: st, Policy: tt.p, Clock: clk})
				if err != nil {
					t.Fatal(err)
				}
				return st, m
			}

			st, m := open()
			var connected, idle []core.Session
			var drafts []core.Draft
			for i := range 6 {
				s, err := m.Create(ctx, core.CreateOptions{Reference: "r", Channel: "link"})
				if err != nil {
					t.Fatal(err)
				}
				d, err := m.SaveDraft(ctx, s.ID, core.DraftSave{Name: "form", Data: []byte{byte(i), 'x'}, Mode: core.SaveManual})
				if err != nil {
					t.Fatal(err)
				}
				drafts = append(drafts, d)
				if i%2 == 0 {
					if _, err := m.Attach(ctx, s.ID, nopConn{}); err != nil {
						t.Fatal(err)
					}
					connected = append(connected, s)
				} else {
					s, _ = m.Get(ctx, s.ID)
					idle = append(idle, s)
				}
			}
			// A crash: no Manager.Close, only the store's.
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			clk.Add(time.Minute)

			st, m = open()
			defer st.Close()
			n, err := m.Recover(ctx)
			if err != nil || n != len(connected) {
				t.Fatalf("Recover = %d, %v; want %d", n, err, len(connected))
			}
			for _, s := range connected {
				got, err := m.Get(ctx, s.ID)
				if got.State != tt.state || got.Node != "" {
					t.Errorf("connected %s: %v (%v), want %v", s.ID, got.State, err, tt.state)
				}
				if tt.state == core.StateEnded {
					if r, _ := core.EndReason(err); r != core.ReasonServiceRestart {
						t.Errorf("connected %s ended with %v, want service_restart", s.ID, err)
					}
				}
			}
			for _, s := range idle {
				got, err := m.Get(ctx, s.ID)
				if err != nil || got.State != s.State || !got.CreatedAt.Equal(s.CreatedAt) || got.ReferenceID != "r" {
					t.Errorf("unconnected %s: %+v %v, want unchanged %+v", s.ID, got, err, s)
				}
			}
			owned, err := m.ListDraftsByOwner(ctx, "ref:r")
			if err != nil || len(owned) != len(drafts) {
				t.Fatalf("drafts after restart: %d, %v; want %d", len(owned), err, len(drafts))
			}
			byID := map[string]core.Draft{}
			for _, d := range owned {
				byID[d.ID] = d
			}
			for _, want := range drafts {
				got := byID[want.ID]
				if !bytes.Equal(got.Data, want.Data) || got.Version != want.Version || got.Mode != want.Mode {
					t.Errorf("draft %s: %+v, want %+v", want.ID, got, want)
				}
			}
		})
	}
}
