package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/core"
)

// Run checks that the stores newStore returns meet the contract in the
// core.Store doc comment, and the core.BatchStore one when they implement
// it. Every subtest calls newStore for a fresh, empty store; newStore should
// register any cleanup with t.Cleanup.
//
// Subtests are named after the clause they check ("Put/StaleVersionIsConflict"),
// so an adapter can run one with go test -run.
func Run(t *testing.T, newStore func(t *testing.T) core.Store) {
	t.Helper()
	groups := []struct {
		name  string
		cases []test
	}{
		{"Get", getTests},
		{"Put", putTests},
		{"Delete", deleteTests},
		{"Copies", copyTests},
		{"Scan", scanTests},
		{"Index", indexTests},
		{"Bytes", byteTests},
		{"Context", contextTests},
		{"Concurrency", concurrencyTests},
		{"Batch", batchTests},
		{"Clock", clockTests},
		{"Scale", scaleTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, c := range g.cases {
				t.Run(c.name, func(t *testing.T) {
					s := newStore(t)
					if s == nil {
						t.Fatal("newStore returned a nil Store")
					}
					c.fn(t, s)
				})
			}
		})
	}
}

// test is one clause check, run against a fresh store.
type test struct {
	name string
	fn   func(t *testing.T, s core.Store)
}

// base is the fixed instant the suite's time-valued index entries start from.
var base = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

// timeValue encodes t the way core encodes instants in index values: a
// fixed-width string whose byte order is time order.
func timeValue(t time.Time) string {
	return t.UTC().Format("20060102T150405.000000000Z")
}

// rec builds a record with the given key, value and index entries given as
// name, value pairs.
func rec(key, value string, nameValues ...string) core.Record {
	r := core.Record{Key: key, Value: []byte(value)}
	for i := 0; i+1 < len(nameValues); i += 2 {
		r.Index = append(r.Index, core.IndexEntry{Name: nameValues[i], Value: nameValues[i+1]})
	}
	return r
}

// put stores r and returns the new version, failing the test on error.
func put(t *testing.T, s core.Store, r core.Record) uint64 {
	t.Helper()
	v, err := s.Put(t.Context(), r)
	if err != nil {
		t.Fatalf("Put(%s) = %v, want success", fmtRecord(r), err)
	}
	if v == 0 {
		t.Fatalf("Put(%s) returned version 0, want > 0", fmtRecord(r))
	}
	return v
}

// get reads key, failing the test on error.
func get(t *testing.T, s core.Store, key string) core.Record {
	t.Helper()
	r, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q) = %v, want success", key, err)
	}
	return r
}

// del deletes key at version, failing the test on error.
func del(t *testing.T, s core.Store, key string, version uint64) {
	t.Helper()
	if err := s.Delete(t.Context(), key, version); err != nil {
		t.Fatalf("Delete(%q, %d) = %v, want nil", key, version, err)
	}
}

// scan runs r, failing the test on error.
func scan(t *testing.T, s core.Store, r core.Range) []core.Record {
	t.Helper()
	got, err := s.Scan(t.Context(), r)
	if err != nil {
		t.Fatalf("Scan(%s) = %v, want success", fmtRange(r), err)
	}
	return got
}

// wantMissing checks that key does not exist.
func wantMissing(t *testing.T, s core.Store, key string) {
	t.Helper()
	r, err := s.Get(t.Context(), key)
	if !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("Get(%q) = %s, %v; want error wrapping core.ErrNotFound", key, fmtRecord(r), err)
	}
}

// wantErrIs checks that err matches target with errors.Is.
func wantErrIs(t *testing.T, call string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s = %v; want error wrapping %v", call, err, target)
	}
}

// wantRecord checks that key holds want, with want.Version as its version.
func wantRecord(t *testing.T, s core.Store, want core.Record) {
	t.Helper()
	got := get(t, s, want.Key)
	if !sameRecord(got, want) {
		t.Fatalf("Get(%q):\n got  %s\n want %s", want.Key, fmtRecord(got), fmtRecord(want))
	}
}

// sameRecord reports whether a and b hold the same key, version, value and
// index entries. The order of index entries does not matter: the contract
// does not promise one.
func sameRecord(a, b core.Record) bool {
	return a.Key == b.Key && a.Version == b.Version && bytes.Equal(a.Value, b.Value) &&
		slices.Equal(sortedIndex(a.Index), sortedIndex(b.Index))
}

func sortedIndex(idx []core.IndexEntry) []core.IndexEntry {
	out := slices.Clone(idx)
	slices.SortFunc(out, func(a, b core.IndexEntry) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.Value, b.Value)
	})
	return out
}

// wantScan checks that Scan(r) returns exactly the records with keys want,
// in that order.
func wantScan(t *testing.T, s core.Store, r core.Range, want ...string) []core.Record {
	t.Helper()
	got := scan(t, s, r)
	if gotKeys := keys(got); !slices.Equal(gotKeys, want) {
		t.Fatalf("Scan(%s) keys:\n got  %s\n want %s", fmtRange(r), fmtKeys(gotKeys), fmtKeys(want))
	}
	return got
}

func keys(recs []core.Record) []string {
	out := make([]string, 0, len(recs))
	for _, r := range recs {
		out = append(out, r.Key)
	}
	return out
}

// exact returns the Range of entries of index whose value is exactly v:
// v+"\x00" is the smallest string greater than v.
func exact(index, v string) core.Range {
	return core.Range{Index: index, From: v, To: v + "\x00"}
}

func fmtKeys(ks []string) string {
	q := make([]string, len(ks))
	for i, k := range ks {
		q[i] = fmt.Sprintf("%q", k)
	}
	return "[" + strings.Join(q, " ") + "]"
}

func fmtRecord(r core.Record) string {
	var idx []string
	for _, e := range r.Index {
		idx = append(idx, fmt.Sprintf("%s=%q", e.Name, e.Value))
	}
	return fmt.Sprintf("{Key:%q Version:%d Value:%q Index:[%s]}", r.Key, r.Version, r.Value, strings.Join(idx, " "))
}

func fmtRange(r core.Range) string {
	return fmt.Sprintf("{Index:%q From:%q To:%q Reverse:%t Limit:%d}", r.Index, r.From, r.To, r.Reverse, r.Limit)
}
