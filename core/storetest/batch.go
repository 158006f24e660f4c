package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/core"
)

// The core.BatchStore contract: each record checked and written as Put would
// write it, independently of the others; results line up with the records; a
// failure of the batch as a whole is reported in every result. Skipped for a
// store that does not implement it.

// batchStore returns s as a core.BatchStore or skips the test.
func batchStore(t *testing.T, s core.Store) core.BatchStore {
	t.Helper()
	bs, ok := s.(core.BatchStore)
	if !ok {
		t.Skip("store does not implement core.BatchStore")
	}
	return bs
}

// putBatch runs PutBatch and checks it returned one result per record.
func putBatch(t *testing.T, bs core.BatchStore, ctx context.Context, recs []core.Record) []core.PutResult {
	t.Helper()
	res := bs.PutBatch(ctx, recs)
	if len(res) != len(recs) {
		t.Fatalf("PutBatch of %d records returned %d results", len(recs), len(res))
	}
	return res
}

var batchTests = []test{
	{"EmptyBatch", func(t *testing.T, s core.Store) {
		putBatch(t, batchStore(t, s), t.Context(), nil)
	}},
	{"ResultsLineUp", func(t *testing.T, s core.Store) {
		bs := batchStore(t, s)
		var recs []core.Record
		for i := range 5 {
			recs = append(recs, rec(fmt.Sprintf("s/%d", 4-i), fmt.Sprintf("value %d", i), core.IndexDue, timeValue(base.Add(-time.Duration(i)*time.Minute))))
		}
		res := putBatch(t, bs, t.Context(), recs)
		for i, r := range res {
			if r.Err != nil || r.Version == 0 {
				t.Fatalf("PutBatch result %d (%q) = {Version:%d Err:%v}; want a version > 0 and no error", i, recs[i].Key, r.Version, r.Err)
			}
			want := recs[i]
			want.Version = r.Version
			wantRecord(t, s, want)
		}
		wantScan(t, s, core.Range{Index: core.IndexDue}, "s/0", "s/1", "s/2", "s/3", "s/4")
	}},
	{"EachRecordCheckedIndependently", func(t *testing.T, s core.Store) {
		bs := batchStore(t, s)
		exists := rec("s/exists", "exists", core.IndexOwner, "a")
		exists.Version = put(t, s, exists)
		stale := rec("s/stale", "v1", core.IndexOwner, "a")
		v1 := put(t, s, stale)
		stale.Version = v1
		stale.Value = []byte("v2")
		stale.Version = put(t, s, stale)
		current := rec("s/current", "v1", core.IndexOwner, "a")
		current.Version = put(t, s, current)

		batch := []core.Record{
			rec("s/new", "new", core.IndexOwner, "b"),          // create: succeeds
			rec("s/exists", "overwrite", core.IndexOwner, "b"), // create over an existing key: conflict
			{Key: "s/stale", Version: v1, Value: []byte("x")},  // stale version: conflict
			{Key: "s/current", Version: current.Version, Value: []byte("v2"), Index: []core.IndexEntry{{Name: core.IndexOwner, Value: "b"}}}, // succeeds
			{Key: "s/missing", Version: 9, Value: []byte("x")}, // version on a missing key: conflict
		}
		wantOK := []bool{true, false, false, true, false}
		res := putBatch(t, bs, t.Context(), batch)
		for i, r := range res {
			switch {
			case wantOK[i] && (r.Err != nil || r.Version == 0):
				t.Errorf("PutBatch result %d (%q) = {Version:%d Err:%v}; want success", i, batch[i].Key, r.Version, r.Err)
			case !wantOK[i] && !errors.Is(r.Err, core.ErrConflict):
				t.Errorf("PutBatch result %d (%q) = {Version:%d Err:%v}; want core.ErrConflict", i, batch[i].Key, r.Version, r.Err)
			}
		}
		if t.Failed() {
			t.FailNow()
		}
		wantRecord(t, s, exists)
		wantRecord(t, s, stale)
		wantMissing(t, s, "s/missing")
		created := batch[0]
		created.Version = res[0].Version
		wantRecord(t, s, created)
		updated := batch[3]
		updated.Version = res[3].Version
		if updated.Version <= current.Version {
			t.Fatalf("PutBatch update of version %d returned version %d, want greater", current.Version, updated.Version)
		}
		wantRecord(t, s, updated)
		wantScan(t, s, exact(core.IndexOwner, "a"), "s/exists", "s/stale")
		wantScan(t, s, exact(core.IndexOwner, "b"), "s/current", "s/new")
	}},
	{"CanceledContextFailsAll", func(t *testing.T, s core.Store) {
		bs := batchStore(t, s)
		v := put(t, s, rec("s/1", "v"))
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		batch := []core.Record{rec("s/2", "new"), {Key: "s/1", Version: v, Value: []byte("w")}, rec("s/3", "new", core.IndexDue, "x")}
		for i, r := range putBatch(t, bs, ctx, batch) {
			if !errors.Is(r.Err, context.Canceled) {
				t.Errorf("PutBatch with a canceled context, result %d (%q) = {Version:%d Err:%v}; want error wrapping context.Canceled", i, batch[i].Key, r.Version, r.Err)
			}
		}
		wantMissing(t, s, "s/2")
		wantMissing(t, s, "s/3")
		wantRecord(t, s, core.Record{Key: "s/1", Version: v, Value: []byte("v")})
	}},
	{"ReplacesEntries", func(t *testing.T, s core.Store) {
		bs := batchStore(t, s)
		a := rec("s/a", "", core.IndexDue, "1", core.IndexNode, "n1")
		a.Version = put(t, s, a)
		a.Index = []core.IndexEntry{{Name: core.IndexDue, Value: "2"}}
		b := rec("s/b", "", core.IndexNode, "n1")
		res := putBatch(t, bs, t.Context(), []core.Record{a, b})
		for i, r := range res {
			if r.Err != nil {
				t.Fatalf("PutBatch result %d: %v", i, r.Err)
			}
		}
		wantScan(t, s, exact(core.IndexNode, "n1"), "s/b")
		wantScan(t, s, core.Range{Index: core.IndexDue}, "s/a")
		wantScan(t, s, exact(core.IndexDue, "1"))
	}},
	{"DoesNotRetainInput", func(t *testing.T, s core.Store) {
		bs := batchStore(t, s)
		batch := []core.Record{rec("s/1", "one", core.IndexDue, "x"), rec("s/2", "two", core.IndexOwner, "y")}
		res := putBatch(t, bs, t.Context(), batch)
		for i := range batch {
			if res[i].Err != nil {
				t.Fatalf("PutBatch result %d: %v", i, res[i].Err)
			}
			scribble(&batch[i])
		}
		wantRecord(t, s, core.Record{Key: "s/1", Version: res[0].Version, Value: []byte("one"), Index: []core.IndexEntry{{Name: core.IndexDue, Value: "x"}}})
		wantRecord(t, s, core.Record{Key: "s/2", Version: res[1].Version, Value: []byte("two"), Index: []core.IndexEntry{{Name: core.IndexOwner, Value: "y"}}})
	}},
	{"SameVersionBatchesOneWins", func(t *testing.T, s core.Store) {
		bs := batchStore(t, s)
		v := put(t, s, rec("s/1", "start"))
		for round := range rounds {
			res := make([]core.PutResult, racers)
			race(racers, func(i int) {
				r := bs.PutBatch(t.Context(), []core.Record{{Key: "s/1", Version: v, Value: fmt.Appendf(nil, "racer %d", i)}})
				if len(r) == 1 {
					res[i] = r[0]
				} else {
					res[i].Err = fmt.Errorf("PutBatch of 1 record returned %d results", len(r))
				}
			})
			winners := 0
			for i, r := range res {
				switch {
				case r.Err == nil:
					winners++
					v = r.Version
				case !errors.Is(r.Err, core.ErrConflict):
					t.Fatalf("round %d racer %d: %v; want nil or core.ErrConflict", round, i, r.Err)
				}
			}
			if winners != 1 {
				t.Fatalf("round %d: %d of %d PutBatch calls at version %d succeeded, want exactly 1", round, winners, racers, v)
			}
		}
	}},
}
