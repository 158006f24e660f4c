package badgerstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dgraph-io/badger/v4"

	"github.com/sessionkit/sessionkit/core"
)

// ErrLocked reports a directory that another process (or another Store in
// this process) has open. Check it with errors.Is.
var ErrLocked = errors.New("badgerstore: directory is locked by another process")

// lockFileName is the file in the store's directory that Open locks, beside
// badger's own LOCK, so that a held lock is recognised without parsing
// badger's error text.
const lockFileName = "sessionkit.lock"

// Open opens the store in dir, creating the directory and an empty store if
// there is none, and locks it for this process until Close. opts may be nil
// for the defaults; Open copies it.
//
// Open fails with an error starting "badgerstore:" that wraps
//   - ErrLocked if the directory is in use;
//   - fs.ErrPermission (and the *fs.PathError naming the file) if the
//     directory or a file in it cannot be read or written;
//   - core.ErrCorrupt if a table fails its checksums, or badger cannot load
//     its files (a damaged MANIFEST or log file, files that are not a badger
//     database; badger gives no cause, so any failure of its Open lands
//     here, with its message), or the database is not a sessionkit store of
//     this format.
//
// A crash (process kill or power loss) needs nothing special: Open replays
// badger's write-ahead log, keeping every write that was acknowledged under
// the Options' durability (see Options.NoSyncWrites).
func Open(dir string, opts *Options) (*Store, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	o := opts.withDefaults()
	if dir == "" {
		return nil, fmt.Errorf("badgerstore: open: empty directory name: %w", core.ErrInvalidInput)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("badgerstore: open %s: %w", dir, err)
	}
	if err := checkAccess(dir); err != nil {
		return nil, fmt.Errorf("badgerstore: open %s: %w", dir, err)
	}
	lock, err := lockDir(filepath.Join(dir, lockFileName))
	if err != nil {
		return nil, fmt.Errorf("badgerstore: open %s: %w", dir, err)
	}
	bo := o.badgerOptions(dir)
	hadTables, err := hasTables(dir)
	if err == nil && !o.NoVerifyOnOpen {
		err = verifyTables(dir, bo)
	}
	if err != nil {
		lock.release()
		return nil, fmt.Errorf("badgerstore: open %s: %w", dir, err)
	}
	db, err := openBadger(bo)
	if err != nil {
		lock.release()
		if dirLocked(dir) {
			// A badger user other than sessionkit holds the directory.
			return nil, fmt.Errorf("badgerstore: open %s: %w", dir, ErrLocked)
		}
		return nil, fmt.Errorf("badgerstore: open %s: cannot load database files: %v: %w", dir, err, core.ErrCorrupt)
	}
	s := &Store{db: db, lock: lock, opts: o, done: make(chan struct{})}
	if err := s.init(hadTables); err != nil {
		db.Close()
		lock.release()
		return nil, fmt.Errorf("badgerstore: open %s: %w", dir, err)
	}
	return s, nil
}

// openBadger opens the database, turning a panic inside badger (which some
// damaged files provoke) into an error.
func openBadger(o badger.Options) (db *badger.DB, err error) {
	defer func() {
		if p := recover(); p != nil {
			db, err = nil, fmt.Errorf("badger panicked: %v", p)
		}
	}()
	return badger.Open(o)
}

// checkAccess reports a directory or file in it that this process cannot
// read, which badger would report without the underlying *fs.PathError.
func checkAccess(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		f.Close()
	}
	return nil
}

// hasTables reports whether dir holds badger table files.
func hasTables(dir string) (bool, error) {
	m, err := filepath.Glob(filepath.Join(dir, "*.sst"))
	return len(m) > 0, err
}

// init checks that the database is a sessionkit store of this format,
// marking a new one as such, and loads the version mark. hadTables says
// whether the directory held table files before badger opened it: the
// marker is the first write of a store, so a store with tables but no
// marker has lost data (badger drops the tables a damaged MANIFEST no longer
// lists) and must not be taken for a new one.
func (s *Store) init(hadTables bool) error {
	err := s.db.Update(func(txn *badger.Txn) error {
		item, err := txn.Get(metaFormat)
		if err == nil {
			marker, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			if string(marker) != formatMarker {
				return fmt.Errorf("format %q, want %q: %w", marker, formatMarker, core.ErrCorrupt)
			}
			return nil
		}
		if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		if hadTables {
			return fmt.Errorf("the store's tables are gone (damaged MANIFEST?): %w", core.ErrCorrupt)
		}
		it := txn.NewIterator(badger.IteratorOptions{})
		defer it.Close()
		if it.Rewind(); it.Valid() {
			return fmt.Errorf("a badger database that is not a sessionkit store: %w", core.ErrCorrupt)
		}
		return txn.Set(metaFormat, []byte(formatMarker))
	})
	if err != nil {
		return err
	}
	return s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(metaVersion)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil // a new store
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			if len(v) != 8 {
				return fmt.Errorf("version mark of %d bytes: %w", len(v), core.ErrCorrupt)
			}
			s.lastVersion = binary.BigEndian.Uint64(v)
			return nil
		})
	})
}

// Close releases the directory after the calls in flight return, flushing
// badger's memtables to disk. Later calls fail with core.ErrClosed; a second
// Close returns nil.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	close(s.done)
	err := s.db.Close()
	s.lock.release()
	if err != nil {
		return fmt.Errorf("badgerstore: close: %w", err)
	}
	return nil
}
