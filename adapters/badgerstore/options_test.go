package badgerstore

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestZeroOptionsMeanDefaults(t *testing.T) {
	var zero Options
	if got, want := zero.withDefaults(), DefaultOptions(); got != want {
		t.Errorf("zero Options = %+v, want %+v", got, want)
	}
	var none *Options
	if got, want := none.withDefaults(), DefaultOptions(); got != want {
		t.Errorf("nil Options = %+v, want %+v", got, want)
	}
	d := DefaultOptions()
	if err := d.Validate(); err != nil {
		t.Errorf("DefaultOptions().Validate() = %v", err)
	}
	if d.NoSyncWrites {
		t.Error("the default does not sync writes")
	}
}

func TestOpenLeavesOptionsAlone(t *testing.T) {
	opts := &Options{MemTableSize: 2 << 20}
	before := *opts
	openStore(t, t.TempDir(), opts)
	if *opts != before {
		t.Errorf("Open changed the caller's Options to %+v, from %+v", *opts, before)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		opts  Options
		field string // "" for valid
	}{
		{Options{}, ""},
		{Options{MemTableSize: 1 << 20, ValueThreshold: 100 << 10}, ""},
		{Options{IndexCacheSize: -1}, ""},
		{Options{MemTableSize: 1000}, "MemTableSize"},
		{Options{NumMemtables: -1}, "NumMemtables"},
		{Options{BlockCacheSize: -1}, "BlockCacheSize"},
		{Options{NumCompactors: 1}, "NumCompactors"},
		{Options{ValueThreshold: 2 << 20}, "ValueThreshold"},
		{Options{MemTableSize: 1 << 20, ValueThreshold: 200 << 10}, "ValueThreshold"},
		{Options{ValueLogFileSize: 1000}, "ValueLogFileSize"},
		{Options{ValueLogFileSize: 2 << 30}, "ValueLogFileSize"},
		{Options{GCInterval: -time.Second}, "GCInterval"},
		{Options{GCDiscardRatio: 1}, "GCDiscardRatio"},
		{Options{GCDiscardRatio: -0.5}, "GCDiscardRatio"},
	}
	for _, tt := range tests {
		err := tt.opts.Validate()
		switch {
		case tt.field == "" && err != nil:
			t.Errorf("Validate(%+v) = %v, want nil", tt.opts, err)
		case tt.field != "" && (err == nil || !strings.Contains(err.Error(), tt.field+" = ")):
			t.Errorf("Validate(%+v) = %v, want an error naming %s", tt.opts, err, tt.field)
		case tt.field != "":
			if _, oerr := Open(t.TempDir(), &tt.opts); oerr == nil || oerr.Error() != err.Error() {
				t.Errorf("Open with %+v = %v, want %v", tt.opts, oerr, err)
			}
		}
	}
}

func TestBadgerOptions(t *testing.T) {
	o := (&Options{NoSyncWrites: true, IndexCacheSize: -1}).withDefaults()
	bo := o.badgerOptions("dir")
	if bo.SyncWrites || bo.IndexCacheSize != 0 {
		t.Errorf("badger SyncWrites = %v, IndexCacheSize = %d; want false, 0", bo.SyncWrites, bo.IndexCacheSize)
	}
	bo = DefaultOptions().badgerOptions("dir")
	if !bo.SyncWrites || !bo.DetectConflicts || bo.NumVersionsToKeep != 1 || bo.MemTableSize != 8<<20 {
		t.Errorf("badger options %+v: want SyncWrites, DetectConflicts, one version, 8 MiB memtables", bo)
	}
}

// syncBuffer is a bytes.Buffer that badger's goroutines may log into.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestLogger(t *testing.T) {
	var buf syncBuffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := openStore(t, t.TempDir(), &Options{Logger: logger})
	if _, err := s.CollectGarbage(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "component=badger") {
		t.Errorf("log = %q, want badger's lines", buf.String())
	}
	// A nil logger discards, and a disabled level costs no formatting.
	slogLogger{}.Errorf("dropped %d", 1)
	var quiet bytes.Buffer
	slogLogger{slog.New(slog.NewTextHandler(&quiet, nil))}.Debugf("dropped %d", 1)
	if quiet.Len() != 0 {
		t.Errorf("debug line logged at Info level: %q", quiet.String())
	}
}
