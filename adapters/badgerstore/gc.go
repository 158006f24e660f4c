package badgerstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/sessionkit/sessionkit/core"
)

// Run collects value-log garbage every Options.GCInterval until ctx ends
// (it then returns nil) or the store is closed (it returns an error wrapping
// core.ErrClosed). It is the store's only background work, and runs only if
// the application starts it: go store.Run(ctx). A failed collection is
// logged to Options.Logger and tried again at the next interval.
//
// Records up to Options.ValueThreshold live in the LSM tree, where
// compaction reclaims them; Run matters for stores with larger records.
func (s *Store) Run(ctx context.Context) error {
	t := time.NewTicker(s.opts.GCInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.done:
			return fmt.Errorf("badgerstore: run: %w", core.ErrClosed)
		case <-t.C:
			n, err := s.CollectGarbage(ctx)
			if err != nil && ctx.Err() == nil && !errors.Is(err, core.ErrClosed) {
				slogLogger{s.opts.Logger}.Errorf("badgerstore: value-log GC: %v", err)
			}
			if s.afterGC != nil {
				s.afterGC(n, err)
			}
		}
	}
}

// CollectGarbage rewrites value-log files that are at least
// Options.GCDiscardRatio garbage, one after another until none is left or
// ctx ends, and returns how many it rewrote. A collection already running
// (from another call) makes it return 0 and nil.
func (s *Store) CollectGarbage(ctx context.Context) (int, error) {
	if err := s.enter(ctx, "collect garbage"); err != nil {
		return 0, err
	}
	defer s.mu.RUnlock()
	n := 0
	for ctx.Err() == nil {
		err := s.db.RunValueLogGC(s.opts.GCDiscardRatio)
		switch {
		case err == nil:
			n++
		case errors.Is(err, badger.ErrNoRewrite), errors.Is(err, badger.ErrRejected):
			return n, nil
		default:
			return n, fmt.Errorf("badgerstore: collect garbage: %w", err)
		}
	}
	return n, fmt.Errorf("badgerstore: collect garbage: %w", ctx.Err())
}
