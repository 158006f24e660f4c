package memstore_test

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/adapters/memstore"
	"github.com/sessionkit/sessionkit/core"
)

var benchBase = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

// dueValue encodes an instant as core does: fixed width, byte order is time
// order.
func dueValue(t time.Time) string { return t.UTC().Format("20060102T150405.000000000Z") }

// sessionRecord is a session-sized record with the entries a live session
// has: a deadline, a subject and a reference.
func sessionRecord(i int, due string) core.Record {
	return core.Record{
		Key:   "s/" + strconv.Itoa(i),
		Value: make([]byte, 256),
		Index: []core.IndexEntry{
			{Name: core.IndexDue, Value: due},
			{Name: core.IndexSubject, Value: "user-" + strconv.Itoa(i%1000)},
			{Name: core.IndexReference, Value: "ref-" + strconv.Itoa(i%5000) + "\x00" + due},
		},
	}
}

// fill stores n session records with due instants 1 s apart, in random order.
func fill(b *testing.B, s *memstore.Store, n int) {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	recs := make([]core.Record, 0, 1000)
	for _, i := range rng.Perm(n) {
		recs = append(recs, sessionRecord(i, dueValue(benchBase.Add(time.Duration(i)*time.Second))))
		if len(recs) == cap(recs) {
			for _, r := range s.PutBatch(b.Context(), recs) {
				if r.Err != nil {
					b.Fatal(r.Err)
				}
			}
			recs = recs[:0]
		}
	}
	for _, r := range s.PutBatch(b.Context(), recs) {
		if r.Err != nil {
			b.Fatal(r.Err)
		}
	}
}

// BenchmarkPut creates session records. The record is built outside the
// store, but its key (one small allocation) is made in the loop.
func BenchmarkPut(b *testing.B) {
	s := memstore.New()
	rec := sessionRecord(0, dueValue(benchBase))
	i := 0
	for b.Loop() {
		rec.Key = "s/" + strconv.Itoa(i)
		if _, err := s.Put(b.Context(), rec); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkPutUpdate replaces a session record with a later deadline, as an
// activity checkpoint does, among 10k sessions.
func BenchmarkPutUpdate(b *testing.B) {
	s := memstore.New()
	fill(b, s, 10_000)
	dues := make([]string, 64)
	for i := range dues {
		dues[i] = dueValue(benchBase.Add(time.Duration(i) * time.Hour))
	}
	rec, err := s.Get(b.Context(), "s/42")
	if err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		rec.Index[0].Value = dues[i%len(dues)]
		if rec.Version, err = s.Put(b.Context(), rec); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkGet reads session records from a store of 10k.
func BenchmarkGet(b *testing.B) {
	const n = 10_000
	s := memstore.New()
	fill(b, s, n)
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "s/" + strconv.Itoa(i)
	}
	i := 0
	for b.Loop() {
		if _, err := s.Get(b.Context(), keys[i%n]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkScanDue asks a store of 100k sessions for the 1k that are due, as
// the Manager's sweep does. Its cost follows the 1k, not the 100k.
func BenchmarkScanDue(b *testing.B) {
	const n, due = 100_000, 1_000
	s := memstore.New()
	fill(b, s, n)
	r := core.Range{Index: core.IndexDue, To: dueValue(benchBase.Add(due * time.Second))}
	got, err := s.Scan(b.Context(), r)
	if err != nil || len(got) != due {
		b.Fatalf("Scan returned %d records, %v; want %d", len(got), err, due)
	}
	for b.Loop() {
		if _, err := s.Scan(b.Context(), r); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*due), "ns/record")
}
