package badgerstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/dgraph-io/badger/v4"

	"github.com/sessionkit/sessionkit/core"
)

var (
	_ core.Store      = (*Store)(nil)
	_ core.BatchStore = (*Store)(nil)
)

const (
	// maxAttempts bounds the transactions run for one write. Badger
	// reports a conflict when a key the transaction read was written after
	// it started; the next attempt then reads the new version and settles
	// the compare-and-set itself. Writes go through one group commit at a
	// time (commit.go), so this is a safety net.
	maxAttempts = 8

	// maxKeySize is badger's limit on the length of one key.
	maxKeySize = 65000
)

// Store is a core.Store and core.BatchStore kept in a badger database in one
// directory. It is safe for concurrent use. Open acquires it; Close releases
// it. It starts no goroutine of its own: value-log garbage is collected by
// Run or CollectGarbage, when the application calls them.
type Store struct {
	db   *badger.DB
	lock *dirLock
	opts Options

	// lastVersion is the last version handed out. Only the group-commit
	// leader reads or writes it (see commit.go).
	lastVersion uint64

	// mu is held shared by every call and exclusively by Close, so Close
	// waits for calls in flight and no call reaches a closed database.
	mu     sync.RWMutex
	closed bool
	done   chan struct{} // closed by Close; ends Run

	commit committer // queue of writes; see commit.go

	afterGC     func(rewritten int, err error) // test hook, called by Run
	beforeApply func()                         // test hook, called by the group-commit leader
}

// enter starts a call: it fails with ctx's error or core.ErrClosed, and
// otherwise returns holding s.mu shared, which the caller releases.
func (s *Store) enter(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("badgerstore: %s: %w", op, err)
	}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return fmt.Errorf("badgerstore: %s: %w", op, core.ErrClosed)
	}
	return nil
}

// Get returns the record under key, or an error wrapping core.ErrNotFound.
func (s *Store) Get(ctx context.Context, key string) (core.Record, error) {
	if err := s.enter(ctx, "get"); err != nil {
		return core.Record{}, err
	}
	defer s.mu.RUnlock()
	var rec core.Record
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		rec, err = getRecord(txn, key)
		return err
	})
	if err != nil {
		return core.Record{}, translate("get", key, err)
	}
	return rec, nil
}

// Put creates or replaces rec.Key if its current version is rec.Version (0:
// it must not exist), writing the record and its index entries in one badger
// transaction, and returns the new version. Concurrent writes share that
// transaction and its sync (see commit.go).
func (s *Store) Put(ctx context.Context, rec core.Record) (uint64, error) {
	if err := s.enter(ctx, "put"); err != nil {
		return 0, err
	}
	defer s.mu.RUnlock()
	if err := checkRecord(rec, s.opts.ValueLogFileSize); err != nil {
		return 0, err
	}
	op := newOp(rec, false)
	s.write(op)
	return op.version, op.err
}

// stagePut checks rec's version against the record as txn sees it and, if
// it matches, stages the new record and the changes to its index entries.
// It returns the version the record will have once txn commits.
func (s *Store) stagePut(txn *badger.Txn, rec core.Record) (uint64, error) {
	old, err := getRecord(txn, rec.Key)
	switch {
	case errors.Is(err, core.ErrNotFound):
		if rec.Version != 0 {
			return 0, conflict(rec.Version, 0)
		}
	case err != nil:
		return 0, err
	case old.Version != rec.Version:
		return 0, conflict(rec.Version, old.Version)
	}
	version := s.nextVersion()
	for _, e := range old.Index {
		if !hasEntry(rec.Index, e) {
			if err := txn.Delete(indexKey(e.Name, e.Value, rec.Key)); err != nil {
				return 0, err
			}
		}
	}
	for _, e := range rec.Index {
		if !hasEntry(old.Index, e) {
			if err := txn.Set(indexKey(e.Name, e.Value, rec.Key), nil); err != nil {
				return 0, err
			}
		}
	}
	if err := txn.Set(recordKey(rec.Key), encodeRecord(version, rec.Index, rec.Value)); err != nil {
		return 0, err
	}
	return version, nil
}

