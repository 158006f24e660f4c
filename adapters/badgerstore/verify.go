package badgerstore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/badger/v4/table"
	"github.com/dgraph-io/ristretto/v2/z"

	"github.com/sessionkit/sessionkit/core"
)

// verifyTables checks, before badger opens them, every table file the
// MANIFEST lists: its index and the checksum of each of its blocks.
//
// Badger is not safe to let near a damaged table. Garbage in a table's
// footer makes it panic in one of its own goroutines while opening, which
// kills the process; a block that fails its checksum is skipped, so its
// records silently read as missing. Opening each table here, in the
// caller's goroutine and with a recover, turns both into core.ErrCorrupt.
// It reads every table once, which is why Options.NoVerifyOnOpen exists.
//
// Tables the MANIFEST does not list are left alone: a crash between writing
// a table and recording it leaves such a file, which badger then deletes.
func verifyTables(dir string, opts badger.Options) error {
	f, err := os.Open(filepath.Join(dir, badger.ManifestFilename))
	if errors.Is(err, fs.ErrNotExist) {
		return nil // a new store
	}
	if err != nil {
		return err
	}
	defer f.Close()
	m, _, err := badger.ReplayManifestFile(f, opts.ExternalMagicVersion, opts)
	if err != nil {
		return fmt.Errorf("%s: %v: %w", f.Name(), err, core.ErrCorrupt)
	}
	for id, tm := range m.Tables {
		if err := verifyTable(table.NewFilename(id, dir), tm); err != nil {
			return err
		}
	}
	return nil
}

// verifyTable opens one table read-only, checks it and unmaps it.
func verifyTable(path string, tm badger.TableManifest) (err error) {
	if tm.KeyID != 0 {
		return fmt.Errorf("table %s is encrypted, which this store never does: %w", path, core.ErrCorrupt)
	}
	mf, err := z.OpenMmapFile(path, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("table %s listed in the MANIFEST is missing: %w", path, core.ErrCorrupt)
	}
	if err != nil {
		return fmt.Errorf("table %s: %w", path, err)
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("table %s: unreadable (%v): %w", path, p, core.ErrCorrupt)
		}
		// Not Table.DecrRef: dropping the last reference deletes the file.
		mf.Close(-1)
	}()
	_, err = table.OpenTable(mf, table.Options{
		ReadOnly:           true,
		ChkMode:            options.OnTableRead, // verifies every block
		Compression:        tm.Compression,
		BlockSize:          4 << 10, // only sizes decompression buffers
		BloomFalsePositive: 0.01,
	})
	if err != nil {
		return fmt.Errorf("table %s: %v: %w", path, err, core.ErrCorrupt)
	}
	return nil
}
