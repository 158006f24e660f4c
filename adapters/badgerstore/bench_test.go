package badgerstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/adapters/badgerstore"
	"github.com/sessionkit/sessionkit/adapters/memstore"
	"github.com/sessionkit/sessionkit/core"
)

// The benchmarks run the same code against badgerstore (with its default
// synced writes, and with NoSyncWrites) and against memstore, as
// sub-benchmarks, so one command prints them side by side:
//
//	go test -run '^$' -bench . -benchmem ./adapters/badgerstore/
//
// memstore is imported by this test file only, to compare; the badgerstore
// package itself does not depend on it.

// backend makes stores for the benchmarks. newStore opens the store in dir
// (a new one when dir is empty); memstore ignores dir and cannot reopen, so
// its benchmarks that need a populated store load it instead.
type backend struct {
	name     string
	newStore func(dir string) (core.Store, error)
}

var backends = []backend{
	{"badger", newBadger(nil)},
	{"badger-nosync", newBadger(&badgerstore.Options{NoSyncWrites: true})},
	{"memstore", func(string) (core.Store, error) { return memstore.New(), nil }},
}

func newBadger(opts *badgerstore.Options) func(dir string) (core.Store, error) {
	return func(dir string) (core.Store, error) { return badgerstore.Open(dir, opts) }
}

// open returns a store that is closed when the benchmark ends.
func (be backend) open(b *testing.B, dir string) core.Store {
	b.Helper()
	if dir == "" {
		dir = b.TempDir()
	}
	s, err := be.newStore(dir)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { closeStore(s) })
	return s
}

func closeStore(s core.Store) error {
	if c, ok := s.(interface{ Close() error }); ok {
		return c.Close()
	}
	return nil
}

func forEachBackend(b *testing.B, fn func(b *testing.B, be backend)) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) { fn(b, be) })
	}
}

var benchBase = time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)

func timeValue(t time.Time) string { return t.UTC().Format("20060102T150405.000000000Z") }

// session returns a record shaped like a session of core: a few hundred
// bytes of value, indexed by due time, reference, subject and node.
func session(i int) core.Record {
	return core.Record{
		Key:   fmt.Sprintf("s/%022d", i),
		Value: fmt.Appendf(nil, `{"id":"%022d","ref":"ref-%d","subject":"user-%d","state":"active","channel":"frame","created":"2025-03-14T09:00:00Z","meta":{"locale":"en-GB","plan":"standard","tz":"Europe/London"},"pad":"%0150d"}`, i, i%1000, i%5000, 0),
		Index: []core.IndexEntry{
			{Name: core.IndexDue, Value: timeValue(benchBase.Add(time.Duration(i) * time.Millisecond))},
			{Name: core.IndexReference, Value: fmt.Sprintf("ref-%d", i%1000)},
			{Name: core.IndexSubject, Value: fmt.Sprintf("user-%d", i%5000)},
			{Name: core.IndexNode, Value: "node-1"},
		},
	}
}

// draft returns a saved form of about 2 KiB, indexed by owner and by the
// end of its retention.
func draft(i, save int) core.Record {
	value := make([]byte, 2048)
	for j := range value {
		value[j] = byte('a' + (i+save+j)%26)
	}
	return core.Record{
		Key:   fmt.Sprintf("d/%022d", i),
		Value: value,
		Index: []core.IndexEntry{
			{Name: core.IndexOwner, Value: fmt.Sprintf("user-%d", i%5000)},
			{Name: core.IndexDue, Value: timeValue(benchBase.Add(90*24*time.Hour + time.Duration(save)*time.Second))},
		},
	}
}

// load writes n records made by mk with PutBatch, 1000 at a time.
func load(b *testing.B, s core.Store, n int, mk func(i int) core.Record) []uint64 {
	b.Helper()
	versions := make([]uint64, 0, n)
	batch := make([]core.Record, 0, 1000)
	flush := func() {
		for _, r := range s.(core.BatchStore).PutBatch(context.Background(), batch) {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
			versions = append(versions, r.Version)
		}
		batch = batch[:0]
	}
	for i := range n {
		batch = append(batch, mk(i))
		if len(batch) == cap(batch) {
			flush()
		}
	}
	if len(batch) > 0 {
		flush()
	}
	return versions
}

