// Package memstore is a core.Store held in memory, on
// github.com/hashicorp/go-memdb.
//
// It is for tests, the simulator and single-process deployments that can
// lose their sessions on restart: nothing survives the process. A Put is
// "durable" in the only sense it can be: once Put returns, every later call
// in the process sees it.
//
// A Store starts no goroutine and needs no Close. Reads run on memdb's
// immutable snapshots and never block; writes are serialised by memdb's
// single writer lock.
package memstore

import (
	"context"
	"fmt"

	"github.com/hashicorp/go-memdb"

	"github.com/sessionkit/sessionkit/core"
)

var (
	_ core.Store      = (*Store)(nil)
	_ core.BatchStore = (*Store)(nil)
)

// Table names in the memdb schema.
const (
	tableRecords = "records"
	tableEntries = "entries"
)

// record is a stored core.Record. Once inserted it is never modified: memdb
// shares it between snapshots, and every write inserts a new one.
type record struct {
	key     string
	version uint64
	value   []byte
	index   []core.IndexEntry
}

// entry is one index entry of a record. Its id is the tuple (name, value,
// key) encoded so that byte order is tuple order, which makes a Scan a walk
// over the entries table's id index.
type entry struct {
	id    string
	name  string
	value string
	rec   *record
}

// Store is a core.Store and core.BatchStore in memory. The zero value is not
// usable; call New. A Store is safe for concurrent use.
type Store struct {
	db *memdb.MemDB

	// last is the last version handed out, across all keys, so versions
	// are never reused after a Delete. Only touched inside a write
	// transaction, so memdb's writer lock guards it.
	last uint64
}

// New returns an empty Store.
func New() *Store {
	db, err := memdb.NewMemDB(&memdb.DBSchema{Tables: map[string]*memdb.TableSchema{
		tableRecords: {
			Name: tableRecords,
			Indexes: map[string]*memdb.IndexSchema{
				"id": {Name: "id", Unique: true, Indexer: rawIndex(func(o any) string { return o.(*record).key })},
			},
		},
		tableEntries: {
			Name: tableEntries,
			Indexes: map[string]*memdb.IndexSchema{
				"id": {Name: "id", Unique: true, Indexer: rawIndex(func(o any) string { return o.(*entry).id })},
			},
		},
	}})
	if err != nil {
		// The schema is fixed; an error here is a bug in this file.
		panic("memstore: " + err.Error())
	}
	return &Store{db: db}
}

// Get returns a copy of the record under key, or an error wrapping
// core.ErrNotFound.
func (s *Store) Get(ctx context.Context, key string) (core.Record, error) {
	if err := ctx.Err(); err != nil {
		return core.Record{}, fmt.Errorf("memstore: get %q: %w", key, err)
	}
	r, err := lookup(s.db.Txn(false), key)
	if err != nil {
		return core.Record{}, err
	}
	if r == nil {
		return core.Record{}, fmt.Errorf("memstore: get %q: %w", key, core.ErrNotFound)
	}
	return r.export(), nil
}

// Put writes rec if its Version matches, as core.Store describes, and
// returns the new version.
func (s *Store) Put(ctx context.Context, rec core.Record) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("memstore: put %q: %w", rec.Key, err)
	}
	txn := s.db.Txn(true)
	defer txn.Abort()
	// Waiting for the writer lock may have outlasted ctx.
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("memstore: put %q: %w", rec.Key, err)
	}
	old, err := check(txn, rec)
	if err != nil {
		return 0, err
	}
	v, err := s.write(txn, old, rec)
	if err != nil {
		return 0, err
	}
	txn.Commit()
	return v, nil
}

