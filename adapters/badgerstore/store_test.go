package badgerstore

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/sessionkit/sessionkit/core"
)

// openStore opens a store in dir and closes it when the test ends.
func openStore(t testing.TB, dir string, opts *Options) *Store {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func mustPut(t testing.TB, s core.Store, rec core.Record) uint64 {
	t.Helper()
	v, err := s.Put(context.Background(), rec)
	if err != nil {
		t.Fatalf("Put(%q, v%d): %v", rec.Key, rec.Version, err)
	}
	return v
}

func TestConcurrentSamePut(t *testing.T) {
	s := openStore(t, t.TempDir(), nil)
	ctx := context.Background()
	const writers = 8
	for round := range 20 {
		key := fmt.Sprintf("s/%d", round)
		var version uint64 // 0 on the first pass: concurrent creates
		for pass := range 2 {
			var wg sync.WaitGroup
			results := make([]error, writers)
			versions := make([]uint64, writers)
			for w := range writers {
				wg.Go(func() {
					versions[w], results[w] = s.Put(ctx, core.Record{
						Key: key, Version: version, Value: []byte{byte(w)},
						Index: []core.IndexEntry{{Name: core.IndexDue, Value: fmt.Sprint(w)}},
					})
				})
			}
			wg.Wait()
			winner := -1
			for w, err := range results {
				switch {
				case err == nil && winner >= 0:
					t.Fatalf("round %d pass %d: writers %d and %d both won", round, pass, winner, w)
				case err == nil:
					winner = w
				case !errors.Is(err, core.ErrConflict):
					t.Fatalf("round %d pass %d: writer %d: %v, want ErrConflict", round, pass, w, err)
				}
			}
			if winner < 0 {
				t.Fatalf("round %d pass %d: no writer won", round, pass)
			}
			got, err := s.Get(ctx, key)
			if err != nil || got.Version != versions[winner] || !bytes.Equal(got.Value, []byte{byte(winner)}) {
				t.Fatalf("round %d pass %d: Get = %+v, %v; want the winner's v%d", round, pass, got, err, versions[winner])
			}
			recs, err := s.Scan(ctx, core.Range{Index: core.IndexDue})
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, r := range recs {
				if r.Key == key {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("round %d pass %d: %d due entries for %q, want 1", round, pass, n, key)
			}
			version = versions[winner]
		}
	}
}

func TestVersionsNeverReused(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	var last uint64
	next := func(s *Store, rec core.Record) {
		t.Helper()
		v := mustPut(t, s, rec)
		if v <= last {
			t.Fatalf("Put(%q) = v%d, not above the last version v%d", rec.Key, v, last)
		}
		last = v
	}
	next(s, core.Record{Key: "k"})
	if err := s.Delete(ctx, "k", 0); err != nil {
		t.Fatal(err)
	}
	next(s, core.Record{Key: "k"})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		s = openStore(t, dir, nil)
		rec, err := s.Get(ctx, "k")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, "k", rec.Version); err != nil {
			t.Fatal(err)
		}
		next(s, core.Record{Key: "k"})
		next(s, core.Record{Key: "other"})
		if err := s.Delete(ctx, "other", 0); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestScanMatchesModel checks ranges, order, reverse and limit against a
// sorted model, with keys and values full of the bytes the key layout
// escapes.
func TestScanMatchesModel(t *testing.T) {
	s := openStore(t, t.TempDir(), nil)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(7, 8))
	type entry struct{ value, key string }
	model := map[string][]entry{} // index name -> entries
	for i := range 300 {
		key := fmt.Sprintf("k%s%d", randomString(r), i)
		rec := core.Record{Key: key, Value: []byte(key)}
		for _, name := range []string{"a", "a\x00", "b\xff"} {
			if r.IntN(3) > 0 {
				v := randomString(r)
				rec.Index = append(rec.Index, core.IndexEntry{Name: name, Value: v})
				model[name] = append(model[name], entry{v, key})
			}
		}
		mustPut(t, s, rec)
	}
	for name := range model {
		slices.SortFunc(model[name], func(a, b entry) int {
			return cmp.Or(cmp.Compare(a.value, b.value), cmp.Compare(a.key, b.key))
		})
	}
	for range 300 {
		rg := core.Range{
			Index:   []string{"a", "a\x00", "b\xff"}[r.IntN(3)],
			From:    randomString(r),
			To:      randomString(r),
			Reverse: r.IntN(2) == 0,
			Limit:   r.IntN(4) * r.IntN(10),
		}
		var want []string
		for _, e := range model[rg.Index] {
			if e.value >= rg.From && (rg.To == "" || e.value < rg.To) {
				want = append(want, e.key)
			}
		}
		if rg.Reverse {
			slices.Reverse(want)
		}
		if rg.Limit > 0 && len(want) > rg.Limit {
			want = want[:rg.Limit]
		}
		recs, err := s.Scan(ctx, rg)
		if err != nil {
			t.Fatalf("Scan(%+v): %v", rg, err)
		}
		var got []string
		for _, rec := range recs {
			got = append(got, rec.Key)
			if string(rec.Value) != rec.Key {
				t.Fatalf("Scan(%+v): record %q has value %q", rg, rec.Key, rec.Value)
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("Scan(%+v) = %q, want %q", rg, got, want)
		}
	}
}

func TestPutBatch(t *testing.T) {
	s := openStore(t, t.TempDir(), nil)
	ctx := context.Background()
	v1 := mustPut(t, s, core.Record{Key: "exists"})
	recs := []core.Record{
		{Key: "new", Index: []core.IndexEntry{{Name: core.IndexDue, Value: "1"}}},
		{Key: "exists", Version: v1, Value: []byte("updated")},
		{Key: "exists", Version: v1, Value: []byte("second update of the same version")},
		{Key: "stale", Version: 42},
		{Key: "bad", Index: []core.IndexEntry{{Name: "due", Value: "1"}, {Name: "due", Value: "2"}}},
	}
	res := s.PutBatch(ctx, recs)
	if len(res) != len(recs) {
		t.Fatalf("PutBatch returned %d results for %d records", len(res), len(recs))
	}
	if res[0].Err != nil || res[1].Err != nil {
		t.Fatalf("results 0 and 1 = %+v, %+v; want success", res[0], res[1])
	}
	if !errors.Is(res[2].Err, core.ErrConflict) || !errors.Is(res[3].Err, core.ErrConflict) {
		t.Errorf("results 2 and 3 = %v, %v; want ErrConflict", res[2].Err, res[3].Err)
	}
	if !errors.Is(res[4].Err, core.ErrInvalidInput) {
		t.Errorf("result 4 = %v, want ErrInvalidInput", res[4].Err)
	}
	for i, key := range []string{"new", "exists"} {
		got, err := s.Get(ctx, key)
		if err != nil || got.Version != res[i].Version {
			t.Errorf("Get(%q) = v%d, %v; want v%d", key, got.Version, err, res[i].Version)
		}
	}
	if got, _ := s.Get(ctx, "exists"); string(got.Value) != "updated" {
		t.Errorf("exists = %q, want the first update", got.Value)
	}
	due, err := s.Scan(ctx, core.Range{Index: core.IndexDue})
	if err != nil || len(due) != 1 || due[0].Key != "new" {
		t.Errorf("due index = %+v, %v; want just \"new\"", due, err)
	}
}

func TestRejectsInvalidRecords(t *testing.T) {
	s := openStore(t, t.TempDir(), &Options{ValueLogFileSize: 1 << 20})
	big := make([]byte, 1<<20)
	tests := map[string]core.Record{
		"duplicate entry": {Key: "k", Index: []core.IndexEntry{{Name: "due", Value: "1"}, {Name: "due", Value: "2"}}},
		"key too long":    {Key: string(make([]byte, maxKeySize))},
		"entry too long":  {Key: "k", Index: []core.IndexEntry{{Name: "due", Value: string(make([]byte, maxKeySize))}}},
		"value too large": {Key: "k", Value: big},
	}
	for name, rec := range tests {
		if _, err := s.Put(context.Background(), rec); !errors.Is(err, core.ErrInvalidInput) {
			t.Errorf("%s: Put err = %v, want ErrInvalidInput", name, err)
		}
	}
}

// TestLargeValues covers records that live in the value log rather than
// inline in the LSM tree.
func TestLargeValues(t *testing.T) {
	s := openStore(t, t.TempDir(), &Options{ValueThreshold: 1 << 10})
	ctx := context.Background()
	want := bytes.Repeat([]byte("draft "), 10000)
	v := mustPut(t, s, core.Record{Key: "d/big", Value: want, Index: []core.IndexEntry{{Name: core.IndexOwner, Value: "u"}}})
	got, err := s.Get(ctx, "d/big")
	if err != nil || got.Version != v || !bytes.Equal(got.Value, want) {
		t.Fatalf("Get = v%d, %d bytes, %v; want v%d, %d bytes", got.Version, len(got.Value), err, v, len(want))
	}
	recs, err := s.Scan(ctx, core.Prefix(core.IndexOwner, "u"))
	if err != nil || len(recs) != 1 || !bytes.Equal(recs[0].Value, want) {
		t.Fatalf("Scan = %d records, %v", len(recs), err)
	}
}

func TestCancelledContext(t *testing.T) {
	s := openStore(t, t.TempDir(), nil)
	bg := context.Background()
	v := mustPut(t, s, core.Record{Key: "k", Value: []byte("old"), Index: []core.IndexEntry{{Name: "due", Value: "1"}}})
	ctx, cancel := context.WithCancel(bg)
	cancel()

	check := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with cancelled ctx: err = %v, want context.Canceled", op, err)
		}
	}
	_, err := s.Get(ctx, "k")
	check("Get", err)
	_, err = s.Put(ctx, core.Record{Key: "k", Version: v, Value: []byte("new")})
	check("Put", err)
	_, err = s.Put(ctx, core.Record{Key: "other"})
	check("Put new", err)
	check("Delete", s.Delete(ctx, "k", 0))
	_, err = s.Scan(ctx, core.Range{Index: "due"})
	check("Scan", err)
	for i, r := range s.PutBatch(ctx, []core.Record{{Key: "k", Version: v}, {Key: "b"}}) {
		check(fmt.Sprint("PutBatch result ", i), r.Err)
	}
	_, err = s.CollectGarbage(ctx)
	check("CollectGarbage", err)

	got, err := s.Get(bg, "k")
	want := core.Record{Key: "k", Version: v, Value: []byte("old"), Index: []core.IndexEntry{{Name: "due", Value: "1"}}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("after cancelled calls: Get = %+v, %v; want %+v", got, err, want)
	}
	for _, key := range []string{"other", "b"} {
		if _, err := s.Get(bg, key); !errors.Is(err, core.ErrNotFound) {
			t.Errorf("Get(%q) = %v, want ErrNotFound", key, err)
		}
	}
}

