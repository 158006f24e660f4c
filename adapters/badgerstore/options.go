package badgerstore

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// Options tunes a Store. The zero value (or a nil *Options) means the
// defaults of DefaultOptions, which suit a small deployment: tens of
// thousands of sessions and drafts on one node, a few tens of MiB of memory.
// A zero field means its default; Open never modifies the caller's Options.
type Options struct {
	// NoSyncWrites turns off the sync that ends every write (badger's
	// SyncWrites). By default a Put, PutBatch or Delete returns only once
	// its write is on disk: neither a process crash nor a power loss or
	// kernel crash loses an acknowledged write, provided the disk honours
	// fsync. Concurrent writes share one sync (see commit.go), so the cost
	// is about one sync per group of writers, not per write.
	//
	// With NoSyncWrites a write returns once it is in badger's
	// memory-mapped write-ahead log, that is in the OS page cache. A
	// process crash (panic, SIGKILL, OOM kill) still loses nothing
	// acknowledged: the kernel writes the pages back. A power loss or
	// kernel crash can lose acknowledged writes that had not yet reached a
	// table file: up to NumMemtables × MemTableSize of the latest writes
	// (16 MiB by default), and large values in the unsynced tail of the
	// value log, whose records may then read as core.ErrCorrupt. What survives
	// is still consistent: a record and its index entries are never split,
	// and new versions stay above every surviving one. But a lost write
	// need not take every later write with it, and the version of a lost
	// write, which a reader may have seen, can be issued again. Close
	// flushes everything to disk.
	NoSyncWrites bool

	// MemTableSize is the size of one memtable, the in-memory write buffer
	// that is flushed to an on-disk table when full. Each memtable is
	// allocated up front on the Go heap (plus ~30% of batch headroom), so
	// it dominates the heap after Open. Default 8 MiB.
	MemTableSize int64

	// NumMemtables is how many memtables may be held (one being written,
	// the rest waiting to be flushed) before writes stall. Default 2.
	NumMemtables int

	// BlockCacheSize bounds the cache of decompressed table blocks. Default
	// 16 MiB. It cannot be turned off: tables are compressed.
	BlockCacheSize int64

	// IndexCacheSize bounds the cache of table indexes and bloom filters.
	// Default 8 MiB; a negative value keeps every table's index in memory
	// (badger's own default), which is faster and unbounded.
	IndexCacheSize int64

	// NumCompactors is the number of concurrent compaction workers. Default
	// 2, the fewest badger accepts when compaction is on.
	NumCompactors int

	// ValueThreshold is the largest encoded record kept inline in the LSM
	// tree; larger ones go to the value log and are reclaimed by value-log
	// GC (see Run). Sessions and typical drafts stay below the default of
	// 32 KiB, so they need no value-log GC. At most 1 MiB and at most 15% of
	// MemTableSize.
	ValueThreshold int64

	// ValueLogFileSize is the size at which a value-log file is rotated;
	// value-log GC reclaims whole files, so smaller files reclaim sooner.
	// It also caps the size of one record. Default 64 MiB; between 1 MiB and
	// 2 GiB.
	ValueLogFileSize int64

	// GCInterval is how often Run collects value-log garbage. Default 10
	// minutes.
	GCInterval time.Duration

	// GCDiscardRatio is the fraction of a value-log file that must be
	// garbage before GC rewrites it, in (0, 1). Default 0.5 (badger's
	// recommendation: a lifetime write amplification of 2).
	GCDiscardRatio float64

	// NoVerifyOnOpen skips the check of every table's checksums that Open
	// runs before handing the directory to badger. The check reads the whole
	// store once (about a second per GiB); without it, a damaged table may
	// crash the process inside badger or read as missing records.
	NoVerifyOnOpen bool

	// Logger receives badger's log lines: errors at Error, warnings at
	// Warn, information at Info, debug lines at Debug. Nil, the default,
	// discards them.
	Logger *slog.Logger
}

// DefaultOptions returns the options a zero Options stands for.
func DefaultOptions() Options {
	return Options{
		MemTableSize:     8 << 20,
		NumMemtables:     2,
		BlockCacheSize:   16 << 20,
		IndexCacheSize:   8 << 20,
		NumCompactors:    2,
		ValueThreshold:   32 << 10,
		ValueLogFileSize: 64 << 20,
		GCInterval:       10 * time.Minute,
		GCDiscardRatio:   0.5,
	}
}

