package badgerstore

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/dgraph-io/badger/v4"

	"github.com/sessionkit/sessionkit/core"
)

// allRecords reads every record and every index key straight from badger,
// and reports each index key that no record accounts for and each index
// entry of a record that has no index key: a store whose record and index
// writes were not atomic fails here.
func allRecords(s *Store) (map[string]core.Record, []error) {
	recs := map[string]core.Record{}
	var indexKeys [][]byte
	var errs []error
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().KeyCopy(nil)
			switch k[0] {
			case kindRecord:
				key := string(k[1:])
				err := it.Item().Value(func(v []byte) error {
					rec, err := decodeRecord(key, v)
					recs[key] = rec
					return err
				})
				if err != nil {
					errs = append(errs, err)
				}
			case kindIndex:
				indexKeys = append(indexKeys, k)
			}
		}
		return nil
	})
	if err != nil {
		return nil, append(errs, err)
	}
	var want [][]byte
	for _, rec := range recs {
		for _, e := range rec.Index {
			want = append(want, indexKey(e.Name, e.Value, rec.Key))
		}
	}
	slices.SortFunc(want, bytes.Compare)
	for _, k := range indexKeys {
		if _, found := slices.BinarySearchFunc(want, k, bytes.Compare); !found {
			errs = append(errs, fmt.Errorf("index key %q belongs to no record", k))
		}
	}
	for _, k := range want {
		if _, found := slices.BinarySearchFunc(indexKeys, k, bytes.Compare); !found {
			errs = append(errs, fmt.Errorf("index key %q of a record is missing", k))
		}
	}
	return recs, errs
}
