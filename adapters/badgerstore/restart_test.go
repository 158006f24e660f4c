package badgerstore

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/core"
)

// sessionRecord and draftRecord build records shaped like core's: sessions
// indexed by reference, subject, due time and node; drafts by owner and due
// time. Values are opaque to the store.
func sessionRecord(i int, r *rand.Rand) core.Record {
	due := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC).Add(time.Duration(r.IntN(86400)) * time.Second)
	rec := core.Record{
		Key:   fmt.Sprintf("s/%04d", i),
		Value: fmt.Appendf(nil, `{"id":%d,"state":"active","meta":%q}`, i, bytes.Repeat([]byte("m"), r.IntN(300))),
		Index: []core.IndexEntry{
			{Name: core.IndexDue, Value: due.Format("20060102T150405.000000000Z")},
			{Name: core.IndexReference, Value: fmt.Sprintf("ref-%d\x00%020d", i%17, i)},
		},
	}
	if i%3 != 0 {
		rec.Index = append(rec.Index, core.IndexEntry{Name: core.IndexSubject, Value: fmt.Sprintf("user-%d", i%29)})
	}
	if i%4 == 1 {
		rec.Index = append(rec.Index, core.IndexEntry{Name: core.IndexNode, Value: "node-a"})
	}
	return rec
}

func draftRecord(i int, r *rand.Rand) core.Record {
	size := 100 + r.IntN(2000)
	if i%10 == 0 {
		size = 64 << 10 // beyond ValueThreshold: kept in the value log
	}
	return core.Record{
		Key:   fmt.Sprintf("d/%04d", i),
		Value: bytes.Repeat([]byte{byte('a' + i%26)}, size),
		Index: []core.IndexEntry{
			{Name: core.IndexOwner, Value: fmt.Sprintf("user-%d", i%29)},
			{Name: core.IndexDue, Value: fmt.Sprintf("99991231T000000.%09dZ", i)},
		},
	}
}

// TestRestart writes, rewrites and deletes sessions and drafts, closes the
// store, and checks that reopening it shows every acknowledged record and
// index entry unchanged, under both durability settings.
func TestRestart(t *testing.T) {
	for _, opts := range []*Options{nil, {NoSyncWrites: true}} {
		t.Run(fmt.Sprintf("NoSyncWrites=%v", opts != nil), func(t *testing.T) {
			dir := t.TempDir()
			r := rand.New(rand.NewPCG(11, 12))
			ctx := context.Background()
			want := map[string]core.Record{}
			s, err := Open(dir, opts)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 400 {
				rec := sessionRecord(i, r)
				if i%2 == 0 {
					rec = draftRecord(i, r)
				}
				rec.Version = mustPut(t, s, rec)
				want[rec.Key] = rec
			}
			// Draft saves and checkpoints replace values and move index
			// entries; some records end.
			for i := range 400 {
				key := fmt.Sprintf("s/%04d", i)
				if i%2 == 0 {
					key = fmt.Sprintf("d/%04d", i)
				}
				old := want[key]
				switch i % 5 {
				case 0:
					if err := s.Delete(ctx, key, old.Version); err != nil {
						t.Fatal(err)
					}
					delete(want, key)
				case 1, 2:
					rec := sessionRecord(i+1000, r)
					if key[0] == 'd' {
						rec = draftRecord(i+1000, r)
					}
					rec.Key, rec.Version = key, old.Version
					rec.Version = mustPut(t, s, rec)
					want[key] = rec
				}
			}
			before := scanAll(t, s)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}

			for reopen := range 2 {
				s := openStore(t, dir, opts)
				got, errs := allRecords(s)
				for _, err := range errs {
					t.Error(err)
				}
				if len(got) != len(want) {
					t.Errorf("reopen %d: %d records, want %d", reopen, len(got), len(want))
				}
				for key, w := range want {
					g, err := s.Get(ctx, key)
					if err != nil || !reflect.DeepEqual(g, w) {
						t.Fatalf("reopen %d: Get(%q) = v%d (%d bytes), %v; want v%d (%d bytes)", reopen, key, g.Version, len(g.Value), err, w.Version, len(w.Value))
					}
				}
				if after := scanAll(t, s); !reflect.DeepEqual(after, before) {
					t.Errorf("reopen %d: index scans differ from before Close", reopen)
				}
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// scanAll returns the keys in each index core uses, in scan order.
func scanAll(t *testing.T, s *Store) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, name := range core.Indexes {
		recs, err := s.Scan(context.Background(), core.Range{Index: name})
		if err != nil {
			t.Fatalf("Scan(%s): %v", name, err)
		}
		for _, rec := range recs {
			out[name] = append(out[name], rec.Key)
		}
		if len(out[name]) == 0 {
			t.Fatalf("index %s is empty: the test writes every index", name)
		}
	}
	return out
}