// withDefaults returns a copy of o (nil for none) with zero fields set to
// their defaults.
func (o *Options) withDefaults() Options {
	var c Options
	if o != nil {
		c = *o
	}
	d := DefaultOptions()
	if c.MemTableSize == 0 {
		c.MemTableSize = d.MemTableSize
	}
	if c.NumMemtables == 0 {
		c.NumMemtables = d.NumMemtables
	}
	if c.BlockCacheSize == 0 {
		c.BlockCacheSize = d.BlockCacheSize
	}
	if c.IndexCacheSize == 0 {
		c.IndexCacheSize = d.IndexCacheSize
	}
	if c.NumCompactors == 0 {
		c.NumCompactors = d.NumCompactors
	}
	if c.ValueThreshold == 0 {
		c.ValueThreshold = d.ValueThreshold
	}
	if c.ValueLogFileSize == 0 {
		c.ValueLogFileSize = d.ValueLogFileSize
	}
	if c.GCInterval == 0 {
		c.GCInterval = d.GCInterval
	}
	if c.GCDiscardRatio == 0 {
		c.GCDiscardRatio = d.GCDiscardRatio
	}
	return c
}

// Validate reports the first field that Open would reject, with its value
// and the allowed range. Zero fields are valid: they mean the default.
func (o *Options) Validate() error {
	c := o.withDefaults()
	bad := func(field string, value any, why string) error {
		return fmt.Errorf("badgerstore: invalid options: %s = %v: %s", field, value, why)
	}
	switch {
	case c.MemTableSize < 1<<20:
		return bad("MemTableSize", c.MemTableSize, "must be at least 1 MiB")
	case c.NumMemtables < 1:
		return bad("NumMemtables", c.NumMemtables, "must be at least 1")
	case c.BlockCacheSize < 0:
		return bad("BlockCacheSize", c.BlockCacheSize, "must not be negative")
	case c.NumCompactors < 2:
		return bad("NumCompactors", c.NumCompactors, "must be at least 2")
	case c.ValueThreshold < 0 || c.ValueThreshold > 1<<20:
		return bad("ValueThreshold", c.ValueThreshold, "must be between 0 and 1 MiB")
	case c.ValueThreshold > 15*c.MemTableSize/100:
		return bad("ValueThreshold", c.ValueThreshold,
			fmt.Sprintf("must be at most 15%% of MemTableSize (%d)", 15*c.MemTableSize/100))
	case c.ValueLogFileSize < 1<<20 || c.ValueLogFileSize >= 2<<30:
		return bad("ValueLogFileSize", c.ValueLogFileSize, "must be at least 1 MiB and below 2 GiB")
	case c.GCInterval < 0:
		return bad("GCInterval", c.GCInterval, "must not be negative")
	case c.GCDiscardRatio <= 0 || c.GCDiscardRatio >= 1:
		return bad("GCDiscardRatio", c.GCDiscardRatio, "must be strictly between 0 and 1")
	}
	return nil
}

// badgerOptions translates validated options for badger. Settings the
// store's correctness depends on are fixed here, not exposed: one version
// per key, conflict detection on (compare-and-set relies on it), no
// in-memory or read-only mode.
func (c Options) badgerOptions(dir string) badger.Options {
	bo := badger.DefaultOptions(dir).
		WithSyncWrites(!c.NoSyncWrites).
		WithNumVersionsToKeep(1).
		WithDetectConflicts(true).
		WithMetricsEnabled(false).
		WithLogger(slogLogger{c.Logger}).
		WithMemTableSize(c.MemTableSize).
		WithNumMemtables(c.NumMemtables).
		WithBlockCacheSize(c.BlockCacheSize).
		WithNumCompactors(c.NumCompactors).
		WithValueThreshold(c.ValueThreshold).
		WithValueLogFileSize(c.ValueLogFileSize).
		WithCompression(options.Snappy).
		// Open checks whole tables itself (see verifyTables). Afterwards a
		// block is checked when read from disk, so a block damaged later
		// reads as missing rather than as garbage that could crash a
		// compaction goroutine.
		WithChecksumVerificationMode(options.OnBlockRead).
		WithVerifyValueChecksum(true)
	if c.IndexCacheSize > 0 {
		bo = bo.WithIndexCacheSize(c.IndexCacheSize)
	} else {
		bo = bo.WithIndexCacheSize(0)
	}
	return bo
}

// slogLogger adapts badger's printf-style logger to log/slog; a nil Logger
// discards everything.
type slogLogger struct{ l *slog.Logger }

func (s slogLogger) log(level slog.Level, format string, args []any) {
	if s.l == nil || !s.l.Enabled(context.Background(), level) {
		return
	}
	s.l.Log(context.Background(), level, fmt.Sprintf(format, args...), "component", "badger")
}

func (s slogLogger) Errorf(f string, a ...any)   { s.log(slog.LevelError, f, a) }
func (s slogLogger) Warningf(f string, a ...any) { s.log(slog.LevelWarn, f, a) }
func (s slogLogger) Infof(f string, a ...any)    { s.log(slog.LevelInfo, f, a) }
func (s slogLogger) Debugf(f string, a ...any)   { s.log(slog.LevelDebug, f, a) }