// PutBatch writes recs in one transaction, each checked as Put checks it;
// one record's conflict does not stop the others.
func (s *Store) PutBatch(ctx context.Context, recs []core.Record) []core.PutResult {
	res := make([]core.PutResult, len(recs))
	fail := func(err error) []core.PutResult {
		for i := range res {
			res[i] = core.PutResult{Err: fmt.Errorf("memstore: put batch: %w", err)}
		}
		return res
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	txn := s.db.Txn(true)
	defer txn.Abort()
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	for i, rec := range recs {
		old, err := check(txn, rec)
		if err != nil {
			res[i].Err = err
			continue
		}
		if res[i].Version, err = s.write(txn, old, rec); err != nil {
			// The transaction is half written: drop all of it.
			return fail(err)
		}
	}
	txn.Commit()
	return res
}

// check returns the record rec replaces (nil for a create), or an error if
// rec may not be written. It changes nothing.
func check(txn *memdb.Txn, rec core.Record) (*record, error) {
	if err := checkIndex(rec); err != nil {
		return nil, err
	}
	old, err := lookup(txn, rec.Key)
	if err != nil {
		return nil, err
	}
	switch {
	case old == nil && rec.Version != 0:
		return nil, fmt.Errorf("memstore: put %q at version %d: record does not exist: %w", rec.Key, rec.Version, core.ErrConflict)
	case old != nil && old.version != rec.Version:
		return nil, fmt.Errorf("memstore: put %q at version %d: current version is %d: %w", rec.Key, rec.Version, old.version, core.ErrConflict)
	}
	return old, nil
}

// write replaces old (nil for a create) with a copy of rec under the next
// version, moving its index entries in the same txn.
func (s *Store) write(txn *memdb.Txn, old *record, rec core.Record) (uint64, error) {
	r := &record{
		key:     rec.Key,
		version: s.last + 1,
		value:   append([]byte(nil), rec.Value...),
		index:   append([]core.IndexEntry(nil), rec.Index...),
	}
	if old != nil {
		for _, e := range old.index {
			if !hasEntry(r.index, e) {
				if err := txn.Delete(tableEntries, &entry{id: entryID(e.Name, e.Value, old.key)}); err != nil {
					return 0, fmt.Errorf("memstore: put %q: %w", rec.Key, err)
				}
			}
		}
	}
	if err := txn.Insert(tableRecords, r); err != nil {
		return 0, fmt.Errorf("memstore: put %q: %w", rec.Key, err)
	}
	// Entries that did not change are inserted again, to point at r.
	for _, e := range r.index {
		if err := txn.Insert(tableEntries, &entry{id: entryID(e.Name, e.Value, r.key), name: e.Name, value: e.Value, rec: r}); err != nil {
			return 0, fmt.Errorf("memstore: put %q: %w", rec.Key, err)
		}
	}
	s.last++
	return r.version, nil
}

// Delete removes the record under key with its index entries, if its
// version is version or version is 0. Deleting a missing key returns nil.
func (s *Store) Delete(ctx context.Context, key string, version uint64) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: delete %q: %w", key, err)
	}
	txn := s.db.Txn(true)
	defer txn.Abort()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: delete %q: %w", key, err)
	}
	old, err := lookup(txn, key)
	if err != nil || old == nil {
		return err
	}
	if version != 0 && old.version != version {
		return fmt.Errorf("memstore: delete %q at version %d: current version is %d: %w", key, version, old.version, core.ErrConflict)
	}
	for _, e := range old.index {
		if err := txn.Delete(tableEntries, &entry{id: entryID(e.Name, e.Value, key)}); err != nil {
			return fmt.Errorf("memstore: delete %q: %w", key, err)
		}
	}
	if err := txn.Delete(tableRecords, old); err != nil {
		return fmt.Errorf("memstore: delete %q: %w", key, err)
	}
	txn.Commit()
	return nil
}

// Scan returns copies of the records with an entry in r.Index inside r, in
// (value, key) order or its reverse, walking only the entries in range.
func (s *Store) Scan(ctx context.Context, r core.Range) ([]core.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memstore: scan %q: %w", r.Index, err)
	}
	txn := s.db.Txn(false)
	var (
		it  memdb.ResultIterator
		err error
	)
	if r.Reverse {
		// Start at the last entry below To: ReverseLowerBound finds
		// the greatest id <= its argument, and no id equals a bound.
		upper := boundID(r.Index, r.To)
		if r.To == "" {
			upper = indexEnd(r.Index)
		}
		it, err = txn.ReverseLowerBound(tableEntries, "id", upper)
	} else {
		it, err = txn.LowerBound(tableEntries, "id", boundID(r.Index, r.From))
	}
	if err != nil {
		return nil, fmt.Errorf("memstore: scan %q: %w", r.Index, err)
	}
	var hits []*record
	for o := it.Next(); o != nil; o = it.Next() {
		e := o.(*entry)
		if e.name != r.Index ||
			(r.Reverse && e.value < r.From) ||
			(!r.Reverse && r.To != "" && e.value >= r.To) {
			break
		}
		hits = append(hits, e.rec)
		if r.Limit > 0 && len(hits) == r.Limit {
			break
		}
	}
	return exportAll(hits), nil
}

// exportAll copies recs for the caller in three allocations instead of two
// per record, which halves the cost of a large sweep. The copies share one
// backing array for values and one for index entries, each record's slices
// capped at their length so appending to one never writes over another.
func exportAll(recs []*record) []core.Record {
	if len(recs) == 0 {
		return nil
	}
	var nv, ni int
	for _, r := range recs {
		nv, ni = nv+len(r.value), ni+len(r.index)
	}
	values, index := make([]byte, 0, nv), make([]core.IndexEntry, 0, ni)
	out := make([]core.Record, len(recs))
	for i, r := range recs {
		v, x := len(values), len(index)
		values, index = append(values, r.value...), append(index, r.index...)
		out[i] = core.Record{Key: r.key, Version: r.version, Value: values[v:len(values):len(values)], Index: index[x:len(index):len(index)]}
	}
	return out
}

// lookup returns the record under key, or nil.
func lookup(txn *memdb.Txn, key string) (*record, error) {
	o, err := txn.First(tableRecords, "id", key)
	if err != nil {
		return nil, fmt.Errorf("memstore: get %q: %w", key, err)
	}
	if o == nil {
		return nil, nil
	}
	return o.(*record), nil
}

// export returns a copy of r that the caller owns.
func (r *record) export() core.Record {
	return core.Record{
		Key:     r.key,
		Version: r.version,
		Value:   append([]byte(nil), r.value...),
		Index:   append([]core.IndexEntry(nil), r.index...),
	}
}

// checkIndex rejects a record with two entries in one index, which the
// contract rules out, rather than guess which one the caller meant.
func checkIndex(rec core.Record) error {
	for i, e := range rec.Index {
		for _, f := range rec.Index[:i] {
			if e.Name == f.Name {
				return fmt.Errorf("memstore: put %q: two entries in index %q: %w", rec.Key, e.Name, core.ErrInvalidInput)
			}
		}
	}
	return nil
}

func hasEntry(idx []core.IndexEntry, e core.IndexEntry) bool {
	for _, f := range idx {
		if f == e {
			return true
		}
	}
	return false
}
