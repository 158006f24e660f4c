// Package badgerstore is a durable core.Store (and core.BatchStore) kept in
// a github.com/dgraph-io/badger/v4 database in one directory.
//
// Open acquires the directory, Close releases it:
//
//	s, err := badgerstore.Open("/var/lib/myapp/sessions", nil)
//	if err != nil {
//		return err // errors.Is(err, badgerstore.ErrLocked), core.ErrCorrupt, fs.ErrPermission
//	}
//	defer s.Close()
//	go s.Run(ctx) // value-log GC; optional, see Run
//
// # Durability
//
// By default every Put, PutBatch and Delete returns once its write is synced
// to disk: neither a process crash nor a power loss loses an acknowledged
// write. Concurrent writes are applied in one badger transaction and share
// one sync (group commit), so throughput grows with the number of writers.
// Options.NoSyncWrites trades power-loss safety for latency; see its doc.
//
// # Layout
//
// A record and its index entries are separate badger keys written in one
// transaction; the index keys escape their parts so that any bytes order
// correctly (see keys.go). Versions come from a persistent badger Sequence
// and are never issued twice, across deletes, restarts and crashes. The
// store never uses badger's TTL: expiry is core's, through the due index.
//
// # Damage
//
// Open checks every table file's checksums before badger sees it, and each
// record carries its own CRC-32C, so damaged files fail with core.ErrCorrupt
// instead of a panic or silently missing records. See docs/badgerstore.md
// for what is and is not detected.
package badgerstore
