package storetest

import (
	"bytes"
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/core"
)

// A larger store checked against a plain in-test model: thousands of records,
// ties, updates that move and drop entries, deletes and re-creates, and
// random ranges in both directions with limits.

const (
	scaleRecords = 2000
	scaleQueries = 300
	scaleChanges = 800
)

// model is what the store should hold: records by key.
type model map[string]core.Record

// want answers r from the model the slow, obvious way.
func (m model) want(r core.Range) []core.Record {
	type hit struct {
		value string
		rec   core.Record
	}
	var hits []hit
	for _, rec := range m {
		for _, e := range rec.Index {
			if e.Name == r.Index && e.Value >= r.From && (r.To == "" || e.Value < r.To) {
				hits = append(hits, hit{e.Value, rec})
			}
		}
	}
	slices.SortFunc(hits, func(a, b hit) int {
		return cmp.Or(cmp.Compare(a.value, b.value), cmp.Compare(a.rec.Key, b.rec.Key))
	})
	if r.Reverse {
		slices.Reverse(hits)
	}
	if r.Limit > 0 && len(hits) > r.Limit {
		hits = hits[:r.Limit]
	}
	out := make([]core.Record, len(hits))
	for i, h := range hits {
		out[i] = h.rec
	}
	return out
}

// scaleWorld generates records, changes and queries from one seeded source.
type scaleWorld struct {
	rng *rand.Rand
	m   model
}

func (w *scaleWorld) dueValue() string {
	return timeValue(base.Add(time.Duration(w.rng.IntN(600)) * time.Minute))
}

// index returns a random set of entries: always a due entry (some sessions
// share a deadline), sometimes an owner and a node.
func (w *scaleWorld) index() []core.IndexEntry {
	idx := []core.IndexEntry{{Name: core.IndexDue, Value: w.dueValue()}}
	if w.rng.IntN(3) == 0 {
		idx = append(idx, core.IndexEntry{Name: core.IndexOwner, Value: fmt.Sprintf("subject:%02d", w.rng.IntN(40))})
	}
	if w.rng.IntN(4) == 0 {
		idx = append(idx, core.IndexEntry{Name: core.IndexNode, Value: fmt.Sprintf("node-%d", w.rng.IntN(5))})
	}
	return idx
}

// bound returns a random range bound: empty, an existing value, one just past
// it, or an arbitrary instant.
func (w *scaleWorld) bound(index string) string {
	switch w.rng.IntN(5) {
	case 0:
		return ""
	case 1:
		return w.dueValue()
	default:
		// Map order is not seeded, so pick records by key.
		for range 20 {
			for _, e := range w.m[fmt.Sprintf("s/%05d", w.rng.IntN(scaleRecords))].Index {
				if e.Name == index {
					if w.rng.IntN(2) == 0 {
						return e.Value + "\x00"
					}
					return e.Value
				}
			}
		}
		return ""
	}
}

func (w *scaleWorld) query() core.Range {
	r := core.Range{Index: []string{core.IndexDue, core.IndexDue, core.IndexOwner, core.IndexNode, core.IndexSubject}[w.rng.IntN(5)]}
	r.From, r.To = w.bound(r.Index), w.bound(r.Index)
	if r.To != "" && r.To < r.From && w.rng.IntN(4) != 0 {
		r.From, r.To = r.To, r.From
	}
	r.Reverse = w.rng.IntN(2) == 0
	r.Limit = []int{0, 0, 1, 7, 100, scaleRecords * 2}[w.rng.IntN(6)]
	return r
}

// checkQueries compares scaleQueries random ranges, and the sweep's
// due-before query, against the model.
func (w *scaleWorld) checkQueries(t *testing.T, s core.Store, phase string) {
	t.Helper()
	queries := []core.Range{{Index: core.IndexDue, To: timeValue(base.Add(90 * time.Minute))}}
	for range scaleQueries {
		queries = append(queries, w.query())
	}
	for _, q := range queries {
		got, want := scan(t, s, q), w.m.want(q)
		for i := range max(len(got), len(want)) {
			if i >= len(got) || i >= len(want) || !sameRecord(got[i], want[i]) {
				g, x := "(none)", "(none)"
				if i < len(got) {
					g = fmtRecord(got[i])
				}
				if i < len(want) {
					x = fmtRecord(want[i])
				}
				t.Fatalf("%s: Scan(%s) returned %d records, want %d; first difference at %d:\n got  %s\n want %s",
					phase, fmtRange(q), len(got), len(want), i, g, x)
			}
		}
	}
}

var scaleTests = []test{
	{"RangeScansMatchModel", func(t *testing.T, s core.Store) {
		w := &scaleWorld{rng: rand.New(rand.NewPCG(20250314, 1)), m: model{}}
		for _, i := range w.rng.Perm(scaleRecords) {
			r := core.Record{Key: fmt.Sprintf("s/%05d", i), Value: fmt.Appendf(nil, "session %d", i), Index: w.index()}
			r.Version = put(t, s, r)
			w.m[r.Key] = r
		}
		w.checkQueries(t, s, "after creating")

		for n := range scaleChanges {
			key := fmt.Sprintf("s/%05d", w.rng.IntN(scaleRecords+100))
			cur, exists := w.m[key]
			switch {
			case !exists:
				r := core.Record{Key: key, Value: fmt.Appendf(nil, "created %d", n), Index: w.index()}
				r.Version = put(t, s, r)
				w.m[key] = r
			case w.rng.IntN(4) == 0:
				del(t, s, key, cur.Version)
				delete(w.m, key)
			default:
				r := core.Record{Key: key, Version: cur.Version, Value: bytes.Clone(cur.Value), Index: w.index()}
				r.Value = append(r.Value, '+')
				r.Version = put(t, s, r)
				w.m[key] = r
			}
		}
		w.checkQueries(t, s, "after changes")
	}},
}
