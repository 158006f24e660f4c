package storetest

import (
	"fmt"
	"testing"

	"github.com/sessionkit/sessionkit/core"
)

// The clauses on Get, Put and Delete: missing keys, compare-and-set and
// versions.

var getTests = []test{
	{"MissingKeyIsNotFound", func(t *testing.T, s core.Store) {
		wantMissing(t, s, "s/missing")
	}},
	{"ReturnsWhatPutStored", func(t *testing.T, s core.Store) {
		r := rec("s/1", "hello", core.IndexDue, timeValue(base), core.IndexSubject, "alice")
		r.Version = put(t, s, r)
		wantRecord(t, s, r)
	}},
	{"OtherKeysAreNotFound", func(t *testing.T, s core.Store) {
		put(t, s, rec("s/1", "one"))
		wantMissing(t, s, "s/")
		wantMissing(t, s, "s/10")
		wantMissing(t, s, "s/1\x00")
	}},
}

var putTests = []test{
	{"Version0Creates", func(t *testing.T, s core.Store) {
		r := rec("s/1", "v1", core.IndexDue, timeValue(base))
		r.Version = put(t, s, r)
		wantRecord(t, s, r)
	}},
	{"Version0OnExistingKeyIsConflict", func(t *testing.T, s core.Store) {
		r := rec("s/1", "first", core.IndexDue, timeValue(base))
		r.Version = put(t, s, r)
		_, err := s.Put(t.Context(), rec("s/1", "second", core.IndexDue, timeValue(base.Add(1))))
		wantErrIs(t, `Put("s/1", version 0) over an existing record`, err, core.ErrConflict)
		wantRecord(t, s, r)
		wantScan(t, s, exact(core.IndexDue, timeValue(base.Add(1))))
	}},
	{"MatchingVersionReplaces", func(t *testing.T, s core.Store) {
		r := rec("s/1", "first", core.IndexDue, timeValue(base))
		r.Version = put(t, s, r)
		next := rec("s/1", "second", core.IndexDue, timeValue(base.Add(1)))
		next.Version = r.Version
		v := put(t, s, next)
		if v <= r.Version {
			t.Fatalf("Put at version %d returned version %d, want > %d", r.Version, v, r.Version)
		}
		next.Version = v
		wantRecord(t, s, next)
	}},
	{"StaleVersionIsConflict", func(t *testing.T, s core.Store) {
		r := rec("s/1", "first")
		v1 := put(t, s, r)
		r = rec("s/1", "second")
		r.Version = v1
		r.Version = put(t, s, r)
		stale := rec("s/1", "stale", core.IndexDue, timeValue(base))
		stale.Version = v1
		_, err := s.Put(t.Context(), stale)
		wantErrIs(t, fmt.Sprintf("Put(%q) at stale version %d (current %d)", r.Key, v1, r.Version), err, core.ErrConflict)
		wantRecord(t, s, r)
		wantScan(t, s, core.Range{Index: core.IndexDue})
	}},
	{"UnknownVersionIsConflict", func(t *testing.T, s core.Store) {
		r := rec("s/1", "first")
		r.Version = put(t, s, r)
		for _, v := range []uint64{r.Version + 1, r.Version + 1000, ^uint64(0)} {
			bad := rec("s/1", "bad")
			bad.Version = v
			_, err := s.Put(t.Context(), bad)
			wantErrIs(t, fmt.Sprintf("Put(%q) at version %d (current %d)", r.Key, v, r.Version), err, core.ErrConflict)
		}
		wantRecord(t, s, r)
	}},
	{"VersionOnMissingKeyIsConflict", func(t *testing.T, s core.Store) {
		r := rec("s/1", "v", core.IndexDue, timeValue(base))
		r.Version = 7
		_, err := s.Put(t.Context(), r)
		wantErrIs(t, `Put("s/1", version 7) of a missing record`, err, core.ErrConflict)
		wantMissing(t, s, "s/1")
		wantScan(t, s, core.Range{Index: core.IndexDue})
	}},
	{"VersionsIncrease", func(t *testing.T, s core.Store) {
		r := rec("s/1", "v")
		var last uint64
		for i := range 20 {
			r.Value = fmt.Appendf(nil, "v%d", i)
			r.Version = last
			v := put(t, s, r)
			if v <= last {
				t.Fatalf("update %d: Put returned version %d, want > %d", i, v, last)
			}
			last = v
		}
	}},
	{"VersionsNotReusedAfterDelete", func(t *testing.T, s core.Store) {
		r := rec("s/1", "v")
		var highest uint64
		for round := range 5 {
			r.Version = 0
			for i := range 3 {
				v := put(t, s, r)
				if v <= highest {
					t.Fatalf("round %d write %d: Put returned version %d; want > %d, every earlier version of the key", round, i, v, highest)
				}
				highest, r.Version = v, v
			}
			// Alternate conditional and unconditional deletes.
			if round%2 == 0 {
				del(t, s, r.Key, r.Version)
			} else {
				del(t, s, r.Key, 0)
			}
			wantMissing(t, s, r.Key)
		}
	}},
}