// BenchmarkCreate is a new session: Put with version 0, one writer.
func BenchmarkCreate(b *testing.B) {
	forEachBackend(b, func(b *testing.B, be backend) {
		s := be.open(b, "")
		ctx := context.Background()
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := s.Put(ctx, session(i)); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// BenchmarkCreateParallel creates sessions from 16 goroutines per core:
// badger commits concurrent writes together, sharing one fsync.
func BenchmarkCreateParallel(b *testing.B) {
	forEachBackend(b, func(b *testing.B, be backend) {
		s := be.open(b, "")
		ctx := context.Background()
		var next atomic.Int64
		b.SetParallelism(16)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.Put(ctx, session(int(next.Add(1)))); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkGet reads random sessions out of 100,000, most of them from
// tables on disk rather than the memtable.
func BenchmarkGet(b *testing.B) {
	forEachBackend(b, func(b *testing.B, be backend) {
		s := be.open(b, "")
		const n = 100000
		load(b, s, n, session)
		ctx := context.Background()
		r := rand.New(rand.NewPCG(1, 2))
		keys := make([]string, 1024)
		for i := range keys {
			keys[i] = session(r.IntN(n)).Key
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := s.Get(ctx, keys[i%len(keys)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// BenchmarkDraftSave saves a new version of one of 1,000 drafts: Put with
// the version last read, replacing 2 KiB and moving its due entry.
func BenchmarkDraftSave(b *testing.B) {
	forEachBackend(b, func(b *testing.B, be backend) {
		s := be.open(b, "")
		const n = 1000
		versions := load(b, s, n, func(i int) core.Record { return draft(i, 0) })
		ctx := context.Background()
		b.ReportAllocs()
		save := 0
		for b.Loop() {
			save++
			i := save % n
			rec := draft(i, save)
			rec.Version = versions[i]
			v, err := s.Put(ctx, rec)
			if err != nil {
				b.Fatal(err)
			}
			versions[i] = v
		}
	})
}

// BenchmarkScanDue asks a store of 100,000 sessions for the 1,000 that are
// due, as a sweep does, without ending them: its cost follows the 1,000,
// not the 100,000, because Scan walks the due index.
func BenchmarkScanDue(b *testing.B) {
	const n, due = 100000, 1000
	forEachBackend(b, func(b *testing.B, be backend) {
		s := be.open(b, "")
		load(b, s, n, session)
		r := core.Range{Index: core.IndexDue, To: timeValue(benchBase.Add(due * time.Millisecond))}
		ctx := context.Background()
		if got, err := s.Scan(ctx, r); err != nil || len(got) != due {
			b.Fatalf("Scan returned %d records, %v; want %d", len(got), err, due)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Scan(ctx, r); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*due), "ns/record")
	})
}

// BenchmarkSweep100k ends 100,000 due sessions the way a sweep does: scan
// the due index up to now a page of 1,000 at a time, and delete each
// record at the version read, 16 deletes in flight. One op is the whole
// sweep; ns/record is per session.
//
// "restart" begins every page at the start of the index; "resume" begins
// it at the last due value of the page before. In badger (an LSM tree) a
// deleted index entry stays as a tombstone until compaction drops it, and
// a scan walks past tombstones, so restarting costs a walk over every
// entry swept so far, and the sweep grows with the square of its length.
func BenchmarkSweep100k(b *testing.B) {
	const n, page, workers = 100000, 1000, 16
	for _, mode := range []string{"restart", "resume"} {
		b.Run(mode, func(b *testing.B) {
			forEachBackend(b, func(b *testing.B, be backend) {
				ctx := context.Background()
				now := timeValue(benchBase.Add(time.Hour))
				var total time.Duration
				sweeps := 0
				for b.Loop() {
					sweeps++
					b.StopTimer()
					s := be.open(b, "")
					load(b, s, n, session)
					b.StartTimer()
					start := time.Now()
					swept, from := 0, ""
					for {
						recs, err := s.Scan(ctx, core.Range{Index: core.IndexDue, From: from, To: now, Limit: page})
						if err != nil {
							b.Fatal(err)
						}
						if len(recs) == 0 {
							break
						}
						deleteAll(b, s, recs, workers)
						swept += len(recs)
						if mode == "resume" {
							from = dueOf(recs[len(recs)-1])
						}
					}
					total += time.Since(start)
					if swept != n {
						b.Fatalf("swept %d sessions, want %d", swept, n)
					}
					b.StopTimer()
					closeStore(s)
					b.StartTimer()
				}
				b.ReportMetric(float64(total.Nanoseconds())/float64(sweeps*n), "ns/record")
			})
		})
	}
}

func dueOf(r core.Record) string {
	for _, e := range r.Index {
		if e.Name == core.IndexDue {
			return e.Value
		}
	}
	return ""
}

func deleteAll(b *testing.B, s core.Store, recs []core.Record, workers int) {
	var wg sync.WaitGroup
	ch := make(chan core.Record)
	for range workers {
		wg.Go(func() {
			for r := range ch {
				if err := s.Delete(context.Background(), r.Key, r.Version); err != nil {
					b.Error(err)
				}
			}
		})
	}
	for _, r := range recs {
		ch <- r
	}
	close(ch)
	wg.Wait()
}

// BenchmarkHeapAfterOpen reports the Go heap in use (runtime.MemStats
// HeapInuse, after a GC) once a store is open: empty, and holding 100,000
// sessions. heapinuse-B is the whole test process; heapdelta-B is what the
// store added. Both are averaged over the first three opens (a GC each is
// slow); ns/op is over all. badger reopens a directory written beforehand,
// so ns/op is the time Open takes; memstore, which keeps nothing across
// processes, is loaded instead, so its figures are those of loading and
// holding the records.
func BenchmarkHeapAfterOpen(b *testing.B) {
	for _, size := range []int{0, 100000} {
		for _, be := range backends {
			b.Run(fmt.Sprintf("records=%d/%s", size, be.name), func(b *testing.B) {
				var dir string
				if be.name != "memstore" {
					dir = filepath.Join(b.TempDir(), "store")
					s, err := be.newStore(dir)
					if err != nil {
						b.Fatal(err)
					}
					load(b, s, size, session)
					if err := closeStore(s); err != nil {
						b.Fatal(err)
					}
				}
				var inuse, delta float64
				measured := 0
				for b.Loop() {
					measure := measured < 3
					var before uint64
					if measure {
						b.StopTimer()
						before = heapInuse()
						b.StartTimer()
					}
					s, err := be.newStore(dir)
					if err != nil {
						b.Fatal(err)
					}
					if be.name == "memstore" {
						load(b, s, size, session)
					}
					b.StopTimer()
					if measure {
						after := heapInuse()
						inuse += float64(after)
						delta += float64(after) - float64(before)
						measured++
					}
					runtime.KeepAlive(s)
					if err := closeStore(s); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
				b.ReportMetric(inuse/float64(measured), "heapinuse-B")
				b.ReportMetric(delta/float64(measured), "heapdelta-B")
			})
		}
	}
}

func heapInuse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}
