package badgerstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/core"
)

// vlogBytes sums the sizes of the value-log files in dir.
func vlogBytes(t *testing.T, dir string) int64 {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.vlog"))
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		n += fi.Size()
	}
	return n
}

// garbageStore returns a directory holding a store whose value log is
// mostly garbage that compaction has accounted for, and the versions and
// value bytes of its records.
func garbageStore(t *testing.T, opts *Options) (string, map[string]core.Record) {
	t.Helper()
	dir := t.TempDir()
	ctx := context.Background()
	// Overwrite a few large drafts many times: all but the last version of
	// each is garbage in the value log. Compaction is what tells the value
	// log which entries are garbage, and it starts once level 0 holds more
	// tables than badger's limit of 5: each reopen flushes one.
	want := map[string]core.Record{}
	for round := range 6 {
		s, err := Open(dir, opts)
		if err != nil {
			t.Fatal(err)
		}
		if round == 0 {
			if n, err := s.CollectGarbage(ctx); n != 0 || err != nil {
				t.Fatalf("CollectGarbage on a new store = %d, %v; want 0, nil", n, err)
			}
		}
		for i := range 40 {
			key := fmt.Sprintf("d/%d", i%4)
			rec := core.Record{Key: key, Version: want[key].Version, Value: bytes.Repeat([]byte{byte(round*40 + i)}, 32<<10)}
			rec.Version = mustPut(t, s, rec)
			want[key] = rec
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	s := openStore(t, dir, opts)
	if err := s.db.Flatten(1); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, want
}

func checkRecords(t *testing.T, s *Store, want map[string]core.Record) {
	t.Helper()
	for key, w := range want {
		got, err := s.Get(context.Background(), key)
		if err != nil || got.Version != w.Version || !bytes.Equal(got.Value, w.Value) {
			t.Fatalf("Get(%s) = v%d, %d bytes, %v; want v%d, %d bytes", key, got.Version, len(got.Value), err, w.Version, len(w.Value))
		}
	}
}

var gcOptions = &Options{ValueThreshold: 1 << 10, ValueLogFileSize: 1 << 20}

func TestCollectGarbage(t *testing.T) {
	dir, want := garbageStore(t, gcOptions)
	s := openStore(t, dir, gcOptions)
	ctx := context.Background()
	before := vlogBytes(t, dir)
	n, err := s.CollectGarbage(ctx)
	if err != nil || n == 0 {
		t.Fatalf("CollectGarbage = %d, %v; want some files rewritten", n, err)
	}
	if after := vlogBytes(t, dir); after >= before {
		t.Errorf("value log %d bytes after GC, %d before; want less", after, before)
	}
	checkRecords(t, s, want)
}

func TestRunCollects(t *testing.T) {
	dir, want := garbageStore(t, gcOptions)
	opts := *gcOptions
	opts.GCInterval = time.Millisecond
	s := openStore(t, dir, &opts)
	type result struct {
		n   int
		err error
	}
	collected := make(chan result, 1)
	s.afterGC = func(n int, err error) {
		select {
		case collected <- result{n, err}:
		default:
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- s.Run(ctx) }()
	select {
	case r := <-collected:
		if r.err != nil || r.n == 0 {
			t.Errorf("Run's first collection = %d, %v; want files rewritten", r.n, r.err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run collected nothing in 30s")
	}
	cancel()
	select {
	case err := <-stopped:
		if err != nil {
			t.Errorf("Run after cancel = %v, want nil", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	checkRecords(t, s, want)
}

func TestRunStopsOnClose(t *testing.T) {
	s, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- s.Run(context.Background()) }()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-stopped:
		if !errors.Is(err, core.ErrClosed) {
			t.Errorf("Run after Close = %v, want ErrClosed", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after Close")
	}
}