var deleteTests = []test{
	{"MissingKeyIsNoop", func(t *testing.T, s core.Store) {
		del(t, s, "s/missing", 0)
		wantMissing(t, s, "s/missing")
	}},
	{"MissingKeyWithVersionIsNoop", func(t *testing.T, s core.Store) {
		// "Deleting a missing key is a no-op and returns nil" whatever the
		// version: a retried conditional delete succeeds.
		del(t, s, "s/missing", 3)
		r := rec("s/1", "v")
		r.Version = put(t, s, r)
		del(t, s, r.Key, r.Version)
		del(t, s, r.Key, r.Version)
		wantMissing(t, s, r.Key)
	}},
	{"MatchingVersionRemoves", func(t *testing.T, s core.Store) {
		r := rec("s/1", "v", core.IndexDue, timeValue(base))
		r.Version = put(t, s, r)
		keep := rec("s/2", "w", core.IndexDue, timeValue(base))
		keep.Version = put(t, s, keep)
		del(t, s, r.Key, r.Version)
		wantMissing(t, s, r.Key)
		wantRecord(t, s, keep)
	}},
	{"WrongVersionIsConflict", func(t *testing.T, s core.Store) {
		r := rec("s/1", "v", core.IndexDue, timeValue(base))
		v1 := put(t, s, r)
		r.Version = v1
		r.Value = []byte("w")
		r.Version = put(t, s, r)
		for _, v := range []uint64{v1, r.Version + 1} {
			err := s.Delete(t.Context(), r.Key, v)
			wantErrIs(t, fmt.Sprintf("Delete(%q, %d) with current version %d", r.Key, v, r.Version), err, core.ErrConflict)
		}
		wantRecord(t, s, r)
		wantScan(t, s, core.Range{Index: core.IndexDue}, r.Key)
	}},
	{"Version0IsUnconditional", func(t *testing.T, s core.Store) {
		r := rec("s/1", "v", core.IndexDue, timeValue(base))
		r.Version = put(t, s, r)
		r.Version = put(t, s, r)
		del(t, s, r.Key, 0)
		wantMissing(t, s, r.Key)
	}},
	{"RemovesIndexEntries", func(t *testing.T, s core.Store) {
		var nv []string
		for _, name := range core.Indexes {
			nv = append(nv, name, "x")
		}
		gone := rec("s/1", "v", nv...)
		gone.Version = put(t, s, gone)
		keep := rec("s/2", "w", nv...)
		keep.Version = put(t, s, keep)
		del(t, s, gone.Key, gone.Version)
		for _, name := range core.Indexes {
			wantScan(t, s, core.Range{Index: name}, keep.Key)
		}
		del(t, s, keep.Key, 0)
		for _, name := range core.Indexes {
			wantScan(t, s, core.Range{Index: name})
		}
	}},
	{"RecreateStartsFresh", func(t *testing.T, s core.Store) {
		r := rec("s/1", "old", core.IndexDue, timeValue(base), core.IndexOwner, "alice")
		r.Version = put(t, s, r)
		del(t, s, r.Key, r.Version)
		n := rec("s/1", "new", core.IndexDue, timeValue(base.Add(1)))
		n.Version = put(t, s, n)
		wantRecord(t, s, n)
		wantScan(t, s, core.Range{Index: core.IndexOwner})
		wantScan(t, s, exact(core.IndexDue, timeValue(base)))
		wantScan(t, s, exact(core.IndexDue, timeValue(base.Add(1))), n.Key)
	}},
}