// nextVersion returns a version above every version in the store. The
// group transaction that uses it also stores it as the version mark (see
// applyOnce), so a record never survives a crash without a mark at least as
// high as its version, and Open resumes above every surviving version.
func (s *Store) nextVersion() uint64 {
	s.lastVersion++
	return s.lastVersion
}

// PutBatch writes each record as Put would, independently, in as few
// transactions (and syncs) as badger's transaction size allows: usually
// one, shared with any concurrent writes.
func (s *Store) PutBatch(ctx context.Context, recs []core.Record) []core.PutResult {
	res := make([]core.PutResult, len(recs))
	if err := s.enter(ctx, "put batch"); err != nil {
		for i := range res {
			res[i].Err = err
		}
		return res
	}
	defer s.mu.RUnlock()
	ops := make([]*writeOp, 0, len(recs))
	opOf := make([]*writeOp, len(recs))
	for i, rec := range recs {
		if err := checkRecord(rec, s.opts.ValueLogFileSize); err != nil {
			res[i].Err = err
			continue
		}
		opOf[i] = newOp(rec, false)
		ops = append(ops, opOf[i])
	}
	s.write(ops...)
	for i, op := range opOf {
		if op != nil {
			res[i] = core.PutResult{Version: op.version, Err: op.err}
		}
	}
	return res
}

// Delete removes key and its index entries if its current version is
// version, or whatever its version when version is 0. Deleting a missing key
// is a no-op, whatever the version.
//
// A record whose stored value cannot be decoded can still be deleted with
// version 0, to repair a damaged store; its index entries, which cannot be
// read, are left behind and Scan skips them.
func (s *Store) Delete(ctx context.Context, key string, version uint64) error {
	if err := s.enter(ctx, "delete"); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	op := newOp(core.Record{Key: key, Version: version}, true)
	s.write(op)
	return op.err
}

// stageDelete stages the removal of key and its index entries, and reports
// whether there was anything to remove.
func stageDelete(txn *badger.Txn, key string, version uint64) (bool, error) {
	old, err := getRecord(txn, key)
	switch {
	case errors.Is(err, core.ErrNotFound):
		// Whatever the version: a retried conditional delete succeeds.
		return false, nil
	case errors.Is(err, core.ErrCorrupt) && version == 0:
		return true, txn.Delete(recordKey(key))
	case err != nil:
		return false, err
	case version != 0 && old.Version != version:
		return false, conflict(version, old.Version)
	}
	for _, e := range old.Index {
		if err := txn.Delete(indexKey(e.Name, e.Value, key)); err != nil {
			return false, err
		}
	}
	return true, txn.Delete(recordKey(key))
}

// Scan returns the records with an entry in r.Index within [r.From, r.To),
// ordered by (entry value, key), by walking that key range of the index with
// a badger iterator and reading each record from the same snapshot.
func (s *Store) Scan(ctx context.Context, r core.Range) ([]core.Record, error) {
	if err := s.enter(ctx, "scan"); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	if r.To != "" && r.To <= r.From {
		return nil, nil
	}
	var out []core.Record
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		out, err = scan(ctx, txn, r)
		return err
	})
	if err != nil {
		return nil, translate("scan", r.Index, err)
	}
	return out, nil
}

