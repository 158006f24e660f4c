package badgerstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/core"
)

// TestGroupCommitCounters increments shared counters by read, modify and
// compare-and-set from many goroutines, whose writes the store groups into
// shared transactions: a lost or doubled update shows in the totals.
func TestGroupCommitCounters(t *testing.T) {
	s := openStore(t, t.TempDir(), nil)
	ctx := context.Background()
	const workers, increments, counters = 8, 60, 3
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range increments {
				key := fmt.Sprintf("c/%d", (w+i)%counters)
				for {
					rec, err := s.Get(ctx, key)
					if errors.Is(err, core.ErrNotFound) {
						rec = core.Record{Key: key, Value: binary.AppendUvarint(nil, 0)}
					} else if err != nil {
						t.Error(err)
						return
					}
					n, _ := binary.Uvarint(rec.Value)
					rec.Value = binary.AppendUvarint(nil, n+1)
					rec.Index = []core.IndexEntry{{Name: "count", Value: fmt.Sprintf("%08d", n+1)}}
					_, err = s.Put(ctx, rec)
					if err == nil {
						break
					}
					if !errors.Is(err, core.ErrConflict) {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	total := uint64(0)
	for c := range counters {
		rec, err := s.Get(ctx, fmt.Sprintf("c/%d", c))
		if err != nil {
			t.Fatal(err)
		}
		n, _ := binary.Uvarint(rec.Value)
		total += n
	}
	if total != workers*increments {
		t.Errorf("counters sum to %d, want %d", total, workers*increments)
	}
	if _, errs := allRecords(s); len(errs) > 0 {
		t.Errorf("index inconsistent: %v", errs)
	}
}

// TestGroupCommitSplits writes batches larger than one group and than one
// badger transaction of a small memtable, alongside concurrent writers.
func TestGroupCommitSplits(t *testing.T) {
	s := openStore(t, t.TempDir(), &Options{MemTableSize: 1 << 20})
	ctx := context.Background()
	const batches, size = 3, maxGroup + 300
	var wg sync.WaitGroup
	results := make([][]core.PutResult, batches)
	for b := range batches {
		wg.Go(func() {
			recs := make([]core.Record, size)
			for i := range recs {
				recs[i] = core.Record{
					Key:   fmt.Sprintf("b%d/%04d", b, i),
					Value: bytes.Repeat([]byte{byte(i)}, 2<<10),
					Index: []core.IndexEntry{{Name: core.IndexDue, Value: fmt.Sprintf("%04d", i)}},
				}
			}
			results[b] = s.PutBatch(ctx, recs)
		})
	}
	for w := range 4 {
		wg.Go(func() {
			for i := range 50 {
				if _, err := s.Put(ctx, core.Record{Key: fmt.Sprintf("p%d/%d", w, i)}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	seen := map[uint64]bool{}
	for b, res := range results {
		for i, r := range res {
			if r.Err != nil {
				t.Fatalf("batch %d record %d: %v", b, i, r.Err)
			}
			if seen[r.Version] {
				t.Fatalf("version %d issued twice", r.Version)
			}
			seen[r.Version] = true
			got, err := s.Get(ctx, fmt.Sprintf("b%d/%04d", b, i))
			if err != nil || got.Version != r.Version {
				t.Fatalf("Get(b%d/%04d) = v%d, %v; want v%d", b, i, got.Version, err, r.Version)
			}
		}
	}
	due, err := s.Scan(ctx, core.Range{Index: core.IndexDue})
	if err != nil || len(due) != batches*size {
		t.Fatalf("due index has %d records, %v; want %d", len(due), err, batches*size)
	}
}

// TestGroupCommitSurvivesPanic makes a leader's apply panic while another
// write waits behind it: the panic reaches the leader's caller, the waiting
// write takes the lead and succeeds, and the store goes on working.
func TestGroupCommitSurvivesPanic(t *testing.T) {
	// Closed only on success: Close would wait forever for a stuck write.
	s, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	leaderIn, queued := make(chan struct{}), make(chan struct{})
	var once sync.Once
	s.beforeApply = func() {
		once.Do(func() {
			close(leaderIn)
			<-queued
			panic("injected")
		})
	}
	second := make(chan error, 1)
	go func() {
		<-leaderIn
		go func() {
			_, err := s.Put(ctx, core.Record{Key: "second"})
			second <- err
		}()
		for { // until the second write is queued behind the leader
			s.commit.mu.Lock()
			n := len(s.commit.queue)
			s.commit.mu.Unlock()
			if n > 0 {
				break
			}
			runtime.Gosched()
		}
		close(queued)
	}()
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panicking write returned normally")
			}
		}()
		s.Put(ctx, core.Record{Key: "first"})
	}()
	select {
	case err := <-second:
		if err != nil {
			t.Errorf("write queued behind the panic: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("write queued behind a panicked leader still waits after 30s")
	}
	if _, err := s.Put(ctx, core.Record{Key: "after"}); err != nil {
		t.Fatalf("Put after the panic: %v", err)
	}
	if _, err := s.Get(ctx, "first"); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("Get(first) = %v, want ErrNotFound", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}