// The clause "Returned records and slices are copies owned by the caller; the
// store does not retain the caller's Record, Value or Index after a call."
var copyTests = []test{
	{"GetReturnsCopies", func(t *testing.T, s core.Store) {
		r := rec("s/1", "value", core.IndexDue, timeValue(base), core.IndexOwner, "alice")
		r.Version = put(t, s, r)
		got := get(t, s, r.Key)
		scribble(&got)
		wantRecord(t, s, r)
		wantScan(t, s, exact(core.IndexDue, timeValue(base)), r.Key)
	}},
	{"ScanReturnsCopies", func(t *testing.T, s core.Store) {
		r := rec("s/1", "value", core.IndexDue, timeValue(base), core.IndexOwner, "alice")
		r.Version = put(t, s, r)
		got := wantScan(t, s, core.Range{Index: core.IndexDue}, r.Key)
		scribble(&got[0])
		wantRecord(t, s, r)
		got = wantScan(t, s, core.Range{Index: core.IndexDue}, r.Key)
		if !sameRecord(got[0], r) {
			t.Fatalf("Scan after scribbling on an earlier result:\n got  %s\n want %s", fmtRecord(got[0]), fmtRecord(r))
		}
	}},
	{"ScanResultsAreIndependent", func(t *testing.T, s core.Store) {
		a := rec("s/a", "aaaa", core.IndexDue, "1")
		a.Version = put(t, s, a)
		b := rec("s/b", "bbbb", core.IndexDue, "2", core.IndexOwner, "bob")
		b.Version = put(t, s, b)
		got := wantScan(t, s, core.Range{Index: core.IndexDue}, a.Key, b.Key)
		// Growing one result must not write into another.
		got[0].Value = append(got[0].Value, "####"...)
		got[0].Index = append(got[0].Index, core.IndexEntry{Name: "scribbled", Value: "scribbled"})
		if !sameRecord(got[1], b) {
			t.Fatalf("Scan result 1 after appending to result 0:\n got  %s\n want %s", fmtRecord(got[1]), fmtRecord(b))
		}
		wantRecord(t, s, a)
	}},
	{"PutDoesNotRetainInput", func(t *testing.T, s core.Store) {
		in := rec("s/1", "value", core.IndexDue, timeValue(base), core.IndexOwner, "alice")
		want := rec("s/1", "value", core.IndexDue, timeValue(base), core.IndexOwner, "alice")
		want.Version = put(t, s, in)
		scribble(&in)
		wantRecord(t, s, want)
		wantScan(t, s, exact(core.IndexDue, timeValue(base)), want.Key)
		wantScan(t, s, exact(core.IndexDue, "scribbled"))
	}},
	{"UpdateDoesNotRetainInput", func(t *testing.T, s core.Store) {
		v := put(t, s, rec("s/1", "old"))
		in := rec("s/1", "value", core.IndexDue, timeValue(base))
		in.Version = v
		want := rec("s/1", "value", core.IndexDue, timeValue(base))
		want.Version = put(t, s, in)
		scribble(&in)
		wantRecord(t, s, want)
	}},
}

// scribble overwrites every byte and index entry r refers to, so a store that
// kept r's slices would show the damage.
func scribble(r *core.Record) {
	for i := range r.Value {
		r.Value[i] = '#'
	}
	for i := range r.Index {
		r.Index[i] = core.IndexEntry{Name: r.Index[i].Name, Value: "scribbled"}
	}
	r.Key = "scribbled"
	r.Version = 999
}
