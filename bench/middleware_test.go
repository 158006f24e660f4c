// Package bench holds benchmarks that compare sessionkit with other
// libraries. It is a module of its own so that their dependencies stay out
// of sessionkit's go.mod. Run:
//
//	cd bench && go test -run '^$' -bench . -benchmem
package bench

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	scsmemstore "github.com/alexedwards/scs/v2/memstore"

	"github.com/sessionkit/sessionkit/adapters/memstore"
	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/transports/httptransport"
)

// idle is the idle timeout both libraries are configured with.
const idle = 30 * time.Minute

// writer is a ResponseWriter that keeps nothing, reused across requests so
// that the figures are the middleware's, not the recorder's.
type writer struct {
	h    http.Header
	code int
}

func (w *writer) Header() http.Header         { return w.h }
func (w *writer) Write(b []byte) (int, error) { return len(b), nil }
func (w *writer) WriteHeader(code int)        { w.code = code }

func (w *writer) reset() {
	clear(w.h)
	w.code = 0
}

// serve runs h on r b.N times and checks the answer.
func serve(b *testing.B, h http.Handler, r *http.Request) {
	b.Helper()
	w := &writer{h: make(http.Header)}
	h.ServeHTTP(w, r)
	if w.code != http.StatusNoContent {
		b.Fatalf("status %d, headers %v", w.code, w.h)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w.reset()
		h.ServeHTTP(w, r)
	}
	if w.code != http.StatusNoContent {
		b.Fatalf("status %d, headers %v", w.code, w.h)
	}
}

func serveParallel(b *testing.B, h http.Handler, r *http.Request) {
	b.Helper()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w := &writer{h: make(http.Header)}
		for pb.Next() {
			w.reset()
			h.ServeHTTP(w, r)
			if w.code != http.StatusNoContent {
				b.Errorf("status %d", w.code)
				return
			}
		}
	})
}

// sessionkitSetup returns the middleware around next and a request carrying
// the token of a logged-in, active session (cookie or bearer).
func sessionkitSetup(b *testing.B, next http.Handler, bearer bool) (http.Handler, *http.Request) {
	b.Helper()
	m, err := core.New(core.Config{Store: memstore.New(), Policy: core.Policy{IdleTimeout: idle}})
	if err != nil {
		b.Fatal(err)
	}
	h, err := httptransport.New(httptransport.Config{Manager: m})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	s, err := m.Create(ctx, core.CreateOptions{Subject: "ann"})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := m.Activity(ctx, s.ID); err != nil {
		b.Fatal(err)
	}
	r, _ := http.NewRequest("GET", "https://app.example/page", nil)
	if bearer {
		r.Header.Set("Authorization", "Bearer "+s.ID)
	} else {
		r.AddCookie(&http.Cookie{Name: httptransport.DefaultCookieName, Value: s.ID})
	}
	return h.Middleware(next), r
}

// scsSetup returns scs's LoadAndSave around next, on scs's memstore with an
// idle timeout, and a request carrying the cookie of a session that holds
// the same subject.
func scsSetup(b *testing.B, next func(*scs.SessionManager) http.Handler) (http.Handler, *http.Request) {
	b.Helper()
	sm := scs.New()
	sm.Store = scsmemstore.NewWithCleanupInterval(0) // no cleanup goroutine
	sm.IdleTimeout = idle
	sm.Lifetime = core.DefaultTTL
	sm.Cookie.Name = "session"
	sm.Cookie.Secure = true
	ctx, err := sm.Load(context.Background(), "")
	if err != nil {
		b.Fatal(err)
	}
	sm.Put(ctx, "subject", "ann")
	tok, _, err := sm.Commit(ctx)
	if err != nil {
		b.Fatal(err)
	}
	r, _ := http.NewRequest("GET", "https://app.example/page", nil)
	r.AddCookie(&http.Cookie{Name: "session", Value: tok})
	return sm.LoadAndSave(next(sm)), r
}

// BenchmarkMiddleware measures the per-request overhead of session
// middleware around the same trivial handler, which reads the session's
// subject and answers 204. Both keep sessions in memory with a 30-minute
// idle timeout.
func BenchmarkMiddleware(b *testing.B) {
	skHandler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s, ok := httptransport.SessionFrom(r.Context()); !ok || s.Subject != "ann" {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	scsHandler := func(sm *scs.SessionManager) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if sm.GetString(r.Context(), "subject") != "ann" {
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		})
	}

	b.Run("none", func(b *testing.B) {
		r, _ := http.NewRequest("GET", "https://app.example/page", nil)
		serve(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNoContent)
		}), r)
	})
	b.Run("sessionkit/cookie", func(b *testing.B) {
		h, r := sessionkitSetup(b, skHandler, false)
		serve(b, h, r)
	})
	b.Run("sessionkit/bearer", func(b *testing.B) {
		h, r := sessionkitSetup(b, skHandler, true)
		serve(b, h, r)
	})
	b.Run("scs/cookie", func(b *testing.B) {
		h, r := scsSetup(b, scsHandler)
		serve(b, h, r)
	})
	b.Run("sessionkit/cookie/parallel", func(b *testing.B) {
		h, r := sessionkitSetup(b, skHandler, false)
		serveParallel(b, h, r)
	})
	b.Run("scs/cookie/parallel", func(b *testing.B) {
		h, r := scsSetup(b, scsHandler)
		serveParallel(b, h, r)
	})
}

// BenchmarkActivity splits sessionkit's figure: the two Manager calls the
// middleware makes per request.
func BenchmarkActivity(b *testing.B) {
	m, err := core.New(core.Config{Store: memstore.New(), Policy: core.Policy{IdleTimeout: idle}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	s, _ := m.Create(ctx, core.CreateOptions{Subject: "ann"})
	if _, err := m.Activity(ctx, s.ID); err != nil {
		b.Fatal(err)
	}
	b.Run("Activity", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := m.Activity(ctx, s.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Get", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := m.Get(ctx, s.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
}