func TestClosed(t *testing.T) {
	s, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	ctx := context.Background()
	_, err = s.Get(ctx, "k")
	errs := []error{err}
	_, err = s.Put(ctx, core.Record{Key: "k"})
	errs = append(errs, err, s.Delete(ctx, "k", 0))
	_, err = s.Scan(ctx, core.Range{Index: "due"})
	errs = append(errs, err, s.PutBatch(ctx, []core.Record{{Key: "k"}})[0].Err, s.Run(ctx))
	_, err = s.CollectGarbage(ctx)
	errs = append(errs, err)
	for i, err := range errs {
		if !errors.Is(err, core.ErrClosed) {
			t.Errorf("call %d after Close: err = %v, want ErrClosed", i, err)
		}
	}
}

// TestGetCorruptRecord damages one stored value behind the store's back.
func TestGetCorruptRecord(t *testing.T) {
	s := openStore(t, t.TempDir(), nil)
	ctx := context.Background()
	mustPut(t, s, core.Record{Key: "bad", Index: []core.IndexEntry{{Name: "due", Value: "1"}}})
	mustPut(t, s, core.Record{Key: "good", Index: []core.IndexEntry{{Name: "due", Value: "2"}}})
	raw, err := s.db.NewTransaction(false).Get(recordKey("bad"))
	if err != nil {
		t.Fatal(err)
	}
	val, _ := raw.ValueCopy(nil)
	val[len(val)-1] ^= 1
	txn := s.db.NewTransaction(true)
	if err := txn.Set(recordKey("bad"), val); err != nil {
		t.Fatal(err)
	}
	if err := txn.Commit(); err != nil {
		t.Fatal(err)
	}

	if _, err := s.Get(ctx, "bad"); !errors.Is(err, core.ErrCorrupt) {
		t.Errorf("Get = %v, want ErrCorrupt", err)
	}
	if _, err := s.Scan(ctx, core.Range{Index: "due"}); !errors.Is(err, core.ErrCorrupt) {
		t.Errorf("Scan = %v, want ErrCorrupt", err)
	}
	if _, err := s.Put(ctx, core.Record{Key: "bad", Version: 1}); !errors.Is(err, core.ErrCorrupt) {
		t.Errorf("Put over it = %v, want ErrCorrupt", err)
	}
	// Deleting with version 0 repairs the store; the dangling index entry
	// is skipped.
	if err := s.Delete(ctx, "bad", 0); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	recs, err := s.Scan(ctx, core.Range{Index: "due"})
	if err != nil || len(recs) != 1 || recs[0].Key != "good" {
		t.Errorf("Scan after repair = %+v, %v; want just \"good\"", recs, err)
	}
}
