package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/core"
)

// The clauses "Of concurrent Puts with the same version, exactly one
// succeeds", "A Store is safe for concurrent use" and "a reader never sees a
// record under an index entry it no longer has".

const (
	racers = 16 // goroutines contending for one version
	rounds = 25 // contests per test
)

// race runs fn(i) for i in [0, n) on n goroutines released together, and
// returns when all have finished.
func race(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			fn(i)
		}()
	}
	close(start)
	wg.Wait()
}

// contest has racers goroutines Put key at version and checks that exactly
// one wins, the others get ErrConflict, and the winner's write is stored.
func contest(t *testing.T, s core.Store, key string, version uint64) uint64 {
	t.Helper()
	versions := make([]uint64, racers)
	errs := make([]error, racers)
	race(racers, func(i int) {
		r := rec(key, fmt.Sprintf("racer %d", i), core.IndexOwner, fmt.Sprintf("racer %d", i))
		r.Version = version
		versions[i], errs[i] = s.Put(t.Context(), r)
	})
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("Put(%q) at version %d: racers %d and %d both succeeded (versions %d, %d); want exactly one", key, version, winner, i, versions[winner], versions[i])
		case err == nil:
			winner = i
		case !errors.Is(err, core.ErrConflict):
			t.Fatalf("Put(%q) at version %d, racer %d: %v; want nil or core.ErrConflict", key, version, i, err)
		}
	}
	if winner < 0 {
		t.Fatalf("Put(%q) at version %d: all %d racers failed; want exactly one to succeed", key, version, racers)
	}
	want := rec(key, fmt.Sprintf("racer %d", winner), core.IndexOwner, fmt.Sprintf("racer %d", winner))
	want.Version = versions[winner]
	wantRecord(t, s, want)
	// Only the winner's entry is in the index.
	var under []string
	for _, r := range scan(t, s, core.Range{Index: core.IndexOwner}) {
		if r.Key == key {
			under = append(under, fmtRecord(r))
		}
	}
	if w := fmtRecord(want); len(under) != 1 || under[0] != w {
		t.Fatalf("Scan of index %q after the race found %q as %v, want [%s]", core.IndexOwner, key, under, w)
	}
	return versions[winner]
}

var concurrencyTests = []test{
	{"SameVersionPutsOneWins", func(t *testing.T, s core.Store) {
		v := put(t, s, rec("s/1", "start"))
		for range rounds {
			next := contest(t, s, "s/1", v)
			if next <= v {
				t.Fatalf("winning Put at version %d returned %d, want greater", v, next)
			}
			v = next
		}
	}},
	{"ConcurrentCreatesOneWins", func(t *testing.T, s core.Store) {
		for i := range rounds {
			contest(t, s, fmt.Sprintf("s/%d", i), 0)
		}
	}},
	{"DistinctKeysInParallel", func(t *testing.T, s core.Store) {
		const writes = 20
		errs := make([]error, racers)
		race(racers, func(i int) {
			errs[i] = churn(t, s, fmt.Sprintf("s/%02d", i), writes)
		})
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		var all []string
		for i := range racers {
			all = append(all, fmt.Sprintf("s/%02d", i))
		}
		wantScan(t, s, core.Range{Index: core.IndexDue, From: timeValue(base.Add(writes - 1))}, all...)
	}},
	{"ReaderNeverSeesStaleEntry", func(t *testing.T, s core.Store) {
		// A writer moves one record back and forth between two owners
		// while readers scan each owner; every record a reader gets
		// must carry the entry it was found under.
		const moves = 200
		r := rec("d/1", "0", core.IndexOwner, "alice")
		r.Version = put(t, s, r)
		done := make(chan struct{})
		errs := make([]error, 3)
		race(3, func(i int) {
			if i == 0 {
				defer close(done)
				for n := range moves {
					r.Index[0].Value = []string{"bob", "alice"}[n%2]
					r.Value = fmt.Appendf(nil, "%d", n+1)
					v, err := s.Put(t.Context(), r)
					if err != nil {
						errs[i] = fmt.Errorf("writer: Put move %d: %w", n, err)
						return
					}
					r.Version = v
				}
				return
			}
			owner := []string{"", "alice", "bob"}[i]
			for {
				select {
				case <-done:
					return
				default:
				}
				got, err := s.Scan(t.Context(), exact(core.IndexOwner, owner))
				if err != nil {
					errs[i] = fmt.Errorf("reader: Scan: %w", err)
					return
				}
				for _, g := range got {
					if len(g.Index) != 1 || g.Index[0] != (core.IndexEntry{Name: core.IndexOwner, Value: owner}) {
						errs[i] = fmt.Errorf("reader: Scan of owner %q returned %s, which is no longer under it", owner, fmtRecord(g))
						return
					}
				}
			}
		})
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
	}},
}

// churn creates key and updates it writes times, reading and scanning
// between writes; its due entry ends at base+writes-1.
func churn(t *testing.T, s core.Store, key string, writes int) error {
	ctx := t.Context()
	var v uint64
	for n := range writes {
		r := rec(key, fmt.Sprintf("write %d", n), core.IndexDue, timeValue(base.Add(time.Duration(n))))
		r.Version = v
		var err error
		if v, err = s.Put(ctx, r); err != nil {
			return fmt.Errorf("%s write %d: Put: %w", key, n, err)
		}
		got, err := s.Get(ctx, key)
		if err != nil {
			return fmt.Errorf("%s write %d: Get: %w", key, n, err)
		}
		r.Version = v
		if !sameRecord(got, r) {
			return fmt.Errorf("%s write %d: Get = %s, want %s", key, n, fmtRecord(got), fmtRecord(r))
		}
		if _, err := s.Scan(ctx, core.Range{Index: core.IndexDue, Limit: 5}); err != nil {
			return fmt.Errorf("%s write %d: Scan: %w", key, n, err)
		}
	}
	return nil
}