func scan(ctx context.Context, txn *badger.Txn, r core.Range) ([]core.Record, error) {
	prefix := indexPrefix(r.Index)
	lo, hi := indexBounds(r.Index, r.From, r.To)
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, Reverse: r.Reverse})
	defer it.Close()
	if r.Reverse {
		it.Seek(hi) // the last key <= hi; hi itself is never an entry
	} else {
		it.Seek(lo)
	}
	var out []core.Record
	for n := 1; it.Valid(); it.Next() {
		k := it.Item().Key()
		if r.Reverse {
			if bytes.Compare(k, lo) < 0 {
				break
			}
			if bytes.Compare(k, hi) >= 0 {
				continue
			}
		} else if bytes.Compare(k, hi) >= 0 {
			break
		}
		if n++; n%64 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		value, key, ok := splitIndexKey(prefix, k)
		if !ok {
			return nil, fmt.Errorf("index key %q: %w", k, core.ErrCorrupt)
		}
		rec, err := getRecord(txn, string(key))
		if errors.Is(err, core.ErrNotFound) {
			continue // left behind by Delete of an undecodable record
		}
		if err != nil {
			return nil, err
		}
		if !hasEntry(rec.Index, core.IndexEntry{Name: r.Index, Value: string(value)}) {
			continue // cannot happen: entries change with their record
		}
		out = append(out, rec)
		if r.Limit > 0 && len(out) == r.Limit {
			break
		}
	}
	return out, nil
}

// getRecord reads and decodes the record under key as txn sees it.
func getRecord(txn *badger.Txn, key string) (core.Record, error) {
	item, err := txn.Get(recordKey(key))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return core.Record{}, core.ErrNotFound
	}
	if err != nil {
		return core.Record{}, err
	}
	var rec core.Record
	err = item.Value(func(v []byte) error {
		rec, err = decodeRecord(key, v)
		return err
	})
	return rec, err
}

func hasEntry(index []core.IndexEntry, e core.IndexEntry) bool {
	for _, x := range index {
		if x == e {
			return true
		}
	}
	return false
}

// checkRecord rejects, with core.ErrInvalidInput, a record the store cannot
// keep: two entries in one index, or a key or value beyond badger's limits.
func checkRecord(rec core.Record, maxValue int64) error {
	bad := func(why string) error {
		return fmt.Errorf("badgerstore: put %q: %s: %w", rec.Key, why, core.ErrInvalidInput)
	}
	size := 1 + len(rec.Key) + len(rec.Value)
	for i, e := range rec.Index {
		for _, f := range rec.Index[:i] {
			if f.Name == e.Name {
				return bad(fmt.Sprintf("two entries in index %q", e.Name))
			}
		}
		if len(indexKey(e.Name, e.Value, rec.Key)) > maxKeySize {
			return bad(fmt.Sprintf("index %q entry longer than %d bytes with its key", e.Name, maxKeySize))
		}
		size += 2*binaryMaxVarint + len(e.Name) + len(e.Value)
	}
	if 1+len(rec.Key) > maxKeySize {
		return bad(fmt.Sprintf("key longer than %d bytes", maxKeySize-1))
	}
	if int64(size) > maxValue {
		return bad(fmt.Sprintf("record of about %d bytes exceeds ValueLogFileSize %d", size, maxValue))
	}
	return nil
}

const binaryMaxVarint = 10

// conflict returns the error of a failed compare-and-set.
func conflict(want, have uint64) error {
	return fmt.Errorf("version %d, store has %d: %w", want, have, core.ErrConflict)
}

// translate wraps an error from a transaction with the package, operation
// and key, mapping badger's errors to core's sentinels.
func translate(op, key string, err error) error {
	switch {
	case errors.Is(err, badger.ErrKeyNotFound):
		err = core.ErrNotFound
	case errors.Is(err, badger.ErrConflict):
		err = fmt.Errorf("concurrent write: %w", core.ErrConflict)
	case errors.Is(err, badger.ErrTxnTooBig):
		err = fmt.Errorf("%w: %w", err, core.ErrInvalidInput)
	case errors.Is(err, badger.ErrDBClosed):
		err = fmt.Errorf("%w: %w", err, core.ErrClosed)
	}
	return fmt.Errorf("badgerstore: %s %q: %w", op, key, err)
}
